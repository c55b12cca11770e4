import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken
import Mustache
import NIOCore

/// The partner portal under `/portal`: sign-in for partner staff, the partner's customers
/// (with removal behind a confirmation), its indirect providers, requesting a reseller
/// relationship (the draft email with the link), and the issued links with revocation.
///
/// Server-rendered and usable without JavaScript; `/assets/portal.js` only adds the Copy
/// buttons. Every form carries a CSRF token bound to the session (``CSRFTokens``) and every POST
/// checks it before anything else. A `sales-agent` sees the lists but no action, and its
/// POSTs are answered 403. A failure becomes an HTML page here, never a problem document:
/// errors thrown past a handler would reach the API's JSON mapping.
struct PortalRoutes: Sendable {
    let store: any RelationshipStore
    let invitations: InvitationService
    let templates: MustacheLibrary
    let clock: @Sendable () -> Int64
    var csrf: CSRFTokens { sessions.csrf }
    var renderer: HTMLRenderer { HTMLRenderer(templates: templates, csrf: csrf) }
    let sessions: PortalSession
    let signIn: PasswordSignIn
    /// Where webhooks may be sent.
    var webhookPolicy = WebhookURLPolicy(allowInsecure: false)

    static let script = Assets.text("portal", "js", subdirectory: "Resources")
    static let pageSize = 50

    init(
        store: any RelationshipStore, invitations: InvitationService, signIn: PasswordSignIn,
        secureCookies: Bool, sessionSecret: SessionSecret, templates: MustacheLibrary, clock: @escaping @Sendable () -> Int64
    ) throws {
        self.store = store
        self.invitations = invitations
        self.signIn = signIn
        self.templates = templates
        self.clock = clock
        sessions = try PortalSession(secureCookies: secureCookies, secret: sessionSecret, store: store)
    }

    func register(on router: Router<AppRequestContext>) {
        router.get("assets/portal.js") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/javascript; charset=utf-8", .cacheControl: "max-age=3600"],
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
        portal.get("customers/new", use: newCustomer)
        portal.post("customers", use: addCustomer)
        portal.get("customers/{id}/delegated-admin", use: confirmGiveUp)
        portal.post("customers/{id}/delegated-admin", use: giveUpDelegatedAdmin)
        portal.get("users", use: users)
        portal.post("users", use: addUser)
        portal.post("users/{id}/disable", use: disableUser)
        portal.post("users/{id}/enable", use: enableUser)
        portal.post("users/{id}/reset", use: resetUser)
        portal.get("audit", use: auditLog)
        portal.get("webhooks", use: webhooksPage)
        portal.post("webhooks", use: addWebhook)
        portal.post("webhooks/{id}/rotate", use: rotateWebhook)
        portal.post("webhooks/{id}/remove", use: removeWebhook)
        portal.get("providers", use: providers)
        portal.get("invitations", use: invitationList)
        portal.get("invitations/new", use: newInvitation)
        portal.post("invitations", use: issue)
        portal.get("invitations/{id}/draft", use: draft)
        portal.post("invitations/{id}/revoke", use: revoke)
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
    struct Interruption: Error {
        let response: Response
    }

    func currentViewer(_ request: Request) async throws -> Viewer? {
        guard let user = try await sessions.user(from: request, now: clock()),
            case .partner(let partnerID) = user.tenant,
            let partner = try await store.partner(id: partnerID)
        else { return nil }
        return Viewer(user: user, partner: partner)
    }

    /// The signed-in partner user, or an interruption: to the sign-in page when there is none,
    /// to the password page while a one-time password is unchanged, a 403 page when the role
    /// may not act or the partner is not a reseller.
    /// The signed-in partner global admin, or a 403 page saying so (`refusal`, a catalog key
    /// taking the partner's name): people, webhooks, the audit log and giving DAP up are theirs.
    func requireGlobalAdmin(_ request: Request, refusal: String, acting: Bool = false) async throws -> Viewer {
        let viewer = try await requireViewer(request, acting: acting)
        guard viewer.user.role == .globalAdmin else {
            throw Interruption(
                response: try message(
                    request, viewer: viewer, status: .forbidden, title: "portal.role_title",
                    text: CatalogText(refusal, ["partner": viewer.partner.name]), code: "forbidden"))
        }
        return viewer
    }

    func requireViewer(
        _ request: Request, acting: Bool = false, resellerOnly: Bool = false, allowPasswordChange: Bool = false
    ) async throws -> Viewer {
        guard let viewer = try await currentViewer(request) else {
            var response = HTMLRenderer.redirect(to: "/portal/sign-in")
            if request.cookies[sessions.cookie.name] != nil { response.setCookie(sessions.cookie.removal()) }
            throw Interruption(response: response)
        }
        if viewer.user.mustChangePassword, !allowPasswordChange {
            throw Interruption(response: HTMLRenderer.redirect(to: "/portal/password"))
        }
        if resellerOnly, viewer.partner.kind != .reseller {
            throw Interruption(
                response: try message(
                    request, viewer: viewer, status: .forbidden, title: "portal.resellers_only_title",
                    text: CatalogText("portal.resellers_only", ["partner": viewer.partner.name]), code: "forbidden"))
        }
        if acting, !viewer.mayAct {
            throw Interruption(
                response: try message(
                    request, viewer: viewer, status: .forbidden, title: "portal.role_title",
                    text: CatalogText(
                        "portal.role_reads_only",
                        ["role": request.pageCatalog.text(Self.roleKey(viewer.user.role)), "partner": viewer.partner.name]),
                    code: "forbidden"))
        }
        return viewer
    }

    /// The viewer's customer `id` with its relationship, or a 404 page: a customer with no
    /// active relationship to this partner is not one it may see.
    func requireCustomer(_ id: String, of viewer: Viewer, request: Request) async throws -> PartnerCustomer {
        if let item = try await store.customer(id: id, ofPartner: viewer.partner.id) { return item }
        throw Interruption(
            response: try message(
                request, viewer: viewer, status: .notFound, title: "portal.not_your_customer_title",
                text: CatalogText("portal.not_your_customer", ["partner": viewer.partner.name]), code: "not_found"))
    }

    /// Runs a handler and turns its interruptions and domain errors into HTML pages.
    func guarded(_ request: Request, _ context: AppRequestContext, _ body: () async throws -> Response) async throws -> Response {
        do {
            return try await body()
        } catch let interruption as Interruption {
            return interruption.response
        } catch is PasswordHashingPool.Busy {
            return HTMLRenderer.busy(request)
        } catch let error as StoreError where APIError(error).status.code < 500 {
            let problem = APIError(error)
            return try message(
                request, viewer: nil, status: problem.status, title: "portal.failed_title", text: problem.detail, code: problem.code)
        } catch let error as KeyringError {
            return try message(
                request, viewer: nil, status: .serviceUnavailable, title: "portal.no_links_title", text: CatalogText("portal.no_key"),
                code: error.code.rawValue)
        } catch let error as LinkTooLongError {
            return try message(
                request, viewer: nil, status: .unprocessableContent, title: "portal.no_links_title",
                text: CatalogText("portal.link_too_long", ["length": String(error.length)]), code: "link_too_long")
        } catch  where APIError.from(error).status.code >= 500 {
            // The service's own failure: `internal` and the request id on the page, the
            // detail in the log only.
            let problem = APIError.from(error)
            context.logger.error("request failed", metadata: ["detail": "\(error)"])
            return try message(
                request, viewer: nil, status: problem.status, title: "portal.internal_title",
                text: CatalogText("portal.internal", ["requestID": context.id]), code: problem.code)
        }
    }
}
