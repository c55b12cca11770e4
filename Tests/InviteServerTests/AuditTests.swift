import Foundation
import HTTPTypes
import InviteService
import InviteStore
import InviteToken
import Testing

@testable import InviteServer

/// The audit trail over HTTP (DESIGN.md §8): `GET /v1/audit` scoped to the caller, sign-ins
/// recorded, and the portal page for global admins.
@Suite("Audit trail")
struct AuditTests {
    typealias W = World

    @Test("GET /v1/audit shows a partner its own entries and a customer its own, a page at a time")
    func scopedList() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let customer = try await LifecycleTests.accepted(world, client)
            let mine = try await client.send(.get, "/v1/audit?limit=200", bearer: world.adminA)
            #expect(mine.status == .ok, "GET /v1/audit answered \(mine.status): \(mine.text)")
            let items = try #require(mine.json["items"] as? [[String: Any]])
            let actions = items.compactMap { $0["action"] as? String }
            #expect(actions.contains("invitation.issued") && actions.contains("invitation.accepted") && actions.contains("dap.granted"))
            #expect(items.allSatisfy { $0["partner_id"] as? String == W.resellerA }, "another partner's entry leaked: \(mine.text)")
            let issued = try #require(items.first { $0["action"] as? String == "invitation.issued" })
            #expect((issued["actor"] as? [String: Any])?["kind"] as? String == "credential")
            #expect(issued["seq"] is Int && issued["at"] is String && issued["details"] is [String: Any])

            let other = try await client.send(.get, "/v1/audit", bearer: world.adminB)
            #expect((other.json["items"] as? [[String: Any]])?.contains { $0["partner_id"] as? String == W.resellerA } == false)

            let theirs = try await client.send(.get, "/v1/audit?action=relationship.created", bearer: customer)
            let created = try #require(theirs.json["items"] as? [[String: Any]])
            #expect(created.count == 2 && created.allSatisfy { $0["customer_id"] as? String == "c1" }, "\(theirs.text)")

            let first = try await client.send(.get, "/v1/audit?limit=1", bearer: world.adminA)
            let cursor = try #require(first.json["next_cursor"] as? String)
            let second = try await client.send(.get, "/v1/audit?limit=1&cursor=\(cursor)", bearer: world.adminA)
            let a = (first.json["items"] as? [[String: Any]])?.first?["seq"] as? Int
            let b = (second.json["items"] as? [[String: Any]])?.first?["seq"] as? Int
            #expect(a != nil && b != nil && a! < b!, "pages out of order: \(a ?? -1), \(b ?? -1)")

            expectProblem(
                try await client.send(.get, "/v1/audit?since=yesterday", bearer: world.adminA), .badRequest, "invalid_request",
                "a bad since")
            expectProblem(try await client.send(.get, "/v1/audit"), .unauthorized, "unauthorized", "no credential")
        }
    }

    @Test("sign-ins are audited: success, failure and the lock, never the email or the password")
    func signInsAreAudited() async throws {
        var world = try await World.make()
        world.configuration.signInLimits = SignInLimits(failures: 3, window: 900, lockout: 900)
        defer { world.cleanUp() }
        try await PortalTests.addAgent(world)
        let configured = world
        try await configured.withClient { client in
            _ = try await PortalTests.signIn(client)
            for _ in 0..<4 {
                let page = try await client.send(.get, "/portal/sign-in")
                _ = try await client.send(
                    .post, "/portal/sign-in",
                    form: [
                        ("email", PortalTests.email), ("password", "wrong password 123"), ("csrf", try #require(page.hiddenField("csrf"))),
                    ],
                    cookie: page.cookieHeader)
            }
        }
        let entries = try await world.store.auditEntries(AuditQuery(), page: PageRequest(limit: 200)).items
        let signIns = entries.filter { $0.action.hasPrefix("sign_in.") }
        // The third failure's attempt is the one that locks the address (its claim, before its
        // password is checked); the fourth is refused while locked and changes nothing.
        #expect(
            signIns.map(\.action) == ["sign_in.succeeded", "sign_in.failed", "sign_in.failed", "sign_in.locked", "sign_in.failed"],
            "\(signIns.map(\.action))")
        #expect(signIns.allSatisfy { $0.subject == "usr_agent" && $0.partnerID == W.resellerA })
        for entry in signIns {
            #expect(!entry.canonicalJSON.contains(PortalTests.email) && !entry.canonicalJSON.contains("wrong password"))
        }
    }

    @Test("the portal's audit page is for global admins")
    func portalPage() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await PortalTests.addAgent(world)
        try await world.withClient { client in
            let (_, cookies) = try await PortalTests.signIn(client)
            #expect(try await client.send(.get, "/portal/audit", cookie: cookies).status == .forbidden, "an admin agent read the log")
        }
        try await PortalTests.addGlobalAdmin(world)
        try await world.withClient { client in
            let (_, cookies) = try await PortalTests.signIn(client, email: PortalTests.bossEmail, password: PortalTests.bossPassword)
            let page = try await client.send(.get, "/portal/audit?since=0", cookie: cookies)
            #expect(page.status == .ok && page.text.contains("sign_in.succeeded") && page.text.contains("user.added"), "\(page.status)")
        }
    }
}
