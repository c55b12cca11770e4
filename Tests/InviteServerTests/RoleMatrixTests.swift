import Foundation
import HTTPTypes
import Testing

/// Who may call what (DESIGN.md §4, §5): every role against every partner and customer route.
/// A refusal is 403 `forbidden`; an allowed call gets past authorization (any other answer).
@Suite("Roles × routes")
struct RoleMatrixTests {
    enum Who: String, CaseIterable, Sendable {
        case resellerAdmin, resellerSales, providerAdmin, customerAdmin, customerUser
    }

    struct Route: Sendable, CustomStringConvertible {
        let method: HTTPRequest.Method
        let path: String
        let json: String?
        let allowed: Set<Who>
        var description: String { "\(method) \(path)" }
    }

    static let routes: [Route] = [
        Route(method: .post, path: "/v1/invitations", json: "{}", allowed: [.resellerAdmin]),
        Route(method: .get, path: "/v1/invitations", json: nil, allowed: [.resellerAdmin, .resellerSales]),
        Route(method: .delete, path: "/v1/invitations/nosuch", json: nil, allowed: [.resellerAdmin]),
        Route(
            method: .post, path: "/v1/invitations/verify", json: #"{"token":"x.y.z"}"#,
            allowed: [.resellerAdmin, .resellerSales, .providerAdmin]),
        Route(method: .post, path: "/v1/acceptances", json: #"{"token":"x.y.z"}"#, allowed: [.customerAdmin]),
        Route(method: .get, path: "/v1/customers", json: nil, allowed: [.resellerAdmin, .resellerSales, .providerAdmin]),
        // Issue 12: a provider's credential once removed a reseller's relationship here.
        Route(method: .delete, path: "/v1/customers/cus_1/relationship", json: nil, allowed: [.resellerAdmin]),
        Route(method: .get, path: "/v1/providers", json: nil, allowed: [.resellerAdmin, .resellerSales]),
    ]

    @Test("each role is allowed exactly the routes the contract gives it", arguments: routes)
    func matrix(route: Route) async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let bearer: [Who: String] = [
            .resellerAdmin: world.adminA, .resellerSales: world.salesA, .providerAdmin: world.providerAdmin,
            .customerAdmin: try await world.customer("cus_1"), .customerUser: try await world.customer("cus_2", role: .user),
        ]
        try await world.withClient { client in
            for who in Who.allCases {
                let reply = try await client.send(route.method, route.path, bearer: bearer[who], json: route.json)
                if route.allowed.contains(who) {
                    #expect(
                        reply.status != .forbidden && reply.status != .unauthorized, "\(who) on \(route): \(reply.status) \(reply.text)")
                } else {
                    #expect(reply.status == .forbidden, "\(who) on \(route): \(reply.status) \(reply.text)")
                    #expect(reply.json["code"] as? String == "forbidden", "\(who) on \(route): \(reply.text)")
                }
            }
        }
    }
}
