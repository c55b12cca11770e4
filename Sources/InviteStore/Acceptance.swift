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

/// What an invitation's token says it asks for: who asks, and for what. An acceptance's answer
/// depends on these alone (and on which relationships it created).
public struct InvitationTerms: Sendable, Equatable {
    public var resellerID: String
    public var providerID: String?
    public var delegatedAdmin: Bool

    public init(resellerID: String, providerID: String?, delegatedAdmin: Bool) {
        self.resellerID = resellerID
        self.providerID = providerID
        self.delegatedAdmin = delegatedAdmin
    }

    public init(of invitation: Invitation) {
        self.init(resellerID: invitation.resellerID, providerID: invitation.providerID, delegatedAdmin: invitation.delegatedAdmin)
    }
}

/// A request to accept invitation `invitationID` for `customerID`, made by `acceptedBy`
/// (a customer credential id or user id) at `at`.
public struct AcceptanceRequest: Sendable, Equatable {
    public var invitationID: String
    public var customerID: String
    public var acceptedBy: String
    public var at: UnixTime
    /// The terms the verified token states, when the caller has them. They decide nothing:
    /// the stored invitation does. A store may use them to write in the same statement that
    /// reads the facts (PostgreSQL: one round trip), and only when the stored invitation
    /// states the same terms; otherwise it reads the facts first.
    public var terms: InvitationTerms?
    /// A credential that must be unrevoked in the acceptance's transaction (see
    /// ``RelationshipStore/accept(_:)``); nil when the caller read it in this request.
    public var confirmingCredential: String?

    public init(
        invitationID: String, customerID: String, acceptedBy: String, at: UnixTime, terms: InvitationTerms? = nil,
        confirmingCredential: String? = nil
    ) {
        self.invitationID = invitationID
        self.customerID = customerID
        self.acceptedBy = acceptedBy
        self.at = at
        self.terms = terms
        self.confirmingCredential = confirmingCredential
    }
}
