extension RelationshipStore {
    /// Nothing to release: ``SQLiteStore`` closes its file when the last reference goes.
    public func shutdown() async {}
}
