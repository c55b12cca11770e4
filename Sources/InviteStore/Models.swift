/// Seconds since 1970-01-01 UTC. The store, the tokens and the API all speak whole seconds.
public typealias UnixTime = Int64

public enum PartnerKind: String, Sendable, Codable, CaseIterable {
    case reseller
    case provider
}

public struct Partner: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var kind: PartnerKind
    public var createdAt: UnixTime

    public init(id: String, name: String, kind: PartnerKind, createdAt: UnixTime) {
        self.id = id
        self.name = name
        self.kind = kind
        self.createdAt = createdAt
    }
}

public struct Customer: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var domain: String
    public var createdAt: UnixTime

    public init(id: String, name: String, domain: String, createdAt: UnixTime) {
        self.id = id
        self.name = name
        self.domain = domain
        self.createdAt = createdAt
    }
}

/// Who a credential or a signed-in person acts for: a partner or a customer tenant.
public enum Tenant: Sendable, Equatable, Hashable {
    case partner(String)
    case customer(String)

    public var id: String {
        switch self {
        case .partner(let id), .customer(let id): id
        }
    }
}

/// Roles of DESIGN.md §4. Partners: global-admin, admin-agent, sales-agent. Customers:
/// global-admin, user.
public enum Role: String, Sendable, Codable, CaseIterable {
    case globalAdmin = "global-admin"
    case adminAgent = "admin-agent"
    case salesAgent = "sales-agent"
    case user = "user"

    /// Whether a holder of this role may exist for `tenant`.
    public func isAllowed(for tenant: Tenant) -> Bool {
        switch (tenant, self) {
        case (.partner, .globalAdmin), (.partner, .adminAgent), (.partner, .salesAgent): true
        case (.customer, .globalAdmin), (.customer, .user): true
        default: false
        }
    }
}

/// A person who signs in to the web pages with email and password.
public struct User: Sendable, Equatable {
    public var id: String
    public var tenant: Tenant
    public var email: String
    public var role: Role
    /// `PasswordHash` encoding (scrypt parameters, salt and hash).
    public var passwordHash: String
    /// Set for one-time passwords printed by the CLI: the first sign-in must change it.
    public var mustChangePassword: Bool
    public var failedSignIns: Int
    public var lockedUntil: UnixTime?
    public var createdAt: UnixTime

    public init(
        id: String, tenant: Tenant, email: String, role: Role, passwordHash: String,
        mustChangePassword: Bool, failedSignIns: Int = 0, lockedUntil: UnixTime? = nil, createdAt: UnixTime
    ) {
        self.id = id
        self.tenant = tenant
        self.email = email
        self.role = role
        self.passwordHash = passwordHash
        self.mustChangePassword = mustChangePassword
        self.failedSignIns = failedSignIns
        self.lockedUntil = lockedUntil
        self.createdAt = createdAt
    }
}

/// A bearer credential. Only the SHA-256 of the secret is stored.
/// Who a bearer credential speaks for: the credential and, for a partner's, the partner.
public struct Principal: Sendable, Equatable {
    public var credential: Credential
    public var partner: Partner?

    public init(credential: Credential, partner: Partner?) {
        self.credential = credential
        self.partner = partner
    }
}

public struct Credential: Sendable, Equatable {
    public var id: String
    public var tenant: Tenant
    public var role: Role
    public var secretHash: [UInt8]
    public var createdAt: UnixTime
    public var revokedAt: UnixTime?

    public init(id: String, tenant: Tenant, role: Role, secretHash: [UInt8], createdAt: UnixTime, revokedAt: UnixTime? = nil) {
        self.id = id
        self.tenant = tenant
        self.role = role
        self.secretHash = secretHash
        self.createdAt = createdAt
        self.revokedAt = revokedAt
    }
}

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
}

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

/// An invitation with the acceptances it has had.
public struct InvitationRecord: Sendable, Equatable {
    public var invitation: Invitation
    public var acceptances: [Acceptance]

    public init(invitation: Invitation, acceptances: [Acceptance]) {
        self.invitation = invitation
        self.acceptances = acceptances
    }
}

/// One append-only audit row: who did what to which subject.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64?
    public var at: UnixTime
    /// Credential id, user id or `cli`.
    public var actor: String
    /// e.g. `invitation.issued`, `invitation.revoked`, `invitation.accepted`,
    /// `relationship.removed`, `key.rotated`.
    public var action: String
    public var subject: String
    /// Free text or compact JSON, never a secret or a token.
    public var detail: String

    public init(id: Int64? = nil, at: UnixTime, actor: String, action: String, subject: String, detail: String = "") {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}

/// A page of a list, and the opaque cursor for the next one (nil at the end).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

public struct PageRequest: Sendable, Equatable {
    public static let maximumLimit = 200
    /// Always within 1…``maximumLimit``: set only through the clamping initializer.
    public private(set) var limit: Int
    public var cursor: String?

    public init(limit: Int = 50, cursor: String? = nil) {
        self.limit = Swift.min(Swift.max(limit, 1), Self.maximumLimit)
        self.cursor = cursor
    }
}

extension Tenant {
    var partnerID: String? {
        if case .partner(let id) = self { id } else { nil }
    }

    var customerID: String? {
        if case .customer(let id) = self { id } else { nil }
    }

    /// `partner:ID` or `customer:ID`, for audit details and messages.
    var auditName: String {
        switch self {
        case .partner(let id): "partner:\(id)"
        case .customer(let id): "customer:\(id)"
        }
    }
}
