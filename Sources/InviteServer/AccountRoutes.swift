import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken

/// The customer's own pages (DESIGN.md §7) and the setup links every new person follows.
///
/// `/account`: a customer user signs in as on the acceptance page (the same session cookie)
/// and sees the partners holding a relationship or DAP grant on its organization; a global
/// admin removes either behind a confirmation. `/setup?token=…`: a person chooses a password
/// with a one-time setup link; the GET never changes anything, the POST uses the link up.
struct AccountRoutes: Sendable {
    let pages: PageRoutes

    var store: any RelationshipStore { pages.store }
    var renderer: HTMLRenderer { pages.renderer }
    var sessions: WebSession { pages.sessions }
    var setupLinks: SetupLinks { pages.invitations.setupLinks }
    func now() -> Int64 { pages.clock() }

    func register(on router: Router<AppRequestContext>) {
        router.get("account", use: account)
        router.post("account/sign-in", use: signIn)
        router.post("account/sign-out", use: signOut)
        router.post("account/password", use: changePassword)
        router.get("account/partners/{id}/remove", use: confirmRemoval)
        router.post("account/partners/{id}/remove", use: remove)
        router.get("setup", use: showSetup)
        router.post("setup", use: completeSetup)
    }

    // MARK: /account

    /// The signed-in customer user, if any.
    private func customerUser(_ request: Request) async throws -> (User, String)? {
        guard let user = try await sessions.cookie.user(request, store: store, now: now()),
            case .customer(let customerID) = user.tenant
        else { return nil }
        return (user, customerID)
    }

    @Sendable func account(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await accountPage(request)
    }

    private func accountPage(
        _ request: Request, status: HTTPResponse.Status = .ok, error: String? = nil, notice: String? = nil
    ) async throws -> Response {
        let catalog = request.pageCatalog
        var values: [String: Any] = ["title": catalog.text("account.title")]
        if let error { values["error"] = error }
        if let notice { values["notice"] = notice }
        guard let (user, customerID) = try await customerUser(request) else {
            values["signIn"] = true
            return try renderer.page("account", status: status, request: request, values)
        }
        if user.mustChangePassword {
            values["changePassword"] = true
            return try renderer.page("account", status: status, request: request, values)
        }
        let cursor = request.uri.queryParameters["cursor"].map(String.init)
        let page = try await store.partners(ofCustomer: customerID, page: PageRequest(limit: 50, cursor: cursor))
        let mayRemove = user.role == .globalAdmin
        values["signedIn"] = true
        values["email"] = user.email
        values["customerName"] = try await store.customer(id: customerID)?.name ?? customerID
        values["mayRemove"] = mayRemove
        values["empty"] = page.items.isEmpty
        values["partners"] = page.items.map { item -> [String: Any] in
            var row: [String: Any] = [
                "id": item.partner.id, "name": item.partner.name,
                "kindText": catalog.text(item.partner.kind == .reseller ? "common.kind_reseller" : "common.kind_provider"),
                "mayRemove": mayRemove,
            ]
            if let since = item.relationshipSince {
                row["since"] = RFC3339.format(since)
                row["sinceText"] = catalog.dateTime(since)
            }
            if let granted = item.delegatedAdminSince {
                row["grantedAt"] = RFC3339.format(granted)
                row["grantedText"] = catalog.dateTime(granted)
            }
            return row
        }
        if let next = page.nextCursor {
            values["nextPage"] = "/account?cursor=" + (next.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")
        }
        return try renderer.page("account", status: status, request: request, values)
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard pages.signIn.pool.hasRoom else { return HTMLRenderer.busy(request) }
        let form = try await FormBody.read(request, context: context)
        guard sessions.csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
        let outcome: PasswordSignIn.Outcome
        do {
            outcome = try await pages.signIn.check(
                email: form["email"] ?? "", password: form["password"] ?? "", request: request, context: context, now: now())
        } catch is PasswordHashingPool.Busy {
            return HTMLRenderer.busy(request)
        }
        switch outcome {
        case .signedIn(let user):
            guard case .customer = user.tenant else {
                return try await accountPage(
                    request, status: .forbidden,
                    error: request.pageCatalog.text("account.partner_account"))
            }
            var response = HTMLRenderer.redirect(to: "/account")
            response.setCookie(try sessions.cookie.cookie(for: user, now: now()))
            return response
        case .refused:
            return try await accountPage(request, status: .unauthorized, error: request.pageCatalog.text("common.not_right"))
        case .locked(let retryAfter):
            return PasswordSignIn.locked(
                try await accountPage(
                    request, status: .tooManyRequests, error: PasswordSignIn.retryText(retryAfter, catalog: request.pageCatalog)),
                retryAfter: retryAfter)
        }
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, context: context)
        guard sessions.csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
        var response = HTMLRenderer.redirect(to: "/account")
        response.setCookie(sessions.cookie.removal())
        return response
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, context: context)
        guard sessions.csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
        guard let (user, _) = try await customerUser(request) else { return HTMLRenderer.redirect(to: "/account") }
        let current = form["current_password"] ?? "", new = form["new_password"] ?? ""
        let outcome: PasswordSignIn.Outcome
        do {
            outcome = try await pages.signIn.check(email: user.email, password: current, request: request, context: context, now: now())
        } catch is PasswordHashingPool.Busy {
            return HTMLRenderer.busy(request)
        }
        switch outcome {
        case .signedIn: break
        case .refused:
            return try await accountPage(request, status: .unauthorized, error: request.pageCatalog.text("common.one_time_not_right"))
        case .locked(let retryAfter):
            return PasswordSignIn.locked(
                try await accountPage(
                    request, status: .tooManyRequests, error: PasswordSignIn.retryText(retryAfter, catalog: request.pageCatalog)),
                retryAfter: retryAfter)
        }
        guard new.count >= PageRoutes.minimumPasswordLength, new != current else {
            return try await accountPage(
                request, status: .badRequest,
                error: request.pageCatalog.text("common.too_short_one_time", ["minimum": String(PageRoutes.minimumPasswordLength)]))
        }
        let changed = try await store.setPassword(userID: user.id, passwordHash: try await pages.signIn.hash(new), at: now())
        var response = HTMLRenderer.redirect(to: "/account")
        response.setCookie(try sessions.cookie.cookie(for: changed, now: now()))
        return response
    }

    /// What a removal is about: `relationship` or `delegated-admin`.
    private enum Removal: String {
        case relationship
        case delegatedAdmin = "delegated-admin"
    }

    /// The signed-in global admin, the partner and what to remove; or the page to answer with.
    private func removalContext(_ request: Request, context: AppRequestContext, what: String?) async throws -> Result<
        (user: User, customerID: String, partner: CustomerPartner, removal: Removal), Interrupted
    > {
        guard let (user, customerID) = try await customerUser(request), !user.mustChangePassword else {
            return .failure(Interrupted(HTMLRenderer.redirect(to: "/account")))
        }
        guard user.role == .globalAdmin else {
            return .failure(
                Interrupted(
                    try await accountPage(
                        request, status: .forbidden,
                        error: request.pageCatalog.text("account.only_global_admin"))))
        }
        guard let removal = what.flatMap(Removal.init(rawValue:)) else {
            return .failure(
                Interrupted(try await accountPage(request, status: .badRequest, error: request.pageCatalog.text("account.choose_what"))))
        }
        let partnerID = try context.parameters.require("id")
        // Seen from this customer only: a partner it has nothing with is a 404.
        guard let partner = try await store.partner(id: partnerID, ofCustomer: customerID),
            removal == .relationship ? partner.relationshipSince != nil : partner.delegatedAdminSince != nil
        else {
            return .failure(
                Interrupted(try await accountPage(request, status: .notFound, error: request.pageCatalog.text("account.nothing_to_remove")))
            )
        }
        return .success((user, customerID, partner, removal))
    }

    struct Interrupted: Error {
        let response: Response
        init(_ response: Response) { self.response = response }
    }

    @Sendable func confirmRemoval(_ request: Request, context: AppRequestContext) async throws -> Response {
        switch try await removalContext(request, context: context, what: request.uri.queryParameters["what"].map(String.init)) {
        case .failure(let interrupted):
            return interrupted.response
        case .success(let found):
            return try renderer.page(
                "account_remove", request: request,
                [
                    "title": request.pageCatalog.text(
                        found.removal == .relationship ? "account_remove.title_relationship" : "account_remove.title_dap"),
                    "id": found.partner.partner.id, "name": found.partner.partner.name, "what": found.removal.rawValue,
                    "relationship": found.removal == .relationship, "delegatedAdmin": found.removal == .delegatedAdmin,
                    "dap": found.partner.delegatedAdminSince != nil,
                ])
        }
    }

    @Sendable func remove(_ request: Request, context: AppRequestContext) async throws -> Response {
        let form = try await FormBody.read(request, context: context)
        guard sessions.csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
        switch try await removalContext(request, context: context, what: form["what"]) {
        case .failure(let interrupted):
            return interrupted.response
        case .success(let found):
            let name = found.partner.partner.name
            switch found.removal {
            case .relationship:
                let removal = try await store.removeRelationship(
                    partnerID: found.partner.partner.id, customerID: found.customerID, by: .customer, at: now(), actor: found.user.id)
                return try await accountPage(
                    request,
                    notice: request.pageCatalog.text(
                        removal.delegatedAdminRetained ? "account.ended_dap_stays" : "account.ended", ["name": name]))
            case .delegatedAdmin:
                try await store.removeDelegatedAdmin(
                    partnerID: found.partner.partner.id, customerID: found.customerID, by: .customer, at: now(), actor: found.user.id)
                return try await accountPage(request, notice: request.pageCatalog.text("account.dap_removed", ["name": name]))
            }
        }
    }

    // MARK: /setup

    /// The claims and the person of a setup token still usable at `now`, or the reason code.
    private func usableSetup(_ token: String) async throws -> Result<(SetupClaims, User), TokenError> {
        let claims: SetupClaims
        do {
            claims = try setupLinks.verify(token, now: now())
        } catch {
            return .failure(error)
        }
        guard let link = try await store.setupLink(id: claims.linkID), link.userID == claims.userID else {
            return .failure(TokenError(.unknownInvitation, "no setup link \(claims.linkID)"))
        }
        guard link.usedAt == nil, let user = try await store.user(id: claims.userID), user.disabledAt == nil else {
            return .failure(TokenError(.usedUp, "setup link \(claims.linkID) was used or replaced"))
        }
        return .success((claims, user))
    }

    @Sendable func showSetup(_ request: Request, context: AppRequestContext) async throws -> Response {
        let token = request.uri.queryParameters["token"].map(String.init) ?? ""
        switch try await usableSetup(token) {
        case .failure(let error):
            return try setupProblem(error.code, request: request)
        case .success(let (claims, user)):
            return try renderer.page(
                "setup", request: request,
                [
                    "title": request.pageCatalog.text("common.choose_password"), "form": true, "email": user.email, "token": token,
                    "expiresAt": RFC3339.format(claims.expiresAt), "expiresText": request.pageCatalog.dateTime(claims.expiresAt),
                ])
        }
    }

    @Sendable func completeSetup(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard pages.signIn.pool.hasRoom else { return HTMLRenderer.busy(request) }
        let form = try await FormBody.read(request, context: context)
        guard sessions.csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
        let token = form["token"] ?? ""
        let password = form["new_password"] ?? ""
        switch try await usableSetup(token) {
        case .failure(let error):
            return try setupProblem(error.code, request: request)
        case .success(let (claims, user)):
            guard password.count >= PageRoutes.minimumPasswordLength else {
                return try renderer.page(
                    "setup", status: .badRequest, request: request,
                    [
                        "title": request.pageCatalog.text("common.choose_password"), "form": true, "email": user.email, "token": token,
                        "expiresAt": RFC3339.format(claims.expiresAt), "expiresText": request.pageCatalog.dateTime(claims.expiresAt),
                        "error": request.pageCatalog.text("setup.too_short", ["minimum": String(PageRoutes.minimumPasswordLength)]),
                    ])
            }
            let hash: String
            do {
                hash = try await pages.signIn.hash(password)
            } catch is PasswordHashingPool.Busy {
                return HTMLRenderer.busy(request)
            }
            do {
                _ = try await store.completeSetup(linkID: claims.linkID, userID: claims.userID, passwordHash: hash, at: now())
            } catch let error as StoreError where error.code == .usedUp {
                return try setupProblem(.usedUp, request: request)
            }
            let signInPath = if case .customer = user.tenant { "/account" } else { "/portal/sign-in" }
            return try renderer.page(
                "setup", request: request,
                ["title": request.pageCatalog.text("setup.saved_title"), "done": true, "email": user.email, "signInPath": signInPath])
        }
    }

    private func setupProblem(_ code: TokenError.Code, request: Request) throws -> Response {
        let explanation =
            switch code {
            case .expired: "setup.expired"
            case .usedUp: "setup.used_up"
            default: "setup.invalid"
            }
        return try renderer.page(
            "link_problem", status: APIError.status(for: code), request: request,
            [
                "title": request.pageCatalog.text("setup.unusable_title"), "explanation": request.pageCatalog.text(explanation),
                "code": code.rawValue,
            ])
    }

    private func csrfFailure(_ request: Request) throws -> Response {
        try renderer.page(
            "link_problem", status: .forbidden, request: request,
            [
                "title": request.pageCatalog.text("csrf.title"), "explanation": request.pageCatalog.text("csrf.account"), "code": "csrf",
            ])
    }
}
