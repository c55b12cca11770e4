import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken

/// "Add a new customer", giving a DAP grant up, and the partner's people (DESIGN.md §7).
extension PortalRoutes {
    // MARK: Add a new customer

    @Sendable func newCustomer(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            return try render(
                "portal_add_customer", request: request, viewer: viewer, current: "customers",
                ["title": request.pageCatalog.text("customers.add"), "form": true])
        }
    }

    @Sendable func addCustomer(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            var values: [String: Any] = [
                "title": request.pageCatalog.text("customers.add"), "name": form["name"] ?? "", "domain": form["domain"] ?? "",
                "adminEmail": form["admin_email"] ?? "",
            ]
            func again(_ status: HTTPResponse.Status, _ error: String) throws -> Response {
                values["form"] = true
                values["error"] = error
                return try render("portal_add_customer", status: status, request: request, viewer: viewer, current: "customers", values)
            }
            let fields: NewCustomerFields
            do {
                fields = try NewCustomerFields(name: form["name"], domain: form["domain"], adminEmail: form["admin_email"])
            } catch let error as APIError {
                return try again(.badRequest, request.pageCatalog.text(error.detail))
            }
            let now = clock()
            let setup: IssuedSetupLink
            do {
                (_, setup) = try await fields.add(
                    resellerID: viewer.partner.id, actor: viewer.user.id, store: store, setupLinks: invitations.setupLinks, now: now)
            } catch let error as StoreError where error.code == .conflict {
                return try again(.conflict, request.pageCatalog.text("add_customer.conflict"))
            }
            values["added"] = true
            values["name"] = fields.name
            values["adminEmail"] = fields.adminEmail
            values["setupURL"] = setup.url
            values["expiresAt"] = RFC3339.format(setup.link.expiresAt)
            values["expiresText"] = request.pageCatalog.dateTime(setup.link.expiresAt)
            values["script"] = true
            return try render("portal_add_customer", status: .created, request: request, viewer: viewer, current: "customers", values)
        }
    }

    // MARK: Giving a DAP grant up

    /// The viewer's (a global admin's) customer on which it holds a DAP grant, and whether the
    /// relationship is still active; a 404 page when it holds none.
    private func requireGrant(_ request: Request, context: AppRequestContext) async throws -> (
        viewer: Viewer, customer: Customer, active: Bool
    ) {
        let viewer = try await requireGlobalAdmin(request, refusal: "give_up.global_admin_only", acting: true)
        let id = try context.parameters.require("id")
        let active = try await store.customer(id: id, ofPartner: viewer.partner.id)
        let customer: Customer? = if let active { active.customer } else { try await store.customer(id: id) }
        guard let customer, try await store.hasDelegatedAdmin(partnerID: viewer.partner.id, customerID: id) else {
            throw Interruption(
                response: try message(
                    request, viewer: viewer, status: .notFound, title: "give_up.none_title",
                    text: CatalogText("give_up.none", ["partner": viewer.partner.name]), code: "not_found"))
        }
        return (viewer, customer, active != nil)
    }

    @Sendable func confirmGiveUp(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let (viewer, customer, active) = try await requireGrant(request, context: context)
            let values: [String: Any] = [
                "title": request.pageCatalog.text("common.give_up_dap"), "name": customer.name, "domain": customer.domain,
                "path": "/portal/customers/" + Self.queryEncoded(customer.id), "active": active,
            ]
            return try render("portal_give_up", request: request, viewer: viewer, current: "customers", values)
        }
    }

    @Sendable func giveUpDelegatedAdmin(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let (viewer, customer, _) = try await requireGrant(request, context: context)
            try await store.removeDelegatedAdmin(
                partnerID: viewer.partner.id, customerID: customer.id, by: .partner, at: clock(), actor: viewer.user.id)
            return try message(
                request, viewer: viewer, status: .ok, title: "give_up.done_title",
                text: CatalogText("give_up.done", ["partner": viewer.partner.name, "customer": customer.name]), code: "removed")
        }
    }

    // MARK: People

    /// A partner global admin, the only role that manages people.
    @Sendable func users(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            try await usersPage(request, viewer: try await requireGlobalAdmin(request, refusal: "users.global_admin_only"))
        }
    }

    private func usersPage(
        _ request: Request, viewer: Viewer, status: HTTPResponse.Status = .ok, error: String? = nil, notice: String? = nil,
        setup: (email: String, url: String)? = nil
    ) async throws -> Response {
        let cursor = request.uri.queryParameters["cursor"].map(String.init)
        let page = try await store.users(of: .partner(viewer.partner.id), page: PageRequest(limit: Self.pageSize, cursor: cursor))
        let catalog = request.pageCatalog
        var values: [String: Any] = [
            "title": catalog.text("portal.users"),
            "users": page.items.map { user -> [String: Any] in
                [
                    "id": user.id, "email": user.email, "role": catalog.text(Self.roleKey(user.role)), "self": user.id == viewer.user.id,
                    "enabled": user.disabledAt == nil,
                    "status": catalog.text(
                        user.disabledAt != nil ? "users.disabled" : (user.passwordHash.isEmpty ? "users.setup_sent" : "users.active")),
                ]
            },
        ]
        if let error { values["error"] = error }
        if let notice { values["notice"] = notice }
        if let setup {
            values["setupEmail"] = setup.email
            values["setupURL"] = setup.url
            values["script"] = true
        }
        if let next = page.nextCursor { values["nextPage"] = "/portal/users?cursor=" + Self.queryEncoded(next) }
        return try render("portal_users", status: status, request: request, viewer: viewer, current: "users", values)
    }

    @Sendable func addUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireGlobalAdmin(request, refusal: "users.global_admin_only")
            let email = (form["email"] ?? "").trimmingWhitespace().lowercased()
            guard EmailAddress.isPlausible(email) else {
                return try await usersPage(
                    request, viewer: viewer, status: .badRequest, error: request.pageCatalog.text("users.email_invalid"))
            }
            guard let role = form["role"].flatMap(Role.init(rawValue:)), role == .adminAgent || role == .salesAgent else {
                return try await usersPage(
                    request, viewer: viewer, status: .badRequest, error: request.pageCatalog.text("users.choose_role"))
            }
            let (user, setup) = try invitations.setupLinks.newPerson(
                tenant: .partner(viewer.partner.id), email: email, role: role, now: clock())
            do {
                try await store.addUser(user, setupLink: setup.link, actor: viewer.user.id)
            } catch let error as StoreError where error.code == .conflict {
                return try await usersPage(request, viewer: viewer, status: .conflict, error: request.pageCatalog.text("users.exists"))
            }
            return try await usersPage(
                request, viewer: viewer, status: .created,
                notice: request.pageCatalog.text("users.added", ["email": email, "role": request.pageCatalog.text(Self.roleKey(role))]),
                setup: (email, setup.url))
        }
    }

    /// The viewer's own partner's user `id`, never the viewer: a 404 page for anyone else's.
    private func requireColleague(_ request: Request, context: AppRequestContext, viewer: Viewer) async throws -> User {
        let id = try context.parameters.require("id")
        guard let user = try await store.user(id: id), user.tenant == .partner(viewer.partner.id), user.id != viewer.user.id else {
            throw Interruption(
                response: try message(
                    request, viewer: viewer, status: .notFound, title: "users.no_such_title",
                    text: CatalogText("users.no_such", ["partner": viewer.partner.name]), code: "not_found"))
        }
        return user
    }

    @Sendable func disableUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setDisabled(request, context: context, disabled: true)
    }

    @Sendable func enableUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await setDisabled(request, context: context, disabled: false)
    }

    private func setDisabled(_ request: Request, context: AppRequestContext, disabled: Bool) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireGlobalAdmin(request, refusal: "users.global_admin_only")
            let user = try await requireColleague(request, context: context, viewer: viewer)
            try await store.setDisabled(userID: user.id, disabled: disabled, at: clock(), actor: viewer.user.id)
            return try await usersPage(
                request, viewer: viewer,
                notice: request.pageCatalog.text(disabled ? "users.disabled_notice" : "users.enabled_notice", ["email": user.email]))
        }
    }

    @Sendable func resetUser(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireGlobalAdmin(request, refusal: "users.global_admin_only")
            let user = try await requireColleague(request, context: context, viewer: viewer)
            let setup = try invitations.setupLinks.make(userID: user.id, now: clock())
            try await store.resetPassword(userID: user.id, setupLink: setup.link, at: clock(), actor: viewer.user.id)
            return try await usersPage(
                request, viewer: viewer, notice: request.pageCatalog.text("users.reset_notice", ["email": user.email]),
                setup: (user.email, setup.url))
        }
    }
}
