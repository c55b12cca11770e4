import Foundation
import InviteCrypto
import InviteToken
import TestVectors
import Testing

/// The published JWS examples, checked at the JWS layer (signing input, signature bytes,
/// JWK members) and, where they are not our token format, refused by the full verifier.
@Suite("RFC 8037 and RFC 7515 JWS vectors")
struct JWSVectorTests {
    static func rfc8037() throws -> [String: Any] { try Vectors.object("rfc/rfc8037_ed25519_jws.json") }
    static func rfc7515() throws -> [String: Any] { try Vectors.object("rfc/rfc7515_a1_hs256.json") }

    @Test("RFC 8037 A.4: signing the signing input with the JWK's d gives jws_compact's signature")
    func rfc8037Signature() throws {
        let vector = try Self.rfc8037()
        let jwk = try #require(vector["private_jwk"] as? [String: String])
        let seed = try decoded(jwk["d"])
        let signingInput = try #require(vector["signing_input"] as? String)
        let compact = try #require(vector["jws_compact"] as? String)
        #expect(compact.hasPrefix(signingInput + "."))
        let published = try decoded(parts(compact).last)
        let key = try Ed25519PrivateKey(seed: seed)
        #expect(try key.signature(for: Array(signingInput.utf8)) == published)
        #expect(key.publicKey.isValidSignature(published, for: Array(signingInput.utf8)))
    }

    @Test("RFC 8037 A.1–A.2: the public JWK's x is base64url of the seed's public key")
    func rfc8037PublicKey() throws {
        let vector = try Self.rfc8037()
        let privateJWK = try #require(vector["private_jwk"] as? [String: String])
        let publicJWK = try #require(vector["public_jwk"] as? [String: String])
        let key = try Ed25519PrivateKey(seed: try decoded(privateJWK["d"]))
        #expect(Base64URL.encode(key.publicKey.rawRepresentation) == publicJWK["x"])
        #expect(privateJWK["x"] == publicJWK["x"])
    }

    @Test("RFC 8037 A.3: the JWK thumbprint is SHA-256 of thumbprint_input")
    func rfc8037Thumbprint() throws {
        let vector = try Self.rfc8037()
        let input = try #require(vector["thumbprint_input"] as? String)
        let expected = try #require(vector["thumbprint_sha256_b64u"] as? String)
        #expect(Base64URL.encode(try Digest.sha256(Array(input.utf8))) == expected)
        // The thumbprint input is the required members in lexicographic order, with our key's x.
        let x = try #require((vector["public_jwk"] as? [String: String])?["x"])
        #expect(input == #"{"crv":"Ed25519","kty":"OKP","x":"\#(x)"}"#)
    }

    @Test("RFC 8037 A.4: the header and payload decode to the published JSON and text")
    func rfc8037Parts() throws {
        let vector = try Self.rfc8037()
        let p = parts(try #require(vector["jws_compact"] as? String))
        #expect(p.count == 3)
        #expect(Base64URL.decode(p[0]).map { String(decoding: $0, as: UTF8.self) } == vector["protected_header_json"] as? String)
        #expect(Base64URL.decode(p[1]).map { String(decoding: $0, as: UTF8.self) } == vector["payload_utf8"] as? String)
    }

    /// Its header is `{"alg":"EdDSA"}`: no kid, no typ. The verifier must refuse it even with
    /// its key in the keyring.
    @Test("RFC 8037 A.4's JWS is malformed to the full verifier (its header is not ours)")
    func rfc8037RejectedByVerifier() throws {
        let vector = try Self.rfc8037()
        let seed = try decoded((vector["private_jwk"] as? [String: String])?["d"])
        let entry = KeyEntry(kid: "rfc8037", algorithm: .ed25519, state: .primary, createdAt: 0)
        let keyring = Keyring(manifest: KeyManifest(entries: [entry]), material: ["rfc8037": .ed25519(try Ed25519PrivateKey(seed: seed))])
        let error = #expect(throws: TokenError.self) {
            try TokenVerifier(issuer: "invitelink").verify(try #require(vector["jws_compact"] as? String), keyring: keyring, now: 0)
        }
        #expect(error?.code == .malformed)
    }

    @Test("RFC 7515 A.1: HMAC-SHA256 of the signing input with the JWK's k is the signature")
    func rfc7515Signature() throws {
        let vector = try Self.rfc7515()
        let secret = try decoded((vector["jwk"] as? [String: String])?["k"])
        let p = parts(try #require(vector["jws_compact"] as? String))
        #expect(p.count == 3)
        #expect(try Base64URL.decode(p[0]) == hex(try #require(vector["protected_header_bytes_hex"] as? String)))
        #expect(try Base64URL.decode(p[1]) == hex(try #require(vector["payload_bytes_hex"] as? String)))
        let key = try HMACSHA256Key(secret: SecureBytes(secret))
        let signingInput = Array("\(p[0]).\(p[1])".utf8)
        let signature = try decoded(p[2])
        #expect(try key.authenticationCode(for: signingInput) == signature)
        #expect(try key.isValidAuthenticationCode(signature, for: signingInput))
    }

    /// `{"typ":"JWT",\r\n "alg":"HS256"}`: no kid and the wrong typ. Checked at a time before
    /// its `exp`, with its key in the keyring, so that nothing but the header can be the reason.
    @Test("RFC 7515 A.1's JWS is malformed to the full verifier (its header is not ours)")
    func rfc7515RejectedByVerifier() throws {
        let vector = try Self.rfc7515()
        let secret = try decoded((vector["jwk"] as? [String: String])?["k"])
        let entry = KeyEntry(kid: "rfc7515", algorithm: .hs256, state: .primary, createdAt: 0)
        let keyring = Keyring(
            manifest: KeyManifest(entries: [entry]), material: ["rfc7515": .hmac(try HMACSHA256Key(secret: SecureBytes(secret)))])
        let error = #expect(throws: TokenError.self) {
            try TokenVerifier(issuer: "joe").verify(try #require(vector["jws_compact"] as? String), keyring: keyring, now: 1_300_819_000)
        }
        #expect(error?.code == .malformed)
    }

    @Test("RFC 7515 A.5 (alg none) is malformed to the full verifier")
    func rfc7515Unsecured() throws {
        let vector = try Self.rfc7515()
        let token = try #require(vector["unsecured_jws_A5_must_reject"] as? String)
        let entry = KeyEntry(kid: "rfc7515", algorithm: .hs256, state: .primary, createdAt: 0)
        let keyring = Keyring(
            manifest: KeyManifest(entries: [entry]), material: ["rfc7515": .hmac(try HMACSHA256Key(secret: SecureBytes(randomCount: 32)))])
        let error = #expect(throws: TokenError.self) {
            try TokenVerifier(issuer: "joe").verify(token, keyring: keyring, now: 1_300_819_000)
        }
        #expect(error?.code == .malformed)
    }
}
