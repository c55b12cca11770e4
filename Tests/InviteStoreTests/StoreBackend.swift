@testable import InviteStore

/// One database behind the contract suite: how to make a fresh, migrated store and how to
/// reach under its API for the few checks the API cannot express (row counts, tampering).
///
/// The suite runs every test once per entry of ``all``; PostgreSQL joins by adding an entry.
struct StoreBackend: Sendable, CustomStringConvertible {
    let description: String
    let make: @Sendable () async throws -> StoreUnderTest

    static let all: [StoreBackend] = [.sqlite]

    /// A new SQLite file in its own temporary directory, removed when the last store on it
    /// goes away.
    static let sqlite = StoreBackend(description: "SQLite") {
        let directory = try TemporaryDirectory()
        let path = directory.url.appendingPathComponent("store.sqlite").path
        let open: @Sendable () async throws -> SQLiteStore = {
            let store = try SQLiteStore(path: path, temporaryDirectory: directory)
            try await store.migrate()
            return store
        }
        let store = try await open()
        return StoreUnderTest(
            store: store,
            reopen: { try await open() },
            execute: { sql in try await store.executeForTesting(sql) },
            scalar: { sql in try await store.scalarForTesting(sql) }
        )
    }
}

/// A store made for one test, with raw access for checks below the API.
struct StoreUnderTest: Sendable {
    let store: any RelationshipStore
    /// Opens the same database again, as a restarted server would, and migrates it.
    let reopen: @Sendable () async throws -> any RelationshipStore
    /// Runs a statement outside the API.
    let execute: @Sendable (String) async throws -> Void
    /// The first column of the first row, as text.
    let scalar: @Sendable (String) async throws -> String?

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
