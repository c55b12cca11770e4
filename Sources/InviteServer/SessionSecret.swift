import InviteCrypto

/// What the browser cookies' keys come from. Given one (`serve --session-secret-file`), every
/// instance derives the same keys, so a browser may land on any instance behind the load
/// balancer and a restart signs nobody out; without one, each process makes its own at start-up
/// and its cookies only work on it.
///
/// The acceptance session and the portal session get different keys (HMAC-SHA256 of the
/// secret over each purpose's label), so one cookie can never pass for the other.
public struct SessionSecret: Sendable {
    /// A secret of fewer bytes than a key would not make keys of full strength.
    public static let minimumLength = 32

    private let secret: SecureBytes

    public init(_ bytes: [UInt8]) throws {
        guard bytes.count >= Self.minimumLength else {
            throw CryptoError(code: .invalidKey, reason: "a session secret needs at least \(Self.minimumLength) bytes, not \(bytes.count)")
        }
        secret = SecureBytes(bytes)
    }

    private init(secret: SecureBytes) {
        self.secret = secret
    }

    /// A secret of this process alone.
    public static func random() throws -> SessionSecret {
        SessionSecret(secret: try SecureBytes(randomCount: 32))
    }

    func key(for purpose: String) throws -> HMACSHA256Key {
        let derived = try HMACSHA256Key(secret: secret).authenticationCode(for: Array("invitelink session key: \(purpose)".utf8))
        return try HMACSHA256Key(secret: SecureBytes(derived))
    }
}
