import InviteCrypto
import InviteToken

/// Passwords people choose, stored as scrypt (RFC 7914) through OpenSSL's EVP_KDF:
/// `scrypt$N$r$p$SALT$HASH` with base64url salt and hash.
public enum PasswordHash {
    static let n: UInt64 = 16_384, r: UInt32 = 8, p: UInt32 = 1, length = 32

    public static func make(password: String) throws -> String {
        let salt = try SystemRandom.bytes(16)
        let hash = try Digest.scrypt(password: Array(password.utf8), salt: salt, n: n, r: r, p: p, length: length)
        return "scrypt$\(n)$\(r)$\(p)$\(Base64URL.encode(salt))$\(Base64URL.encode(hash))"
    }

    /// Whether `password` matches; a malformed encoding never matches.
    public static func verify(_ password: String, against encoded: String) throws -> Bool {
        let parts = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard parts.count == 6, parts[0] == "scrypt",
              let n = UInt64(parts[1]), let r = UInt32(parts[2]), let p = UInt32(parts[3]),
              n <= 1 << 20, r <= 32, p <= 16,
              let salt = Base64URL.decode(parts[4]), let expected = Base64URL.decode(parts[5]), !expected.isEmpty
        else { return false }
        let actual = try Digest.scrypt(password: Array(password.utf8), salt: salt, n: n, r: r, p: p, length: expected.count)
        return constantTimeEquals(actual, expected)
    }
}
