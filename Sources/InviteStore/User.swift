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
    /// Raised by every password change: a session made under an older version has ended
    /// (on every instance, since each request reads the user).
    public var sessionVersion: Int
    public var createdAt: UnixTime
    /// Set while the user is disabled: no sign-in, and (through ``sessionVersion``, raised on
    /// disabling) no session.
    public var disabledAt: UnixTime?

    /// Whether a password can sign this user in: enabled, and a password chosen (a reset or a
    /// person still to follow a setup link has none).
    public var maySignIn: Bool { disabledAt == nil && !passwordHash.isEmpty }

    public init(
        id: String, tenant: Tenant, email: String, role: Role, passwordHash: String,
        mustChangePassword: Bool, sessionVersion: Int = 0, createdAt: UnixTime, disabledAt: UnixTime? = nil
    ) {
        self.id = id
        self.tenant = tenant
        self.email = email
        self.role = role
        self.passwordHash = passwordHash
        self.mustChangePassword = mustChangePassword
        self.sessionVersion = sessionVersion
        self.createdAt = createdAt
        self.disabledAt = disabledAt
    }
}
