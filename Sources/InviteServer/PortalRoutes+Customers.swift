import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken
import Mustache
import NIOCore

/// The partner's customers, and removing a reseller relationship behind a confirmation.
extension PortalRoutes {
    // MARK: Customers

    @Sendable func customers(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request)
            let cursor = request.uri.queryParameters["cursor"].map(String.init)
            // Customers whose relationship ended while this partner kept DAP are listed too,
            // marked as such: a grant still held never disappears from view.
            let page = try await store.customers(
                ofPartner: viewer.partner.id, includeRetained: true, page: PageRequest(limit: Self.pageSize, cursor: cursor))
            let catalog = request.pageCatalog
            var values: [String: Any] = [
                "title": catalog.text("portal.customers"),
                "customers": page.items.map { Self.customerValues($0, catalog: catalog) },
                "empty": page.items.isEmpty,
            ]
            if let next = page.nextCursor { values["nextPage"] = "/portal?cursor=" + Self.queryEncoded(next) }
            return try render("portal_customers", request: request, viewer: viewer, current: "customers", values)
        }
    }

    @Sendable func customer(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request)
            let item = try await requireCustomer(try context.parameters.require("id"), of: viewer, request: request)
            var values = Self.customerValues(item, catalog: request.pageCatalog)
            values["title"] = item.customer.name
            return try render("portal_customer", request: request, viewer: viewer, current: "customers", values)
        }
    }

    @Sendable func confirmRemoval(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let item = try await requireCustomer(try context.parameters.require("id"), of: viewer, request: request)
            var values = Self.customerValues(item, catalog: request.pageCatalog)
            values["title"] = request.pageCatalog.text("customer.remove")
            return try render("portal_remove", request: request, viewer: viewer, current: "customers", values)
        }
    }

    @Sendable func removeRelationship(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let item = try await requireCustomer(try context.parameters.require("id"), of: viewer, request: request)
            let removal = try await store.removeRelationship(
                partnerID: viewer.partner.id, customerID: item.customer.id, at: clock(), actor: viewer.user.id)
            return try render(
                "portal_removed", request: request, viewer: viewer, current: "customers",
                [
                    "title": request.pageCatalog.text("removed.title"),
                    "name": item.customer.name,
                    "dap": removal.delegatedAdminRetained,
                ])
        }
    }
}
