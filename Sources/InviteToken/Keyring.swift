import InviteCrypto

/// One key's manifest entry: its id, algorithm, state and the times it changed state.
public struct KeyEntry: Sendable, Equatable {
    public var kid: String
    public var algorithm: KeyAlgorithm
    public var state: KeyState
    public var createdAt: Int64
    /// When it last became primary.
    public var promotedAt: Int64?
    /// When it last stopped being primary: links it signed expire by this plus the maximum
    /// lifetime.
    public var demotedAt: Int64?
    public var retiredAt: Int64?
    public var revokedAt: Int64?
    /// An imported public key: it verifies but can never sign.
    public var publicOnly: Bool

    public init(
        kid: String, algorithm: KeyAlgorithm, state: KeyState, createdAt: Int64,
        promotedAt: Int64? = nil, demotedAt: Int64? = nil, retiredAt: Int64? = nil, revokedAt: Int64? = nil,
        publicOnly: Bool = false
    ) {
        self.kid = kid
        self.algorithm = algorithm
        self.state = state
        self.createdAt = createdAt
        self.promotedAt = promotedAt
        self.demotedAt = demotedAt
        self.retiredAt = retiredAt
        self.revokedAt = revokedAt
        self.publicOnly = publicOnly
    }

    /// `[A-Za-z0-9_-]{1,64}` (DESIGN.md §2).
    public static func isValidKid(_ kid: some StringProtocol) -> Bool {
        let bytes = kid.utf8
        return (1...64).contains(bytes.count) && bytes.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"): true
            default: false
            }
        }
    }
}

/// The lifecycle rules of DESIGN.md §3 applied to a list of entries. Pure: no files, no clock.
public struct KeyManifest: Sendable, Equatable {
    public var entries: [KeyEntry]

    public init(entries: [KeyEntry] = []) { self.entries = entries }

    public func entry(_ kid: String) -> KeyEntry? { entries.first { $0.kid == kid } }
    public var primary: KeyEntry? { entries.first { $0.state == .primary } }

    private func index(of kid: String) throws(KeyringError) -> Int {
        guard let index = entries.firstIndex(where: { $0.kid == kid }) else {
            throw KeyringError(.unknownKey, "no key with kid \(kid)")
        }
        return index
    }

    /// Adds a key in state `next`.
    public mutating func add(kid: String, algorithm: KeyAlgorithm, publicOnly: Bool = false, now: Int64) throws(KeyringError) {
        guard KeyEntry.isValidKid(kid) else { throw KeyringError(.invalidKid, "kid must match [A-Za-z0-9_-]{1,64}: \(kid)") }
        guard entry(kid) == nil else { throw KeyringError(.duplicateKid, "a key with kid \(kid) already exists") }
        entries.append(KeyEntry(kid: kid, algorithm: algorithm, state: .next, createdAt: now, publicOnly: publicOnly))
    }

    /// Makes `kid` the primary; the former primary becomes `active`.
    public mutating func promote(_ kid: String, now: Int64) throws(KeyringError) {
        let target = try index(of: kid)
        let entry = entries[target]
        guard entry.state == .next || entry.state == .active || entry.state == .primary else {
            throw KeyringError(.invalidTransition, "key \(kid) is \(entry.state.rawValue) and cannot be promoted")
        }
        guard !entry.publicOnly else {
            throw KeyringError(.invalidTransition, "key \(kid) is a public key only and cannot sign")
        }
        if entry.state == .primary { return }
        if let current = entries.firstIndex(where: { $0.state == .primary }) {
            entries[current].state = .active
            entries[current].demotedAt = now
        }
        entries[target].state = .primary
        entries[target].promotedAt = now
    }

    /// Retires `kid`. Refused while links it signed may be unexpired (it was primary less than
    /// `maximumLifetime` seconds ago, or is primary now) unless `force`.
    public mutating func retire(_ kid: String, now: Int64, maximumLifetime: Int64, force: Bool) throws(KeyringError) {
        let target = try index(of: kid)
        let entry = entries[target]
        switch entry.state {
        case .retired: return
        case .revoked: throw KeyringError(.invalidTransition, "key \(kid) is revoked; it cannot be retired")
        case .next, .primary, .active: break
        }
        if !force {
            if entry.state == .primary {
                throw KeyringError(.linksMayBeUnexpired, "key \(kid) is the primary and signs new links; promote another key first, or use --force")
            }
            if let demotedAt = entry.demotedAt, demotedAt + maximumLifetime > now {
                let remaining = demotedAt + maximumLifetime - now
                throw KeyringError(
                    .linksMayBeUnexpired,
                    "links signed by key \(kid) may be valid for another \(Self.describe(seconds: remaining)); wait, or use --force to break them now"
                )
            }
        }
        if entry.state == .primary { entries[target].demotedAt = now }
        entries[target].state = .retired
        entries[target].retiredAt = now
    }

    /// Revokes `kid` at once: its links stop verifying immediately.
    public mutating func revoke(_ kid: String, now: Int64) throws(KeyringError) {
        let target = try index(of: kid)
        guard entries[target].state != .revoked else { return }
        if entries[target].state == .primary { entries[target].demotedAt = now }
        entries[target].state = .revoked
        entries[target].revokedAt = now
    }

    static func describe(seconds: Int64) -> String {
        let days = seconds / 86_400, hours = (seconds % 86_400) / 3600
        if days > 0 { return "\(days)d \(hours)h" }
        let minutes = (seconds % 3600) / 60
        return hours > 0 ? "\(hours)h \(minutes)m" : "\(max(minutes, 1))m"
    }
}

/// A loaded keyring: the manifest and the key material of every key that still verifies.
public struct Keyring: Sendable {
    public let manifest: KeyManifest
    private let material: [String: KeyMaterial]

    public static let empty = Keyring(manifest: KeyManifest(), material: [:])

    /// The base64url header our own signer writes for each key, mapped to its (alg, kid):
    /// a token whose header part is byte-for-byte one of these needs no JSON parsing, and
    /// is exactly what the strict parser would have accepted.
    let knownHeaders: [(encoded: [UInt8], alg: String, kid: String)]

    /// Ed25519 tokens this keyring has verified; see ``VerifiedSignatureCache``.
    let verifiedSignatures = VerifiedSignatureCache()

    public init(manifest: KeyManifest, material: [String: KeyMaterial]) {
        self.manifest = manifest
        self.material = material
        self.knownHeaders = material.compactMap { kid, key in
            guard KeyEntry.isValidKid(kid) else { return nil }
            return (TokenSigner.encodedHeader(algorithm: key.algorithm.jwsName, kid: kid), key.algorithm.jwsName, kid)
        }
    }

    public var entries: [KeyEntry] { manifest.entries }

    /// The (alg, kid) of a header part our signer would have written, found by comparing bytes.
    func knownHeader(_ part: UnsafeRawBufferPointer) -> (alg: String, kid: String)? {
        for header in knownHeaders where header.encoded.count == part.count {
            let equal = header.encoded.withUnsafeBytes { $0.elementsEqual(part) }
            if equal { return (header.alg, header.kid) }
        }
        return nil
    }

    public func entry(_ kid: String) -> KeyEntry? { manifest.entry(kid) }

    /// The material of a key in a verifying state.
    public func material(for kid: String) -> KeyMaterial? { material[kid] }

    /// The key that signs new links.
    public var signingKey: (kid: String, material: KeyMaterial)? {
        guard let primary = manifest.primary, let key = material[primary.kid], key.canSign else { return nil }
        return (primary.kid, key)
    }

    /// The public Ed25519 keys that verify, as a JWK Set (RFC 7517, RFC 8037). HMAC keys are
    /// secrets and never appear.
    public func jwks() -> String {
        var output: [UInt8] = []
        output.append(contentsOf: "{\"keys\":[".utf8)
        var first = true
        for entry in manifest.entries where entry.state.verifies {
            guard let publicKey = material[entry.kid]?.ed25519PublicKey else { continue }
            if !first { output.append(UInt8(ascii: ",")) }
            first = false
            output.append(contentsOf: "{\"kty\":\"OKP\",\"crv\":\"Ed25519\",\"x\":".utf8)
            JSONWriter.appendString(Base64URL.encode(publicKey.rawRepresentation), to: &output)
            output.append(contentsOf: ",\"kid\":".utf8)
            JSONWriter.appendString(entry.kid, to: &output)
            output.append(contentsOf: ",\"alg\":\"EdDSA\",\"use\":\"sig\"}".utf8)
        }
        output.append(contentsOf: "]}".utf8)
        return String(decoding: output, as: UTF8.self)
    }
}
