import InviteToken
import Testing

/// The lifecycle rules of DESIGN.md §3, on the manifest alone (no files, no clock).
@Suite("KeyManifest lifecycle")
struct KeyManifestTests {
    static let day: Int64 = 86_400
    static let t0: Int64 = 1_800_000_000
    static let maxLifetime = InvitationClaims.maximumLifetime

    /// Key "a" primary since t0, key "b" added at t0.
    static func twoKeys() throws -> KeyManifest {
        var manifest = KeyManifest()
        try manifest.add(kid: "a", algorithm: .ed25519, now: t0)
        try manifest.promote("a", now: t0)
        try manifest.add(kid: "b", algorithm: .ed25519, now: t0)
        return manifest
    }

    @Test("add puts a key in state next, recording its creation time")
    func add() throws {
        var manifest = KeyManifest()
        try manifest.add(kid: "k1", algorithm: .hs256, now: Self.t0)
        let entry = try #require(manifest.entry("k1"))
        #expect(entry.state == .next)
        #expect(entry.algorithm == .hs256)
        #expect(entry.createdAt == Self.t0)
        #expect(manifest.primary == nil)
    }

    @Test("add refuses a kid that already exists")
    func duplicateKid() throws {
        var manifest = try Self.twoKeys()
        let error = #expect(throws: KeyringError.self) { try manifest.add(kid: "a", algorithm: .hs256, now: Self.t0) }
        #expect(error?.code == .duplicateKid)
        #expect(manifest == (try Self.twoKeys()))
    }

    @Test(
        "add refuses a kid outside [A-Za-z0-9_-]{1,64}",
        arguments: [
            "", String(repeating: "k", count: 65), "a b", "a/b", "../keys", "a.b", "é", "a\n", "kid=", "a+b", "\u{0}",
        ])
    func invalidKid(kid: String) {
        var manifest = KeyManifest()
        let error = #expect(throws: KeyringError.self) { try manifest.add(kid: kid, algorithm: .ed25519, now: Self.t0) }
        #expect(error?.code == .invalidKid)
        #expect(manifest.entries.isEmpty)
    }

    @Test(
        "add accepts every kid of [A-Za-z0-9_-]{1,64}",
        arguments: ["a", "Z", "0", "-", "_", String(repeating: "k", count: 64), "ed25519-2026_11-AZaz09"])
    func validKid(kid: String) throws {
        var manifest = KeyManifest()
        try manifest.add(kid: kid, algorithm: .ed25519, now: Self.t0)
        #expect(manifest.entry(kid)?.state == .next)
    }

    @Test("promote makes the key primary and the old primary active, stamping both")
    func promote() throws {
        var manifest = try Self.twoKeys()
        try manifest.promote("b", now: Self.t0 + Self.day)
        #expect(manifest.entry("b")?.state == .primary)
        #expect(manifest.entry("b")?.promotedAt == Self.t0 + Self.day)
        #expect(manifest.entry("a")?.state == .active)
        #expect(manifest.entry("a")?.demotedAt == Self.t0 + Self.day)
        #expect(manifest.entries.filter { $0.state == .primary }.count == 1)
        #expect(manifest.primary?.kid == "b")
    }

    @Test("promoting the primary again changes nothing")
    func promotePrimaryAgain() throws {
        var manifest = try Self.twoKeys()
        let before = manifest
        try manifest.promote("a", now: Self.t0 + Self.day)
        #expect(manifest == before)
    }

    @Test("an active key can be promoted back")
    func promoteActiveBack() throws {
        var manifest = try Self.twoKeys()
        try manifest.promote("b", now: Self.t0 + Self.day)
        try manifest.promote("a", now: Self.t0 + 2 * Self.day)
        #expect(manifest.primary?.kid == "a")
        #expect(manifest.entry("b")?.state == .active)
    }

    @Test("retired and revoked keys cannot be promoted", arguments: [KeyState.retired, .revoked])
    func promoteDeadKey(state: KeyState) throws {
        var manifest = try Self.twoKeys()
        if state == .retired {
            try manifest.retire("b", now: Self.t0, maximumLifetime: Self.maxLifetime, force: false)
        } else {
            try manifest.revoke("b", now: Self.t0)
        }
        #expect(manifest.entry("b")?.state == state)
        let before = manifest
        let error = #expect(throws: KeyringError.self) { try manifest.promote("b", now: Self.t0 + Self.day) }
        #expect(error?.code == .invalidTransition)
        #expect(manifest == before)
    }

    @Test("a public-only key cannot be promoted")
    func promotePublicOnly() throws {
        var manifest = KeyManifest()
        try manifest.add(kid: "imported", algorithm: .ed25519, publicOnly: true, now: Self.t0)
        let error = #expect(throws: KeyringError.self) { try manifest.promote("imported", now: Self.t0) }
        #expect(error?.code == .invalidTransition)
    }

    @Test("promote, retire and revoke of an unknown kid are unknownKey")
    func unknownKid() throws {
        var manifest = try Self.twoKeys()
        let promote = #expect(throws: KeyringError.self) { try manifest.promote("zz", now: Self.t0) }
        #expect(promote?.code == .unknownKey)
        let retire = #expect(throws: KeyringError.self) {
            try manifest.retire("zz", now: Self.t0, maximumLifetime: Self.maxLifetime, force: true)
        }
        #expect(retire?.code == .unknownKey)
        let revoke = #expect(throws: KeyringError.self) { try manifest.revoke("zz", now: Self.t0) }
        #expect(revoke?.code == .unknownKey)
    }

    @Test("retiring the primary is refused without force")
    func retirePrimaryRefused() throws {
        var manifest = try Self.twoKeys()
        let before = manifest
        let error = #expect(throws: KeyringError.self) {
            try manifest.retire("a", now: Self.t0 + 365 * Self.day, maximumLifetime: Self.maxLifetime, force: false)
        }
        #expect(error?.code == .linksMayBeUnexpired)
        #expect(manifest == before)
    }

    @Test("retiring the primary with force leaves no primary")
    func retirePrimaryForced() throws {
        var manifest = try Self.twoKeys()
        try manifest.retire("a", now: Self.t0 + Self.day, maximumLifetime: Self.maxLifetime, force: true)
        #expect(manifest.entry("a")?.state == .retired)
        #expect(manifest.entry("a")?.retiredAt == Self.t0 + Self.day)
        #expect(manifest.entry("a")?.demotedAt == Self.t0 + Self.day)
        #expect(manifest.primary == nil)
    }

    @Test("retiring a key demoted less than 90 days ago is refused without force, allowed with it")
    func retireRecentlyDemoted() throws {
        var manifest = try Self.twoKeys()
        try manifest.promote("b", now: Self.t0)
        let oneSecondEarly = Self.t0 + Self.maxLifetime - 1
        let error = #expect(throws: KeyringError.self) {
            try manifest.retire("a", now: oneSecondEarly, maximumLifetime: Self.maxLifetime, force: false)
        }
        #expect(error?.code == .linksMayBeUnexpired)
        #expect(manifest.entry("a")?.state == .active)
        try manifest.retire("a", now: oneSecondEarly, maximumLifetime: Self.maxLifetime, force: true)
        #expect(manifest.entry("a")?.state == .retired)
    }

    @Test("retiring a key demoted 90 days ago is allowed without force")
    func retireAfterMaximumLifetime() throws {
        var manifest = try Self.twoKeys()
        try manifest.promote("b", now: Self.t0)
        try manifest.retire("a", now: Self.t0 + Self.maxLifetime, maximumLifetime: Self.maxLifetime, force: false)
        #expect(manifest.entry("a")?.state == .retired)
    }

    @Test("a key that never signed (state next) can be retired at once")
    func retireNext() throws {
        var manifest = try Self.twoKeys()
        try manifest.retire("b", now: Self.t0, maximumLifetime: Self.maxLifetime, force: false)
        #expect(manifest.entry("b")?.state == .retired)
    }

    @Test("a revoked key cannot be retired")
    func retireRevoked() throws {
        var manifest = try Self.twoKeys()
        try manifest.revoke("b", now: Self.t0)
        let error = #expect(throws: KeyringError.self) {
            try manifest.retire("b", now: Self.t0, maximumLifetime: Self.maxLifetime, force: true)
        }
        #expect(error?.code == .invalidTransition)
        #expect(manifest.entry("b")?.state == .revoked)
    }

    @Test("revoke takes effect at once, from any state, the primary included", arguments: [KeyState.next, .primary, .active, .retired])
    func revoke(from state: KeyState) throws {
        var manifest = try Self.twoKeys()
        try manifest.promote("b", now: Self.t0) // a: active, b: primary
        try manifest.add(kid: "c", algorithm: .hs256, now: Self.t0) // c: next
        let kid: String
        switch state {
        case .next: kid = "c"
        case .primary: kid = "b"
        case .active: kid = "a"
        default:
            kid = "a"
            try manifest.retire("a", now: Self.t0, maximumLifetime: Self.maxLifetime, force: true)
        }
        #expect(manifest.entry(kid)?.state == state)
        try manifest.revoke(kid, now: Self.t0 + 1)
        #expect(manifest.entry(kid)?.state == .revoked)
        #expect(manifest.entry(kid)?.revokedAt == Self.t0 + 1)
        if state == .primary { #expect(manifest.primary == nil) }
    }

    @Test("which states sign and which verify")
    func stateTable() {
        #expect(KeyState.allCases.filter(\.signs) == [.primary])
        #expect(KeyState.allCases.filter(\.verifies) == [.next, .primary, .active])
    }
}
