import Foundation
import Hummingbird
import InviteServer
import InviteStore
import InviteToken
import Testing

/// Acceptances racing each other: the store's single writer decides, the API answers each.
@Suite("Concurrent acceptances")
struct ConcurrencyTests {
    typealias W = World

    @Test("100 customers accept a max_uses:1 link at once: exactly one 201, 99 used_up, one set of relationships")
    func hundredCustomersOneUse() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customers = try await world.customers(100, prefix: "cus_")
        try await world.withClient { client in
            let created = try await client.issue(#"{"provider_id":"prov_p","dap":true,"max_uses":1}"#, bearer: world.adminA)
            let token = token(ofURL: try #require(created["url"] as? String))
            let replies = try await withThrowingTaskGroup(of: (String, Reply).self) { group in
                for customer in customers {
                    group.addTask {
                        (customer.id, try await client.send(.post, "/v1/acceptances", bearer: customer.secret, json: acceptBody(token)))
                    }
                }
                var replies: [(String, Reply)] = []
                for try await reply in group { replies.append(reply) }
                return replies
            }
            let winners = replies.filter { $0.1.status == .created }
            let losers = replies.filter { $0.1.status != .created }
            #expect(winners.count == 1, "\(winners.count) acceptances answered 201, not exactly one")
            #expect(
                losers.allSatisfy { $0.1.status == .conflict && $0.1.json["code"] as? String == "used_up" },
                "not every other acceptance was 409 used_up: \(Set(losers.map { "\($0.1.status.code) \($0.1.json["code"] ?? "-")" }))")
            #expect(replies.allSatisfy { $0.1.status.code < 500 }, "an acceptance answered 5xx")
            let winner = try #require(winners.first?.0)
            #expect(try await world.customerIDs(of: W.resellerA) == [winner], "the reseller's customers are not just the winner")
            #expect(try await world.customerIDs(of: W.provider) == [winner], "the provider's customers are not just the winner")
            let record = try await world.store.invitation(id: try #require(created["id"] as? String), resellerID: W.resellerA)
            #expect(
                record?.invitation.useCount == 1 && record?.acceptances.map(\.customerID) == [winner],
                "the invitation does not show exactly the winner's one use: \(String(describing: record))")
            for (id, _) in losers {
                #expect(
                    try await !world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: id),
                    "\(id) was refused but holds a DAP grant")
            }
        }
    }

    @Test("one customer accepts a max_uses:1 link 20 times at once: 20 × 201 with byte-identical bodies, one set of relationships")
    func oneCustomerTwentyTimes() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        try await world.withClient { client in
            let created = try await client.issue(#"{"provider_id":"prov_p","dap":true,"max_uses":1}"#, bearer: world.adminA)
            let token = token(ofURL: try #require(created["url"] as? String))
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for _ in 0..<20 {
                    group.addTask { try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token)) }
                }
                var replies: [Reply] = []
                for try await reply in group { replies.append(reply) }
                return replies
            }
            #expect(replies.allSatisfy { $0.status == .created }, "not all 20 answered 201: \(replies.map(\.status.code))")
            #expect(Set(replies.map(\.text)).count == 1, "the 20 bodies differ: \(Set(replies.map(\.text)))")
            let relationships = replies.first?.json["relationships"] as? [[String: Any]] ?? []
            #expect(
                relationships.allSatisfy { $0["created"] as? Bool == true },
                "the repeated answer is not the first one (created must stay true): \(replies.first?.text ?? "")")
            #expect(try await world.customerIDs(of: W.resellerA) == ["cus_1"], "the reseller's relationships are not exactly one")
            #expect(try await world.customerIDs(of: W.provider) == ["cus_1"], "the provider's relationships are not exactly one")
            #expect(
                try await world.store.invitation(id: try #require(created["id"] as? String))?.useCount == 1,
                "repeats counted more than one use")
        }
    }
}
