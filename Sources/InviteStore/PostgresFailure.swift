internal import PostgresNIO

/// What a PostgreSQL or pool error means to the store: a ``StoreError`` to answer with, and
/// whether running the transaction again may succeed.
struct PostgresFailure {
    private(set) var storeError: StoreError
    /// 40001 serialization failure or 40P01 deadlock: the transaction was rolled back whole
    /// and can be run again.
    private(set) var isTransient = false
    /// 23505: another transaction committed the same key first.
    private(set) var isUniqueViolation = false

    init(_ error: any Error) {
        var error = error
        if let transaction = error as? PostgresTransactionError {
            // The closure's own error first (a StoreError it threw, or the query that failed);
            // then why BEGIN or COMMIT failed.
            error =
                transaction.closureError ?? transaction.commitError ?? transaction.beginError
                ?? transaction.rollbackError ?? transaction
        }
        if let storeError = error as? StoreError {
            self.storeError = storeError
            return
        }
        guard let psql = error as? PSQLError else {
            // The pool's own errors (shut down, circuit breaker open), cancellation, anything else.
            storeError = StoreError(.unavailable, "the database is unavailable", diagnostic: "PostgreSQL: \(String(describing: error))")
            return
        }
        guard psql.code == .server, let info = psql.serverInfo, let state = info[.sqlState] else {
            storeError = StoreError(.unavailable, "the database is unreachable", diagnostic: "PostgreSQL: \(psql.code)")
            return
        }
        let message = info[.message] ?? "error"
        switch state {
        case "23505":
            isUniqueViolation = true
            storeError = StoreError(.conflict, "already exists", diagnostic: info[.constraintName])
        case "40001", "40P01":
            isTransient = true
            storeError = StoreError(
                .unavailable, "the database was too busy; retry",
                diagnostic: "PostgreSQL: \(message) (SQLSTATE \(state)), retries exhausted")
        default:
            storeError = StoreError(.unavailable, "the database failed", diagnostic: "PostgreSQL: \(message) (SQLSTATE \(state))")
        }
    }
}
