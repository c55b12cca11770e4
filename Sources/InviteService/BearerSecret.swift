import InviteCrypto

/// Bearer credentials: `ID.SECRET`, where ID names the credential (so it can be revoked by
/// name) and SECRET is 256 random bits. Only the SHA-256 of the whole string is stored; the
/// secret has full entropy, so a fast hash is enough.
public enum BearerSecret {
    public struct Issued: Sendable {
        public var id: String
        public var secret: String
        public var hash: [UInt8]
    }

    public static func make() throws -> Issued {
        let id = try Identifiers.random(prefix: "cred_", bytes: 9)
        let secret = try Identifiers.random(prefix: id + ".", bytes: 32)
        return Issued(id: id, secret: secret, hash: try hash(secret))
    }

    public static func hash(_ secret: String) throws -> [UInt8] {
        try Digest.sha256(Array(secret.utf8))
    }
}
