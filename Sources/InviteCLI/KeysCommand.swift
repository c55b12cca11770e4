public import ArgumentParser
import Foundation
import InviteCrypto
public import InviteToken

extension KeyAlgorithm: ExpressibleByArgument {}

struct Keys: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "keys",
        abstract: "Manage the signing keyring: add, promote, rotate, retire, revoke, export.",
        subcommands: [
            List.self, Add.self, Import.self, Promote.self, Rotate.self, Retire.self, Revoke.self, ExportJWKS.self, ExportPublic.self,
        ]
    )

    /// A new random kid: 96 bits, base64url, never starting with `-` (a kid like `-x` would be
    /// read as an option by `keys revoke`, which an operator must be able to type plainly).
    static func newKid() throws -> String {
        while true {
            let kid = Base64URL.encode(try SystemRandom.bytes(12))
            if kid.first != "-" { return kid }
        }
    }

    /// Generates key material of `algorithm` and the secret file that stores it.
    static func generate(_ algorithm: KeyAlgorithm, kid: String) throws -> KeyringDirectory.NewSecret {
        switch algorithm {
        case .ed25519:
            let key = try Ed25519PrivateKey()
            return .init(kid: kid, algorithm: .ed25519, contents: SecureBytes(Array(try key.pemRepresentation().utf8)))
        case .hs256:
            let secret = try SecureBytes(randomCount: 32)
            let line = secret.withUnsafeBytes { Base64URL.encode(Array($0)) } + "\n"
            return .init(kid: kid, algorithm: .hs256, contents: SecureBytes(Array(line.utf8)))
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the keys and their states.")
        @OptionGroup var options: GlobalOptions
        @Flag(help: "Print the manifest as JSON.") var json = false

        func run() async throws {
            try await ExitStatus.run {
                let keyring = try options.keyring.load()
                for file in options.keyring.strayFiles(in: keyring.manifest) {
                    printError(
                        "invitelink: warning: \(file) is not a key of \(KeyringDirectory.manifestName) (left by an interrupted command?); it is never loaded, remove it once you are sure"
                    )
                }
                if json {
                    print(keyring.manifest.jsonRepresentation(), terminator: "")
                    return
                }
                if keyring.entries.isEmpty {
                    print("no keys; add one with: invitelink keys rotate --alg ed25519")
                    return
                }
                for entry in keyring.entries {
                    var line =
                        "\(entry.kid)  \(entry.algorithm.jwsName)  \(entry.state.rawValue)  created \(RFC3339.format(entry.createdAt))"
                    if let at = entry.promotedAt { line += "  promoted \(RFC3339.format(at))" }
                    if let at = entry.demotedAt { line += "  demoted \(RFC3339.format(at))" }
                    if entry.publicOnly { line += "  (public key only)" }
                    print(line)
                }
            }
        }
    }

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a key in state next (verifies, does not sign yet); prints its kid.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "ed25519 or hs256.") var alg: KeyAlgorithm

        func run() async throws {
            try await ExitStatus.run {
                let kid = try Keys.newKid()
                let now = currentTime()
                try options.keyring.update { manifest, secrets in
                    try manifest.add(kid: kid, algorithm: alg, now: now)
                    secrets.append(try Keys.generate(alg, kid: kid))
                }
                print(kid)
                await options.auditKeyChange("key.added", kid: kid, detail: ["alg": alg.jwsName], at: now)
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import an Ed25519 PEM key (private, or public to verify only) or an HMAC secret; prints its kid."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "An Ed25519 key in PEM: PKCS#8 private key, or SubjectPublicKeyInfo public key.") var pem: String?
        @Option(help: "A file holding an HMAC secret of at least 32 bytes, base64url on one line.") var hmac: String?
        @Option(help: "Keep this kid (default: a new random one).") var kid: String?

        func validate() throws {
            guard (pem == nil) != (hmac == nil) else { throw ValidationError("give exactly one of --pem FILE or --hmac FILE") }
            if let kid, !KeyEntry.isValidKid(kid) { throw ValidationError("--kid must match [A-Za-z0-9_-]{1,64}") }
        }

        func run() async throws {
            try await ExitStatus.run {
                let kid = try self.kid ?? Keys.newKid()
                let (secret, publicOnly) = try readKey(kid: kid)
                let now = currentTime()
                try options.keyring.update { manifest, secrets in
                    try manifest.add(kid: kid, algorithm: secret.algorithm, publicOnly: publicOnly, now: now)
                    secrets.append(secret)
                }
                print(kid)
                await options.auditKeyChange(
                    "key.imported", kid: kid, detail: ["alg": secret.algorithm.jwsName, "public_only": String(publicOnly)], at: now)
            }
        }

        private func readKey(kid: String) throws -> (KeyringDirectory.NewSecret, publicOnly: Bool) {
            let file = pem ?? hmac!
            guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
            let bytes = Array(data)
            if hmac != nil {
                _ = try KeyringDirectory.hmacKey(fromFileContents: bytes, source: file)
                var line = bytes
                if line.last != UInt8(ascii: "\n") { line.append(UInt8(ascii: "\n")) }
                return (.init(kid: kid, algorithm: .hs256, contents: SecureBytes(line)), false)
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if text.contains("PUBLIC KEY-----") {
                do {
                    let key = try Ed25519PublicKey(pemRepresentation: text)
                    return (.init(kid: kid, algorithm: .ed25519, contents: SecureBytes(Array(try key.pemRepresentation().utf8))), true)
                } catch let error as CryptoError where error.code == .smallOrderKey {
                    throw KeyringError(.smallOrderKey, "\(file): \(error.reason)")
                }
            }
            let key: Ed25519PrivateKey
            do {
                key = try Ed25519PrivateKey(pemRepresentation: text)
            } catch let error as CryptoError {
                if error.code == .smallOrderKey { throw KeyringError(.smallOrderKey, "\(file): \(error.reason)") }
                throw CLIError("\(file) is not an Ed25519 private key in PKCS#8 PEM (\(error.reason))")
            }
            // Re-encode rather than copy, so the stored file is exactly what we can read back.
            return (.init(kid: kid, algorithm: .ed25519, contents: SecureBytes(Array(try key.pemRepresentation().utf8))), false)
        }
    }

    struct Promote: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a key the primary; the former primary becomes active.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The kid to promote.") var kid: String

        func run() async throws {
            try await ExitStatus.run {
                let now = currentTime()
                try options.keyring.update { manifest, _ in try manifest.promote(kid, now: now) }
                print("\(kid) is now the primary key")
                await options.auditKeyChange("key.promoted", kid: kid, at: now)
            }
        }
    }

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a key and promote it at once (one instance; several instances: add, wait, promote). Prints its kid."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "ed25519 or hs256.") var alg: KeyAlgorithm

        func run() async throws {
            try await ExitStatus.run {
                let kid = try Keys.newKid()
                let now = currentTime()
                try options.keyring.update { manifest, secrets in
                    try manifest.add(kid: kid, algorithm: alg, now: now)
                    try manifest.promote(kid, now: now)
                    secrets.append(try Keys.generate(alg, kid: kid))
                }
                print(kid)
                await options.auditKeyChange("key.rotated", kid: kid, detail: ["alg": alg.jwsName], at: now)
            }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Stop a key verifying. Refused while links it signed may be unexpired, unless --force."
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The kid to retire.") var kid: String
        @Flag(help: "Retire even though links it signed may still be unexpired; they stop working.") var force = false

        func run() async throws {
            try await ExitStatus.run {
                let now = currentTime()
                try options.keyring.update { manifest, _ in
                    try manifest.retire(kid, now: now, maximumLifetime: InvitationClaims.maximumLifetime, force: force)
                }
                print("\(kid) is retired")
                await options.auditKeyChange("key.retired", kid: kid, detail: ["force": String(force)], at: now)
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a compromised key: its links stop working at once.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The kid to revoke.") var kid: String

        func run() async throws {
            try await ExitStatus.run {
                let now = currentTime()
                try options.keyring.update { manifest, _ in try manifest.revoke(kid, now: now) }
                print("\(kid) is revoked")
                await options.auditKeyChange("key.revoked", kid: kid, at: now)
            }
        }
    }

    struct ExportJWKS: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "export-jwks", abstract: "Print the public Ed25519 keys as a JWK Set.")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await ExitStatus.run { print(try options.keyring.load().jwks()) }
        }
    }

    struct ExportPublic: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "export-public", abstract: "Print an Ed25519 key's public half as PEM.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The kid.") var kid: String

        func run() async throws {
            try await ExitStatus.run {
                guard let key = try options.keyring.load().material(for: kid)?.ed25519PublicKey else {
                    throw CLIError("no verifying Ed25519 key with kid \(kid)")
                }
                print(try key.pemRepresentation(), terminator: "")
            }
        }
    }
}
