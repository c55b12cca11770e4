import Testing

@testable import InviteToken

/// A keyring remembers the Ed25519 tokens it has verified. These tests hold one keyring across
/// calls, so the second and later checks are answered by the cache where it applies, and show
/// that it answers for nothing but the signature of exactly the token it holds.
@Suite("Verified-signature cache")
struct VerifiedSignatureCacheTests {
    let fixture: Fixture
    init() throws { fixture = try Fixture() }

    @Test("an Ed25519 token verified once is remembered by that keyring and verifies again")
    func remembered() throws {
        let keyring = fixture.keyring()
        let token = try fixture.signed()
        #expect(keyring.verifiedSignatures.count == 0)
        #expect(fixture.reason(token, keyring: keyring) == nil)
        #expect(keyring.verifiedSignatures.count == 1)
        #expect(fixture.reason(token, keyring: keyring) == nil)
        #expect(keyring.verifiedSignatures.count == 1)
    }

    @Test("after the valid token is cached, every one-character change of its payload or signature is still bad_signature")
    func nearMissesStayRefused() throws {
        let keyring = fixture.keyring()
        let token = try fixture.signed()
        #expect(fixture.reason(token, keyring: keyring) == nil)
        var wrong: [String] = []
        for part in [1, 2] {
            for offset in 0..<parts(token)[part].count {
                let code = fixture.reason(TokenVerifierTests.tamper(token, part: part, offset: offset), keyring: keyring)
                if code != .badSignature { wrong.append("part \(part) offset \(offset): \(code?.rawValue ?? "valid")") }
            }
        }
        #expect(wrong.isEmpty, "\(wrong)")
        #expect(keyring.verifiedSignatures.count == 1)
    }

    @Test("a cached token is still refused once expired, and by a keyring where its key is retired or revoked")
    func everythingButTheSignatureIsCheckedAgain() throws {
        let keyring = fixture.keyring()
        let claims = Fixture.claims()
        let token = try fixture.signed(claims)
        #expect(fixture.reason(token, keyring: keyring) == nil)
        #expect(fixture.reason(token, keyring: keyring, now: claims.expiresAt) == .expired)
        #expect(fixture.reason(token, keyring: keyring, now: claims.issuedAt - 3600) == .notYetValid)
        #expect(fixture.reason(token, keyring: fixture.keyring(ed: .retired)) == .keyRetired)
        #expect(fixture.reason(token, keyring: fixture.keyring(ed: .revoked)) == .keyRevoked)
    }

    @Test("HMAC tokens are not cached: their MAC is compared in constant time on every check")
    func hmacNotCached() throws {
        let keyring = fixture.keyring()
        let token = try fixture.signed(algorithm: .hs256)
        #expect(fixture.reason(token, keyring: keyring) == nil)
        #expect(fixture.reason(token, keyring: keyring) == nil)
        #expect(keyring.verifiedSignatures.count == 0)
    }

    @Test("the cache holds at most its capacity, however many tokens verify; the newest is always there")
    func bounded() {
        let cache = VerifiedSignatureCache()
        for index in 0..<(VerifiedSignatureCache.capacity * 4) {
            let token = Array("token-\(index)".utf8)
            token.withUnsafeBytes { cache.insert($0) }
            #expect(token.withUnsafeBytes { cache.contains($0) }, "a token just inserted is missing")
        }
        // Direct-mapped: four times its capacity in distinct tokens fill nearly every slot, never more.
        #expect(cache.count <= VerifiedSignatureCache.capacity && cache.count > VerifiedSignatureCache.capacity * 9 / 10)
        let never = Array("never-inserted".utf8)
        #expect(!never.withUnsafeBytes { cache.contains($0) })
    }
}
