import Foundation
import HTTPTypes
import InviteService
import InviteStore
import Testing

@testable import InviteServer

/// Every route of issues 13–15 tried with another partner's and another customer's ids and
/// credentials: 404 or 403, and nothing of the owner's changes.
@Suite("Tenant isolation of the new routes")
struct TenantIsolationTests {
    typealias W = World

    @Test("another customer, another reseller and the wrong kind of credential change nothing")
    func isolation() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            // c1 accepts reseller A's DAP link naming the provider; reseller A registers a webhook.
            let customer = try await LifecycleTests.accepted(world, client)
            let otherCustomer = try await world.customer("c2")
            let adminA = try await world.credential(.partner(W.resellerA), .globalAdmin)
            let hook = try await client.send(.post, "/v1/webhooks", bearer: adminA, json: #"{"url":"https://1.1.1.1/hooks"}"#)
            let hookID = try #require(hook.json["id"] as? String)
            let invitationID = try #require(
                (try await client.send(.get, "/v1/invitations", bearer: adminA).json["items"] as? [[String: Any]])?.first?["id"] as? String)
            let before = try await world.store.auditLog(limit: 1000).count

            // Another customer: its own (empty) list; the other customer's partners are not its to end.
            let theirs = try await client.send(.get, "/v1/partners", bearer: otherCustomer)
            #expect((theirs.json["items"] as? [Any])?.isEmpty == true, "c2 sees c1's partners: \(theirs.text)")
            expectProblem(
                try await client.send(.delete, "/v1/partners/\(W.resellerA)/relationship", bearer: otherCustomer), .notFound, "not_found",
                "c2 ends reseller A's relationship")
            expectProblem(
                try await client.send(.delete, "/v1/partners/\(W.resellerA)/delegated-admin", bearer: otherCustomer), .notFound,
                "not_found", "c2 removes reseller A's DAP")
            expectProblem(
                try await client.send(
                    .post, "/v1/customers", bearer: customer, json: #"{"name":"X","domain":"x.example","admin_email":"a@x.example"}"#),
                .forbidden, "forbidden", "a customer adds a customer")
            expectProblem(
                try await client.send(.get, "/v1/webhooks", bearer: customer), .forbidden, "forbidden", "a customer lists webhooks")

            // Another reseller (B's global admin): none of A's grants, invitations or webhooks.
            expectProblem(
                try await client.send(.delete, "/v1/customers/c1/delegated-admin", bearer: world.adminB), .notFound, "not_found",
                "reseller B gives up A's DAP")
            let retained = try await client.send(.get, "/v1/customers?include=retained", bearer: world.adminB)
            #expect((retained.json["items"] as? [Any])?.isEmpty == true, "B lists A's customers: \(retained.text)")
            expectProblem(
                try await client.send(.get, "/v1/invitations/\(invitationID)", bearer: world.adminB), .notFound, "not_found",
                "B reads A's invitation (and its link)")
            for (method, path) in [
                (HTTPRequest.Method.delete, "/v1/webhooks/\(hookID)"), (.post, "/v1/webhooks/\(hookID)/rotate-secret"),
                (.get, "/v1/webhooks/\(hookID)/deliveries"),
            ] {
                expectProblem(try await client.send(method, path, bearer: world.adminB), .notFound, "not_found", "B: \(method) \(path)")
            }
            let audit = try await client.send(.get, "/v1/audit?limit=200", bearer: world.adminB)
            #expect(!audit.text.contains(W.resellerA), "B reads A's audit entries")
            // A provider may not end a reseller's relationship or give up its grant.
            expectProblem(
                try await client.send(.delete, "/v1/customers/c1/delegated-admin", bearer: world.providerAdmin), .forbidden, "forbidden",
                "the provider gives up A's DAP")

            // Nothing of A's or c1's changed, and no refusal wrote an entry.
            #expect(try await world.customerIDs(of: W.resellerA) == ["c1"])
            #expect(try await world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "c1"))
            #expect(try await world.store.webhook(id: hookID, partnerID: W.resellerA)?.previousSecret == nil)
            #expect(try await world.store.auditLog(limit: 1000).count == before, "a refused call wrote to the audit log")
        }
    }

    @Test("one partner's global admin cannot disable, enable or reset another partner's people in the portal")
    func portalPeople() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await PortalTests.addAgent(world) // reseller A's
        try await world.store.addUser(
            User(
                id: "usr_b", tenant: .partner(W.resellerB), email: "boss@bellows.example", role: .globalAdmin,
                passwordHash: try PasswordHash.make(password: "bellows passphrase 2026"), mustChangePassword: false, createdAt: W.t0),
            actor: "test")
        try await world.withClient { client in
            let (csrf, cookies) = try await PortalTests.signIn(client, email: "boss@bellows.example", password: "bellows passphrase 2026")
            for action in ["disable", "enable", "reset"] {
                let reply = try await client.send(.post, "/portal/users/usr_agent/\(action)", form: [("csrf", csrf)], cookie: cookies)
                #expect(reply.status == .notFound, "B's admin could \(action) A's agent: \(reply.status)")
            }
            let agent = try #require(try await world.store.user(id: "usr_agent"))
            #expect(agent.disabledAt == nil && agent.maySignIn && agent.sessionVersion == 0, "A's agent changed")
        }
    }
}
