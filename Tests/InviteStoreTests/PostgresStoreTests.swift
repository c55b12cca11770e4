import Foundation
import Testing

@testable import InviteStore

/// How `postgres://` URLs are read: no server needed.
@Suite("PostgreSQL URLs")
struct PostgresConfigurationTests {
    @Test("pool size: the URL's pool, else INVITELINK_DB_POOL, else 8")
    func poolSize() throws {
        let base = "postgres://app@db.example:5433/invitelink"
        #expect(
            try PostgresConfiguration(url: base + "?pool=3", environment: ["INVITELINK_DB_POOL": "5"]).poolSize == 3,
            "the URL's pool must win over the environment")
        #expect(
            try PostgresConfiguration(url: base, environment: ["INVITELINK_DB_POOL": "5"]).poolSize == 5,
            "INVITELINK_DB_POOL must apply when the URL has no pool")
        #expect(
            try PostgresConfiguration(url: base, environment: [:]).poolSize == PostgresConfiguration.defaultPoolSize,
            "the default pool size must be 8")
    }

    @Test("a server's pool has a fixed size and no keep-alive timers; a CLI command's opens connections as needed")
    func fixedPool() throws {
        for url in ["postgres://app@db.example/invitelink", "postgres://app@db.example/invitelink?pool=3"] {
            let server = try PostgresConfiguration(url: url, environment: [:], keepingConnections: true).client.options
            #expect(server.minimumConnections == server.maximumConnections, "\(url)")
            #expect(server.keepAliveBehavior == nil, "\(url)")
            let command = try PostgresConfiguration(url: url, environment: [:]).client.options
            #expect(command.minimumConnections == 0, "\(url)")
            #expect(command.keepAliveBehavior != nil, "\(url)")
        }
    }

    @Test("user, password, host, port and database are read, percent-decoded")
    func components() throws {
        let configuration = try PostgresConfiguration(
            url: "postgresql://app%40corp:p%2Fss%3Aw@db.example:5433/invite%20link", environment: [:])
        #expect(configuration.client.username == "app@corp", "user name not percent-decoded")
        #expect(configuration.client.password == "p/ss:w", "password not percent-decoded")
        #expect(configuration.client.host == "db.example" && configuration.client.port == 5433, "host or port misread")
        #expect(configuration.client.database == "invite link", "database name not percent-decoded")

        let socket = try PostgresConfiguration(url: "postgres://app@localhost/invitelink?host=/run/postgresql", environment: [:])
        #expect(socket.client.unixSocketPath == "/run/postgresql/.s.PGSQL.5432", "host=/DIR must name the socket in DIR")
    }

    @Test("a server on another host has its certificate verified unless the URL says otherwise")
    func tlsDefaults() throws {
        func mode(_ url: String) throws -> String? { try PostgresConfiguration(url: url, environment: [:]).sslMode }
        #expect(try mode("postgres://app@db.example/invitelink") == "verify-full")
        #expect(try mode("postgres://app@10.0.0.5:5433/invitelink") == "verify-full")
        #expect(try mode("postgres://app@127.0.0.1/invitelink") == "prefer")
        #expect(try mode("postgres://app@localhost/invitelink") == "prefer")
        #expect(try mode("postgres://app@[::1]/invitelink") == "prefer")
        #expect(try mode("postgres://app@db.example/invitelink?sslmode=disable") == "disable")
        #expect(try mode("postgres://app@db.example/invitelink?sslmode=require") == "require")
        #expect(try mode("postgres://app@localhost/invitelink?host=/run/postgresql") == nil)
    }

    @Test(
        "malformed URLs and unknown settings are invalidInput, and name no password",
        arguments: [
            "postgres://app:secret@db.example/invitelink?pool=0",
            "postgres://app:secret@db.example/invitelink?pool=many",
            "postgres://app:secret@db.example/invitelink?pool=1001",
            "postgres://app:secret@db.example/invitelink?sslmode=maybe",
            "postgres://app:secret@db.example/invitelink?poolsize=4",
            "postgres://app:secret@db.example/invitelink?host=relative",
            "postgres://db.example/invitelink",
            "postgres://app:secret@/invitelink",
        ])
    func refused(url: String) async {
        do {
            _ = try PostgresConfiguration(url: url, environment: [:])
            Issue.record("\(url) was accepted")
        } catch let error as StoreError {
            #expect(error.code == .invalidInput, "\(url): \(error)")
            #expect(!error.message.contains("secret"), "the message shows the password: \(error.message)")
        } catch {
            Issue.record("\(url): expected a StoreError, got \(error)")
        }
    }

    @Test("a bad INVITELINK_DB_POOL is refused rather than ignored")
    func badEnvironmentPool() async {
        await expectStoreError(.invalidInput, "INVITELINK_DB_POOL=0") {
            try PostgresConfiguration(url: "postgres://app@db.example/invitelink", environment: ["INVITELINK_DB_POOL": "0"])
        }
    }

    @Test("openStore opens postgres:// and postgresql:// URLs as PostgresStore")
    func factory() async throws {
        for scheme in ["postgres", "postgresql"] {
            let store = try openStore(url: "\(scheme)://app@127.0.0.1:1/invitelink")
            #expect(store is PostgresStore, "\(scheme):// did not open a PostgresStore")
            await store.shutdown()
        }
    }

    @Test("ping fails with unavailable within its deadline when nothing listens")
    func pingWithoutServer() async throws {
        // Port 1 on loopback: the connection is refused, the pool keeps retrying, and the
        // caller must still get an answer, not wait for the pool's one-minute circuit breaker.
        let store = try PostgresStore(url: "postgres://app@127.0.0.1:1/invitelink?sslmode=disable")
        let clock = ContinuousClock()
        let started = clock.now
        await expectStoreError(.unavailable, "ping with no server") { try await store.ping() }
        // Not a timing check (make test asserts none; a loaded machine took 5.7 s for the 2 s
        // deadline): the answer must come, rather than wait for the pool's circuit breaker.
        #expect(clock.now - started < .seconds(30), "ping took \(clock.now - started) to fail")
        await store.shutdown()
    }
}

/// What only the PostgreSQL backend shows: races between connections, concurrent migrations,
/// rollback of a half-done acceptance. Runs when INVITELINK_TEST_POSTGRES_URL is set, as under
/// `make test` (scripts/with-postgres.sh).
@Suite("PostgresStore", .enabled(if: StoreBackend.postgresURL != nil))
struct PostgresStoreTests {
    typealias F = Fixtures

    /// A store on a new, empty, unmigrated schema.
    private func freshStore(pool: Int = 4) async throws -> (store: PostgresStore, url: String) {
        let schema = try await PostgresTestDatabase.createSchema()
        let url = try PostgresTestDatabase.url(try #require(StoreBackend.postgresURL), schema: schema, pool: pool)
        return (try PostgresStore(url: url), url)
    }

    @Test("instances starting at once migrate one after the other, each version once")
    func concurrentMigrations() async throws {
        let (first, url) = try await freshStore()
        let stores = [first] + (try (1..<6).map { _ in try PostgresStore(url: url) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for store in stores { group.addTask { try await store.migrate() } }
            try await group.waitForAll()
        }
        #expect(
            try await first.scalarForTesting("SELECT count(*) FROM schema_migrations") == String(PostgresSchema.migrations.count),
            "each migration must be recorded once")
        try await F.seed(first)
        #expect(try await stores[5].partner(id: F.resellerA) != nil, "another instance does not see the seeded data")
        for store in stores { await store.shutdown() }
    }

    @Test("ten connections adding users with one email: one wins, nine conflicts, never unavailable")
    func racingUniqueViolations() async throws {
        let subject = try await StoreBackend.postgres.make()
        let store = subject.store
        try await F.addCustomer(store, "cus_1")
        // Each passes the email check before any commits, so the unique index decides (23505).
        let outcomes = await withTaskGroup(of: StoreError.Code?.self) { group in
            for index in 0..<10 {
                group.addTask {
                    do {
                        try await store.addUser(
                            User(
                                id: "usr_\(index)", tenant: .customer("cus_1"), email: "Admin@Cus1.example", role: .globalAdmin,
                                passwordHash: "x", mustChangePassword: true, createdAt: F.t0),
                            actor: F.actor)
                        return nil
                    } catch let error as StoreError {
                        return error.code
                    } catch {
                        return .unavailable
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.filter { $0 == nil }.count == 1, "exactly one user must be added: \(outcomes)")
        #expect(outcomes.filter { $0 == .conflict }.count == 9, "the nine others must be conflicts: \(outcomes)")
    }

    @Test("one customer accepting ten invitations of one reseller at once: one relationship, created once")
    func racingRelationships() async throws {
        let subject = try await StoreBackend.postgres.make()
        let store = subject.store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        for index in 0..<10 { try await store.addInvitation(F.invitation("inv_\(index)", provider: nil, dap: true)) }

        let answers = try await withThrowingTaskGroup(of: Acceptance.self) { group in
            for index in 0..<10 { group.addTask { try await store.accept(F.request("inv_\(index)", customer: "cus_1")) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let created = answers.flatMap(\.relationships).filter(\.created)
        #expect(created.count == 1, "the relationship must be reported created once, not \(created.count) times")
        #expect(try await subject.count(.relationships) == 1, "one active relationship per partner and customer")
        #expect(try await subject.count(.dap_grants) == 1, "one DAP grant per partner and customer")
        #expect(try await subject.count(.acceptances) == 10, "every invitation's acceptance is recorded")
        let audit = try await store.auditLog(limit: 100).map(\.action)
        #expect(
            audit.filter { $0 == "relationship.created" }.count == 1 && audit.filter { $0 == "dap.granted" }.count == 1,
            "creation and grant must be audited once each: \(audit)")
    }

    @Test("text sorts in byte order whatever the database's collation, as on SQLite")
    func byteOrder() async throws {
        let store = try await StoreBackend.postgres.make().store
        try await store.addPartner(Partner(id: "res", name: "R", kind: .reseller, createdAt: F.t0), actor: F.actor)
        for name in ["b", "B", "a", "_", "A"] {
            try await store.addPartner(Partner(id: "p\(name)", name: name, kind: .provider, createdAt: F.t0), actor: F.actor)
            try await store.connect(resellerID: "res", providerID: "p\(name)", at: F.t0, actor: F.actor)
        }
        #expect(
            try await store.providers(ofReseller: "res").map(\.name) == ["A", "B", "_", "a", "b"],
            "providers must sort by bytes, as SQLite's BINARY collation does")
    }

    @Test("after shutdown, calls fail with unavailable")
    func shutdown() async throws {
        let (store, _) = try await freshStore()
        try await store.migrate()
        try await store.ping()
        await store.shutdown()
        await expectStoreError(.unavailable, "ping after shutdown") { try await store.ping() }
    }
}
