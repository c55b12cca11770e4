import InviteCrypto
import InviteToken
import TestVectors
import Testing

/// Each reason code the verifier produces without a database, from tokens that differ from a
/// valid one in exactly the way the test names, and are otherwise properly signed.
@Suite("TokenVerifier reason codes")
struct TokenVerifierTests {
    let fixture: Fixture
    init() throws { fixture = try Fixture() }

    // MARK: Controls: what the refusals below are measured against

    @Test("a signed token verifies, for both algorithms, and gives back its claims", arguments: KeyAlgorithm.allCases)
    func signedTokenVerifies(algorithm: KeyAlgorithm) throws {
        let claims = Fixture.claims()
        let token = try fixture.signed(claims, algorithm: algorithm)
        let verified = try fixture.verifier.verify(token, keyring: fixture.keyring(), now: Fixture.now)
        #expect(verified.claims == claims)
        #expect(verified.kid == (algorithm == .ed25519 ? Fixture.edKid : Fixture.hmacKid))
    }

    @Test("a handmade token with the standard header and claims verifies, for both algorithms")
    func handmadeTokenVerifies() throws {
        #expect(fixture.reason(try fixture.handmade()) == nil)
        let hmacToken = try fixture.handmade(header: Fixture.header(alg: "HS256", kid: Fixture.hmacKid), signer: .hmac)
        #expect(fixture.reason(hmacToken) == nil)
    }

    /// Other JOSE libraries write the same members in their own order and spacing; only the
    /// members and their values are the contract, not our signer's bytes.
    @Test("a header with the same members in another order, with whitespace, verifies")
    func reorderedHeader() throws {
        let reordered = #"{ "typ": "invitation+jwt", "kid": "ed-2026-a", "alg": "EdDSA" }"#
        #expect(fixture.reason(try fixture.handmade(header: reordered)) == nil)
        let escaped = #"{"alg":"EdDSA","kid":"ed\u002d2026-a","typ":"invitation\u002bjwt"}"#
        #expect(fixture.reason(try fixture.handmade(header: escaped)) == nil)
    }

    @Test("the reason codes and their order are the contract (the CLI exits with 10 + the index)")
    func codesAreStable() {
        #expect(
            TokenError.Code.allCases.map(\.rawValue) == [
                "malformed", "unknown_key", "key_retired", "key_revoked", "algorithm_mismatch", "bad_signature",
                "invalid_claims", "wrong_issuer", "wrong_audience", "not_yet_valid", "expired",
                "revoked", "used_up", "unknown_invitation",
            ])
    }

    // MARK: malformed

    struct HeaderCase: Sendable, CustomTestStringConvertible {
        let label: String
        let json: String
        var testDescription: String { label }
    }

    static let forbiddenHeaderMembers: [HeaderCase] = [
        HeaderCase(label: "crit", json: #"{"alg":"EdDSA","kid":"ed-2026-a","typ":"invitation+jwt","crit":["exp"]}"#),
        HeaderCase(label: "jku", json: #"{"alg":"EdDSA","kid":"ed-2026-a","typ":"invitation+jwt","jku":"https://evil.example/jwks.json"}"#),
        HeaderCase(
            label: "jwk",
            json:
                #"{"alg":"EdDSA","kid":"ed-2026-a","typ":"invitation+jwt","jwk":{"kty":"OKP","crv":"Ed25519","x":"iojj3XQJ8ZX9UtstPLpdcspnCb8dlBIb83SIAbQPb1w"}}"#
        ),
        HeaderCase(label: "x5u", json: #"{"alg":"EdDSA","kid":"ed-2026-a","typ":"invitation+jwt","x5u":"https://evil.example/cert.pem"}"#),
        HeaderCase(
            label: "x5c",
            json: #"{"alg":"EdDSA","kid":"ed-2026-a","typ":"invitation+jwt","x5c":["MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"]}"#),
    ]

    @Test("a header with crit, jku, jwk, x5u or x5c is malformed", arguments: forbiddenHeaderMembers)
    func forbiddenHeaderMember(_ header: HeaderCase) throws {
        #expect(fixture.reason(try fixture.handmade(header: header.json)) == .malformed)
    }

    static let headersNotOurs: [HeaderCase] = [
        HeaderCase(label: "alg none", json: #"{"alg":"none","kid":"ed-2026-a","typ":"invitation+jwt"}"#),
        HeaderCase(label: "alg HS512", json: #"{"alg":"HS512","kid":"ed-2026-a","typ":"invitation+jwt"}"#),
        HeaderCase(label: "alg RS256", json: #"{"alg":"RS256","kid":"ed-2026-a","typ":"invitation+jwt"}"#),
        HeaderCase(label: "alg in lower case", json: #"{"alg":"eddsa","kid":"ed-2026-a","typ":"invitation+jwt"}"#),
        HeaderCase(label: "typ JWT", json: #"{"alg":"EdDSA","kid":"ed-2026-a","typ":"JWT"}"#),
        HeaderCase(label: "no typ", json: #"{"alg":"EdDSA","kid":"ed-2026-a"}"#),
        HeaderCase(label: "no kid", json: #"{"alg":"EdDSA","typ":"invitation+jwt"}"#),
        HeaderCase(label: "no alg", json: #"{"kid":"ed-2026-a","typ":"invitation+jwt"}"#),
        HeaderCase(label: "kid with a slash", json: #"{"alg":"EdDSA","kid":"../ed-2026-a","typ":"invitation+jwt"}"#),
        HeaderCase(label: "empty kid", json: #"{"alg":"EdDSA","kid":"","typ":"invitation+jwt"}"#),
        HeaderCase(label: "kid a number", json: #"{"alg":"EdDSA","kid":7,"typ":"invitation+jwt"}"#),
        HeaderCase(label: "cty member", json: #"{"alg":"EdDSA","kid":"ed-2026-a","typ":"invitation+jwt","cty":"JWT"}"#),
        HeaderCase(label: "an array", json: #"["EdDSA","ed-2026-a","invitation+jwt"]"#),
        HeaderCase(label: "empty object", json: "{}"),
        HeaderCase(label: "not JSON", json: "EdDSA ed-2026-a"),
        HeaderCase(label: "trailing comma", json: #"{"alg":"EdDSA","kid":"ed-2026-a","typ":"invitation+jwt",}"#),
    ]

    @Test("a header that is not exactly {alg, kid, typ: invitation+jwt} is malformed", arguments: headersNotOurs)
    func headerNotOurs(_ header: HeaderCase) throws {
        #expect(fixture.reason(try fixture.handmade(header: header.json)) == .malformed)
    }

    @Test("alg none with an empty signature is malformed")
    func algNoneUnsigned() throws {
        let header = Base64URL.encode(Array(#"{"alg":"none","kid":"ed-2026-a","typ":"invitation+jwt"}"#.utf8))
        let payload = Base64URL.encode(Array(Fixture.payload().utf8))
        #expect(fixture.reason("\(header).\(payload).") == .malformed)
    }

    @Test("a duplicate member in the header is malformed")
    func duplicateHeaderMember() throws {
        let duplicateKid = #"{"alg":"EdDSA","kid":"hs-2026-a","typ":"invitation+jwt","kid":"ed-2026-a"}"#
        #expect(fixture.reason(try fixture.handmade(header: duplicateKid)) == .malformed)
        let duplicateAlg = #"{"alg":"HS256","alg":"EdDSA","kid":"ed-2026-a","typ":"invitation+jwt"}"#
        #expect(fixture.reason(try fixture.handmade(header: duplicateAlg)) == .malformed)
    }

    @Test("a UTF-8 byte-order mark before the header JSON is malformed")
    func byteOrderMark() throws {
        let header = [0xEF, 0xBB, 0xBF] + Array(Fixture.header().utf8)
        #expect(fixture.reason(try fixture.handmade(header: header, payload: Array(Fixture.payload().utf8))) == .malformed)
    }

    @Test("a header in UTF-16 is malformed")
    func utf16Header() throws {
        let header = Array(Fixture.header().utf16).flatMap { [UInt8($0 & 0xff), UInt8($0 >> 8)] }
        #expect(fixture.reason(try fixture.handmade(header: header, payload: Array(Fixture.payload().utf8))) == .malformed)
    }

    /// A token of `length` bytes, properly signed: the reseller id is padded to reach it.
    func token(ofLength length: Int) throws -> (token: String, keyring: Keyring)? {
        for kidLength in 1...8 {
            let kid = String(repeating: "k", count: kidLength)
            let signer = try TokenSigner(kid: kid, material: .ed25519(fixture.ed))
            let base = try signer.sign(Fixture.claims(reseller: "r")).utf8.count
            guard base < length else { continue }
            // Each reseller byte adds 4/3 of a character: try the few lengths around the target.
            let guess = (length - base) * 3 / 4
            for padding in max(0, guess - 3)...(guess + 3) {
                let token = try signer.sign(Fixture.claims(reseller: "r" + String(repeating: "x", count: padding)))
                if token.utf8.count == length {
                    let entry = KeyEntry(kid: kid, algorithm: .ed25519, state: .primary, createdAt: Fixture.now)
                    return (token, Keyring(manifest: KeyManifest(entries: [entry]), material: [kid: .ed25519(fixture.ed)]))
                }
            }
        }
        return nil
    }

    @Test("a properly signed token of 4096 bytes verifies; one of 4097 bytes is malformed")
    func sizeLimit() throws {
        let (atLimit, limitKeyring) = try #require(try token(ofLength: 4096))
        #expect(fixture.reason(atLimit, keyring: limitKeyring) == nil)
        let (overLimit, overKeyring) = try #require(try token(ofLength: 4097))
        #expect(overLimit.utf8.count == 4097)
        #expect(fixture.reason(overLimit, keyring: overKeyring) == .malformed)
    }

    @Test("a token far over the limit is malformed, not parsed")
    func hugeToken() {
        let huge = String(repeating: "A", count: 1 << 20) + "." + String(repeating: "A", count: 8) + ".AAAA"
        #expect(fixture.reason(huge) == .malformed)
    }

    @Test("wrong numbers of parts and empty parts are malformed")
    func partCounts() throws {
        let token = try fixture.signed()
        let p = parts(token)
        for candidate in [
            "", ".", "..", "...", p[0], "\(p[0]).\(p[1])", "\(token).", "\(token).\(p[2])",
            "\(p[0])..\(p[2])", ".\(p[1]).\(p[2])", "\(p[0]).\(p[1]).",
        ] {
            #expect(fixture.reason(candidate) == .malformed, "\(candidate.prefix(60))")
        }
    }

    @Test("a padding '=' appended to any part is malformed", arguments: 0..<3)
    func padding(part: Int) throws {
        var p = parts(try fixture.signed())
        p[part] += "="
        #expect(fixture.reason(p.joined(separator: ".")) == .malformed)
    }

    @Test("a '+' or '/' (the base64 alphabet) in any part is malformed", arguments: 0..<3, ["+", "/"])
    func standardAlphabet(part: Int, character: String) throws {
        var p = parts(try fixture.signed())
        p[part] = character + p[part].dropFirst()
        #expect(fixture.reason(p.joined(separator: ".")) == .malformed)
    }

    @Test("whitespace inside a part is malformed")
    func whitespace() throws {
        let token = try fixture.signed()
        for insert in [" ", "\n", "\r\n", "\t"] {
            var characters = Array(token)
            characters.insert(contentsOf: insert, at: 10)
            #expect(fixture.reason(String(characters)) == .malformed, "inserted \(insert.debugDescription)")
        }
        #expect(fixture.reason(token + "\n") == .malformed, "trailing newline")
    }

    /// The signature's last character carries bits past the end of the bytes. A lenient
    /// decoder reads the same signature with those bits set, which makes tokens malleable.
    @Test("a signature whose unused trailing bits are set is malformed", arguments: KeyAlgorithm.allCases)
    func trailingBits(algorithm: KeyAlgorithm) throws {
        var p = parts(try fixture.signed(algorithm: algorithm))
        #expect(p[2].count % 4 != 0)
        let lastCharacter = try #require(p[2].last)
        let last = try #require(base64URLAlphabet.firstIndex(of: lastCharacter))
        #expect(last & 0x03 == 0, "the signer wrote non-zero trailing bits")
        p[2] = String(p[2].dropLast()) + String(base64URLAlphabet[last | 1])
        #expect(fixture.reason(p.joined(separator: ".")) == .malformed)
    }

    @Test("a part whose length is 1 mod 4 is malformed")
    func lengthOneModFour() throws {
        var p = parts(try fixture.signed())
        p[2] += p[2].count % 4 == 2 ? "AAA" : p[2].count % 4 == 3 ? "AA" : "A"
        #expect(p[2].count % 4 == 1)
        #expect(fixture.reason(p.joined(separator: ".")) == .malformed)
    }

    @Test("RFC 7515 A.5 (alg none, unsecured) is malformed")
    func rfc7515UnsecuredJWS() throws {
        let document = try Vectors.object("rfc/rfc7515_a1_hs256.json")
        let token = try #require(document["unsecured_jws_A5_must_reject"] as? String)
        #expect(fixture.reason(token, now: 1_300_819_000) == .malformed)
    }

    // MARK: unknown_key, key_retired, key_revoked

    @Test("a kid that is not in the keyring is unknown_key")
    func unknownKey() throws {
        let token = try fixture.handmade(header: Fixture.header(kid: "ed-2099-z"))
        #expect(fixture.reason(token) == .unknownKey)
        #expect(fixture.reason(try fixture.signed(), keyring: .empty) == .unknownKey)
    }

    @Test("a token signed by a retired key is key_retired")
    func keyRetired() throws {
        let token = try fixture.signed()
        #expect(fixture.reason(token, keyring: fixture.keyring(ed: .active)) == nil)
        #expect(fixture.reason(token, keyring: fixture.keyring(ed: .retired)) == .keyRetired)
    }

    @Test("a token signed by a revoked key is key_revoked")
    func keyRevoked() throws {
        let token = try fixture.signed()
        #expect(fixture.reason(token, keyring: fixture.keyring(ed: .revoked)) == .keyRevoked)
    }

    @Test("keys in state next and active still verify", arguments: [KeyState.next, .active, .primary])
    func verifyingStates(state: KeyState) throws {
        #expect(fixture.reason(try fixture.signed(), keyring: fixture.keyring(ed: state)) == nil)
    }

    // MARK: algorithm_mismatch

    /// The classic confusion: an HS256 token keyed with the Ed25519 key's public bytes, which
    /// an attacker knows. A verifier that let the header choose the algorithm would accept it.
    @Test("an HS256 token MACed with the Ed25519 public key, under the Ed25519 kid, is algorithm_mismatch")
    func algorithmConfusion() throws {
        let publicBytes = fixture.ed.publicKey.rawRepresentation
        let forgeryKey = try HMACSHA256Key(secret: SecureBytes(publicBytes))
        let forged = try fixture.handmade(header: Fixture.header(alg: "HS256", kid: Fixture.edKid), signer: .hmacKey(forgeryKey))
        // The MAC is right for a verifier that trusts the header; ours must not be one.
        let p = parts(forged)
        #expect(try forgeryKey.isValidAuthenticationCode(try #require(Base64URL.decode(p[2])), for: Array("\(p[0]).\(p[1])".utf8)))
        #expect(fixture.reason(forged) == .algorithmMismatch)
    }

    @Test("an EdDSA header on an HMAC key's kid is algorithm_mismatch")
    func edDSAHeaderOnHMACKey() throws {
        let token = try fixture.handmade(header: Fixture.header(alg: "EdDSA", kid: Fixture.hmacKid), signer: .ed25519)
        #expect(fixture.reason(token) == .algorithmMismatch)
    }

    @Test("RFC 9864's fully-specified alg Ed25519 is accepted for an Ed25519 key, not for an HMAC key")
    func fullySpecifiedEd25519() throws {
        #expect(fixture.reason(try fixture.handmade(header: Fixture.header(alg: "Ed25519"))) == nil)
        let onHMAC = try fixture.handmade(header: Fixture.header(alg: "Ed25519", kid: Fixture.hmacKid))
        #expect(fixture.reason(onHMAC) == .algorithmMismatch)
    }

    // MARK: bad_signature

    @Test("a signature by another Ed25519 key under our kid is bad_signature")
    func otherKeysSignature() throws {
        let token = try fixture.handmade(signer: .ed25519Key(try Ed25519PrivateKey()))
        #expect(fixture.reason(token) == .badSignature)
    }

    @Test("a MAC by another HMAC key under our kid is bad_signature")
    func otherKeysMAC() throws {
        let other = try HMACSHA256Key(secret: SecureBytes(randomCount: 32))
        let token = try fixture.handmade(header: Fixture.header(alg: "HS256", kid: Fixture.hmacKid), signer: .hmacKey(other))
        #expect(fixture.reason(token) == .badSignature)
    }

    @Test("a truncated signature or MAC (canonical base64url, fewer bytes) is bad_signature", arguments: KeyAlgorithm.allCases)
    func truncatedSignature(algorithm: KeyAlgorithm) throws {
        var p = parts(try fixture.signed(algorithm: algorithm))
        let signature = try #require(Base64URL.decode(p[2]))
        for length in [1, 16, signature.count - 1] {
            p[2] = Base64URL.encode(signature.prefix(length))
            #expect(fixture.reason(p.joined(separator: ".")) == .badSignature, "\(length) bytes")
        }
    }

    /// Replaces the character at `offset` of part `part` by the one whose 6-bit value differs
    /// in its top bit: the low bits are kept, so the part stays canonical.
    static func tamper(_ token: String, part: Int, offset: Int) -> String {
        var p = parts(token)
        var characters = Array(p[part])
        let value = base64URLAlphabet.firstIndex(of: characters[offset])!
        characters[offset] = base64URLAlphabet[value ^ 0x20]
        p[part] = String(characters)
        return p.joined(separator: ".")
    }

    @Test("changing any one character of the payload is bad_signature", arguments: KeyAlgorithm.allCases)
    func tamperPayload(algorithm: KeyAlgorithm) throws {
        let token = try fixture.signed(algorithm: algorithm)
        var wrong: [String] = []
        for offset in 0..<parts(token)[1].count {
            let tampered = Self.tamper(token, part: 1, offset: offset)
            #expect(Base64URL.decode(parts(tampered)[1]) != nil, "offset \(offset) is not canonical")
            let code = fixture.reason(tampered)
            if code != .badSignature { wrong.append("\(offset): \(code?.rawValue ?? "valid")") }
        }
        #expect(wrong.isEmpty, "payload offsets not refused as bad_signature: \(wrong)")
    }

    @Test("changing any one character of the signature is bad_signature", arguments: KeyAlgorithm.allCases)
    func tamperSignature(algorithm: KeyAlgorithm) throws {
        let token = try fixture.signed(algorithm: algorithm)
        var wrong: [String] = []
        for offset in 0..<parts(token)[2].count {
            let tampered = Self.tamper(token, part: 2, offset: offset)
            #expect(Base64URL.decode(parts(tampered)[2]) != nil, "offset \(offset) is not canonical")
            let code = fixture.reason(tampered)
            if code != .badSignature { wrong.append("\(offset): \(code?.rawValue ?? "valid")") }
        }
        #expect(wrong.isEmpty, "signature offsets not refused as bad_signature: \(wrong)")
    }

    /// A changed header either stops parsing, names another kid or algorithm, or leaves a
    /// signing input the signature does not cover. It never verifies.
    @Test("changing any one character of the header is refused", arguments: KeyAlgorithm.allCases)
    func tamperHeader(algorithm: KeyAlgorithm) throws {
        let token = try fixture.signed(algorithm: algorithm)
        let expected: Set<TokenError.Code> = [.malformed, .unknownKey, .algorithmMismatch, .badSignature]
        var wrong: [String] = []
        for offset in 0..<parts(token)[0].count {
            let tampered = Self.tamper(token, part: 0, offset: offset)
            #expect(Base64URL.decode(parts(tampered)[0]) != nil, "offset \(offset) is not canonical")
            let code = fixture.reason(tampered)
            if code.map({ !expected.contains($0) }) ?? true { wrong.append("\(offset): \(code?.rawValue ?? "valid")") }
        }
        #expect(wrong.isEmpty, "header offsets not refused: \(wrong)")
    }

    // MARK: invalid_claims (each after a valid signature)

    struct ClaimCase: Sendable, CustomTestStringConvertible {
        let label: String
        let replacing: [String: String?]
        let adding: [(String, String)]
        init(_ label: String, replacing: [String: String?] = [:], adding: [(String, String)] = []) {
            self.label = label
            self.replacing = replacing
            self.adding = adding
        }
        var testDescription: String { label }
    }

    static let badClaims: [ClaimCase] = [
        ClaimCase("exp 1e10", replacing: ["exp": "1e10"]),
        ClaimCase("exp \"x\"", replacing: ["exp": #""x""#]),
        ClaimCase("exp null", replacing: ["exp": "null"]),
        ClaimCase("exp as a fraction", replacing: ["exp": "\(Fixture.now + 3600).0"]),
        ClaimCase("exp as a string of digits", replacing: ["exp": "\"\(Fixture.now + 3600)\""]),
        ClaimCase("exp over 64 bits", replacing: ["exp": "99999999999999999999"]),
        ClaimCase("iat 1e3", replacing: ["iat": "1e3"]),
        ClaimCase("iat null", replacing: ["iat": "null"]),
        ClaimCase("iat true", replacing: ["iat": "true"]),
        ClaimCase("no exp", replacing: ["exp": nil]),
        ClaimCase("no iat", replacing: ["iat": nil]),
        ClaimCase("no iss", replacing: ["iss": nil]),
        ClaimCase("no aud", replacing: ["aud": nil]),
        ClaimCase("no jti", replacing: ["jti": nil]),
        ClaimCase("no rid", replacing: ["rid": nil]),
        ClaimCase("no dap", replacing: ["dap": nil]),
        ClaimCase("dap as a string", replacing: ["dap": #""true""#]),
        ClaimCase("dap as 1", replacing: ["dap": "1"]),
        ClaimCase("aud as an array", replacing: ["aud": #"["reseller-relationship"]"#]),
        ClaimCase("pid as a number", adding: [("pid", "5")]),
        ClaimCase("empty rid", replacing: ["rid": #""""#]),
        ClaimCase("empty jti", replacing: ["jti": #""""#]),
        ClaimCase("empty pid", adding: [("pid", #""""#)]),
        ClaimCase("an unknown claim", adding: [("admin", "true")]),
        ClaimCase("a duplicate exp", adding: [("exp", String(Fixture.now + 7200))]),
    ]

    @Test("claims of the wrong type, missing, empty or unknown are invalid_claims", arguments: badClaims)
    func invalidClaims(_ claim: ClaimCase) throws {
        let token = try fixture.handmade(payload: Fixture.payload(replacing: claim.replacing, adding: claim.adding))
        #expect(fixture.reason(token) == .invalidClaims)
    }

    @Test("a payload that is not a JSON object is invalid_claims")
    func payloadNotAnObject() throws {
        for payload in ["[]", "null", "\"invitation\"", "{", " ", "\u{FEFF}" + Fixture.payload()] {
            #expect(fixture.reason(try fixture.handmade(payload: payload)) == .invalidClaims, "\(payload.prefix(20).debugDescription)")
        }
    }

    @Test("a lifetime over 90 days is invalid_claims; exactly 90 days verifies")
    func maximumLifetime() throws {
        let ninetyDays = InvitationClaims.maximumLifetime
        #expect(ninetyDays == 90 * 86_400)
        #expect(fixture.reason(try fixture.signed(Fixture.claims(issuedAt: Fixture.now, lifetime: ninetyDays))) == nil)
        #expect(fixture.reason(try fixture.signed(Fixture.claims(issuedAt: Fixture.now, lifetime: ninetyDays + 1))) == .invalidClaims)
    }

    /// Issue 11: claims are any Int64 a key holder chose; extreme values are refused with
    /// their code, never an arithmetic trap (`exp − iat`, `now + skew`).
    @Test("extreme iat, exp and clocks are refused, never a crash", arguments: KeyAlgorithm.allCases)
    func extremeNumbers(algorithm: KeyAlgorithm) throws {
        let min = Int64.min, max = Int64.max
        let cases: [(iat: Int64, exp: Int64, now: Int64, reason: TokenError.Code)] = [
            (min, Fixture.now + 3600, Fixture.now, .invalidClaims),
            (min, max, Fixture.now, .invalidClaims),
            (Fixture.now, max, Fixture.now, .invalidClaims),
            (max, max, Fixture.now, .notYetValid),
            (min, min, Fixture.now, .expired),
            (Fixture.now - 10, Fixture.now + 3600, max, .expired),
            (min, max, max, .expired),
            (max, max, min, .notYetValid),
        ]
        for (iat, exp, now, reason) in cases {
            let payload = Fixture.payload(replacing: ["iat": String(iat), "exp": String(exp)])
            let signer: Fixture.Signer = algorithm == .ed25519 ? .ed25519 : .hmac
            let header = Fixture.header(alg: algorithm.jwsName, kid: algorithm == .ed25519 ? Fixture.edKid : Fixture.hmacKid)
            let token = try fixture.handmade(header: header, payload: payload, signer: signer)
            #expect(fixture.reason(token, now: now) == reason, "iat \(iat), exp \(exp), now \(now)")
        }
    }

    @Test("RFC 3339 formatting is total over Int64, and --at times outside years 1–9999 are refused")
    func extremeTimes() {
        #expect(RFC3339.format(0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(-1) == "1969-12-31T23:59:59Z")
        #expect(RFC3339.format(253_402_300_799) == "9999-12-31T23:59:59Z")
        #expect(RFC3339.format(-62_135_596_800) == "0001-01-01T00:00:00Z")
        _ = RFC3339.format(.min)
        _ = RFC3339.format(.max)
        #expect(RFC3339.parseTime("9223372036854775807") == nil)
        #expect(RFC3339.parseTime("-9223372036854775808") == nil)
        #expect(RFC3339.parseTime("253402300799") == 253_402_300_799)
        #expect(RFC3339.parseTime("2026-11-26T12:00:00Z") == 1_795_694_400)
    }

    // MARK: wrong_issuer, wrong_audience

    @Test("another issuer is wrong_issuer")
    func wrongIssuer() throws {
        let token = try fixture.handmade(payload: Fixture.payload(replacing: ["iss": #""someone-else""#]))
        #expect(fixture.reason(token) == .wrongIssuer)
        let otherService = TokenVerifier(issuer: "other-service")
        let error = #expect(throws: TokenError.self) {
            try otherService.verify(try fixture.signed(), keyring: fixture.keyring(), now: Fixture.now)
        }
        #expect(error?.code == .wrongIssuer)
    }

    @Test("another audience is wrong_audience")
    func wrongAudience() throws {
        let token = try fixture.handmade(payload: Fixture.payload(replacing: ["aud": #""api""#]))
        #expect(fixture.reason(token) == .wrongAudience)
    }

    // MARK: not_yet_valid, expired, the injected clock

    @Test("iat 61 s in the future is not_yet_valid; 60 and 59 s are accepted")
    func clockSkew() throws {
        #expect(fixture.reason(try fixture.signed(Fixture.claims(issuedAt: Fixture.now + 61))) == .notYetValid)
        #expect(fixture.reason(try fixture.signed(Fixture.claims(issuedAt: Fixture.now + 60))) == nil)
        #expect(fixture.reason(try fixture.signed(Fixture.claims(issuedAt: Fixture.now + 59))) == nil)
    }

    @Test("exp now or in the past is expired; one second later than now verifies")
    func expired() throws {
        let issued = Fixture.now - 3600
        #expect(fixture.reason(try fixture.signed(Fixture.claims(issuedAt: issued, lifetime: 3600))) == .expired)
        #expect(fixture.reason(try fixture.signed(Fixture.claims(issuedAt: issued, lifetime: 3599))) == .expired)
        #expect(fixture.reason(try fixture.signed(Fixture.claims(issuedAt: issued, lifetime: 3601))) == nil)
    }

    @Test("the injected clock: a token expired now was valid at an earlier time")
    func injectedClock() throws {
        let issued = Fixture.now - 20 * 86_400
        let token = try fixture.signed(Fixture.claims(issuedAt: issued))
        #expect(fixture.reason(token, now: Fixture.now) == .expired)
        #expect(fixture.reason(token, now: issued + 86_400) == nil)
        #expect(fixture.reason(token, now: issued - 61) == .notYetValid)
    }

    // MARK: order of checks

    /// The key's state is checked before the signature, and the signature before the claims:
    /// a revoked key's token with bad claims says key_revoked; a forged token with bad claims
    /// says bad_signature, never invalid_claims (the payload is not read before it is trusted).
    @Test("checks run in the documented order")
    func order() throws {
        let badClaims = Fixture.payload(replacing: ["exp": "null"])
        let revokedAndBadClaims = try fixture.handmade(payload: badClaims)
        #expect(fixture.reason(revokedAndBadClaims, keyring: fixture.keyring(ed: .revoked)) == .keyRevoked)
        let forgedWithBadClaims = try fixture.handmade(payload: badClaims, signer: .ed25519Key(try Ed25519PrivateKey()))
        #expect(fixture.reason(forgedWithBadClaims) == .badSignature)
        let expiredWrongIssuer = try fixture.handmade(
            payload: Fixture.payload(replacing: ["iss": #""x""#, "exp": String(Fixture.now - 1)]))
        #expect(fixture.reason(expiredWrongIssuer) == .wrongIssuer)
    }
}
