internal import Foundation
internal import InviteCrypto
internal import InviteToken

/// Password hashes for people who sign in to the web pages: scrypt (RFC 7914), encoded as
/// `scrypt$N$r$p$SALT$HASH` with salt and hash in unpadded base64url.
///
/// The parameters travel with each hash, so they can be raised later without invalidating the
/// hashes already stored; ``verify(_:against:)`` still bounds them, so a tampered row cannot make
/// a sign-in allocate gigabytes.
public enum PasswordHash {
    /// CPU/memory cost: 2^14, with r = 8 about 16 MiB and tens of milliseconds per hash.
    static let n: UInt64 = 16384
    static let r: UInt32 = 8
    static let p: UInt32 = 1
    static let saltLength = 16
    static let hashLength = 32

    /// Hashes `password` with a fresh random salt.
    public static func make(password: String) throws -> String {
        let salt = try SystemRandom.bytes(saltLength)
        let hash = try derive(password, salt: salt, n: n, r: r, p: p, length: hashLength)
        return "scrypt$\(n)$\(r)$\(p)$\(Base64URL.encode(salt))$\(Base64URL.encode(hash))"
    }

    /// A stored hash this type did not write (or one whose parameters are out of bounds): a
    /// damaged row, answered as a server error, never as a wrong password.
    public struct InvalidHash: Error, Sendable, CustomStringConvertible {
        public var description: String { "not an scrypt password hash this service writes" }
    }

    /// Whether `password` hashes to `encoded`, compared in constant time.
    /// Throws ``InvalidHash`` when `encoded` is not a hash this type writes.
    public static func verify(_ password: String, against encoded: String) throws -> Bool {
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "scrypt",
            let n = UInt64(fields[1]), n >= 2, n <= 1 << 20, n & (n - 1) == 0,
            let r = UInt32(fields[2]), (1...32).contains(r),
            let p = UInt32(fields[3]), (1...16).contains(p),
            let salt = Base64URL.decode(fields[4]), salt.count >= 8,
            let expected = Base64URL.decode(fields[5]), (16...64).contains(expected.count)
        else {
            throw InvalidHash()
        }
        let actual = try derive(password, salt: salt, n: n, r: r, p: p, length: expected.count)
        return constantTimeEquals(actual, expected)
    }

    /// The password's NFC form is hashed, so the same password typed on systems that compose
    /// accents differently still matches.
    private static func derive(_ password: String, salt: [UInt8], n: UInt64, r: UInt32, p: UInt32, length: Int) throws -> [UInt8] {
        let bytes = Array(password.precomposedStringWithCanonicalMapping.utf8)
        return try Digest.scrypt(password: bytes, salt: salt, n: n, r: r, p: p, length: length)
    }
}
