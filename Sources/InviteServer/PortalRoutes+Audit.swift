import Foundation
import Hummingbird
import InviteStore
import InviteToken

/// The partner's audit log, for its global admins (DESIGN.md §8).
extension PortalRoutes {
    @Sendable func auditLog(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request)
            guard viewer.user.role == .globalAdmin else {
                return try message(
                    request, viewer: viewer, status: .forbidden, title: "Not allowed for your role",
                    text: "Only a global admin of \(viewer.partner.name) reads its audit log.", code: "forbidden")
            }
            // A week back unless asked otherwise.
            let sinceText = request.uri.queryParameters["since"].map(String.init) ?? ""
            let actionText = request.uri.queryParameters["action"].map(String.init) ?? ""
            var query = AuditQuery(partnerID: viewer.partner.id)
            query.since = sinceText.isEmpty ? clock() - 7 * 86_400 : RFC3339.parseTime(sinceText)
            guard query.since != nil else {
                return try message(
                    request, viewer: viewer, status: .badRequest, title: "That is not a time",
                    text: "Give the time as 2026-12-01T00:00:00Z or as Unix seconds.", code: "invalid_request")
            }
            if !actionText.isEmpty { query.action = actionText }
            let cursor = request.uri.queryParameters["cursor"].map(String.init)
            let page = try await store.auditEntries(query, page: PageRequest(limit: Self.pageSize, cursor: cursor))
            var values: [String: Any] = [
                "title": "Audit log", "partnerName": viewer.partner.name, "empty": page.items.isEmpty,
                "since": RFC3339.format(query.since ?? 0), "action": actionText,
                "entries": page.items.map { entry -> [String: Any] in
                    [
                        "seq": String(entry.seq ?? 0), "at": RFC3339.format(entry.at), "atText": Self.displayTime(entry.at),
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
