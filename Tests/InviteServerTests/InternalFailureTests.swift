import Foundation
import Testing

@testable import InviteStore

/// DESIGN.md §11: a failure of the service itself answers `code: internal` and the request id,
/// never the database's words (SQLSTATE, table or constraint names), in JSON and on pages.
@Suite("Internal failures")
struct InternalFailureTests {
    static let leaks = ["SQLite", "SQLSTATE", "no such table", "relationships", "constraint", "PostgreSQL"]

    @Test("a broken database gives a 5xx with code internal and the request id, and no database text")
    func brokenDatabase() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        try await world.withClient { client in
            let link = try await client.issue(bearer: world.adminA)
            let token = token(ofURL: try #require(link["url"] as? String))
            try await world.store.executeForTesting("DROP TABLE relationships")

            for reply in [
                try await client.send(.get, "/v1/customers", bearer: world.adminA),
                try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token)),
            ] {
                #expect(reply.status.code >= 500, "\(reply.status) \(reply.text)")
                #expect(reply.json["code"] as? String == "internal", "\(reply.text)")
                let requestID = try #require(reply.json["request_id"] as? String, "\(reply.text)")
                #expect(reply.headers[.init("X-Request-Id")!] == requestID)
                for leak in Self.leaks { #expect(!reply.text.contains(leak), "\(leak) in \(reply.text)") }
            }
        }
    }

    @Test("a conflict the database's unique index catches names no constraint; the log keeps it")
    func conflictWithoutConstraintName() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        // A row the unique index refuses, written past every look-up the store makes: the
        // SQLite error itself is what the store maps.
        do {
            try await world.store.executeForTesting(
                "INSERT INTO partners (id, name, kind, created_at) VALUES ('\(World.resellerA)', 'Again', 'reseller', 0)")
            Issue.record("a duplicate partner id was accepted")
        } catch let error as StoreError {
            #expect(error.code == .conflict)
            for leak in Self.leaks + ["UNIQUE", "partners.id"] { #expect(!error.message.contains(leak), "\(leak) in \(error.message)") }
            #expect(error.diagnostic?.contains("UNIQUE") == true, "the database's words are gone from the log too: \(error)")
        }
    }
}
