public enum RelationshipRole: String, Sendable, Codable {
    /// The indirect reseller that issued the invitation.
    case reseller
    /// The indirect provider named in the invitation.
    case provider
}

/// One relationship an acceptance asked for, and whether this acceptance created it
/// (`false` when the customer already had it).
public struct RelationshipOutcome: Sendable, Equatable, Codable {
    public var partnerID: String
    public var role: RelationshipRole
    public var created: Bool

    public init(partnerID: String, role: RelationshipRole, created: Bool) {
        self.partnerID = partnerID
        self.role = role
        self.created = created
    }
}

/// What an acceptance answered. Stored, so that a repeated acceptance answers the same.
public struct Acceptance: Sendable, Equatable, Codable {
    public var invitationID: String
    public var customerID: String
    public var acceptedBy: String
    public var acceptedAt: UnixTime
    public var relationships: [RelationshipOutcome]
    /// Whether the reseller holds delegated admin privileges for the customer afterwards
    /// because this invitation asked for them.
    public var delegatedAdmin: Bool
    /// True when this is the stored answer to an earlier acceptance, returned again. Not part
    /// of the stored answer itself, so repeated answers stay byte-identical.
    public var isRepeat = false

    private enum CodingKeys: String, CodingKey {
        case invitationID, customerID, acceptedBy, acceptedAt, relationships, delegatedAdmin
    }

    /// Two acceptances are equal when they give the same answer, first time or repeated.
    public static func == (lhs: Acceptance, rhs: Acceptance) -> Bool {
        lhs.invitationID == rhs.invitationID && lhs.customerID == rhs.customerID
            && lhs.acceptedBy == rhs.acceptedBy && lhs.acceptedAt == rhs.acceptedAt
            && lhs.relationships == rhs.relationships && lhs.delegatedAdmin == rhs.delegatedAdmin
    }

    public init(
        invitationID: String, customerID: String, acceptedBy: String, acceptedAt: UnixTime,
        relationships: [RelationshipOutcome], delegatedAdmin: Bool
    ) {
        self.invitationID = invitationID
        self.customerID = customerID
        self.acceptedBy = acceptedBy
        self.acceptedAt = acceptedAt
        self.relationships = relationships
        self.delegatedAdmin = delegatedAdmin
    }
}

/// A request to accept invitation `invitationID` for `customerID`, made by `acceptedBy`
/// (a customer credential id or user id) at `at`.
public struct AcceptanceRequest: Sendable, Equatable {
    public var invitationID: String
    public var customerID: String
    public var acceptedBy: String
    public var at: UnixTime

    public init(invitationID: String, customerID: String, acceptedBy: String, at: UnixTime) {
        self.invitationID = invitationID
        self.customerID = customerID
        self.acceptedBy = acceptedBy
        self.at = at
    }
}
