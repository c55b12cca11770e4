import Foundation
import InviteCrypto
import InviteToken
import Testing

/// Rotation seen by the verifier: keys change in a real directory, tokens keep or lose their
/// validity as DESIGN.md §3 says.
@Suite("Rotation and JWKS")
struct RotationTests {
    let verifier = TokenVerifier(issuer: Fixture.issuer)

    func reason(_ token: String, _ directory: KeyringDirectory) throws -> TokenError.Code? {
        let keyring = try directory.load()
        do {
            _ = try verifier.verify(token, keyring: keyring, now: Fixture.now)
            return nil
        } catch {
            return error.code
        }
    }

    func sign(_ directory: KeyringDirectory) throws -> (token: String, kid: String) {
        let signer = try TokenSigner(keyring: try directory.load())
        return (try signer.sign(Fixture.claims()), signer.kid)
    }

    @Test("a token from the old primary still verifies after a new key is promoted")
    func oldPrimaryStillVerifies() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "old", promote: true)
            let (oldToken, oldKid) = try sign(directory)
            #expect(oldKid == "old")
            // add → (distribute) → promote: a token is verifiable before its key signs.
            try KeyFiles.addEd25519(directory, kid: "new")
            #expect(try reason(oldToken, directory) == nil)
            try directory.update { manifest, _ in try manifest.promote("new", now: Fixture.now) }
            #expect(try directory.load().entry("old")?.state == .active)
            #expect(try reason(oldToken, directory) == nil)
            let (newToken, newKid) = try sign(directory)
            #expect(newKid == "new")
            #expect(try reason(newToken, directory) == nil)
        }
    }

    @Test("after retire(force: true) the old key's token is key_retired")
    func retiredKey() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "old", promote: true)
            let (token, _) = try sign(directory)
            try KeyFiles.addEd25519(directory, kid: "new", promote: true)
            let refused = #expect(throws: KeyringError.self) {
                try directory.update { manifest, _ in
                    try manifest.retire("old", now: Fixture.now, maximumLifetime: InvitationClaims.maximumLifetime, force: false)
                }
            }
            #expect(refused?.code == .linksMayBeUnexpired)
            #expect(try reason(token, directory) == nil)
            try directory.update { manifest, _ in
                try manifest.retire("old", now: Fixture.now, maximumLifetime: InvitationClaims.maximumLifetime, force: true)
            }
            #expect(try reason(token, directory) == .keyRetired)
        }
    }

    @Test("after revoke the key's token is key_revoked")
    func revokedKey() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "k", promote: true)
            let (token, _) = try sign(directory)
            try directory.update { manifest, _ in try manifest.revoke("k", now: Fixture.now) }
            #expect(try reason(token, directory) == .keyRevoked)
            // The revoked primary leaves no signer behind.
            let error = #expect(throws: KeyringError.self) { try TokenSigner(keyring: try directory.load()) }
            #expect(error?.code == .noPrimaryKey)
        }
    }

    @Test("an HS256 primary rotates to Ed25519 and its tokens keep verifying")
    func rotateAcrossAlgorithms() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addHMAC(directory, kid: "hs")
            try directory.update { manifest, _ in try manifest.promote("hs", now: Fixture.now) }
            let (token, _) = try sign(directory)
            #expect(parts(token)[0] == Base64URL.encode(Array(Fixture.header(alg: "HS256", kid: "hs").utf8)))
            try KeyFiles.addEd25519(directory, kid: "ed", promote: true)
            #expect(try reason(token, directory) == nil)
        }
    }

    @Test("JWKS lists exactly the Ed25519 keys that verify, with x = base64url(public key) and no secrets")
    func jwks() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            let retired = try KeyFiles.addEd25519(directory, kid: "ed-retired", promote: true)
            try directory.update { manifest, _ in
                try manifest.retire("ed-retired", now: Fixture.now, maximumLifetime: InvitationClaims.maximumLifetime, force: true)
            }
            let revoked = try KeyFiles.addEd25519(directory, kid: "ed-revoked")
            try directory.update { manifest, _ in try manifest.revoke("ed-revoked", now: Fixture.now) }
            let active = try KeyFiles.addEd25519(directory, kid: "ed-active", promote: true)
            let primary = try KeyFiles.addEd25519(directory, kid: "ed-primary", promote: true)
            let next = try KeyFiles.addEd25519(directory, kid: "ed-next")
            try KeyFiles.addHMAC(directory, kid: "hs-next")
            let keyring = try directory.load()
            #expect(keyring.entries.map(\.state) == [.retired, .revoked, .active, .primary, .next, .next])

            let document = try #require(try JSONSerialization.jsonObject(with: Data(keyring.jwks().utf8)) as? [String: Any])
            #expect(document.keys.sorted() == ["keys"])
            let keys = try #require(document["keys"] as? [[String: String]])
            let byKid = Dictionary(uniqueKeysWithValues: keys.compactMap { key in key["kid"].map { ($0, key) } })
            #expect(byKid.keys.sorted() == ["ed-active", "ed-next", "ed-primary"])
            for (kid, key) in [("ed-active", active), ("ed-primary", primary), ("ed-next", next)] {
                let jwk = try #require(byKid[kid])
                #expect(jwk["kty"] == "OKP")
                #expect(jwk["crv"] == "Ed25519")
                #expect(jwk["alg"] == "EdDSA")
                #expect(jwk["x"] == Base64URL.encode(key.publicKey.rawRepresentation))
                #expect(Set(jwk.keys).isSubset(of: ["kty", "crv", "x", "kid", "alg", "use"]), "\(kid) has \(jwk.keys.sorted())")
            }
            for dead in [retired, revoked] {
                #expect(!keys.contains { $0["x"] == Base64URL.encode(dead.publicKey.rawRepresentation) })
            }
        }
    }

    /// Whatever material a keyring holds, only keys whose state verifies are published.
    @Test("JWKS leaves out retired and revoked keys even when their material is at hand")
    func jwksIgnoresMaterialOfDeadKeys() throws {
        var entries: [KeyEntry] = []
        var material: [String: KeyMaterial] = [:]
        for state in KeyState.allCases {
            entries.append(KeyEntry(kid: "ed-\(state.rawValue)", algorithm: .ed25519, state: state, createdAt: 0))
            material["ed-\(state.rawValue)"] = .ed25519(try Ed25519PrivateKey())
        }
        entries.append(KeyEntry(kid: "hs-active", algorithm: .hs256, state: .active, createdAt: 0))
        material["hs-active"] = .hmac(try HMACSHA256Key(secret: SecureBytes(randomCount: 32)))
        let jwks = Keyring(manifest: KeyManifest(entries: entries), material: material).jwks()
        let document = try #require(try JSONSerialization.jsonObject(with: Data(jwks.utf8)) as? [String: Any])
        let kids = try #require(document["keys"] as? [[String: String]]).compactMap { $0["kid"] }
        #expect(kids.sorted() == ["ed-active", "ed-next", "ed-primary"])
    }
}
