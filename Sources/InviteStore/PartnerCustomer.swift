/// A customer as one partner sees it: its active relationship and DAP state.
public struct PartnerCustomer: Sendable, Equatable {
    public var customer: Customer
    public var role: RelationshipRole
    public var since: UnixTime
    /// When this partner was granted delegated admin privileges, if it holds them.
    public var delegatedAdminSince: UnixTime?

    public init(customer: Customer, role: RelationshipRole, since: UnixTime, delegatedAdminSince: UnixTime?) {
        self.customer = customer
        self.role = role
        self.since = since
        self.delegatedAdminSince = delegatedAdminSince
    }
}

public struct RelationshipRemoval: Sendable, Equatable {
    public var removed: Bool
    public var delegatedAdminRetained: Bool

    public init(removed: Bool, delegatedAdminRetained: Bool) {
        self.removed = removed
        self.delegatedAdminRetained = delegatedAdminRetained
    }
}
