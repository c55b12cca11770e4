internal import InviteCrypto
internal import InviteToken

/// Random identifiers for partners, customers, users, credentials and invitations.
///
/// An id is a readable prefix (`cus_`, `inv` …) followed by random bytes in base64url, so ids
/// cannot be guessed or enumerated and a log line says what kind of thing it names.
public enum Identifiers {
    /// `prefix` followed by `bytes` random bytes as unpadded base64url (16 bytes: 22 characters,
    /// the 128 bits an invitation's `jti` needs).
    public static func random(prefix: String, bytes: Int = 16) throws -> String {
        precondition(bytes > 0, "an identifier needs at least one random byte")
        return prefix + Base64URL.encode(try SystemRandom.bytes(bytes))
    }
}
