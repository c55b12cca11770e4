internal import Foundation
internal import GRDB
internal import InviteToken

/// The embedded store: one SQLite file in WAL mode behind a GRDB `DatabasePool`.
///
/// Durability: every commit is `synchronous=FULL`, so an acceptance acknowledged to a client
/// survives `kill -9` and power loss (DESIGN.md §6). Readers run concurrently on WAL snapshots;
/// all writes go through one ``GroupCommitWriter``, which runs each write in its own savepoint
/// inside a shared `BEGIN IMMEDIATE` transaction and answers callers only after that
/// transaction committed. Each write checks its preconditions and changes the data inside its
/// savepoint, so check-then-act races cannot happen (the writer is serial), and unique indexes
/// back every invariant up in case of a bug.
public final class SQLiteStore: RelationshipStore {
    let pool: DatabasePool
    let writer: GroupCommitWriter
    /// The temporary directory the file lives in, if any: removed once no store uses it.
    let temporaryDirectory: TemporaryDirectory?

    /// Opens (creating if needed) the database at `path`, relative to the working directory or
    /// absolute, creating missing parent directories. Call ``migrate()`` before use.
    public convenience init(path: String) throws {
        try self.init(path: path, temporaryDirectory: nil)
    }

    /// A store in a fresh temporary directory that is deleted with the store: for tests and for
    /// `sqlite::memory:`, where a pool needs a real file for its WAL.
    public static func temporary() throws -> SQLiteStore {
        let directory = try TemporaryDirectory()
        return try SQLiteStore(path: directory.url.appendingPathComponent("store.sqlite").path, temporaryDirectory: directory)
    }

    /// Opens `path`, keeping `temporaryDirectory` alive as long as this store.
    init(path: String, temporaryDirectory: TemporaryDirectory?) throws {
        let pool: DatabasePool
        do {
            let file = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            // The database holds password hashes and credential digests: created readable by
            // its owner alone. SQLite gives the -wal and -shm files the database file's mode.
            let created = open(file.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if created >= 0 { close(created) }
            var configuration = Configuration()
            configuration.label = "InviteStore"
            configuration.journalMode = .wal
            configuration.foreignKeysEnabled = true
            // Another process (the CLI next to a running server) may hold the write lock briefly.
            configuration.busyMode = .timeout(5)
            pool = try DatabasePool(path: file.path, configuration: configuration)
            // GRDB sets `synchronous=NORMAL` on the writer when it enables WAL, after any
            // `prepareDatabase` hook has run; NORMAL can lose the last commits on power loss.
            // The writer connection lives as long as the pool, so setting FULL once here holds
            // for every commit.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        } catch {
            throw Self.storeError(error)
        }
        self.pool = pool
        self.temporaryDirectory = temporaryDirectory
        self.writer = GroupCommitWriter(pool: pool, mapError: Self.storeError)
    }

    public func migrate() async throws {
        let pool = self.pool
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            SQLiteSchema.migrator.asyncMigrate(pool) { result in
                switch result {
                case .success: continuation.resume()
                case .failure(let error): continuation.resume(throwing: Self.storeError(error))
                }
            }
        }
    }

    public func ping() async throws {
        _ = try await readStatement { db in try db.int(sql: "SELECT 1") }
    }

    // MARK: Test hooks

    /// How many write transactions the group-commit writer has run.
    var writeTransactionCountForTesting: Int { writer.batchCount }

    /// Runs `sql` on the writer connection outside the store's API, for contract tests that
    /// must reach under it (tamper with the audit log, count rows).
    func executeForTesting(_ sql: String) async throws {
        try await write { db in try db.execute(sql: sql) }
    }

    /// The first column of the first row of `sql`, read on the writer connection, where the
    /// per-connection settings that matter for durability (`synchronous`) live.
    func scalarForTesting(_ sql: String) async throws -> String? {
        do {
            return try await pool.writeWithoutTransaction { db in
                switch try DatabaseValue.fetchOne(db, sql: sql)?.storage {
                case nil, .null: nil
                case .int64(let value): String(value)
                case .double(let value): String(value)
                case .string(let value): value
                case .blob(let value): Base64URL.encode(value)
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    // MARK: Access

    // Reads run on the calling thread. A read here is a few indexed rows from pages SQLite
    // has cached, done in microseconds, and never waits for a writer (WAL); the closure never
    // suspends, so the reader it holds is back in the pool at once. Hopping to GRDB's reader
    // queue and back instead costs two thread switches per read, more than the read itself.

    /// Several statements that must see one snapshot: one deferred read transaction.
    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try Self.blockingRead(pool, isolated: true, body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// One statement, atomic on its own: no transaction around it.
    func readStatement<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try Self.blockingRead(pool, isolated: false, body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Not `async`, so that GRDB's synchronous read is the one called.
    static func blockingRead<T>(_ pool: DatabasePool, isolated: Bool, _ body: (Database) throws -> T) throws -> T {
        isolated ? try pool.read(body) : try pool.unsafeRead(body)
    }

    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Turns what SQLite or GRDB threw into a ``StoreError``: unique violations are conflicts
    /// (the backstop when two writers raced past a check), everything else is unavailable.
    static func storeError(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        if let error = error as? DatabaseError {
            switch error.extendedResultCode {
            case .SQLITE_CONSTRAINT_PRIMARYKEY, .SQLITE_CONSTRAINT_UNIQUE:
                return StoreError(.conflict, "already exists", diagnostic: error.message)
            default:
                return StoreError(
                    .unavailable, "the database failed", diagnostic: "SQLite: \(error.message ?? error.resultCode.description)")
            }
        }
        return StoreError(.unavailable, "the database failed", diagnostic: String(describing: error))
    }
}
