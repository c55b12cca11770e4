import Foundation
import Hummingbird
import InviteServer
import InviteStore
import InviteToken
import Testing

/// Acceptance rules that depend on the partners (DESIGN.md §5) and tenant isolation.
@Suite("Acceptance rules and isolation")
struct AcceptanceRuleTests {
    typealias W = World

    @Test("a reseller disconnected from the provider before acceptance: 409 provider_not_connected, no relationship, no DAP")
    func providerDisconnected() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        try await world.withClient { client in
            let created = try await client.issue(#"{"provider_id":"prov_p","dap":true}"#, bearer: world.adminA)
            let token = token(ofURL: try #require(created["url"] as? String))
            try await world.store.disconnect(resellerID: W.resellerA, providerID: W.provider, at: W.t0 + 60, actor: "test")
            let reply = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token))
            expectProblem(reply, .conflict, "provider_not_connected", "acceptance after the disconnection")
        }
        #expect(try await !world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "cus_1"), "the DAP grant was made")
        #expect(try await world.customerIDs(of: W.resellerA).isEmpty, "the reseller's relationship was made")
        #expect(try await world.customerIDs(of: W.provider).isEmpty, "the provider's relationship was made")
    }

    @Test("reseller B sees nothing of A: invitations 404, customer list, relationship removal 404, foreign provider 409")
    func isolation() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        try await world.withClient { client in
            let created = try await client.issue(#"{"provider_id":"prov_p","dap":true}"#, bearer: world.adminA)
            let id = try #require(created["id"] as? String)
            let token = token(ofURL: try #require(created["url"] as? String))
            let accept = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token))
            #expect(accept.status == .created, "A's link was not accepted: \(accept.text)")

            expectProblem(
                try await client.send(.get, "/v1/invitations/\(id)", bearer: world.adminB), .notFound, "not_found", "B reads A's invitation"
            )
            expectProblem(
                try await client.send(.delete, "/v1/invitations/\(id)", bearer: world.adminB), .notFound, "not_found",
                "B revokes A's invitation")
            let listB = try await client.send(.get, "/v1/invitations", bearer: world.adminB)
            #expect((listB.json["items"] as? [Any])?.isEmpty == true, "B's invitation list shows A's: \(listB.text)")
            let customersB = try await client.send(.get, "/v1/customers", bearer: world.adminB)
            #expect(
                customersB.status == .ok && (customersB.json["items"] as? [Any])?.isEmpty == true,
                "B's customer list shows A's customer: \(customersB.text)")
            expectProblem(
                try await client.send(.delete, "/v1/customers/cus_1/relationship", bearer: world.adminB),
                .notFound, "not_found", "B removes A's relationship")
            expectProblem(
                try await client.send(.post, "/v1/invitations", bearer: world.adminB, json: #"{"provider_id":"prov_p"}"#),
                .conflict, "provider_not_connected", "B issues with A's provider")
            expectProblem(
                try await client.send(.post, "/v1/invitations", bearer: world.adminB, json: #"{"provider_id":"res_a"}"#),
                .conflict, "provider_not_connected", "B issues naming a reseller as provider")
            expectProblem(
                try await client.send(.post, "/v1/invitations", bearer: world.adminB, json: #"{"provider_id":"nobody"}"#),
                .conflict, "provider_not_connected", "B issues with an unknown provider")
            let providersB = try await client.send(.get, "/v1/providers", bearer: world.adminB)
            let providerIDs = (providersB.json["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
            #expect(providerIDs == [W.otherProvider], "B's providers are not [prov_q]: \(providersB.text)")

            let stillA = try await client.send(.get, "/v1/invitations/\(id)", bearer: world.adminA)
            #expect(stillA.json["status"] as? String == "accepted", "B's DELETE changed A's invitation: \(stillA.text)")
        }
        #expect(try await world.customerIDs(of: W.resellerA) == ["cus_1"], "B's DELETE removed A's relationship")
        #expect(
            try await world.store.invitations(resellerID: W.resellerB, page: PageRequest()).items.isEmpty,
            "B's refused issues were recorded")
    }
}
