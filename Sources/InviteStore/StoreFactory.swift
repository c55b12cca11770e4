/// Opens the store a `--database` URL names (DESIGN.md §4), so the server and the CLI share one
/// reading of it.
///
/// - `sqlite:PATH` — a file, relative to the working directory or absolute
///   (`sqlite:Data/invitelink.sqlite`, `sqlite:/var/lib/invitelink.sqlite`); the URL form
///   `sqlite:///abs/path` is read as `/abs/path`.
/// - `sqlite::memory:` — a throwaway database. A WAL pool cannot live in memory, so it is a file
///   in a temporary directory that is deleted with the store.
/// - `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?pool=N&sslmode=…]`, or `postgresql://…` —
///   a PostgreSQL connection pool of N connections (default: env `INVITELINK_DB_POOL`, else 8);
///   ``PostgresConfiguration`` lists every query item.
///
/// The store is returned unmigrated; call ``RelationshipStore/migrate()`` before use.
/// `keepingConnections` is for a server: a PostgreSQL pool then keeps all its connections open
/// (``PostgresStore/init(url:keepingConnections:)``).
public func openStore(url: String, keepingConnections: Bool = false) throws -> any RelationshipStore {
    if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
        return try PostgresStore(url: url, keepingConnections: keepingConnections)
    }
    guard url.hasPrefix("sqlite:") else {
        throw StoreError(.invalidInput, "unsupported database URL scheme (expected sqlite: or postgres://)")
    }
    var path = Substring(url.dropFirst("sqlite:".count))
    if path == ":memory:" {
        return try SQLiteStore.temporary()
    }
    if path.hasPrefix("//") {
        path = path.dropFirst(2)
    }
    guard !path.isEmpty else {
        throw StoreError(.invalidInput, "the sqlite: database URL names no file")
    }
    return try SQLiteStore(path: String(path))
}
