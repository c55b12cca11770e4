import InviteCrypto

/// Signs claims into a compact JWS with one key: invitation links on the hot path, setup links
/// and audit checkpoints (``SignedClaims``) alike.
///
/// The hot path builds the token in one byte buffer: the base64url header (fixed per key),
/// the claims written directly as JSON, the signature over that signing input. No Foundation
/// encoder, one allocation for the buffer and one for the resulting string.
public struct TokenSigner: Sendable {
    public let kid: String
    public let material: KeyMaterial
    private let encodedHeader: [UInt8]

    public init(kid: String, material: KeyMaterial) throws(KeyringError) {
        guard material.canSign else { throw KeyringError(.invalidTransition, "key \(kid) cannot sign") }
        self.kid = kid
        self.material = material
        self.encodedHeader = Self.encodedHeader(algorithm: material.algorithm.jwsName, kid: kid)
    }

    /// `BASE64URL({"alg":…,"kid":…,"typ":…})`, members in that order.
    static func encodedHeader(algorithm: String, kid: String, typ: String = InvitationClaims.typ) -> [UInt8] {
        var header: [UInt8] = []
        header.append(contentsOf: "{\"alg\":".utf8)
        JSONWriter.appendString(algorithm, to: &header)
        header.append(contentsOf: ",\"kid\":".utf8)
        JSONWriter.appendString(kid, to: &header)
        header.append(contentsOf: ",\"typ\":".utf8)
        JSONWriter.appendString(typ, to: &header)
        header.append(UInt8(ascii: "}"))
        var encoded: [UInt8] = []
        header.withUnsafeBytes { Base64URL.encode($0, appendingTo: &encoded) }
        return encoded
    }

    /// The signer for the keyring's primary key.
    public init(keyring: Keyring) throws(KeyringError) {
        guard let (kid, material) = keyring.signingKey else {
            throw KeyringError(.noPrimaryKey, "the keyring has no primary key; run `invitelink keys rotate --alg ed25519`")
        }
        try self.init(kid: kid, material: material)
    }

    public func sign<Claims: SignedClaims>(_ claims: Claims) throws -> String {
        var payload: [UInt8] = []
        payload.reserveCapacity(256)
        claims.appendJSON(to: &payload)
        // The invitation header is made once per key; the rarer kinds make theirs here.
        let encodedHeader =
            Claims.typ == InvitationClaims.typ
            ? self.encodedHeader : Self.encodedHeader(algorithm: material.algorithm.jwsName, kid: kid, typ: Claims.typ)

        var token: [UInt8] = []
        token.reserveCapacity(encodedHeader.count + 1 + Base64URL.encodedLength(of: payload.count) + 1 + 86)
        token.append(contentsOf: encodedHeader)
        token.append(UInt8(ascii: "."))
        payload.withUnsafeBytes { Base64URL.encode($0, appendingTo: &token) }

        // 64 bytes fit both signatures; a tuple keeps them off the heap.
        var signature: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        let signatureLength: Int
        switch material {
        case .ed25519(let key):
            try token.withUnsafeBytes { input in
                try withUnsafeMutableBytes(of: &signature) { try key.sign(input, into: $0) }
            }
            signatureLength = Ed25519PublicKey.signatureByteCount
        case .hmac(let key):
            try token.withUnsafeBytes { input in
                try withUnsafeMutableBytes(of: &signature) { try key.authenticate(input, into: $0) }
            }
            signatureLength = HMACSHA256Key.tagLength
        case .ed25519Public:
            preconditionFailure("init refuses public-only keys")
        }
        token.append(UInt8(ascii: "."))
        withUnsafeBytes(of: &signature) { Base64URL.encode(UnsafeRawBufferPointer(rebasing: $0[0..<signatureLength]), appendingTo: &token) }
        return String(decoding: token, as: UTF8.self)
    }
}
