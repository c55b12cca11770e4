import InviteCrypto
import InviteToken
import Testing

@Suite("TokenSigner")
struct TokenSignerTests {
    let fixture: Fixture
    init() throws { fixture = try Fixture() }

    @Test("the header is exactly {alg, kid, typ}", arguments: KeyAlgorithm.allCases)
    func header(algorithm: KeyAlgorithm) throws {
        let token = try fixture.signed(algorithm: algorithm)
        let header = try #require(Base64URL.decode(parts(token)[0]))
        let kid = algorithm == .ed25519 ? Fixture.edKid : Fixture.hmacKid
        #expect(
            try StrictJSON.parse(header)
                == .object([
                    ("alg", .string(algorithm.jwsName)), ("kid", .string(kid)), ("typ", .string("invitation+jwt")),
                ]))
    }

    @Test("the payload holds exactly the claims, with integer times")
    func payload() throws {
        let claims = Fixture.claims()
        let payload = try #require(Base64URL.decode(parts(try fixture.signed(claims))[1]))
        #expect(
            try StrictJSON.parse(payload)
                == .object([
                    ("iss", .string(Fixture.issuer)), ("aud", .string("reseller-relationship")), ("jti", .string(Fixture.jti)),
                    ("rid", .string("reseller-1")), ("pid", .string("provider-1")), ("dap", .bool(true)),
                    ("iat", .integer(claims.issuedAt)), ("exp", .integer(claims.expiresAt)),
                ]))
    }

    @Test("Ed25519 signing is deterministic; the signature verifies over the signing input")
    func deterministic() throws {
        let first = try fixture.signed(), second = try fixture.signed()
        #expect(first == second)
        let p = parts(first)
        let signature = try #require(Base64URL.decode(p[2]))
        #expect(fixture.ed.publicKey.isValidSignature(signature, for: Array("\(p[0]).\(p[1])".utf8)))
    }

    @Test("claims without a provider and with text that needs escaping round-trip")
    func escaping() throws {
        let claims = Fixture.claims(reseller: "r\"e\\s\u{1}é\n😀", provider: nil, dap: false)
        let verified = try fixture.verifier.verify(try fixture.signed(claims), keyring: fixture.keyring(), now: Fixture.now)
        #expect(verified.claims == claims)
        #expect(verified.claims.providerID == nil)
    }

    @Test("a link with a 64-character kid and long ids stays under 600 characters")
    func linkLength() throws {
        let kid = String(repeating: "k", count: 64)
        let claims = Fixture.claims(reseller: String(repeating: "r", count: 36), provider: String(repeating: "p", count: 36))
        let token = try TokenSigner(kid: kid, material: .ed25519(fixture.ed)).sign(claims)
        let link = "https://invitelink.example.com/invitations/accept?token=\(token)"
        #expect(link.count < 600, "\(link.count) characters")
    }

    @Test("a public-only key cannot sign")
    func publicOnlyCannotSign() throws {
        let error = #expect(throws: KeyringError.self) {
            try TokenSigner(kid: "pub", material: .ed25519Public(fixture.ed.publicKey))
        }
        #expect(error?.code == .invalidTransition)
    }

    @Test("init(keyring:) signs with the primary, and refuses a keyring without one")
    func signerFromKeyring() throws {
        let signer = try TokenSigner(keyring: fixture.keyring(ed: .active, hmac: .primary))
        #expect(signer.kid == Fixture.hmacKid)
        let error = #expect(throws: KeyringError.self) {
            try TokenSigner(keyring: fixture.keyring(ed: .active, hmac: .active))
        }
        #expect(error?.code == .noPrimaryKey)
    }
}
