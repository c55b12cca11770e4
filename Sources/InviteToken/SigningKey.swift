public import InviteCrypto

/// The key material behind one kid.
public enum KeyMaterial: Sendable {
    case ed25519(Ed25519PrivateKey)
    /// An Ed25519 key imported from another system without its private half: verifies only.
    case ed25519Public(Ed25519PublicKey)
    case hmac(HMACSHA256Key)

    public var algorithm: KeyAlgorithm {
        switch self {
        case .ed25519, .ed25519Public: .ed25519
        case .hmac: .hs256
        }
    }

    public var canSign: Bool {
        if case .ed25519Public = self { return false }
        return true
    }

    /// The public half of an Ed25519 key, for JWKS.
    public var ed25519PublicKey: Ed25519PublicKey? {
        switch self {
        case .ed25519(let key): key.publicKey
        case .ed25519Public(let key): key
        case .hmac: nil
        }
    }
}
