import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken
import Logging
import Mustache
import NIOCore

/// The customer's pages: the acceptance page (GET never changes anything: mail scanners open
/// links), sign-in, first-sign-in password change, and the accept form.
struct PageRoutes: Sendable {
    let store: any RelationshipStore
    let invitations: InvitationService
    let metrics: ServiceMetrics
    let signIn: PasswordSignIn
    let sessions: WebSession
    let templates: MustacheLibrary

    var renderer: HTMLRenderer { HTMLRenderer(templates: templates, csrf: sessions.csrf) }
    let clock: @Sendable () -> Int64

    static let minimumPasswordLength = 12

    func register(on router: Router<AppRequestContext>) {
        router.get("invitations/accept", use: showInvitation)
        router.post("invitations/sign-in", use: signIn)
        router.post("invitations/password", use: changePassword)
        router.post("invitations/accept", use: accept)
        router.get("assets/app.css") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/css", .cacheControl: "max-age=3600"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: Assets.css)))
        }
    }

    // MARK: Handlers

    @Sendable func showInvitation(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        return try await invitationPage(token: token, request: request, error: nil)
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard signIn.pool.hasRoom else { return HTMLRenderer.busy(request) }
        let form = try await FormBody.read(request, context: context)
        let token = form["token"] ?? ""
        guard sessions.csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
        let now = clock()
        let user: User
        let outcome: PasswordSignIn.Outcome
        do {
            outcome = try await signIn.check(
                email: form["email"] ?? "", password: form["password"] ?? "", request: request, context: context, now: now)
        } catch is PasswordHashingPool.Busy {
            return HTMLRenderer.busy(request)
        }
        switch outcome {
        case .signedIn(let signedIn):
            user = signedIn
        case .refused:
            return try await invitationPage(token: token, request: request, error: request.pageCatalog.text("common.not_right"))
        case .locked(let retryAfter):
            return PasswordSignIn.locked(
                try await invitationPage(
                    token: token, request: request, status: .tooManyRequests,
                    error: PasswordSignIn.retryText(retryAfter, catalog: request.pageCatalog)),
                retryAfter: retryAfter)
        }
        var response = HTMLRenderer.redirect(to: acceptPath(token))
        response.setCookie(try sessions.cookie.cookie(for: user, now: now))
        return response
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, context: context)
        let token = form["token"] ?? ""
        guard sessions.csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
        guard let user = try await sessions.cookie.user(request, store: store, now: clock()) else {
            return HTMLRenderer.redirect(to: acceptPath(token))
        }
        let newPassword = form["new_password"] ?? ""
        // The one-time password goes through the sign-in limits too.
        let outcome: PasswordSignIn.Outcome
        do {
            outcome = try await signIn.check(
                email: user.email, password: form["current_password"] ?? "", request: request, context: context, now: clock())
        } catch is PasswordHashingPool.Busy {
            return HTMLRenderer.busy(request)
        }
        switch outcome {
        case .signedIn:
            break
        case .refused:
            return try await invitationPage(token: token, request: request, error: request.pageCatalog.text("common.one_time_not_right"))
        case .locked(let retryAfter):
            return PasswordSignIn.locked(
                try await invitationPage(
                    token: token, request: request, status: .tooManyRequests,
                    error: PasswordSignIn.retryText(retryAfter, catalog: request.pageCatalog)),
                retryAfter: retryAfter)
        }
        guard newPassword.count >= Self.minimumPasswordLength, newPassword != form["current_password"] else {
            return try await invitationPage(
                token: token, request: request,
                error: request.pageCatalog.text("common.too_short_one_time", ["minimum": String(Self.minimumPasswordLength)]))
        }
        // A new session version ends every other session of this user; this browser gets a
        // cookie of the new version.
        let changed = try await store.setPassword(userID: user.id, passwordHash: try await signIn.hash(newPassword), at: clock())
        var response = HTMLRenderer.redirect(to: acceptPath(token))
        response.setCookie(try sessions.cookie.cookie(for: changed, now: clock()))
        return response
    }

    @Sendable func accept(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, context: context)
        let token = form["token"] ?? ""
        guard sessions.csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
        let now = clock()
        guard let user = try await sessions.cookie.user(request, store: store, now: now) else {
            return HTMLRenderer.redirect(to: acceptPath(token))
        }
        guard case .customer(let customerID) = user.tenant, user.role == .globalAdmin, !user.mustChangePassword else {
            return try await invitationPage(token: token, request: request, error: nil)
        }
        let acceptance: Acceptance
        do {
            acceptance = try await metrics.observeAcceptance {
                try await invitations.accept(token: token, customerID: customerID, acceptedBy: user.id, now: now)
            }
        } catch let error as TokenError {
            return try problemPage(error.code, request: request)
        } catch let error as StoreError {
            if let reason = error.tokenReason { return try problemPage(reason, request: request) }
            let problem = APIError(error)
            let catalog = request.pageCatalog
            var explanation = catalog.text(problem.detail)
            if problem.status.code >= 500 {
                context.logger.error("acceptance failed", metadata: ["detail": "\(error)"])
                explanation = catalog.text("accept.internal", ["requestID": context.id])
            }
            return try renderer.page(
                "link_problem", status: problem.status, request: request,
                ["title": catalog.text("accept.cannot_accept_title"), "explanation": explanation, "code": problem.code])
        }
        let catalog = request.pageCatalog
        var partners: [[String: Any]] = []
        var resellerName = ""
        for relationship in acceptance.relationships {
            let name = try await store.partner(id: relationship.partnerID)?.name ?? relationship.partnerID
            if relationship.role == .reseller { resellerName = name }
            partners.append([
                "name": name, "role": catalog.text(relationship.role == .reseller ? "common.kind_reseller" : "common.kind_provider"),
                "created": relationship.created,
            ])
        }
        return try renderer.page(
            "accepted", status: .ok, request: request,
            [
                "title": catalog.text("accepted.title"), "partners": partners, "dap": acceptance.delegatedAdmin,
                "resellerName": resellerName,
            ])
    }

    // MARK: Rendering

    private func invitationPage(token: String, request: Request, status: HTTPResponse.Status = .ok, error: String?) async throws -> Response
    {
        let check = try await invitations.check(token, now: clock())
        guard case .valid(let verified, _) = check else {
            if let reason = check.reason { metrics.recordVerificationFailure(reason) }
            return try problemPage(check.reason ?? .malformed, request: request)
        }
        let claims = verified.claims
        let catalog = request.pageCatalog
        let reseller = try await store.partner(id: claims.resellerID)
        let provider: Partner? = if let id = claims.providerID { try await store.partner(id: id) } else { nil }
        var names = ["reseller": reseller?.name ?? claims.resellerID]
        if let id = claims.providerID { names["provider"] = provider?.name ?? id }
        let acceptKey =
            switch (claims.providerID != nil, claims.delegatedAdmin) {
            case (false, false): "accept.accept_text"
            case (false, true): "accept.accept_text_dap"
            case (true, false): "accept.accept_text_provider"
            case (true, true): "accept.accept_text_provider_dap"
            }
        var values: [String: Any] = [
            "title": catalog.text("accept.title", names),
            "resellerName": reseller?.name ?? claims.resellerID,
            "dap": claims.delegatedAdmin,
            "expiresAt": RFC3339.format(claims.expiresAt),
            "expiresText": catalog.dateTime(claims.expiresAt),
            "token": token,
        ]
        if let providerName = names["provider"] { values["providerName"] = providerName }
        if let error { values["error"] = error }
        if let user = try await sessions.cookie.user(request, store: store, now: clock()) {
            values["email"] = user.email
            values["acceptText"] = catalog.text(acceptKey, names.merging(["email": user.email]) { current, _ in current })
            if user.mustChangePassword {
                values["changePassword"] = true
            } else if case .customer = user.tenant, user.role == .globalAdmin {
                values["acceptForm"] = true
            } else {
                values["notAllowed"] = true
            }
        } else {
            values["signIn"] = true
        }
        return try renderer.page("accept", status: status, request: request, values)
    }

    private func problemPage(_ reason: TokenError.Code, request: Request) throws -> Response {
        try renderer.page(
            "link_problem", status: APIError.status(for: reason), request: request,
            [
                "title": request.pageCatalog.text("accept.link_unusable_title"),
                "explanation": request.pageCatalog.text(reason.explanationKey),
                "code": reason.rawValue,
            ])
    }

    private func csrfFailure(_ request: Request) throws -> Response {
        try renderer.page(
            "link_problem", status: .forbidden, request: request,
            [
                "title": request.pageCatalog.text("csrf.title"), "explanation": request.pageCatalog.text("csrf.invitation"), "code": "csrf",
            ])
    }

    private func acceptPath(_ token: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.")
        return "/invitations/accept?token=" + (token.addingPercentEncoding(withAllowedCharacters: allowed) ?? "")
    }
}
