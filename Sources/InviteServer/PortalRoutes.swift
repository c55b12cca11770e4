import Foundation
import Hummingbird
import InviteStore
import InviteToken
import Mustache
import NIOCore
import InviteService

/// The partner portal under `/portal`: sign-in for partner staff, the partner's customers
/// (with removal behind a confirmation), its indirect providers, requesting a reseller
/// relationship (the draft email with the link), and the issued links with revocation.
///
/// Server-rendered and usable without JavaScript; `/assets/portal.js` only adds the Copy
/// buttons. Every form carries the double-submit CSRF token of ``WebSession`` and every POST
/// checks it before anything else. A `sales-agent` sees the lists but no action, and its
/// POSTs are answered 403. A failure becomes an HTML page here, never a problem document:
/// errors thrown past a handler would reach the API's JSON mapping.
struct PortalRoutes: Sendable {
    let store: any RelationshipStore
    let invitations: InvitationService
    let templates: MustacheLibrary
    let clock: @Sendable () -> Int64
    /// Used for its CSRF token only; the sign-in cookie is the portal's own.
    let csrf: WebSession
    let sessions: PortalSession

    static let script = Assets.text("portal", "js", subdirectory: "Resources")
    static let pageSize = 50

    init(
        store: any RelationshipStore, invitations: InvitationService, secureCookies: Bool, sessionSecret: SessionSecret,
        templates: MustacheLibrary, clock: @escaping @Sendable () -> Int64
    ) throws {
        self.store = store
        self.invitations = invitations
        self.templates = templates
        self.clock = clock
        csrf = try WebSession(secureCookies: secureCookies, secret: sessionSecret)
        sessions = try PortalSession(secureCookies: secureCookies, secret: sessionSecret, store: store)
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("assets/portal.js") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: Self.script)))
        }
        let portal = router.group("portal")
        portal.get("sign-in", use: showSignIn)
        portal.post("sign-in", use: signIn)
        portal.post("sign-out", use: signOut)
        portal.get("password", use: showPassword)
        portal.post("password", use: changePassword)
        portal.get(use: customers)
        portal.get("customers/{id}", use: customer)
        portal.get("customers/{id}/remove", use: confirmRemoval)
        portal.post("customers/{id}/remove", use: removeRelationship)
        portal.get("providers", use: providers)
        portal.get("invitations", use: invitationList)
        portal.get("invitations/new", use: newInvitation)
        portal.post("invitations", use: issue)
        portal.get("invitations/{id}/draft", use: draft)
        portal.post("invitations/{id}/revoke", use: revoke)
    }

    // MARK: Signing in and out

    @Sendable func showSignIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            if try await currentViewer(request) != nil { return redirect(to: "/portal") }
            return try signInPage(request, status: .ok, email: "", error: nil)
        }
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValidCSRF(form["csrf"], request: request) else { return try csrfFailure(request) }
            let email = (form["email"] ?? "").trimmingWhitespace().lowercased()
            let now = clock()
            let user: User
            switch try await PasswordSignIn(store: store).check(email: email, password: form["password"] ?? "", now: now) {
            case .signedIn(let signedIn):
                user = signedIn
            case .refused:
                return try signInPage(request, status: .unauthorized, email: email, error: "The email or password is not right.")
            case .locked(let retryAfter):
                var response = try signInPage(request, status: .tooManyRequests, email: email, error: PasswordSignIn.retryText(retryAfter))
                response.headers[.retryAfter] = String(retryAfter)
                return response
            }
            guard case .partner(let partnerID) = user.tenant, try await store.partner(id: partnerID) != nil else {
                return try signInPage(
                    request, status: .forbidden, email: email,
                    error: "This account belongs to a customer organization. The portal is for partner staff; a customer accepts an invitation from the link in the email.")
            }
            var response = redirect(to: user.mustChangePassword ? "/portal/password" : "/portal")
            response.setCookie(try sessions.signInCookie(userID: user.id, now: now))
            return response
        }
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValidCSRF(form["csrf"], request: request) else { return try csrfFailure(request) }
            try await sessions.revoke(request, now: clock())
            var response = redirect(to: "/portal/sign-in")
            response.setCookie(sessions.signOutCookie())
            return response
        }
    }

    @Sendable func showPassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let viewer = try await requireViewer(request, allowPasswordChange: true)
            return try passwordPage(request, viewer: viewer, status: .ok, error: nil)
        }
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValidCSRF(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, allowPasswordChange: true)
            let current = form["current_password"] ?? ""
            let new = form["new_password"] ?? ""
            guard try PasswordHash.verify(current, against: viewer.user.passwordHash) else {
                return try passwordPage(request, viewer: viewer, status: .unauthorized, error: "The current password is not right.")
            }
            guard new.count >= PageRoutes.minimumPasswordLength, new != current else {
                return try passwordPage(
                    request, viewer: viewer, status: .badRequest,
                    error: "Choose a new password of at least \(PageRoutes.minimumPasswordLength) characters, different from the current one.")
            }
            try await store.setPassword(userID: viewer.user.id, passwordHash: PasswordHash.make(password: new), at: clock())
            return redirect(to: "/portal")
        }
    }

    // MARK: Customers

    @Sendable func customers(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let viewer = try await requireViewer(request)
            let cursor = request.uri.queryParameters["cursor"].map(String.init)
            let page = try await store.customers(ofPartner: viewer.partner.id, page: PageRequest(limit: Self.pageSize, cursor: cursor))
            var values: [String: Any] = [
                "title": "Customers",
                "customers": page.items.map(Self.customerValues),
                "empty": page.items.isEmpty,
            ]
            if let next = page.nextCursor { values["nextPage"] = "/portal?cursor=" + Self.queryEncoded(next) }
            return try render("portal_customers", request: request, viewer: viewer, current: "customers", values)
        }
    }

    @Sendable func customer(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let viewer = try await requireViewer(request)
            let item = try await requireCustomer(try context.parameters.require("id"), of: viewer, request: request)
            var values = Self.customerValues(item)
            values["title"] = item.customer.name
            return try render("portal_customer", request: request, viewer: viewer, current: "customers", values)
        }
    }

    @Sendable func confirmRemoval(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let viewer = try await requireViewer(request, acting: true)
            let item = try await requireCustomer(try context.parameters.require("id"), of: viewer, request: request)
            var values = Self.customerValues(item)
            values["title"] = "Remove customer relationship"
            return try render("portal_remove", request: request, viewer: viewer, current: "customers", values)
        }
    }

    @Sendable func removeRelationship(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValidCSRF(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, acting: true)
            let item = try await requireCustomer(try context.parameters.require("id"), of: viewer, request: request)
            let removal = try await store.removeRelationship(
                partnerID: viewer.partner.id, customerID: item.customer.id, at: clock(), actor: viewer.user.id)
            return try render("portal_removed", request: request, viewer: viewer, current: "customers", [
                "title": "Customer relationship removed",
                "name": item.customer.name,
                "dap": removal.delegatedAdminRetained,
            ])
        }
    }

    // MARK: Providers and new links

    @Sendable func providers(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let viewer = try await requireViewer(request, resellerOnly: true)
            let providers = try await store.providers(ofReseller: viewer.partner.id)
            return try render("portal_providers", request: request, viewer: viewer, current: "providers", [
                "title": "Indirect providers",
                "providers": providers.map { ["id": $0.id, "name": $0.name] },
                "empty": providers.isEmpty,
            ])
        }
    }

    @Sendable func newInvitation(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            return try await requestPage(request, viewer: viewer, status: .ok, error: nil)
        }
    }

    @Sendable func issue(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValidCSRF(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let providerID = (form["provider_id"] ?? "").trimmingWhitespace()
            let email = (form["customer_email"] ?? "").trimmingWhitespace()
            var provider: Partner?
            if !providerID.isEmpty {
                provider = try await store.partner(id: providerID)
                guard provider?.kind == .provider, try await store.isConnected(resellerID: viewer.partner.id, providerID: providerID) else {
                    return try await requestPage(request, viewer: viewer, status: .conflict,
                                                 error: "You are not an indirect reseller of that provider (any more). Choose another or none.")
                }
            }
            if !email.isEmpty, !EmailAddress.isPlausible(email) {
                return try await requestPage(request, viewer: viewer, status: .badRequest,
                                             error: "The customer's email is not an email address. Leave it empty to address the email yourself.")
            }
            let dap = form["dap"] != nil
            let issued = try await invitations.issue(
                resellerID: viewer.partner.id, providerID: provider?.id, delegatedAdmin: dap,
                lifetime: InvitationClaims.defaultLifetime, maxUses: nil, issuedBy: viewer.user.id,
                customerEmail: email.isEmpty ? nil : email, now: clock()
            )
            // Post/redirect/get: reloading the draft shows the same link instead of issuing another.
            return redirect(to: "/portal/invitations/\(issued.invitation.id)/draft")
        }
    }

    /// The draft email of one of the partner's invitations, with its link signed again (the
    /// same link: see ``InvitationService/link(for:)``).
    @Sendable func draft(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let id = try context.parameters.require("id")
            guard let invitation = try await store.invitation(id: id, resellerID: viewer.partner.id)?.invitation else {
                return try message(request, viewer: viewer, status: .notFound, title: "No such invitation",
                                   text: "There is no invitation \(id) among yours.", code: "not_found")
            }
            let status = invitation.status(at: clock())
            if let reason = Self.unusableText[status] {
                return try message(request, viewer: viewer, status: .gone, title: "This link can no longer be sent",
                                   text: reason + " Request a new reseller relationship instead.", code: status.rawValue)
            }
            guard let url = invitations.link(for: invitation) else {
                return try message(request, viewer: viewer, status: .gone, title: "This link can no longer be sent",
                                   text: "The key that signed it has been retired or revoked. Request a new reseller relationship instead.",
                                   code: "key_retired")
            }
            var provider: Partner?
            if let providerID = invitation.providerID { provider = try await store.partner(id: providerID) }
            let draft = DraftEmail(reseller: viewer.partner, provider: provider, delegatedAdmin: invitation.delegatedAdmin,
                                   url: url, expiresAt: invitation.expiresAt)
            let email = invitation.customerEmail ?? ""
            var values: [String: Any] = [
                "title": "Draft email",
                "subject": draft.subject,
                "body": draft.body,
                "url": url,
                "mailto": Self.mailto(to: email, subject: draft.subject, body: draft.body),
                "mailtoAddress": Self.mailtoAddress(email),
                "dap": invitation.delegatedAdmin,
                "expiresAt": RFC3339.format(invitation.expiresAt),
                "expiresText": Self.displayTime(invitation.expiresAt),
                "script": true,
            ]
            if let provider { values["providerName"] = provider.name }
            if !email.isEmpty { values["to"] = email }
            return try render("portal_draft", request: request, viewer: viewer, current: "new", values)
        }
    }

    // MARK: Issued links

    @Sendable func invitationList(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let viewer = try await requireViewer(request, resellerOnly: true)
            let cursor = request.uri.queryParameters["cursor"].map(String.init)
            let page = try await store.invitations(resellerID: viewer.partner.id, page: PageRequest(limit: Self.pageSize, cursor: cursor))
            let now = clock()
            var names = NameCache(store: store)
            var rows: [[String: Any]] = []
            for record in page.items {
                let invitation = record.invitation
                let status = invitation.status(at: now)
                var acceptances: [[String: Any]] = []
                for acceptance in record.acceptances {
                    acceptances.append([
                        "customer": try await names.customer(acceptance.customerID),
                        "person": try await names.user(acceptance.acceptedBy),
                        "at": RFC3339.format(acceptance.acceptedAt),
                        "atText": Self.displayTime(acceptance.acceptedAt),
                    ])
                }
                var row: [String: Any] = [
                    "id": invitation.id,
                    "status": status.rawValue,
                    "statusText": Self.statusText[status] ?? status.rawValue,
                    "issuedAt": RFC3339.format(invitation.issuedAt),
                    "issuedText": Self.displayTime(invitation.issuedAt),
                    "expiresAt": RFC3339.format(invitation.expiresAt),
                    "expiresText": Self.displayTime(invitation.expiresAt),
                    "issuedBy": try await names.user(invitation.issuedBy),
                    "dap": invitation.delegatedAdmin,
                    "acceptances": acceptances,
                    "revocable": invitation.revokedAt == nil && invitation.expiresAt > now,
                ]
                if let providerID = invitation.providerID { row["providerName"] = try await names.partner(providerID) }
                if let email = invitation.customerEmail { row["customerEmail"] = email }
                if let revokedAt = invitation.revokedAt {
                    row["revokedAt"] = RFC3339.format(revokedAt)
                    row["revokedText"] = Self.displayTime(revokedAt)
                }
                rows.append(row)
            }
            var values: [String: Any] = ["title": "Invitations", "invitations": rows, "empty": rows.isEmpty]
            if request.uri.queryParameters["revoked"] != nil { values["revokedNotice"] = true }
            if let next = page.nextCursor { values["nextPage"] = "/portal/invitations?cursor=" + Self.queryEncoded(next) }
            return try render("portal_invitations", request: request, viewer: viewer, current: "invitations", values)
        }
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValidCSRF(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let id = try context.parameters.require("id")
            _ = try await store.revokeInvitation(id: id, resellerID: viewer.partner.id, at: clock(), actor: viewer.user.id)
            return redirect(to: "/portal/invitations?revoked=1")
        }
    }

    // MARK: Who is signed in

    /// A signed-in partner user and the partner they work for.
    struct Viewer: Sendable {
        var user: User
        var partner: Partner
        /// Global admins and admin agents act; sales agents only read.
        var mayAct: Bool { user.role == .globalAdmin || user.role == .adminAgent }
    }

    /// A response that ends a handler early (sign-in redirect, 403 page); caught by ``guarded(_:_:)``.
    private struct Interruption: Error {
        let response: Response
    }

    private func currentViewer(_ request: Request) async throws -> Viewer? {
        guard let userID = try await sessions.userID(from: request, now: clock()),
              let user = try await store.user(id: userID),
              case .partner(let partnerID) = user.tenant,
              let partner = try await store.partner(id: partnerID)
        else { return nil }
        return Viewer(user: user, partner: partner)
    }

    /// The signed-in partner user, or an interruption: to the sign-in page when there is none,
    /// to the password page while a one-time password is unchanged, a 403 page when the role
    /// may not act or the partner is not a reseller.
    private func requireViewer(
        _ request: Request, acting: Bool = false, resellerOnly: Bool = false, allowPasswordChange: Bool = false
    ) async throws -> Viewer {
        guard let viewer = try await currentViewer(request) else {
            var response = redirect(to: "/portal/sign-in")
            if request.cookies[PortalSession.cookieName] != nil { response.setCookie(sessions.signOutCookie()) }
            throw Interruption(response: response)
        }
        if viewer.user.mustChangePassword, !allowPasswordChange {
            throw Interruption(response: redirect(to: "/portal/password"))
        }
        if resellerOnly, viewer.partner.kind != .reseller {
            throw Interruption(response: try message(
                request, viewer: viewer, status: .forbidden, title: "For resellers only",
                text: "\(viewer.partner.name) is a provider. Invitations and indirect providers are managed by resellers.",
                code: "forbidden"))
        }
        if acting, !viewer.mayAct {
            throw Interruption(response: try message(
                request, viewer: viewer, status: .forbidden, title: "Not allowed for your role",
                text: "As a \(Self.roleText(viewer.user.role)) you can see the lists but not invite, revoke or remove. Ask a global admin or admin agent of \(viewer.partner.name).",
                code: "forbidden"))
        }
        return viewer
    }

    /// The viewer's customer `id` with its relationship, or a 404 page: a customer with no
    /// active relationship to this partner is not one it may see.
    private func requireCustomer(_ id: String, of viewer: Viewer, request: Request) async throws -> PartnerCustomer {
        var cursor: String?
        repeat {
            let page = try await store.customers(ofPartner: viewer.partner.id, page: PageRequest(limit: PageRequest.maximumLimit, cursor: cursor))
            if let item = page.items.first(where: { $0.customer.id == id }) { return item }
            cursor = page.nextCursor
        } while cursor != nil
        throw Interruption(response: try message(
            request, viewer: viewer, status: .notFound, title: "Not one of your customers",
            text: "There is no active relationship between \(viewer.partner.name) and this customer.", code: "not_found"))
    }

    /// Runs a handler and turns its interruptions and domain errors into HTML pages.
    private func guarded(_ request: Request, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let interruption as Interruption {
            return interruption.response
        } catch let error as StoreError {
            let problem = APIError(error)
            guard problem.status.code < 500 || error.code == .unavailable else { throw error }
            return try message(request, viewer: nil, status: problem.status, title: "That did not work", text: error.message, code: problem.code)
        } catch let error as KeyringError {
            return try message(
                request, viewer: nil, status: .serviceUnavailable, title: "Links cannot be issued right now",
                text: "The service has no key to sign links with. Ask your administrator to run `invitelink keys rotate --alg ed25519`.",
                code: error.code.rawValue)
        } catch let error as LinkTooLongError {
            return try message(
                request, viewer: nil, status: .unprocessableContent, title: "Links cannot be issued right now",
                text: "The link would be too long for email (\(error.length) characters, the limit is under 600). Ask your administrator to shorten the service's public URL or issuer.",
                code: "link_too_long")
        }
    }

    // MARK: Pages

    private func signInPage(_ request: Request, status: HTTPResponse.Status, email: String, error: String?) throws -> Response {
        var values: [String: Any] = ["title": "Sign in to the partner portal", "email": email]
        if let error { values["error"] = error }
        return try render("portal_sign_in", status: status, request: request, viewer: nil, current: nil, values)
    }

    private func passwordPage(_ request: Request, viewer: Viewer, status: HTTPResponse.Status, error: String?) throws -> Response {
        var values: [String: Any] = [
            "title": viewer.user.mustChangePassword ? "Choose your password" : "Change your password",
            "oneTime": viewer.user.mustChangePassword,
            "minimum": String(PageRoutes.minimumPasswordLength),
        ]
        if let error { values["error"] = error }
        // Until the one-time password is changed there is nowhere else to go: no navigation.
        return try render("portal_password", status: status, request: request,
                          viewer: viewer.user.mustChangePassword ? nil : viewer, current: nil, values)
    }

    private func requestPage(_ request: Request, viewer: Viewer, status: HTTPResponse.Status, error: String?) async throws -> Response {
        let providers = try await store.providers(ofReseller: viewer.partner.id)
        var values: [String: Any] = [
            "title": "Request a reseller relationship",
            "providers": providers.map { ["id": $0.id, "name": $0.name] },
        ]
        if let error { values["error"] = error }
        return try render("portal_request", status: status, request: request, viewer: viewer, current: "new", values)
    }

    private func message(
        _ request: Request, viewer: Viewer?, status: HTTPResponse.Status, title: String, text: String, code: String
    ) throws -> Response {
        try render("portal_message", status: status, request: request, viewer: viewer, current: nil, [
            "title": title, "text": text, "code": code,
        ])
    }

    private func csrfFailure(_ request: Request) throws -> Response {
        try message(request, viewer: nil, status: .forbidden, title: "Please try again",
                    text: "The form expired or did not come from this site. Go back, reload the page and send it again.", code: "csrf")
    }

    private func render(
        _ template: String, status: HTTPResponse.Status = .ok, request: Request, viewer: Viewer?, current: String?,
        _ values: [String: Any]
    ) throws -> Response {
        let (token, isNew) = try csrf.csrfToken(for: request)
        var values = values
        values["csrf"] = token
        if let viewer {
            values["viewer"] = [
                "email": viewer.user.email,
                "role": Self.roleText(viewer.user.role),
                "partnerName": viewer.partner.name,
            ]
            values["isReseller"] = viewer.partner.kind == .reseller
            values["mayAct"] = viewer.mayAct
        }
        if let current { values["at_" + current] = true }
        guard let html = templates.render(values, withTemplate: template) else {
            throw APIError(.internalServerError, "internal_error", "template \(template) is missing")
        }
        var response = Response(status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
                                body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        if isNew { response.setCookie(csrf.csrfCookie(token)) }
        return response
    }

    private func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }

    // MARK: Formatting

    static let statusText: [InvitationStatus: String] = [
        .pending: "Pending", .accepted: "Accepted", .expired: "Expired", .revoked: "Revoked", .usedUp: "Used up",
    ]

    /// Why a link of each unusable status cannot be sent again.
    static let unusableText: [InvitationStatus: String] = [
        .revoked: "The invitation was revoked.", .usedUp: "The invitation has no uses left.", .expired: "The invitation has expired.",
    ]

    static func roleText(_ role: Role) -> String {
        switch role {
        case .globalAdmin: "global admin"
        case .adminAgent: "admin agent"
        case .salesAgent: "sales agent"
        case .user: "user"
        }
    }

    static func customerValues(_ item: PartnerCustomer) -> [String: Any] {
        var values: [String: Any] = [
            "id": item.customer.id,
            "path": "/portal/customers/" + queryEncoded(item.customer.id),
            "name": item.customer.name,
            "domain": item.customer.domain,
            "role": item.role == .reseller ? "Reseller" : "Indirect provider",
            "since": RFC3339.format(item.since),
            "sinceText": displayTime(item.since),
            "dap": item.delegatedAdminSince != nil,
        ]
        if let dapSince = item.delegatedAdminSince {
            values["dapSince"] = RFC3339.format(dapSince)
            values["dapSinceText"] = displayTime(dapSince)
        }
        return values
    }

    /// `2025-05-01 09:30 UTC`: what people read; the RFC 3339 form goes in `<time datetime>`.
    static func displayTime(_ seconds: Int64) -> String {
        let text = RFC3339.format(seconds)
        guard text.count == 20 else { return text }
        return text.prefix(10) + " " + text.dropFirst(11).prefix(5) + " UTC"
    }

    /// Only RFC 3986 unreserved characters stay as they are (ASCII only).
    private static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func queryEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// A `mailto:` URI (RFC 6068): every reserved character percent-encoded, line breaks as CRLF.
    static func mailto(to address: String, subject: String, body: String) -> String {
        let crlf = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        return "mailto:\(mailtoAddress(address))?subject=\(queryEncoded(subject))&body=\(queryEncoded(crlf))"
    }

    /// The address part of a `mailto:` link, percent-encoded (empty when there is none).
    static func mailtoAddress(_ address: String) -> String {
        address.isEmpty ? "" : (address.addingPercentEncoding(withAllowedCharacters: unreserved.union(CharacterSet(charactersIn: "@"))) ?? "")
    }
}

/// Names for the ids on the invitations page, each looked up once per page.
private struct NameCache {
    let store: any RelationshipStore
    private var names: [String: String] = [:]

    init(store: any RelationshipStore) { self.store = store }

    mutating func customer(_ id: String) async throws -> String {
        let store = self.store
        return try await lookup("c:" + id) { try await store.customer(id: id)?.name ?? id }
    }

    mutating func partner(_ id: String) async throws -> String {
        let store = self.store
        return try await lookup("p:" + id) { try await store.partner(id: id)?.name ?? id }
    }

    /// A person's email; the id itself for an issuer that was an API credential.
    mutating func user(_ id: String) async throws -> String {
        let store = self.store
        return try await lookup("u:" + id) { try await store.user(id: id)?.email ?? id }
    }

    private mutating func lookup(_ key: String, _ load: () async throws -> String) async throws -> String {
        if let name = names[key] { return name }
        let name = try await load()
        names[key] = name
        return name
    }
}
