/// The payload of a setup link (DESIGN.md §7): a signed, one-time link at which a new person,
/// or one whose password was reset, chooses a password. `jti` names the link's record, which
/// the store marks used; `sub` is the user id.
public struct SetupClaims: SignedClaims, Equatable {
    public static let typ = "setup+jwt"
    public static let audience = "account-setup"
    /// 72 hours, and never more.
    public static let lifetime: Int64 = 72 * 3600

    public var issuer: String
    public var audience: String
    public var linkID: String
    public var userID: String
    public var issuedAt: Int64
    public var expiresAt: Int64

    public init(
        issuer: String, audience: String = SetupClaims.audience, linkID: String, userID: String, issuedAt: Int64, expiresAt: Int64
    ) {
        self.issuer = issuer
        self.audience = audience
        self.linkID = linkID
        self.userID = userID
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    public func appendJSON(to out: inout [UInt8]) {
        var claims = JSONObjectWriter()
        claims.add("iss", issuer)
        claims.add("aud", audience)
        claims.add("jti", linkID)
        claims.add("sub", userID)
        claims.add("iat", Int(issuedAt))
        claims.add("exp", Int(expiresAt))
        claims.finish(appendingTo: &out)
    }

    public init(payload: UnsafeRawBufferPointer) throws(TokenError) {
        let claims = try ClaimsReader(
            payload: payload, schema: ["iss": .string, "aud": .string, "jti": .string, "sub": .string, "iat": .integer, "exp": .integer])
        self.init(
            issuer: try claims.string("iss"), audience: try claims.string("aud"), linkID: try claims.nonEmptyString("jti"),
            userID: try claims.nonEmptyString("sub"), issuedAt: try claims.integer("iat"), expiresAt: try claims.integer("exp"))
    }
}
