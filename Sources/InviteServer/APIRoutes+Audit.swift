import Hummingbird
import InviteService
import InviteStore
import InviteToken

/// `GET /v1/audit` (DESIGN.md §8): the audit entries about the caller's own partner or
/// customer, oldest first, a page at a time.
extension APIRoutes {
    @Sendable func listAudit(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller: Caller
        if request.headers[.authorization] != nil {
            caller = try await auth.caller(for: request)
        } else {
            caller = try await auth.customer(for: request, globalAdminOnly: false)
        }
        var query = try Self.auditQuery(request)
        query.partnerID = caller.partnerID
        query.customerID = caller.customerID
        let page = try await store.auditEntries(query, page: Self.pageRequest(request))
        return jsonResponse(.ok, JSONRepresentation.page(page.items.map(\.canonicalJSON), nextCursor: page.nextCursor))
    }

    /// `since` (RFC 3339 or Unix seconds) and `action` from the query string.
    static func auditQuery(_ request: Request) throws -> AuditQuery {
        var query = AuditQuery()
        if let since = request.uri.queryParameters["since"] {
            guard let time = RFC3339.parseTime(String(since)) else {
                throw APIError.invalidRequest(CatalogText("problem.since_invalid"))
            }
            query.since = time
        }
        if let action = request.uri.queryParameters["action"] {
            guard (1...64).contains(action.utf8.count) else { throw APIError.invalidRequest(CatalogText("problem.action_length")) }
            query.action = String(action)
        }
        return query
    }
}
