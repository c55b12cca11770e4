import Foundation
import InviteCrypto
import InviteToken
import Logging
import Testing

@testable import InviteServer

/// A running server's keyring follows `Keys/` (DESIGN.md §3, §11): changes are picked up, a
/// manifest that cannot be read leaves the last good keyring in use, a key whose file fails to
/// load is unusable while the manifest's states still apply (a revocation is never held back),
/// the holder reports itself stale until a reload succeeds in full, and a directory swapped
/// through a symlink (how Kubernetes updates mounted secrets) is followed.
@Suite struct KeyringReloadTests {
    private func temporaryDirectory() throws -> String {
        let path = NSTemporaryDirectory() + "keyring-reload-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        return path
    }

    private func rotate(_ directory: KeyringDirectory, now: Int64 = 1_800_000_000) throws -> String {
        let kid = Base64URL.encode(try SystemRandom.bytes(9))
        let pem = try Ed25519PrivateKey().pemRepresentation()
        try directory.update { manifest, secrets in
            try manifest.add(kid: kid, algorithm: .ed25519, now: now)
            try manifest.promote(kid, now: now)
            secrets.append(.init(kid: kid, algorithm: .ed25519, contents: SecureBytes(Array(pem.utf8))))
        }
        return kid
    }

    @Test func aRotationIsPickedUp() throws {
        let directory = KeyringDirectory(path: try temporaryDirectory())
        let first = try rotate(directory)
        let holder = try KeyringHolder(directory: directory, logger: Logger(label: "test"))
        #expect(holder.current.signingKey?.kid == first)
        let second = try rotate(directory)
        #expect(holder.reload() == .loaded)
        #expect(holder.reload() == .unchanged)
        #expect(holder.current.signingKey?.kid == second)
        #expect(holder.current.entry(first)?.state == .active)
    }

    @Test func aCorruptManifestKeepsTheLastGoodKeyring() throws {
        let path = try temporaryDirectory()
        let directory = KeyringDirectory(path: path)
        let kid = try rotate(directory)
        let holder = try KeyringHolder(directory: directory, logger: Logger(label: "test"))
        try Data("{\"version\": 1, \"keys\": [".utf8).write(to: URL(fileURLWithPath: path + "/keyring.json"))
        #expect(holder.reload() == .failed)
        #expect(holder.current.signingKey?.kid == kid, "the last good keyring must stay in use")
        #expect(holder.isStale(after: .zero))
    }

    @Test func aLaxSecretFileMakesThatKeyUnusableAndTheManifestStillApplies() throws {
        let path = try temporaryDirectory()
        let directory = KeyringDirectory(path: path)
        let first = try rotate(directory)
        let holder = try KeyringHolder(directory: directory, logger: Logger(label: "test"))
        let second = try rotate(directory)
        chmod(path + "/\(second).pem", 0o644)
        #expect(holder.reload() == .partial(unavailable: [second]))
        // The new primary cannot sign, and the former one is `active` now, as the manifest says.
        #expect(holder.current.signingKey == nil)
        #expect(holder.current.entry(first)?.state == .active)
        #expect(holder.current.material(for: first) != nil)
        #expect(holder.current.material(for: second) == nil)
        #expect(holder.isStale(after: .zero))
        #expect(!holder.isStale(after: .seconds(60)))
        // Fixed without touching the manifest: the next check retries and recovers.
        chmod(path + "/\(second).pem", 0o600)
        #expect(holder.reload() == .loaded)
        #expect(holder.current.signingKey?.kid == second)
        #expect(!holder.isStale(after: .zero))
    }

    /// Issue 11's drill: `keys revoke K1`, then another key's file made group-readable before
    /// the server's next check. The revocation applies; only the other key is lost.
    @Test func aRevocationAppliesWhenAnotherKeyFailsToLoad() throws {
        let path = try temporaryDirectory()
        let directory = KeyringDirectory(path: path)
        let revoked = try rotate(directory, now: 1_700_000_000)
        let primary = try rotate(directory, now: 1_700_000_100)
        let holder = try KeyringHolder(directory: directory, logger: Logger(label: "test"))
        let signer = try #require(holder.current.signingKey)
        #expect(signer.kid == primary)
        try directory.update { manifest, _ in try manifest.revoke(revoked, now: 1_800_000_000) }
        chmod(path + "/\(primary).pem", 0o640)
        #expect(holder.reload() == .partial(unavailable: [primary]))
        #expect(holder.current.entry(revoked)?.state == .revoked)
        #expect(holder.current.material(for: revoked) == nil)
        #expect(holder.current.material(for: primary) == nil)
    }

    @Test func aChangedKeyFileIsNoticedWithoutAManifestChange() throws {
        let path = try temporaryDirectory()
        let directory = KeyringDirectory(path: path)
        let kid = try rotate(directory)
        let holder = try KeyringHolder(directory: directory, logger: Logger(label: "test"))
        #expect(holder.reload() == .unchanged)
        chmod(path + "/\(kid).pem", 0o640)
        #expect(holder.reload() == .partial(unavailable: [kid]))
    }

    @Test func aSymlinkSwappedDirectoryIsFollowed() throws {
        let root = try temporaryDirectory()
        let first = KeyringDirectory(path: root + "/v1")
        let second = KeyringDirectory(path: root + "/v2")
        let firstKid = try rotate(first)
        let secondKid = try rotate(second)
        try FileManager.default.createSymbolicLink(atPath: root + "/Keys", withDestinationPath: root + "/v1")
        let holder = try KeyringHolder(directory: KeyringDirectory(path: root + "/Keys"), logger: Logger(label: "test"))
        #expect(holder.current.signingKey?.kid == firstKid)
        // Swap atomically, as kubelet does: a new link renamed over the old one.
        try FileManager.default.createSymbolicLink(atPath: root + "/Keys.new", withDestinationPath: root + "/v2")
        #expect(rename(root + "/Keys.new", root + "/Keys") == 0)
        #expect(holder.reload() == .loaded)
        #expect(holder.current.signingKey?.kid == secondKid)
    }
}
