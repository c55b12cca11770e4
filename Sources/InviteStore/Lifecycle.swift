/// Which side ended a relationship or a DAP grant (DESIGN.md §7): recorded in the audit entry.
public enum RemovalSide: String, Sendable {
    case partner
    case customer
}

/// A one-time setup link's record (DESIGN.md §7): the signed token carries its id as `jti`;
/// the store marks it used, so it works once, and a newer link for the same person ends it.
public struct SetupLink: Sendable, Equatable {
    public var id: String
    public var userID: String
    public var issuedAt: UnixTime
    public var expiresAt: UnixTime
    public var usedAt: UnixTime?

    public init(id: String, userID: String, issuedAt: UnixTime, expiresAt: UnixTime, usedAt: UnixTime? = nil) {
        self.id = id
        self.userID = userID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.usedAt = usedAt
    }
}

/// "Add a new customer" (DESIGN.md §7): the customer, its global admin (who gets a setup link,
/// not a password) and the reseller's relationship, written in one transaction.
public struct NewCustomer: Sendable {
    public var customer: Customer
    public var admin: User
    public var setupLink: SetupLink?
    /// The reseller that creates it, which gets the relationship; nil from the CLI.
    public var resellerID: String?

    public init(customer: Customer, admin: User, setupLink: SetupLink?, resellerID: String?) {
        self.customer = customer
        self.admin = admin
        self.setupLink = setupLink
        self.resellerID = resellerID
    }
}

/// A partner as one customer sees it (`GET /v1/partners`): its active relationship, if any,
/// and its DAP grant, if any; at least one of the two.
public struct CustomerPartner: Sendable, Equatable {
    public var partner: Partner
    public var role: RelationshipRole?
    public var relationshipSince: UnixTime?
    public var delegatedAdminSince: UnixTime?

    public init(partner: Partner, role: RelationshipRole?, relationshipSince: UnixTime?, delegatedAdminSince: UnixTime?) {
        self.partner = partner
        self.role = role
        self.relationshipSince = relationshipSince
        self.delegatedAdminSince = delegatedAdminSince
    }
}
