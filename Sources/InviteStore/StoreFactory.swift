/// Opens the store a database URL names.
public func openStore(url: String) throws -> any RelationshipStore {
    throw StoreError(.unavailable, "no store backend is built yet")
}
