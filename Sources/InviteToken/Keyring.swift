import InviteCrypto

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
