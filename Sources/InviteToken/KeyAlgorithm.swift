/// The two signing algorithms a key can be created with. A key keeps its algorithm for life,
/// and a token is verified with its key's algorithm whatever its header says.
public enum KeyAlgorithm: String, Sendable, CaseIterable, Codable {
    /// Ed25519 (RFC 8032), JWS `EdDSA` (RFC 8037).
    case ed25519
    /// HMAC-SHA256, JWS `HS256`.
    case hs256

    /// The `alg` written into headers and the manifest.
    public var jwsName: String {
        switch self {
        case .ed25519: "EdDSA"
        case .hs256: "HS256"
        }
    }

    /// Whether a header `alg` names this algorithm. Ed25519 keys also accept RFC 9864's
    /// fully-specified `Ed25519`.
    public func accepts(headerAlgorithm name: String) -> Bool {
        switch self {
        case .ed25519: name == "EdDSA" || name == "Ed25519"
        case .hs256: name == "HS256"
        }
    }

    /// Header algorithms this service understands at all; anything else is `malformed`.
    static func isKnown(headerAlgorithm name: String) -> Bool {
        allCases.contains { $0.accepts(headerAlgorithm: name) }
    }

    /// Reads the manifest's `alg` (the JWS name, or the CLI's lower-case name).
    public init?(manifestName name: String) {
        switch name {
        case "EdDSA", "ed25519", "Ed25519": self = .ed25519
        case "HS256", "hs256": self = .hs256
        default: return nil
        }
    }
}

/// Where a key is in its life (DESIGN.md §3).
public enum KeyState: String, Sendable, CaseIterable, Codable {
    /// Just added: verifies, does not sign yet, so every instance learns it before use.
    case next
    /// The one key that signs new links.
    case primary
    /// A former primary: still verifies the links it signed.
    case active
    /// Its links have expired: verifies nothing.
    case retired
    /// Compromised: verifies nothing, at once.
    case revoked

    public var signs: Bool { self == .primary }
    public var verifies: Bool { self == .next || self == .primary || self == .active }
}
