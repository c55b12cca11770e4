internal import InviteCrypto
internal import InviteToken

/// Random identifiers: invitation ids (a token's `jti`), credential ids and secrets, one-time
/// passwords.
///
/// A prefix of the caller's choice (`cred_` for credentials, none for invitations) followed by
/// random bytes in base64url, so they cannot be guessed or enumerated. Partners, customers and
/// users made without `--id` get a random UUID instead (`newIdentifier` in the CLI).
public enum Identifiers {
    /// `prefix` followed by `bytes` random bytes as unpadded base64url (16 bytes: 22 characters,
    /// the 128 bits an invitation's `jti` needs).
    public static func random(prefix: String, bytes: Int = 16) throws -> String {
        precondition(bytes > 0, "an identifier needs at least one random byte")
        return prefix + Base64URL.encode(try SystemRandom.bytes(bytes))
    }
}
