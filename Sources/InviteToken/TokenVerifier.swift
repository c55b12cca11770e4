import InviteCrypto

/// A token that passed every check that needs no database.
public struct VerifiedToken<Claims: SignedClaims>: Sendable {
    public var claims: Claims
    /// The key that signed it.
    public var kid: String

    public init(claims: Claims, kid: String) {
        self.claims = claims
        self.kid = kid
    }
}
extension VerifiedToken: Equatable where Claims: Equatable {}

public typealias VerifiedInvitation = VerifiedToken<InvitationClaims>

/// Verifies invitation tokens in the order of DESIGN.md §2, failing closed with the first
/// reason that applies:
///
/// size and canonical base64url (`malformed`) → header exactly `{alg, kid, typ}`
/// (`malformed`) → key known and verifying (`unknown_key`, `key_retired`, `key_revoked`) →
/// `alg` equals the key's algorithm (`algorithm_mismatch`) → signature, MAC compared in
/// constant time (`bad_signature`) → claims (`invalid_claims`) → `iss`, `aud` → `iat` at most
/// 60 s ahead (`not_yet_valid`) → `exp` in the future (`expired`) → lifetime at most the
/// maximum (`invalid_claims`).
///
/// The key pins the algorithm: the header's `alg` only has to agree with it, so an HS256
/// token cannot be checked against an Ed25519 key's public bytes. The signature is checked
/// before the payload is even decoded. The clock is a parameter.
public struct TokenVerifier: Sendable {
    public static let maximumTokenLength = 4096
    public static let typ = InvitationClaims.typ

    public var issuer: String
    public var maximumLifetime: Int64
    public var allowedClockSkew: Int64
    /// Whether an Ed25519 token the keyring has already verified skips the public-key check
    /// (``VerifiedSignatureCache``). Off, every signature is checked from scratch: what
    /// `make bench` compares with `openssl speed`.
    public var usesSignatureCache = true

    public init(issuer: String, maximumLifetime: Int64 = InvitationClaims.maximumLifetime, allowedClockSkew: Int64 = 60) {
        self.issuer = issuer
        self.maximumLifetime = maximumLifetime
        self.allowedClockSkew = allowedClockSkew
    }

    public func verify(_ token: String, keyring: Keyring, now: Int64) throws(TokenError) -> VerifiedInvitation {
        try verify(token, as: InvitationClaims.self, keyring: keyring, now: now)
    }

    /// Verifies a token of another kind (a setup link, an audit checkpoint) by the same rules:
    /// its header must carry `Claims.typ` and its `aud` must be `Claims.audience`.
    public func verify<Claims: SignedClaims>(
        _ token: String, as kind: Claims.Type, keyring: Keyring, now: Int64
    ) throws(TokenError) -> VerifiedToken<Claims> {
        guard token.utf8.count <= Self.maximumTokenLength else {
            throw TokenError(.malformed, "the token is longer than \(Self.maximumTokenLength) bytes")
        }
        var token = token
        let outcome = token.withUTF8 { bytes -> Result<VerifiedToken<Claims>, TokenError> in
            do throws(TokenError) {
                return .success(try verify(bytes: UnsafeRawBufferPointer(bytes), as: kind, keyring: keyring, now: now))
            } catch {
                return .failure(error)
            }
        }
        return try outcome.get()
    }

    private func verify<Claims: SignedClaims>(
        bytes: UnsafeRawBufferPointer, as kind: Claims.Type, keyring: Keyring, now: Int64
    ) throws(TokenError) -> VerifiedToken<Claims> {
        guard bytes.count <= Self.maximumTokenLength else {
            throw TokenError(.malformed, "the token is longer than \(Self.maximumTokenLength) bytes")
        }
        var dots = (first: -1, second: -1, count: 0)
        for index in 0..<bytes.count where bytes[index] == UInt8(ascii: ".") {
            if dots.count == 0 { dots.first = index } else { dots.second = index }
            dots.count += 1
        }
        guard dots.count == 2 else { throw TokenError(.malformed, "a token has three parts separated by dots") }
        let (firstDot, secondDot) = (dots.first, dots.second)
        let headerPart = UnsafeRawBufferPointer(rebasing: bytes[..<firstDot])
        let payloadPart = UnsafeRawBufferPointer(rebasing: bytes[(firstDot + 1)..<secondDot])
        let signaturePart = UnsafeRawBufferPointer(rebasing: bytes[(secondDot + 1)...])
        guard !headerPart.isEmpty, !payloadPart.isEmpty, !signaturePart.isEmpty else {
            throw TokenError(.malformed, "a part is empty or not canonical unpadded base64url")
        }
        // The payload and signature decode into one stack buffer (a token is at most 4 KiB).
        let payloadCapacity = Base64URL.decodedCapacity(of: payloadPart.count)
        let capacity = payloadCapacity + Base64URL.decodedCapacity(of: signaturePart.count)
        return try withUnsafeTemporaryAllocation(byteCount: capacity, alignment: 8) { scratch throws(TokenError) in
            guard
                let payloadCount = Base64URL.decode(
                    payloadPart, into: UnsafeMutableRawBufferPointer(rebasing: scratch[..<payloadCapacity])),
                let signatureCount = Base64URL.decode(
                    signaturePart, into: UnsafeMutableRawBufferPointer(rebasing: scratch[payloadCapacity...]))
            else {
                throw TokenError(.malformed, "a part is empty or not canonical unpadded base64url")
            }
            return try verify(
                headerPart: headerPart,
                payload: UnsafeRawBufferPointer(rebasing: scratch[..<payloadCount]),
                signature: UnsafeRawBufferPointer(rebasing: scratch[payloadCapacity..<(payloadCapacity + signatureCount)]),
                signingInput: UnsafeRawBufferPointer(rebasing: bytes[..<secondDot]),
                token: bytes, as: kind, keyring: keyring, now: now
            )
        }
    }

    /// The checks after the parts have been decoded, from the header on.
    private func verify<Claims: SignedClaims>(
        headerPart: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, signature: UnsafeRawBufferPointer,
        signingInput: UnsafeRawBufferPointer, token: UnsafeRawBufferPointer, as kind: Claims.Type, keyring: Keyring, now: Int64
    ) throws(TokenError) -> VerifiedToken<Claims> {
        let algorithmName: String, kid: String
        // The keyring knows the invitation headers its keys write, byte for byte.
        if Claims.typ == Self.typ, let known = keyring.knownHeader(headerPart) {
            (algorithmName, kid) = known
        } else {
            var header: [UInt8] = []
            guard Base64URL.decode(headerPart, appendingTo: &header) else {
                throw TokenError(.malformed, "a part is empty or not canonical unpadded base64url")
            }
            (algorithmName, kid) = try readHeader(header, typ: Claims.typ)
        }

        guard let entry = keyring.entry(kid) else { throw TokenError(.unknownKey, "no key with kid \(kid)") }
        switch entry.state {
        case .retired: throw TokenError(.keyRetired, "key \(kid) is retired")
        case .revoked: throw TokenError(.keyRevoked, "key \(kid) is revoked")
        case .next, .primary, .active: break
        }
        guard let material = keyring.material(for: kid) else { throw TokenError(.unknownKey, "no material for key \(kid)") }
        guard material.algorithm.accepts(headerAlgorithm: algorithmName) else {
            throw TokenError(.algorithmMismatch, "key \(kid) is \(material.algorithm.jwsName), the token says \(algorithmName)")
        }

        let valid: Bool
        switch material {
        case .hmac(let key):
            valid = (try? key.isValidAuthenticationCode(signature, for: signingInput)) ?? false
        case .ed25519(let key):
            valid = isValidEd25519(token, signature, signingInput, key.publicKey, keyring.verifiedSignatures)
        case .ed25519Public(let key):
            valid = isValidEd25519(token, signature, signingInput, key, keyring.verifiedSignatures)
        }
        guard valid else { throw TokenError(.badSignature, "the signature does not verify under key \(kid)") }

        let claims = try Claims(payload: payload)
        guard claims.issuer == issuer else { throw TokenError(.wrongIssuer, "issued by \(claims.issuer), expected \(issuer)") }
        guard claims.audience == Claims.audience else {
            throw TokenError(.wrongAudience, "audience \(claims.audience), expected \(Claims.audience)")
        }
        // The claims are any Int64 a key holder chose, so every sum and difference here is
        // checked: an overflow is a refusal, never a trap.
        let (latestIssue, skewOverflow) = now.addingReportingOverflow(allowedClockSkew)
        guard skewOverflow || claims.issuedAt <= latestIssue else { throw TokenError(.notYetValid, "issued in the future") }
        guard claims.expiresAt > now else { throw TokenError(.expired, "expired at \(claims.expiresAt)") }
        let (lifetime, lifetimeOverflow) = claims.expiresAt.subtractingReportingOverflow(claims.issuedAt)
        guard !lifetimeOverflow, lifetime <= maximumLifetime else {
            throw TokenError(.invalidClaims, "lifetime over the maximum of \(maximumLifetime) s")
        }
        return VerifiedToken(claims: claims, kid: kid)
    }

    /// An Ed25519 signature check, answered from the keyring's cache of tokens already verified
    /// when this very token is in it.
    private func isValidEd25519(
        _ token: UnsafeRawBufferPointer, _ signature: UnsafeRawBufferPointer, _ signingInput: UnsafeRawBufferPointer,
        _ key: Ed25519PublicKey, _ cache: VerifiedSignatureCache
    ) -> Bool {
        guard usesSignatureCache else { return key.isValidSignature(signature, for: signingInput) }
        if cache.contains(token) { return true }
        guard key.isValidSignature(signature, for: signingInput) else { return false }
        cache.insert(token)
        return true
    }

    /// The header must be exactly `{"alg", "kid", "typ"}` with string values, a known `alg`,
    /// a well-formed `kid` and `typ: invitation+jwt`; anything else (`crit`, `jku`, `jwk`,
    /// `x5u`, `x5c`, `alg: none`, duplicates, a BOM) is `malformed`.
    private func readHeader(_ header: [UInt8], typ expectedTyp: String) throws(TokenError) -> (alg: String, kid: String) {
        let json: JSONValue
        do {
            json = try StrictJSON.parse(header)
        } catch {
            throw TokenError(.malformed, "the header is not a strict JSON object (\(error.reason))")
        }
        guard case .object(let members) = json, members.count == 3 else {
            throw TokenError(.malformed, "the header must have exactly the members alg, kid and typ")
        }
        var alg: String?, kid: String?, typ: String?
        for (name, value) in members {
            guard case .string(let text) = value else { throw TokenError(.malformed, "header member \(name) is not a string") }
            switch name {
            case "alg": alg = text
            case "kid": kid = text
            case "typ": typ = text
            default: throw TokenError(.malformed, "header member \(name) is not allowed")
            }
        }
        guard let alg, let kid, let typ else { throw TokenError(.malformed, "the header must have alg, kid and typ") }
        guard typ == expectedTyp else { throw TokenError(.malformed, "typ must be \(expectedTyp)") }
        guard KeyAlgorithm.isKnown(headerAlgorithm: alg) else { throw TokenError(.malformed, "alg \(alg) is not accepted") }
        guard KeyEntry.isValidKid(kid) else { throw TokenError(.malformed, "kid is not [A-Za-z0-9_-]{1,64}") }
        return (alg, kid)
    }
}
