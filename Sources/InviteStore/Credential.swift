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
