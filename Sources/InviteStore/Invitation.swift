/// An issued invitation link. `id` is the token's `jti`.
public struct Invitation: Sendable, Equatable {
    public var id: String
    public var resellerID: String
    public var providerID: String?
    public var delegatedAdmin: Bool
    /// The key that signed the link.
    public var kid: String
    public var issuedAt: UnixTime
    public var expiresAt: UnixTime
    /// nil: unlimited until expiry.
    public var maxUses: Int?
    /// Credential or user id of the issuer.
    public var issuedBy: String
    public var customerEmail: String?
    public var revokedAt: UnixTime?
    /// Number of distinct customers that accepted it.
    public var useCount: Int

    public init(
        id: String, resellerID: String, providerID: String?, delegatedAdmin: Bool, kid: String,
        issuedAt: UnixTime, expiresAt: UnixTime, maxUses: Int?, issuedBy: String,
        customerEmail: String? = nil, revokedAt: UnixTime? = nil, useCount: Int = 0
    ) {
        self.id = id
        self.resellerID = resellerID
        self.providerID = providerID
        self.delegatedAdmin = delegatedAdmin
        self.kid = kid
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
        self.maxUses = maxUses
        self.issuedBy = issuedBy
        self.customerEmail = customerEmail
        self.revokedAt = revokedAt
        self.useCount = useCount
    }
}

extension Invitation {
    /// Uses left before the invitation is used up; nil when it is unlimited until expiry.
    public var usesLeft: Int? { maxUses.map { Swift.max($0 - useCount, 0) } }

    /// Throws `.invalidInput` unless `maxUses` is absent (unlimited) or at least 1.
    func requireValidMaxUses() throws(StoreError) {
        if let maxUses, maxUses < 1 {
            throw StoreError(.invalidInput, "max_uses must be at least 1, or absent for unlimited")
        }
    }

    /// Whether another customer may still accept it (expiry and revocation aside).
    public var hasUsesLeft: Bool { usesLeft.map { $0 > 0 } ?? true }

    /// Where the invitation stands at `now`: revoked before used up before expired, as the
    /// acceptance checks them.
    public func status(at now: UnixTime) -> InvitationStatus {
        if revokedAt != nil { return .revoked }
        if !hasUsesLeft { return .usedUp }
        if expiresAt <= now { return .expired }
        return useCount > 0 ? .accepted : .pending
    }
}

/// An invitation's status in lists (`GET /v1/invitations`, the portal's invitations page).
public enum InvitationStatus: String, Sendable, CaseIterable {
    /// Valid, not accepted yet.
    case pending
    /// Accepted at least once and still usable by others.
    case accepted
    case usedUp = "used_up"
    case expired
    case revoked

    /// Whether another customer could still accept it: what "send it again" needs.
    public var canBeAccepted: Bool { self == .pending || self == .accepted }
}

/// An invitation with the acceptances it has had.
public struct InvitationRecord: Sendable, Equatable {
    /// Acceptances a record carries at most: the first ones, oldest first. All of them are
    /// read page by page (``RelationshipStore/acceptances(invitationID:resellerID:page:)``);
    /// `invitation.useCount` says how many there are. A link shared by 50,000 customers must
    /// not make a list page of megabytes (DESIGN.md §11).
    public static let acceptancePreview = 10

    public var invitation: Invitation
    /// At most ``acceptancePreview`` acceptances, oldest first.
    public var acceptances: [Acceptance]

    public init(invitation: Invitation, acceptances: [Acceptance]) {
        self.invitation = invitation
        self.acceptances = acceptances
    }
}
