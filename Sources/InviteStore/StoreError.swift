public import InviteToken

/// A store failure with a stable code, mapped to HTTP in the server and to exit codes in the CLI.
public struct StoreError: Error, Sendable, Equatable, CustomStringConvertible {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// No such row, or not one the caller may see (tenant isolation answers the same).
        public static let notFound = Code(rawValue: "not_found")
        /// An id or email already in use.
        public static let conflict = Code(rawValue: "conflict")
        /// The partner named is missing or of the wrong kind.
        public static let unknownPartner = Code(rawValue: "unknown_partner")
        /// The reseller is not (or no longer) an indirect reseller of the provider named.
        public static let providerNotConnected = Code(rawValue: "provider_not_connected")
        /// A valid token whose invitation the database does not know.
        public static let unknownInvitation = Code(rawValue: "unknown_invitation")
        /// The invitation was revoked by its reseller.
        public static let revoked = Code(rawValue: "revoked")
        /// The invitation has no uses left.
        public static let usedUp = Code(rawValue: "used_up")
        /// The customer tenant is unknown.
        public static let unknownCustomer = Code(rawValue: "unknown_customer")
        /// The database could not be reached or failed; retrying may help.
        public static let unavailable = Code(rawValue: "unavailable")
        /// A page cursor that this store did not hand out (tampered, truncated or from another list).
        public static let invalidCursor = Code(rawValue: "invalid_cursor")
        /// A value the store refuses whatever the data holds: a role a tenant cannot have, a
        /// non-positive `max_uses`, an unsupported database URL, a malformed password hash.
        public static let invalidInput = Code(rawValue: "invalid_input")
        /// The credential a write was asked to confirm is revoked or gone (checked in the
        /// write's own transaction; nothing was written). An HTTP caller gets its 401.
        public static let credentialRevoked = Code(rawValue: "credential_revoked")
    }

    public let code: Code
    /// What a client may be told: written by this service, never a database's own words.
    public let message: String
    /// The database's or library's own words (SQLSTATE, constraint and table names), for the
    /// log and the CLI's operator, never for an HTTP client.
    public let diagnostic: String?

    public init(_ code: Code, _ message: String, diagnostic: String? = nil) {
        self.code = code
        self.message = message
        self.diagnostic = diagnostic
    }

    public var description: String { "\(code): \(message)" + (diagnostic.map { " (\($0))" } ?? "") }
}

extension StoreError {
    /// The link's reason code (DESIGN.md §2, the checks after the token's own) when this is
    /// one of the refusals only the database can give; nil for every other store error. The
    /// one place store codes become token codes.
    public var tokenReason: TokenError.Code? {
        switch code {
        case .revoked: .revoked
        case .usedUp: .usedUp
        case .unknownInvitation: .unknownInvitation
        default: nil
        }
    }
}
