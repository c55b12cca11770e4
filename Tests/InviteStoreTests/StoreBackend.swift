import Foundation
@testable import InviteStore

/// One database behind the contract suite: how to make a fresh, migrated store and how to
/// reach under its API for the few checks the API cannot express (row counts, tampering).
///
/// The suite runs every test once per entry of ``all``; PostgreSQL joins by adding an entry.
struct StoreBackend: Sendable, CustomStringConvertible {
    let description: String
    let make: @Sendable () async throws -> StoreUnderTest

    static let all: [StoreBackend] = [.sqlite]

    /// A new SQLite file in its own temporary directory.
    static let sqlite = StoreBackend(description: "SQLite") {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("invitestore-test-\(UUID().uuidString)", isDirectory: true)
        let path = directory.appendingPathComponent("store.sqlite").path
        let open: @Sendable () async throws -> SQLiteStore = {
            let store = try SQLiteStore(path: path)
            try await store.migrate()
            return store
        }
        let store = try await open()
        return StoreUnderTest(
            store: store,
            reopen: { try await open() },
            execute: { sql in try await store.executeForTesting(sql) },
            scalar: { sql in try await store.scalarForTesting(sql) },
            cleanUp: { try? FileManager.default.removeItem(at: directory) }
        )
    }
}

/// A store made for one test, with raw access for checks below the API. Removes its files
/// when the test lets go of it.
final class StoreUnderTest: Sendable {
    let store: any RelationshipStore
    /// Opens the same database again, as a restarted server would, and migrates it.
    let reopen: @Sendable () async throws -> any RelationshipStore
    /// Runs a statement outside the API.
    let execute: @Sendable (String) async throws -> Void
    /// The first column of the first row, as text.
    let scalar: @Sendable (String) async throws -> String?
    private let cleanUp: @Sendable () -> Void

    init(
        store: any RelationshipStore,
        reopen: @escaping @Sendable () async throws -> any RelationshipStore,
        execute: @escaping @Sendable (String) async throws -> Void,
        scalar: @escaping @Sendable (String) async throws -> String?,
        cleanUp: @escaping @Sendable () -> Void
    ) {
        self.store = store
        self.reopen = reopen
        self.execute = execute
        self.scalar = scalar
        self.cleanUp = cleanUp
    }

    deinit { cleanUp() }

    /// Tables whose rows the contract counts.
    enum Table: String {
        case relationships, dap_grants, acceptances, invitations, audit_log
    }

    /// All rows of `table`, removed relationships included.
    func count(_ table: Table) async throws -> Int {
        guard let text = try await scalar("SELECT count(*) FROM \(table.rawValue)"), let count = Int(text) else {
            throw StoreError(.unavailable, "count(*) of \(table.rawValue) answered no number")
        }
        return count
    }
}
