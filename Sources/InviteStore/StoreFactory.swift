/// Opens the store a `--database` URL names (DESIGN.md §4), so the server and the CLI share one
/// reading of it.
///
/// - `sqlite:PATH` — a file, relative to the working directory or absolute
///   (`sqlite:Data/invitelink.sqlite`, `sqlite:/var/lib/invitelink.sqlite`); the URL form
///   `sqlite:///abs/path` is read as `/abs/path`.
/// - `sqlite::memory:` — a throwaway database. A WAL pool cannot live in memory, so it is a file
///   in a temporary directory that is deleted with the store.
/// - `postgres://…`, `postgresql://…` — not built yet: throws `.unavailable`.
///
/// The store is returned unmigrated; call ``RelationshipStore/migrate()`` before use.
public func openStore(url: String) throws -> any RelationshipStore {
    if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
        throw StoreError(.unavailable, "PostgreSQL support is not built yet")
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
