internal import GRDB
internal import Synchronization

/// Runs write jobs in shared transactions so that concurrent writers pay for one durable commit
/// (one WAL fsync under `synchronous=FULL`) per batch instead of one each.
///
/// A job is queued under a mutex. If no batch is scheduled, the job schedules one on GRDB's
/// serial writer queue. A batch takes every job queued so far, opens one `BEGIN IMMEDIATE`
/// transaction, runs each job in its own `SAVEPOINT` (a job that throws rolls back only its
/// savepoint and gets its own error), commits once, and only then resumes the callers: a caller
/// is never answered before the commit that holds its work has returned. Jobs that arrive while
/// a batch runs wait for the next one, which is scheduled behind whatever other writes reached
/// the writer queue meanwhile, so steady acceptance traffic cannot starve them.
///
/// No task is spawned: batches run on the pool's own writer queue and callers wait on
/// continuations, so there is nothing to cancel when the store goes away.
final class GroupCommitWriter: Sendable {
    /// One queued job: runs its work in a savepoint and says how to answer its caller once the
    /// fate of the shared transaction is known.
    private struct Job: Sendable {
        let execute: @Sendable (Database) -> Answer
        /// Answers a caller whose job never ran because the shared transaction had already failed.
        let fail: @Sendable (any Error) -> Void
    }

    /// How to resume one caller: with its own error, or with its value unless the commit failed.
    private struct Answer: Sendable {
        let resume: @Sendable (_ commitError: (any Error)?) -> Void
    }

    private struct State {
        var pending: [Job] = []
        var scheduled = false
        /// Transactions opened so far, to show (in tests) that concurrent jobs share them.
        var batches = 0
    }

    /// Bounds one transaction, so that a burst does not become one huge commit.
    static let maximumBatchSize = 256

    private let pool: DatabasePool
    private let mapError: @Sendable (any Error) -> any Error
    private let state = Mutex(State())

    /// - Parameter mapError: turns a failed commit's database error into what callers should see.
    init(pool: DatabasePool, mapError: @escaping @Sendable (any Error) -> any Error) {
        self.pool = pool
        self.mapError = mapError
    }

    /// How many shared transactions have been run.
    var batchCount: Int { state.withLock { $0.batches } }

    /// Runs `work` in its own savepoint inside the next shared transaction and returns its value
    /// once that transaction has committed. If `work` throws, nothing it did is kept and its
    /// error is rethrown; if the commit fails, every job of the batch fails with that error.
    func write<T: Sendable>(_ work: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let job = Job(
                execute: { db in
                    do {
                        let result = try Self.inSavepoint(db, work)
                        return Answer { commitError in
                            if let commitError {
                                continuation.resume(throwing: commitError)
                            } else {
                                continuation.resume(returning: result)
                            }
                        }
                    } catch {
                        return Answer { _ in continuation.resume(throwing: error) }
                    }
                },
                fail: { continuation.resume(throwing: $0) }
            )
            enqueue(job)
        }
    }

    /// Runs `work` in a savepoint of the shared transaction: kept when it returns, undone when
    /// it throws. GRDB's `inSavepoint` prepares its SAVEPOINT and RELEASE statements anew on
    /// every call, which on the one writer thread costs about as much as a small job's own
    /// work; these are prepared once per connection.
    private static func inSavepoint<T>(_ db: Database, _ work: (Database) throws -> T) throws -> T {
        try db.cachedStatement(sql: "SAVEPOINT job").execute()
        let value: T
        do {
            value = try work(db)
        } catch {
            // Some errors (disk full, I/O) have already rolled the whole transaction back;
            // runBatch sees that and fails the batch.
            if db.isInsideTransaction {
                try db.cachedStatement(sql: "ROLLBACK TO SAVEPOINT job").execute()
                try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
            }
            throw error
        }
        try db.cachedStatement(sql: "RELEASE SAVEPOINT job").execute()
        return value
    }

    private func enqueue(_ job: Job) {
        let mustSchedule = state.withLock { state in
            state.pending.append(job)
            guard !state.scheduled else { return false }
            state.scheduled = true
            return true
        }
        if mustSchedule { schedule() }
    }

    private func schedule() {
        pool.asyncWriteWithoutTransaction { [self] db in
            runBatch(db)
        }
    }

    /// Runs one batch and schedules the next if jobs arrived meanwhile.
    private func runBatch(_ db: Database) {
        let batch: [Job] = state.withLock { state in
            let count = min(state.pending.count, Self.maximumBatchSize)
            let batch = Array(state.pending.prefix(count))
            state.pending.removeFirst(count)
            state.batches += 1
            return batch
        }

        var answers: [Answer] = []
        answers.reserveCapacity(batch.count)
        var commitError: (any Error)?
        do {
            try db.inTransaction(.immediate) {
                for job in batch {
                    // Some SQLite errors (disk full, I/O) roll the whole transaction back; the
                    // jobs after that must not run outside it and the ones before must not be
                    // told they succeeded.
                    guard db.isInsideTransaction else { throw StoreError(.unavailable, "the shared write transaction was rolled back") }
                    answers.append(job.execute(db))
                }
                return .commit
            }
        } catch {
            commitError = mapError(error)
        }

        for answer in answers { answer.resume(commitError) }
        if let commitError {
            for job in batch.dropFirst(answers.count) { job.fail(commitError) }
        }

        let more = state.withLock { state in
            if state.pending.isEmpty { state.scheduled = false }
            return state.scheduled
        }
        if more { schedule() }
    }
}
