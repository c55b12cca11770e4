/// The payload of an audit checkpoint (DESIGN.md §8): the head of the audit log's hash chain
/// after entry `last`, signed with the primary Ed25519 key (`typ: audit-checkpoint+jwt`).
///
/// A checkpoint covers the entries with `first ≤ seq ≤ last` (`count` of them; numbers a
/// rolled-back transaction took are never entries) and chains from `previous`, the head of the
/// checkpoint before it, so checkpoints can be checked from any one of them on: what an export
/// or a pruned log needs. It states a fact at `iat` and does not lapse: `exp` is a century on.
public struct CheckpointClaims: SignedClaims, Equatable {
    public static let typ = "audit-checkpoint+jwt"
    public static let audience = "audit-log"
    /// A checkpoint is checked long after it is made: the century its `exp` gives it.
    public static let lifetime: Int64 = 100 * 365 * 86_400

    public var issuer: String
    public var audience: String
    public var checkpointID: String
    public var first: Int64
    public var last: Int64
    public var count: Int64
    /// The chain heads before and after, base64url of 32 bytes.
    public var previous: String
    public var head: String
    public var issuedAt: Int64
    public var expiresAt: Int64

    public init(
        issuer: String, audience: String = CheckpointClaims.audience, checkpointID: String, first: Int64, last: Int64, count: Int64,
        previous: String, head: String, issuedAt: Int64, expiresAt: Int64? = nil
    ) {
        self.issuer = issuer
        self.audience = audience
        self.checkpointID = checkpointID
        self.first = first
        self.last = last
        self.count = count
        self.previous = previous
        self.head = head
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt ?? issuedAt + Self.lifetime
    }

    public func appendJSON(to out: inout [UInt8]) {
        var claims = JSONObjectWriter()
        claims.add("iss", issuer)
        claims.add("aud", audience)
        claims.add("jti", checkpointID)
        claims.add("first", Int(first))
        claims.add("last", Int(last))
        claims.add("count", Int(count))
        claims.add("prev", previous)
        claims.add("head", head)
        claims.add("iat", Int(issuedAt))
        claims.add("exp", Int(expiresAt))
        claims.finish(appendingTo: &out)
    }

    public init(payload: UnsafeRawBufferPointer) throws(TokenError) {
        let claims = try ClaimsReader(
            payload: payload,
            schema: [
                "iss": .string, "aud": .string, "jti": .string, "first": .integer, "last": .integer, "count": .integer,
                "prev": .string, "head": .string, "iat": .integer, "exp": .integer,
            ])
        self.init(
            issuer: try claims.string("iss"), audience: try claims.string("aud"), checkpointID: try claims.nonEmptyString("jti"),
            first: try claims.integer("first"), last: try claims.integer("last"), count: try claims.integer("count"),
            previous: try claims.string("prev"), head: try claims.string("head"), issuedAt: try claims.integer("iat"),
            expiresAt: try claims.integer("exp"))
    }
}
