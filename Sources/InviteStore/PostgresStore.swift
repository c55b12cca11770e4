internal import Foundation
internal import InviteToken
internal import Logging
internal import PostgresNIO
internal import Synchronization

/// The shared store: PostgreSQL through a postgres-nio `PostgresClient` connection pool, for
/// several service instances behind a load balancer (DESIGN.md §6).
///
/// Same answers as ``SQLiteStore`` for every call, proven by the same contract suite. What
/// differs is how races are ruled out: SQLite has one writer, PostgreSQL has many. Each write
/// is one transaction (READ COMMITTED). An acceptance is one statement that takes its
/// invitation row (revoked? uses left? re-checked on the newest committed row) and writes
/// everything else only if that succeeded: a limited invitation's row with a conditional
/// `UPDATE … RETURNING` of its use count, so every acceptance of it, on any instance, counts
/// its use after the previous one committed; an unlimited one's with `SELECT … FOR SHARE`, so
/// its acceptances run side by side (see ``accept(_:_:)``). Revoking takes the row with
/// `SELECT … FOR UPDATE`, which waits for both kinds. Inserts
/// that two transactions may race for (an idempotent connect, a relationship or DAP grant two
/// invitations both give) use `ON CONFLICT DO NOTHING` on the unique index that states the
/// invariant, and any unique violation left (SQLSTATE 23505) is a ``StoreError/Code/conflict``
/// (or, in an acceptance, a rerun that answers like a repeat), never a generic failure.
/// Serialization failures and deadlocks (40001, 40P01) rerun the whole transaction, at most
/// ``maximumAttempts`` times. Values are always bound parameters (`PostgresQuery`
/// interpolation binds); only constant SQL is ever spliced.
///
/// The pool reconnects by itself: while the server is down, calls fail with
/// ``StoreError/Code/unavailable`` after at most ``leaseTimeout`` instead of hanging, and work
/// again once it is back, without a restart.
public final class PostgresStore: RelationshipStore {
    /// Attempts of one transaction that hits serialization failures or deadlocks.
    static let maximumAttempts = 5

    let client: PostgresClient
    /// Runs the client's pool; cancelled by ``shutdown()`` or when the store goes away.
    let runner: Task<Void, Never>
    /// The deadlines of calls waiting for a pooled connection, and the task that enforces them
    /// (until the store goes away: calls after ``shutdown()`` still get their answer).
    let deadlines = LeaseDeadlines()
    let deadlineWatch: Task<Void, Never>
    /// Issuances made at once share one statement (``IssueInvitations``): up to four such
    /// statements run at a time, each of up to 64 issuances.
    let issuances = CallBatcher<Issuance, Bool>(maximumRunning: 4, maximumSize: 64)
    /// How long a call waits for a pooled connection before answering `unavailable`.
    let leaseTimeout: Duration
    /// How long ``ping()`` waits: a readiness probe must answer before the prober gives up.
    let pingTimeout: Duration

    /// Queries are not logged (they carry ids and emails); the pool's own warnings are.
    static let quiet = Logger(label: "invitelink.postgres.query", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Opens a pool for `url` (see ``PostgresConfiguration`` for what the URL may say); call
    /// ``migrate()`` before use. With `keepingConnections` (a server) the pool opens all its
    /// connections at once and keeps them; otherwise it opens them as calls need them.
    public convenience init(url: String, keepingConnections: Bool = false) throws {
        var logger = Logger(label: "invitelink.postgres")
        logger.logLevel = .warning
        try self.init(
            configuration: PostgresConfiguration(url: url, keepingConnections: keepingConnections), logger: logger)
    }

    init(
        configuration: PostgresConfiguration, logger: Logger,
        leaseTimeout: Duration = .seconds(10), pingTimeout: Duration = .seconds(2)
    ) {
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        self.client = client
        self.leaseTimeout = leaseTimeout
        self.pingTimeout = pingTimeout
        // The pool only hands out connections while run() runs. The store owns this task and
        // cancels it (closing every connection) in shutdown() or deinit, so it never outlives
        // its store; the task holds the client, not the store. An immediate task enters run()
        // before init returns, so no first call can find the pool not yet running.
        if #available(macOS 26.0, *) {
            runner = Task.immediate { await client.run() }
        } else {
            runner = Task { await client.run() }
        }
        let deadlines = self.deadlines
        deadlineWatch = Task { await deadlines.watch() }
    }

    deinit {
        runner.cancel()
        deadlineWatch.cancel()
    }

    /// Closes the pool's connections and waits until they are closed. Calls after it fail with
    /// ``StoreError/Code/unavailable``.
    public func shutdown() async {
        runner.cancel()
        await runner.value
    }

    // MARK: Schema

    /// Applies the migrations not yet recorded in `schema_migrations`, all in one transaction
    /// that first takes a transaction-scoped advisory lock: instances starting at once migrate
    /// one after the other, and a migration that fails leaves nothing half-applied.
    public func migrate() async throws {
        try await write { db in
            try await db.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))")
            try await db.run(PostgresQuery(unsafeSQL: PostgresSchema.createMigrationsTable))
            let applied = Set(try await db.rows("SELECT version FROM schema_migrations").map { try $0.decode(Int64.self) })
            for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await db.run(PostgresQuery(unsafeSQL: statement))
                }
                try await db.run("INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
            }
        }
    }

    public func ping() async throws {
        try await perform(transaction: false, retryingUniqueViolations: false, within: pingTimeout) { db in
            try await db.run("SELECT 1")
        }
    }

    // MARK: Test hooks

    /// Runs `sql` outside the store's API, for contract tests that must reach under it (tamper
    /// with the audit log, count rows). Test code only: the SQL is spliced as given.
    func executeForTesting(_ sql: String) async throws {
        try await write { db in try await db.run(PostgresQuery(unsafeSQL: sql)) }
    }

    /// The first column of the first row of `sql`, as text (integers in decimal, bytes in
    /// base64url), or nil for no row or NULL.
    func scalarForTesting(_ sql: String) async throws -> String? {
        try await read { db in
            guard let cell = try await db.rows(PostgresQuery(unsafeSQL: sql)).first?.first, cell.bytes != nil else { return nil }
            switch cell.dataType {
            case .int2, .int4, .int8: return String(try cell.decode(Int64.self))
            case .bool: return String(try cell.decode(Bool.self))
            case .bytea: return Base64URL.encode(Array(try cell.decode(Data.self)))
            default: return try cell.decode(String.self)
            }
        }
    }

    // MARK: Access

    func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await perform(transaction: false, retryingUniqueViolations: false, within: leaseTimeout, body)
    }

    /// One statement outside an explicit transaction: atomic on its own, one round trip.
    func autocommit<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await perform(transaction: false, retryingUniqueViolations: false, within: leaseTimeout, body)
    }

    func write<T: Sendable>(
        retryingUniqueViolations: Bool = false, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await perform(transaction: true, retryingUniqueViolations: retryingUniqueViolations, within: leaseTimeout, body)
    }

    /// Runs `body` on a pooled connection, in a transaction when `transaction` is set (reads are
    /// single statements, each its own snapshot), rerunning it after a serialization failure or
    /// deadlock, and after a unique violation when `retryingUniqueViolations`.
    func perform<T: Sendable>(
        transaction: Bool, retryingUniqueViolations: Bool, within timeout: Duration,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await leased(within: timeout) { connection in
                    if transaction {
                        try await connection.withTransaction(logger: Self.quiet) { try await body($0) }
                    } else {
                        try await body(connection)
                    }
                }
            } catch {
                let failure = PostgresFailure(error)
                let retryable =
                    failure.isTransient || (retryingUniqueViolations && failure.isUniqueViolation)
                    || failure.storeError == Self.outrun
                guard retryable, attempt < Self.maximumAttempts else { throw failure.storeError }
                // A short random pause, longer each time, so that the transactions that
                // collided do not collide again in lockstep.
                try? await Task.sleep(for: .milliseconds(Int.random(in: 1...5) * attempt))
                attempt += 1
            }
        }
    }

    /// Runs `body` with a pooled connection, or throws `.unavailable` if none is handed out
    /// within `timeout`. While the server is down the pool queues requests until its circuit
    /// breaker trips (a minute); callers, and a readiness probe above all, need an answer sooner.
    /// The deadline covers only the wait for a connection, never the work itself, so a slow
    /// transaction is not cut in the middle and its caller never misreads a commit.
    ///
    /// The wait runs as a task of its own, which the store's one ``LeaseDeadlines`` watcher
    /// cancels if the deadline passes first. (A timer per call, a `Task.sleep` racing the
    /// lease in a task group, measured as the largest part of the heap under load: a
    /// cancelled sleep keeps its task and dispatch timer until the time it slept for, 10 s.)
    func leased<T: Sendable>(
        within timeout: Duration, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let lease = LeaseRace()
        let client = self.client
        let work = Task {
            try await client.withConnection { connection in
                guard lease.claim(.leased) else { throw LeaseRace.lateLease }
                return try await body(connection)
            }
        }
        let deadline = deadlines.add(ContinuousClock.now + timeout) {
            if lease.claim(.timedOut) { work.cancel() }
        }
        defer { deadlines.remove(deadline) }
        do {
            return try await withTaskCancellationHandler {
                try await work.value
            } onCancel: {
                work.cancel()
            }
        } catch {
            if lease.timedOut { throw StoreError(.unavailable, "no PostgreSQL connection within \(timeout.components.seconds) s") }
            throw error
        }
    }
}

/// Who won the race between a connection lease and its deadline: whichever claims first.
final class LeaseRace: Sendable {
    enum Outcome: Int { case leased = 1, timedOut = 2 }
    static let lateLease = StoreError(.unavailable, "a PostgreSQL connection came after the deadline")
    let state = Atomic<Int>(0)

    func claim(_ outcome: Outcome) -> Bool {
        state.compareExchange(expected: 0, desired: outcome.rawValue, ordering: .acquiringAndReleasing).exchanged
    }

    var timedOut: Bool { state.load(ordering: .acquiring) == Outcome.timedOut.rawValue }
}

/// The deadlines of one store's waits for a connection, enforced by one task that looks every
/// ``resolution``: a wait costs a dictionary entry, not a timer. A deadline is met within a
/// resolution of its time.
final class LeaseDeadlines: Sendable {
    static let resolution: Duration = .milliseconds(100)

    private struct Pending: Sendable {
        var deadline: ContinuousClock.Instant
        var expire: @Sendable () -> Void
    }

    private let pending = Mutex<(next: UInt64, byID: [UInt64: Pending])>((0, [:]))

    /// Registers `expire`, to be called once `deadline` has passed unless removed before.
    func add(_ deadline: ContinuousClock.Instant, expire: @escaping @Sendable () -> Void) -> UInt64 {
        pending.withLock { state in
            state.next += 1
            state.byID[state.next] = Pending(deadline: deadline, expire: expire)
            return state.next
        }
    }

    func remove(_ id: UInt64) {
        _ = pending.withLock { $0.byID.removeValue(forKey: id) }
    }

    /// Calls, and forgets, every `expire` whose deadline is at or before `now`.
    func expire(at now: ContinuousClock.Instant) {
        let due = pending.withLock { state -> [Pending] in
            let due = state.byID.filter { $0.value.deadline <= now }
            for id in due.keys { state.byID.removeValue(forKey: id) }
            return Array(due.values)
        }
        for entry in due { entry.expire() }
    }

    /// Expires deadlines as they pass, until cancelled.
    func watch() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: Self.resolution)
            expire(at: .now)
        }
    }
}
