import InviteCrypto
import InviteToken
import Testing

/// Invitation links, setup links and audit checkpoints are signed by the same keys: each kind's
/// `typ` and audience keep a token of one kind from passing for another.
@Suite("Token kinds")
struct TokenKindTests {
    let fixture: Fixture
    init() throws { fixture = try Fixture() }

    var setup: SetupClaims {
        SetupClaims(
            issuer: Fixture.issuer, linkID: "link-1", userID: "user-1", issuedAt: Fixture.now - 10,
            expiresAt: Fixture.now - 10 + SetupClaims.lifetime)
    }

    var checkpoint: CheckpointClaims {
        CheckpointClaims(
            issuer: Fixture.issuer, checkpointID: "ckpt_1", first: 1, last: 2, count: 2, previous: "AA", head: "AA",
            issuedAt: Fixture.now - 10)
    }

    func reason<Claims: SignedClaims>(_ token: String, as kind: Claims.Type, lifetime: Int64 = CheckpointClaims.lifetime) -> TokenError
        .Code?
    {
        do {
            _ = try TokenVerifier(issuer: Fixture.issuer, maximumLifetime: lifetime).verify(
                token, as: kind, keyring: fixture.keyring(), now: Fixture.now)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("each kind verifies as itself, on both algorithms")
    func ownKind() throws {
        for material in [KeyMaterial.ed25519(fixture.ed), .hmac(fixture.hmac)] {
            let kid = material.algorithm == .ed25519 ? Fixture.edKid : Fixture.hmacKid
            let signer = try TokenSigner(kid: kid, material: material)
            #expect(reason(try signer.sign(setup), as: SetupClaims.self) == nil)
            #expect(reason(try signer.sign(checkpoint), as: CheckpointClaims.self) == nil)
            #expect(reason(try signer.sign(Fixture.claims()), as: InvitationClaims.self) == nil)
        }
    }

    @Test("a token of one kind is refused as any other, by its typ, before its claims are read")
    func otherKinds() throws {
        let signer = try TokenSigner(kid: Fixture.edKid, material: .ed25519(fixture.ed))
        let invitation = try signer.sign(Fixture.claims()), setupToken = try signer.sign(setup)
        let checkpointToken = try signer.sign(checkpoint)
        #expect(reason(invitation, as: SetupClaims.self) == .malformed, "an invitation link opened /setup")
        #expect(reason(setupToken, as: InvitationClaims.self) == .malformed, "a setup link was accepted as an invitation")
        #expect(reason(checkpointToken, as: SetupClaims.self) == .malformed, "a checkpoint opened /setup")
        #expect(reason(setupToken, as: CheckpointClaims.self) == .malformed, "a setup link passed as a checkpoint")
        #expect((try? fixture.verifier.verify(setupToken, keyring: fixture.keyring(), now: Fixture.now)) == nil)
    }

    @Test("a setup link is 72 hours at most: a longer one is refused")
    func setupLifetime() throws {
        let signer = try TokenSigner(kid: Fixture.edKid, material: .ed25519(fixture.ed))
        var long = setup
        long.expiresAt = long.issuedAt + SetupClaims.lifetime + 1
        #expect(reason(try signer.sign(long), as: SetupClaims.self, lifetime: SetupClaims.lifetime) == .invalidClaims)
        var huge = setup
        (huge.issuedAt, huge.expiresAt) = (Int64.min, Int64.max)
        #expect(reason(try signer.sign(huge), as: SetupClaims.self, lifetime: SetupClaims.lifetime) != nil, "overflowing claims passed")
    }
}
