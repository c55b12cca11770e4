import Foundation
import InviteCrypto
import InviteToken
import Testing

/// Fixed keys, a fixed clock and hand-made tokens, so that a test can change one byte of a
/// token and sign it properly: the verifier then has exactly one reason to refuse it.
struct Fixture {
    static let now: Int64 = 1_800_000_000
    static let issuer = "invitelink"
    static let edKid = "ed-2026-a"
    static let hmacKid = "hs-2026-a"
    static let jti = "AAECAwQFBgcICQoLDA0ODw"

    let ed: Ed25519PrivateKey
    let hmac: HMACSHA256Key
    let verifier = TokenVerifier(issuer: Fixture.issuer)

    init() throws {
        ed = try Ed25519PrivateKey(seed: Array(UInt8(1)...UInt8(32)))
        hmac = try HMACSHA256Key(secret: SecureBytes(Array(UInt8(101)...UInt8(132))))
    }

    /// A keyring with the Ed25519 and the HMAC key in the given states. Like
    /// ``KeyringDirectory/load()``, it holds material only for keys that verify.
    func keyring(ed edState: KeyState = .primary, hmac hmacState: KeyState = .active) -> Keyring {
        let entries = [
            KeyEntry(kid: Self.edKid, algorithm: .ed25519, state: edState, createdAt: Self.now - 86_400),
            KeyEntry(kid: Self.hmacKid, algorithm: .hs256, state: hmacState, createdAt: Self.now - 86_400),
        ]
        var material: [String: KeyMaterial] = [:]
        if edState.verifies { material[Self.edKid] = .ed25519(ed) }
        if hmacState.verifies { material[Self.hmacKid] = .hmac(hmac) }
        return Keyring(manifest: KeyManifest(entries: entries), material: material)
    }

    static func claims(
        issuedAt: Int64 = now - 10, lifetime: Int64 = InvitationClaims.defaultLifetime,
        reseller: String = "reseller-1", provider: String? = "provider-1", dap: Bool = true
    ) -> InvitationClaims {
        InvitationClaims(
            issuer: issuer, invitationID: jti, resellerID: reseller, providerID: provider,
            delegatedAdmin: dap, issuedAt: issuedAt, expiresAt: issuedAt + lifetime
        )
    }

    /// A token from the production signer.
    func signed(_ claims: InvitationClaims = Fixture.claims(), algorithm: KeyAlgorithm = .ed25519) throws -> String {
        switch algorithm {
        case .ed25519: try TokenSigner(kid: Self.edKid, material: .ed25519(ed)).sign(claims)
        case .hs256: try TokenSigner(kid: Self.hmacKid, material: .hmac(hmac)).sign(claims)
        }
    }

    /// The header the signer writes, as text.
    static func header(alg: String = "EdDSA", kid: String = edKid) -> String {
        #"{"alg":"\#(alg)","kid":"\#(kid)","typ":"invitation+jwt"}"#
    }

    /// The claims as JSON text with each value written by hand: `replacing` maps a claim to
    /// its raw JSON text, or to nil to leave the claim out; `adding` appends members.
    static func payload(replacing: [String: String?] = [:], adding: [(String, String)] = []) -> String {
        let base: [(String, String)] = [
            ("iss", #""invitelink""#),
            ("aud", #""reseller-relationship""#),
            ("jti", "\"\(jti)\""),
            ("rid", #""reseller-1""#),
            ("dap", "false"),
            ("iat", String(now - 10)),
            ("exp", String(now - 10 + InvitationClaims.defaultLifetime)),
        ]
        var members: [(String, String)] = []
        for (name, value) in base {
            if let replacement = replacing[name] {
                if let replacement { members.append((name, replacement)) }
            } else {
                members.append((name, value))
            }
        }
        members += adding
        return "{" + members.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// `BASE64URL(header).BASE64URL(payload).BASE64URL(signature)` over the exact bytes given,
    /// with a real signature by `key` (the Ed25519 key unless told otherwise).
    func handmade(header: [UInt8], payload: [UInt8], signer: Signer = .ed25519) throws -> String {
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        return signingInput + "." + Base64URL.encode(try signature(of: signingInput, signer: signer))
    }

    func handmade(header: String = Fixture.header(), payload: String = Fixture.payload(), signer: Signer = .ed25519) throws -> String {
        try handmade(header: Array(header.utf8), payload: Array(payload.utf8), signer: signer)
    }

    enum Signer {
        case ed25519
        case hmac
        case ed25519Key(Ed25519PrivateKey)
        case hmacKey(HMACSHA256Key)
    }

    func signature(of signingInput: String, signer: Signer) throws -> [UInt8] {
        let input = Array(signingInput.utf8)
        switch signer {
        case .ed25519: return try ed.signature(for: input)
        case .hmac: return try hmac.authenticationCode(for: input)
        case .ed25519Key(let key): return try key.signature(for: input)
        case .hmacKey(let key): return try key.authenticationCode(for: input)
        }
    }

    /// The reason `token` is refused, or nil when it verifies.
    func reason(_ token: String, keyring: Keyring? = nil, now: Int64 = Fixture.now) -> TokenError.Code? {
        do {
            _ = try verifier.verify(token, keyring: keyring ?? self.keyring(), now: now)
            return nil
        } catch {
            return error.code
        }
    }
}

/// The three dot-separated parts of a compact JWS.
func parts(_ token: String) -> [String] {
    token.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
}

let base64URLAlphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")

/// A temporary directory, removed when `body` returns.
func withTemporaryDirectory<R>(_ body: (String) throws -> R) throws -> R {
    let path = FileManager.default.temporaryDirectory.appendingPathComponent("invitelink-tests-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    defer { try? FileManager.default.removeItem(atPath: path) }
    return try body(path)
}

/// The bytes of canonical base64url `text`; fails the test when `text` is nil or not canonical.
func decoded(_ text: String?, sourceLocation: SourceLocation = #_sourceLocation) throws -> [UInt8] {
    let text = try #require(text, "a vector field is missing", sourceLocation: sourceLocation)
    return try #require(Base64URL.decode(text), "not canonical base64url: \(text)", sourceLocation: sourceLocation)
}
