import Foundation

@testable import InviteStore

/// One database behind the contract suite: how to make a fresh, migrated store and how to
/// reach under its API for the few checks the API cannot express (row counts, tampering).
///
/// The suite runs every test once per entry of ``all``: SQLite always, PostgreSQL when
/// `INVITELINK_TEST_POSTGRES_URL` names a server (`make test` starts a throwaway one with
/// scripts/with-postgres.sh and sets it).
struct StoreBackend: Sendable, CustomStringConvertible {
    let description: String
    let make: @Sendable () async throws -> StoreUnderTest

    static let all: [StoreBackend] = postgresURL == nil ? [.sqlite] : [.sqlite, .postgres]

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
            scalar: { sql in try await store.scalarForTesting(sql) },
            failAcceptanceInserts: [
                "CREATE TRIGGER fail_acceptance BEFORE INSERT ON acceptances BEGIN SELECT RAISE(ABORT, 'injected failure'); END"
            ]
        )
    }

    /// The server of `INVITELINK_TEST_POSTGRES_URL`, if set.
    static let postgresURL: String? = {
        guard let url = ProcessInfo.processInfo.environment["INVITELINK_TEST_POSTGRES_URL"], !url.isEmpty else { return nil }
        return url
    }()

    /// A new, empty schema of the test database for each test, reached through `search_path`,
    /// so tests run in parallel without seeing each other's rows and every migration starts
    /// from nothing. The store's pool closes when the test drops it; the schemas go with the
    /// throwaway cluster.
    static let postgres = StoreBackend(description: "PostgreSQL") {
        guard let base = postgresURL else { throw StoreError(.unavailable, "INVITELINK_TEST_POSTGRES_URL is not set") }
        let schema = try await PostgresTestDatabase.createSchema()
        let url = try PostgresTestDatabase.url(base, schema: schema, pool: 4)
        let open: @Sendable () async throws -> PostgresStore = {
            let store = try PostgresStore(url: url)
            try await store.migrate()
            return store
        }
        let store = try await open()
        return StoreUnderTest(
            store: store,
            reopen: { try await open() },
            execute: { sql in try await store.executeForTesting(sql) },
            scalar: { sql in try await store.scalarForTesting(sql) },
            failAcceptanceInserts: [
                """
                CREATE FUNCTION fail_acceptance() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN RAISE EXCEPTION 'injected failure'; END $$
                """,
                "CREATE TRIGGER fail_acceptance BEFORE INSERT ON acceptances FOR EACH ROW EXECUTE FUNCTION fail_acceptance()",
            ]
        )
    }
}

/// Schemas of the test database, made through one store shared by the whole test run.
enum PostgresTestDatabase {
    private static let admin: Result<PostgresStore, any Error> = Result {
        try PostgresStore(url: url(StoreBackend.postgresURL ?? "", schema: nil, pool: 2))
    }

    /// Creates a schema with a fresh random name (an identifier cannot be a bound parameter,
    /// so the name is made of characters that need no quoting) and returns the name.
    static func createSchema() async throws -> String {
        let name = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        try await admin.get().executeForTesting("CREATE SCHEMA \(name)")
        return name
    }

    /// `base` with `search_path` (when given) and `pool` set as query items.
    static func url(_ base: String, schema: String?, pool: Int) throws -> String {
        guard var components = URLComponents(string: base) else {
            throw StoreError(.invalidInput, "INVITELINK_TEST_POSTGRES_URL is not a URL")
        }
        var items = (components.queryItems ?? []).filter { $0.name != "pool" && $0.name != "search_path" }
        items.append(URLQueryItem(name: "pool", value: String(pool)))
        if let schema { items.append(URLQueryItem(name: "search_path", value: schema)) }
        components.queryItems = items
        guard let url = components.string else { throw StoreError(.invalidInput, "cannot build a test database URL") }
        return url
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
    /// Statements (for ``execute``) after which every insert into `acceptances` fails: the
    /// acceptance's last write, to show that its earlier ones roll back with it.
    let failAcceptanceInserts: [String]

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
