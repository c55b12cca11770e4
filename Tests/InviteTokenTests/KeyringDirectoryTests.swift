import Foundation
import InviteCrypto
import InviteToken
import TestVectors
import Testing

/// Adds keys through ``KeyringDirectory/update(_:)`` the way the CLI does.
enum KeyFiles {
    @discardableResult
    static func addEd25519(_ directory: KeyringDirectory, kid: String, promote: Bool = false, now: Int64 = Fixture.now) throws
        -> Ed25519PrivateKey
    {
        let key = try Ed25519PrivateKey()
        let pem = try key.pemRepresentation()
        try directory.update { manifest, secrets in
            try manifest.add(kid: kid, algorithm: .ed25519, now: now)
            secrets.append(.init(kid: kid, algorithm: .ed25519, contents: SecureBytes(Array(pem.utf8))))
            if promote { try manifest.promote(kid, now: now) }
        }
        return key
    }

    @discardableResult
    static func addHMAC(_ directory: KeyringDirectory, kid: String, byteCount: Int = 32, now: Int64 = Fixture.now) throws -> [UInt8] {
        let secret = try SystemRandom.bytes(byteCount)
        try directory.update { manifest, secrets in
            try manifest.add(kid: kid, algorithm: .hs256, now: now)
            secrets.append(.init(kid: kid, algorithm: .hs256, contents: SecureBytes(Array((Base64URL.encode(secret) + "\n").utf8))))
        }
        return secret
    }

    static func mode(_ path: String) throws -> Int {
        let attributes = try FileManager.default.attributesOfItem(atPath: path)
        return try #require(attributes[.posixPermissions] as? NSNumber).intValue & 0o777
    }

    static func chmod(_ path: String, _ mode: Int) throws {
        try FileManager.default.setAttributes([.posixPermissions: NSNumber(value: mode)], ofItemAtPath: path)
    }

    /// Every file of the directory except the lock, with its bytes: what "unchanged" means.
    static func snapshot(_ path: String) throws -> [String: Data] {
        var files: [String: Data] = [:]
        for name in try FileManager.default.contentsOfDirectory(atPath: path) where name != ".lock" {
            files[name] = try Data(contentsOf: URL(fileURLWithPath: path + "/" + name))
        }
        return files
    }
}

@Suite("KeyringDirectory")
struct KeyringDirectoryTests {
    @Test("keys written through update load back with their states and material")
    func roundTrip() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            let ed = try KeyFiles.addEd25519(directory, kid: "ed-1", promote: true)
            let secret = try KeyFiles.addHMAC(directory, kid: "hs-1")
            let keyring = try directory.load()
            #expect(keyring.entries.map(\.kid) == ["ed-1", "hs-1"])
            #expect(keyring.entry("ed-1")?.state == .primary)
            #expect(keyring.entry("hs-1")?.state == .next)
            #expect(keyring.material(for: "ed-1")?.ed25519PublicKey?.rawRepresentation == ed.publicKey.rawRepresentation)
            guard case .hmac(let loaded)? = keyring.material(for: "hs-1") else {
                Issue.record("hs-1 did not load as an HMAC key")
                return
            }
            let message = Array("message".utf8)
            #expect(
                try loaded.authenticationCode(for: message) == HMACSHA256Key(secret: SecureBytes(secret)).authenticationCode(for: message))
            #expect(keyring.signingKey?.kid == "ed-1")
        }
    }

    @Test("checkpoints are checked with retired keys too, never with revoked ones, which are named")
    func keysForCheckpoints() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            let old = try KeyFiles.addEd25519(directory, kid: "ed-old", promote: true)
            try KeyFiles.addEd25519(directory, kid: "ed-bad", promote: true, now: Fixture.now + 1)
            try KeyFiles.addEd25519(directory, kid: "ed-new", promote: true, now: Fixture.now + 2)
            try directory.update { manifest, _ in
                try manifest.retire("ed-old", now: Fixture.now + 3, maximumLifetime: 0, force: true)
                try manifest.revoke("ed-bad", now: Fixture.now + 3)
            }
            #expect(try directory.load().material(for: "ed-old") == nil, "the service's keyring verifies with a retired key")
            let (keyring, revoked) = try directory.loadForCheckpoints()
            #expect(revoked == ["ed-bad"])
            #expect(keyring.material(for: "ed-bad") == nil, "a revoked key can check checkpoints")
            #expect(keyring.entry("ed-old")?.state.verifies == true)
            #expect(keyring.material(for: "ed-old")?.ed25519PublicKey?.rawRepresentation == old.publicKey.rawRepresentation)
            #expect(keyring.material(for: "ed-new") != nil && keyring.signingKey?.kid == "ed-new")
        }
    }

    @Test("the files are KID.pem (PKCS#8, as openssl writes) and KID.hmac (one base64url line), mode 0600")
    func fileLayoutAndModes() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "ed-1", promote: true)
            try KeyFiles.addHMAC(directory, kid: "hs-1")
            #expect(try KeyFiles.mode(path + "/ed-1.pem") == 0o600)
            #expect(try KeyFiles.mode(path + "/hs-1.hmac") == 0o600)
            let pem = try String(contentsOfFile: path + "/ed-1.pem", encoding: .utf8)
            #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
            let hmacLines = try String(contentsOfFile: path + "/hs-1.hmac", encoding: .utf8).split(separator: "\n")
            #expect(hmacLines.count == 1)
            #expect(Base64URL.decode(hmacLines[0])?.count == 32)
            let names = Set(try FileManager.default.contentsOfDirectory(atPath: path)).subtracting([".lock"])
            #expect(names == ["keyring.json", "ed-1.pem", "hs-1.hmac"], "leftover files: \(names)")
        }
    }

    @Test(
        "files an interrupted command leaves (an unnamed key file, a temporary file) are reported, named keys are not, and the keyring still loads"
    )
    func strayFiles() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "ed-named", promote: true)
            try KeyFiles.addHMAC(directory, kid: "hs-named")
            let manifest = try directory.load().manifest
            #expect(directory.strayFiles(in: manifest).isEmpty, "a fresh keyring reports \(directory.strayFiles(in: manifest))")

            for name in ["ed-orphan.pem", "hs-orphan.hmac", "ed-named.hmac", "ed-late.pem.tmp-4242", "keyring.json.tmp-4242", "notes.txt"] {
                #expect(
                    FileManager.default.createFile(
                        atPath: path + "/" + name, contents: Data("x".utf8), attributes: [.posixPermissions: 0o600]))
            }
            #expect(
                directory.strayFiles(in: manifest)
                    == [
                        "ed-late.pem.tmp-4242", "ed-named.hmac", "ed-orphan.pem", "hs-orphan.hmac", "keyring.json.tmp-4242",
                    ].map { path + "/" + $0 })
            #expect(try directory.load().entries.count == 2, "stray files changed what loads")
        }
    }

    @Test("update creates a missing directory; load of a missing directory is an empty keyring")
    func missingDirectory() throws {
        try withTemporaryDirectory { path in
            let keys = path + "/Keys"
            #expect(try KeyringDirectory(path: keys).load().entries.isEmpty)
            try KeyFiles.addEd25519(KeyringDirectory(path: keys), kid: "k")
            #expect(try KeyringDirectory(path: keys).load().entries.count == 1)
            #expect(try KeyFiles.mode(keys) & 0o077 == 0, "the Keys directory is open to group or others")
        }
    }

    @Test(
        "a secret file readable by group or others makes load() throw laxPermissions, naming the file",
        arguments: [0o644, 0o640, 0o604, 0o660])
    func laxPermissions(mode: Int) throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "ed-1", promote: true)
            try KeyFiles.chmod(path + "/ed-1.pem", mode)
            let error = #expect(throws: KeyringError.self) { try directory.load() }
            #expect(error?.code == .laxPermissions)
            #expect(error?.message.contains("ed-1.pem") == true, "\(String(describing: error?.message))")
        }
    }

    @Test("an HMAC secret file mode 0644 is refused too")
    func laxHMACPermissions() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addHMAC(directory, kid: "hs-1")
            try KeyFiles.chmod(path + "/hs-1.hmac", 0o644)
            let error = #expect(throws: KeyringError.self) { try directory.load() }
            #expect(error?.code == .laxPermissions)
        }
    }

    @Test("an HMAC file with a 31-byte secret makes load() throw shortSecret")
    func shortSecretFile() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addHMAC(directory, kid: "hs-short", byteCount: 31)
            let error = #expect(throws: KeyringError.self) { try directory.load() }
            #expect(error?.code == .shortSecret)
        }
    }

    @Test("hmacKey(fromFileContents:): 32 bytes load, with or without a final newline; 31 bytes are shortSecret")
    func hmacFileContents() throws {
        let secret32 = Base64URL.encode([UInt8](repeating: 0xab, count: 32))
        for contents in [secret32, secret32 + "\n", secret32 + "\r\n"] {
            _ = try KeyringDirectory.hmacKey(fromFileContents: Array(contents.utf8), source: "test")
        }
        let short = Array(Base64URL.encode([UInt8](repeating: 0xab, count: 31)).utf8)
        let error = #expect(throws: KeyringError.self) { try KeyringDirectory.hmacKey(fromFileContents: short, source: "test") }
        #expect(error?.code == .shortSecret)
    }

    @Test(
        "an HMAC file that is not one line of canonical base64url is corrupt",
        arguments: [
            Data((0..<11).flatMap { _ in [0xfb, 0xff, 0xbf] as [UInt8] }).base64EncodedString(), // "+/+/…": standard alphabet
            Base64URL.encode([UInt8](repeating: 0xab, count: 32)) + "=",
            Base64URL.encode([UInt8](repeating: 0xab, count: 32)) + "\n\n",
            " " + Base64URL.encode([UInt8](repeating: 0xab, count: 32)),
        ])
    func corruptHMACFile(contents: String) {
        let error = #expect(throws: KeyringError.self) {
            try KeyringDirectory.hmacKey(fromFileContents: Array(contents.utf8), source: "test")
        }
        #expect(error?.code == .corrupt)
    }

    @Test(
        "a keyring.json that is not a valid manifest makes load() throw corrupt",
        arguments: [
            "", "{", "[]", "null", #"{"version":1}"#, #"{"version":2,"keys":[]}"#, #"{"version":1.0,"keys":[]}"#,
            #"{"version":1,"keys":[],"version":1}"#, "\u{FEFF}{\"version\":1,\"keys\":[]}",
            #"{"version":1,"keys":[{"kid":"k","alg":"RS256","state":"next","created_at":"2027-01-15T08:00:00Z"}]}"#,
            #"{"version":1,"keys":[{"kid":"k","alg":"EdDSA","state":"dormant","created_at":"2027-01-15T08:00:00Z"}]}"#,
            #"{"version":1,"keys":[{"kid":"../k","alg":"EdDSA","state":"next","created_at":"2027-01-15T08:00:00Z"}]}"#,
            #"{"version":1,"keys":[{"kid":"k","alg":"EdDSA","state":"next"}]}"#,
            #"{"version":1,"keys":[{"kid":"k","alg":"EdDSA","state":"next","created_at":"yesterday"}]}"#,
            #"{"version":1,"keys":[{"kid":"k","alg":"EdDSA","state":"retired","created_at":0},{"kid":"k","alg":"EdDSA","state":"retired","created_at":0}]}"#,
            #"{"version":1,"keys":[{"kid":"a","alg":"EdDSA","state":"primary","created_at":0},{"kid":"b","alg":"EdDSA","state":"primary","created_at":0}]}"#,
        ])
    func corruptManifest(contents: String) throws {
        try withTemporaryDirectory { path in
            try Data(contents.utf8).write(to: URL(fileURLWithPath: path + "/keyring.json"))
            let error = #expect(throws: KeyringError.self) { try KeyringDirectory(path: path).load() }
            #expect(error?.code == .corrupt)
        }
    }

    @Test("a .pem file that is not an Ed25519 private key is corrupt")
    func corruptPEM() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try directory.update { manifest, secrets in
                try manifest.add(kid: "ed-1", algorithm: .ed25519, now: Fixture.now)
                secrets.append(.init(kid: "ed-1", algorithm: .ed25519, contents: SecureBytes(Array("not a key\n".utf8))))
            }
            let error = #expect(throws: KeyringError.self) { try directory.load() }
            #expect(error?.code == .corrupt)
        }
    }

    @Test("a missing secret file makes load() throw io")
    func missingSecret() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "ed-1")
            try FileManager.default.removeItem(atPath: path + "/ed-1.pem")
            let error = #expect(throws: KeyringError.self) { try directory.load() }
            #expect(error?.code == .io)
        }
    }

    @Test("an imported small-order public key is refused at load with smallOrderKey")
    func smallOrderImport() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            // The identity point (y = 1) as a SubjectPublicKeyInfo.
            let der = try hex("302a300506032b6570032100" + "01" + String(repeating: "00", count: 31))
            let pem = "-----BEGIN PUBLIC KEY-----\n\(Data(der).base64EncodedString())\n-----END PUBLIC KEY-----\n"
            try directory.update { manifest, secrets in
                try manifest.add(kid: "imported", algorithm: .ed25519, publicOnly: true, now: Fixture.now)
                secrets.append(.init(kid: "imported", algorithm: .ed25519, contents: SecureBytes(Array(pem.utf8))))
            }
            let error = #expect(throws: KeyringError.self) { try directory.load() }
            #expect(error?.code == .smallOrderKey)
        }
    }

    @Test("an imported ordinary public key loads as verify-only and cannot sign")
    func publicOnlyImport() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            let key = try Ed25519PrivateKey()
            let pem = try key.publicKey.pemRepresentation()
            try directory.update { manifest, secrets in
                try manifest.add(kid: "imported", algorithm: .ed25519, publicOnly: true, now: Fixture.now)
                secrets.append(.init(kid: "imported", algorithm: .ed25519, contents: SecureBytes(Array(pem.utf8))))
            }
            let keyring = try directory.load()
            #expect(keyring.entry("imported")?.publicOnly == true)
            #expect(keyring.material(for: "imported")?.canSign == false)
            #expect(keyring.material(for: "imported")?.ed25519PublicKey?.rawRepresentation == key.publicKey.rawRepresentation)
        }
    }

    @Test("a kid outside [A-Za-z0-9_-]{1,64} is refused by update and nothing is written", arguments: ["../escape", "a/b", "", "k y"])
    func invalidKidThroughUpdate(kid: String) throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "ed-1", promote: true)
            let before = try KeyFiles.snapshot(path)
            let error = #expect(throws: KeyringError.self) { try KeyFiles.addEd25519(directory, kid: kid) }
            #expect(error?.code == .invalidKid)
            #expect(try KeyFiles.snapshot(path) == before)
            #expect(!FileManager.default.fileExists(atPath: path + "/../escape.pem"))
        }
    }

    @Test("a change that throws writes nothing, not even the secrets it queued")
    func throwingChangeWritesNothing() throws {
        struct Abandon: Error {}
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "ed-1", promote: true)
            let before = try KeyFiles.snapshot(path)
            #expect(throws: Abandon.self) {
                try directory.update { manifest, secrets in
                    try manifest.add(kid: "ed-2", algorithm: .ed25519, now: Fixture.now)
                    secrets.append(.init(kid: "ed-2", algorithm: .ed25519, contents: SecureBytes(Array("x".utf8))))
                    throw Abandon()
                }
            }
            #expect(try KeyFiles.snapshot(path) == before)
        }
    }

    @Test("update refuses to change a keyring that does not load")
    func updateRefusesBrokenKeyring() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "ed-1", promote: true)
            try KeyFiles.chmod(path + "/ed-1.pem", 0o644)
            let manifest = try Data(contentsOf: URL(fileURLWithPath: path + "/keyring.json"))
            let error = #expect(throws: KeyringError.self) { try KeyFiles.addEd25519(directory, kid: "ed-2") }
            #expect(error?.code == .laxPermissions)
            #expect(try Data(contentsOf: URL(fileURLWithPath: path + "/keyring.json")) == manifest)
        }
    }

    @Test("concurrent updates from many threads lose no key")
    func concurrentUpdates() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            let failures = Failures()
            DispatchQueue.concurrentPerform(iterations: 16) { index in
                do { try KeyFiles.addHMAC(directory, kid: "hs-\(index)") } catch { failures.record("\(index): \(error)") }
            }
            #expect(failures.all.isEmpty, "\(failures.all)")
            let keyring = try directory.load()
            #expect(Set(keyring.entries.map(\.kid)) == Set((0..<16).map { "hs-\($0)" }))
        }
    }

    @Test("the manifest's JSON form lists every key with kid, JWS alg and state")
    func manifestJSON() throws {
        try withTemporaryDirectory { path in
            let directory = KeyringDirectory(path: path)
            try KeyFiles.addEd25519(directory, kid: "ed-1", promote: true)
            try KeyFiles.addHMAC(directory, kid: "hs-1")
            let text = try directory.load().manifest.jsonRepresentation()
            let document = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
            #expect(document["version"] as? Int == 1)
            let keys = try #require(document["keys"] as? [[String: Any]])
            #expect(keys.map { $0["kid"] as? String } == ["ed-1", "hs-1"])
            #expect(keys.map { $0["alg"] as? String } == ["EdDSA", "HS256"])
            #expect(keys.map { $0["state"] as? String } == ["primary", "next"])
            #expect(text == String(decoding: try Data(contentsOf: URL(fileURLWithPath: path + "/keyring.json")), as: UTF8.self))
        }
    }
}

/// Error messages collected from several threads.
final class Failures: @unchecked Sendable {
    // @unchecked: every access goes through `lock`.
    private let lock = NSLock()
    private var messages: [String] = []
    func record(_ message: String) { lock.withLock { messages.append(message) } }
    var all: [String] { lock.withLock { messages } }
}
