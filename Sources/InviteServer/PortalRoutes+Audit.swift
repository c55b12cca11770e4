import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken

/// The partner's audit log, for its global admins (DESIGN.md §8).
extension PortalRoutes {
    @Sendable func auditLog(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireGlobalAdmin(request, refusal: "audit.global_admin_only")
            // A week back unless asked otherwise.
            let sinceText = request.uri.queryParameters["since"].map(String.init) ?? ""
            let actionText = request.uri.queryParameters["action"].map(String.init) ?? ""
            var query = AuditQuery(partnerID: viewer.partner.id)
            query.since = sinceText.isEmpty ? clock() - 7 * 86_400 : RFC3339.parseTime(sinceText)
            guard query.since != nil else {
                return try message(
                    request, viewer: viewer, status: .badRequest, title: "audit.not_a_time_title", text: CatalogText("audit.not_a_time"),
                    code: "invalid_request")
            }
            if !actionText.isEmpty { query.action = actionText }
            let cursor = request.uri.queryParameters["cursor"].map(String.init)
            let page = try await store.auditEntries(query, page: PageRequest(limit: Self.pageSize, cursor: cursor))
            let catalog = request.pageCatalog
            var values: [String: Any] = [
                "title": catalog.text("portal.audit"), "partnerName": viewer.partner.name, "empty": page.items.isEmpty,
                "since": RFC3339.format(query.since ?? 0), "action": actionText,
                "entries": page.items.map { entry -> [String: Any] in
                    [
                        "seq": String(entry.seq ?? 0), "at": RFC3339.format(entry.at), "atText": catalog.dateTime(entry.at),
                        "actor": entry.actor.id.map { "\(entry.actor.kind) \($0)" } ?? entry.actor.kind, "action": entry.action,
                        "subject": entry.subject, "details": entry.detail.isEmpty ? "{}" : entry.detail,
                    ]
                },
            ]
            if let next = page.nextCursor {
                values["nextPage"] =
                    "/portal/audit?since=\(Self.queryEncoded(RFC3339.format(query.since ?? 0)))&action=\(Self.queryEncoded(actionText))&cursor=\(Self.queryEncoded(next))"
            }
            return try render("portal_audit", request: request, viewer: viewer, current: "audit", values)
        }
    }
}
