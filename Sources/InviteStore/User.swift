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
