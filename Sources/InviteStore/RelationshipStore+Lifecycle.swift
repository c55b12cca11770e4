extension RelationshipStore {
    /// Nothing to release: ``SQLiteStore`` closes its file when the last reference goes.
    public func shutdown() async {}
}

extension RelationshipStore {
    /// A person with no setup link (a test fixture, a one-time password).
    public func addUser(_ user: User, actor: String) async throws {
        try await addUser(user, setupLink: nil, actor: actor)
    }

    /// Customers with an active relationship to the partner, oldest relationship first.
    public func customers(ofPartner partnerID: String, page: PageRequest) async throws -> Page<PartnerCustomer> {
        try await customers(ofPartner: partnerID, includeRetained: false, page: page)
    }

    /// The partner ends its own relationship.
    public func removeRelationship(partnerID: String, customerID: String, at: UnixTime, actor: String) async throws -> RelationshipRemoval {
        try await removeRelationship(partnerID: partnerID, customerID: customerID, by: .partner, at: at, actor: actor)
    }
}
