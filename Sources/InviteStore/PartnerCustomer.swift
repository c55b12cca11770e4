/// A customer as one partner sees it: its active relationship and DAP state. With retained
/// grants listed (DESIGN.md §7), a customer whose relationship ended while the partner kept
/// DAP has no role and no `since`.
public struct PartnerCustomer: Sendable, Equatable {
    public var customer: Customer
    public var role: RelationshipRole?
    public var since: UnixTime?
    /// When this partner was granted delegated admin privileges, if it holds them.
    public var delegatedAdminSince: UnixTime?

    public var relationshipActive: Bool { since != nil }

    public init(customer: Customer, role: RelationshipRole?, since: UnixTime?, delegatedAdminSince: UnixTime?) {
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
