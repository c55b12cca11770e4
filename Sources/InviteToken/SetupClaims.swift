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
        out.append(contentsOf: "{\"iss\":".utf8)
        JSONWriter.appendString(issuer, to: &out)
        out.append(contentsOf: ",\"aud\":".utf8)
        JSONWriter.appendString(audience, to: &out)
        out.append(contentsOf: ",\"jti\":".utf8)
        JSONWriter.appendString(linkID, to: &out)
        out.append(contentsOf: ",\"sub\":".utf8)
        JSONWriter.appendString(userID, to: &out)
        out.append(contentsOf: ",\"iat\":".utf8)
        JSONWriter.appendInteger(issuedAt, to: &out)
        out.append(contentsOf: ",\"exp\":".utf8)
        JSONWriter.appendInteger(expiresAt, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    public init(payload: UnsafeRawBufferPointer) throws(TokenError) {
        let claims = try ClaimsReader(
            payload: payload, schema: ["iss": .string, "aud": .string, "jti": .string, "sub": .string, "iat": .integer, "exp": .integer])
        self.init(
            issuer: try claims.string("iss"), audience: try claims.string("aud"), linkID: try claims.nonEmptyString("jti"),
            userID: try claims.nonEmptyString("sub"), issuedAt: try claims.integer("iat"), expiresAt: try claims.integer("exp"))
    }
}
