import Foundation
public import InviteCrypto

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The `Keys/` directory: `keyring.json` (the manifest), `KID.pem` (Ed25519 PKCS#8 PEM) and
/// `KID.hmac` (32+ random bytes, base64url, one line), every secret file mode 0600.
///
/// Every change runs under an exclusive `flock` on `Keys/.lock`, re-reads the manifest inside
/// the lock, writes new secret files before the manifest that names them, and replaces the
/// manifest by write-to-temp, fsync, rename, fsync of the directory. So two CLI runs at once
/// cannot lose a key, and a process killed at any instant leaves either the old or the new
/// manifest, both loadable.
public struct KeyringDirectory: Sendable {
    public static let manifestName = "keyring.json"
    public let path: String

    public init(path: String) {
        self.path = path
    }

    var manifestPath: String { path + "/" + Self.manifestName }

    func secretPath(kid: String, algorithm: KeyAlgorithm) -> String {
        path + "/" + kid + (algorithm == .hs256 ? ".hmac" : ".pem")
    }

    // MARK: Loading

    /// Loads the manifest and the material of every key that verifies. A missing directory or
    /// manifest is an empty keyring; anything unreadable, unsafe or inconsistent throws. What
    /// the CLI uses: a change is never made to a keyring whose keys do not all load.
    public func load() throws(KeyringError) -> Keyring {
        let (keyring, unavailable) = try loadAvailable()
        if let first = unavailable.min(by: { $0.key < $1.key }) { throw first.value }
        return keyring
    }

    /// What a running server uses: the manifest, whose states always apply, and the material
    /// of every verifying key that loads. A key whose file is missing, unreadable, too open or
    /// corrupt is left without material, so it neither signs nor verifies, and is named in
    /// `unavailable`; the other keys are unaffected. Only a manifest that cannot be read throws.
    public func loadAvailable() throws(KeyringError) -> (keyring: Keyring, unavailable: [String: KeyringError]) {
        let manifest = try readManifest()
        var material: [String: KeyMaterial] = [:]
        var unavailable: [String: KeyringError] = [:]
        for entry in manifest.entries where entry.state.verifies {
            do {
                material[entry.kid] = try readMaterial(entry)
            } catch {
                unavailable[entry.kid] = error
            }
        }
        return (Keyring(manifest: manifest, material: material), unavailable)
    }

    /// The keys that check audit checkpoints (DESIGN.md §8): every key but the revoked ones,
    /// retired keys included, each in a verifying state. A checkpoint signed before a rotation
    /// stays checkable once its key is retired; one signed by a key later revoked is not
    /// trusted (the key may have been in other hands), and `revoked` names those keys so that
    /// `audit verify` can say so. Keys whose file fails to load are left out.
    public func loadForCheckpoints() throws(KeyringError) -> (keyring: Keyring, revoked: Set<String>) {
        var manifest = try readManifest()
        var material: [String: KeyMaterial] = [:]
        var revoked = Set<String>()
        for index in manifest.entries.indices {
            let entry = manifest.entries[index]
            if entry.state == .revoked {
                revoked.insert(entry.kid)
                continue
            }
            if entry.state == .retired { manifest.entries[index].state = .active }
            material[entry.kid] = try? readMaterial(entry)
        }
        return (Keyring(manifest: manifest, material: material), revoked)
    }

    /// A digest of what a load depends on: the manifest's bytes, and the identity, mode, size
    /// and modification time of the secret file of every verifying key of `manifest`. A running
    /// server compares it on every check, so a `chmod` or a replaced key file is noticed even
    /// when the manifest did not change.
    public func fingerprint(for manifest: KeyManifest) -> [UInt8]? {
        guard let data = FileManager.default.contents(atPath: manifestPath) else { return nil }
        var input = Array(data)
        for entry in manifest.entries where entry.state.verifies {
            var info = stat()
            let found = stat(secretPath(kid: entry.kid, algorithm: entry.algorithm), &info) == 0
            let fields: [Int64] =
                found
                ? [
                    Int64(bitPattern: UInt64(info.st_dev)), Int64(bitPattern: UInt64(info.st_ino)), Int64(info.st_mode),
                    Int64(info.st_size), Int64(info.st_mtim.tv_sec), Int64(info.st_mtim.tv_nsec),
                ]
                : [-1]
            input.append(contentsOf: entry.kid.utf8)
            for field in fields { withUnsafeBytes(of: field.littleEndian) { input.append(contentsOf: $0) } }
        }
        return try? Digest.sha256(input)
    }

    func readManifest() throws(KeyringError) -> KeyManifest {
        guard let data = FileManager.default.contents(atPath: manifestPath) else {
            if FileManager.default.fileExists(atPath: manifestPath) {
                throw KeyringError(.io, "\(manifestPath) cannot be read")
            }
            return KeyManifest()
        }
        return try ManifestCoding.decode(Array(data), path: manifestPath)
    }

    func readMaterial(_ entry: KeyEntry) throws(KeyringError) -> KeyMaterial {
        let file = secretPath(kid: entry.kid, algorithm: entry.algorithm)
        let bytes = try Self.readSecretFile(file)
        switch entry.algorithm {
        case .hs256:
            return .hmac(try Self.hmacKey(fromFileContents: bytes, source: file))
        case .ed25519:
            let text = String(decoding: bytes, as: UTF8.self)
            do {
                if entry.publicOnly {
                    return .ed25519Public(try Ed25519PublicKey(pemRepresentation: text))
                }
                return .ed25519(try Ed25519PrivateKey(pemRepresentation: text))
            } catch let error as CryptoError where error.code == .smallOrderKey {
                throw KeyringError(.smallOrderKey, "\(file): \(error.reason)")
            } catch {
                throw KeyringError(.corrupt, "\(file) is not an Ed25519 \(entry.publicOnly ? "public" : "private") key in PEM: \(error)")
            }
        }
    }

    /// Reads a secret file after checking that only its owner can read it (key files, and the
    /// session secret `serve` is given). One descriptor is opened and both the check (`fstat`)
    /// and the read use it, so the file checked is the file read, even if the path is swapped
    /// in between; symlinks are followed (Kubernetes mounts secrets through them).
    public static func readSecretFile(_ file: String) throws(KeyringError) -> [UInt8] {
        let fd = open(file, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            throw KeyringError(.io, "\(file) cannot be opened (\(String(cString: strerror(errno))))")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else {
            throw KeyringError(.io, "\(file) cannot be examined (\(String(cString: strerror(errno))))")
        }
        guard info.st_mode & S_IFMT == S_IFREG else { throw KeyringError(.io, "\(file) is not a regular file") }
        let mode = info.st_mode & 0o777
        guard mode & 0o077 == 0 else {
            throw KeyringError(
                .laxPermissions,
                "\(file) is readable by group or others (mode \(String(mode, radix: 8))); run chmod 600 on it"
            )
        }
        // A key file is a few hundred bytes; anything over 64 KiB is not one.
        let limit = 65_536
        guard info.st_size <= limit else { throw KeyringError(.corrupt, "\(file) is larger than \(limit) bytes") }
        var bytes = [UInt8](repeating: 0, count: limit + 1)
        var count = 0
        while count < bytes.count {
            let got = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, $0.count - count) }
            if got < 0 {
                if errno == EINTR { continue }
                throw KeyringError(.io, "\(file) cannot be read (\(String(cString: strerror(errno))))")
            }
            if got == 0 { break }
            count += got
        }
        guard count <= limit else { throw KeyringError(.corrupt, "\(file) is larger than \(limit) bytes") }
        return Array(bytes[..<count])
    }

    /// Decodes an HMAC key file: base64url on one line, an optional final newline, at least
    /// 32 bytes once decoded.
    public static func hmacKey(fromFileContents contents: [UInt8], source: String) throws(KeyringError) -> HMACSHA256Key {
        var text = contents[...]
        if text.last == UInt8(ascii: "\n") { text = text.dropLast() }
        if text.last == UInt8(ascii: "\r") { text = text.dropLast() }
        guard var secret = text.withContiguousStorageIfAvailable({ Base64URL.decode(UnsafeRawBufferPointer($0)) }) ?? nil else {
            throw KeyringError(.corrupt, "\(source) is not one line of unpadded base64url")
        }
        defer { for index in secret.indices { secret[index] = 0 } }
        guard secret.count >= HMACSHA256Key.minimumSecretLength else {
            throw KeyringError(
                .shortSecret,
                "\(source) holds a \(secret.count)-byte secret; HMAC-SHA256 keys must be at least \(HMACSHA256Key.minimumSecretLength) bytes"
            )
        }
        do {
            return try HMACSHA256Key(secret: SecureBytes(secret))
        } catch {
            throw KeyringError(.corrupt, "\(source): \(error)")
        }
    }

    /// Secret files the manifest does not name, and half-written temporary files: what a
    /// command killed between writing a key and the manifest that names it leaves behind. They
    /// are never loaded; they are reported (`keys list`) rather than deleted, because an
    /// operator may have put a file there on purpose (a PEM waiting for `keys import`).
    public func strayFiles(in manifest: KeyManifest) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: path) else { return [] }
        return names.filter { name in
            if name.contains(".tmp-") { return true }
            for algorithm in KeyAlgorithm.allCases {
                let suffix = algorithm == .hs256 ? ".hmac" : ".pem"
                guard name.hasSuffix(suffix) else { continue }
                let kid = String(name.dropLast(suffix.count))
                return manifest.entry(kid)?.algorithm != algorithm
            }
            return false
        }.sorted().map { path + "/" + $0 }
    }

    // MARK: Changing

    /// A secret file to write before the manifest that names it.
    public struct NewSecret: Sendable {
        public var kid: String
        public var algorithm: KeyAlgorithm
        public var contents: SecureBytes

        public init(kid: String, algorithm: KeyAlgorithm, contents: SecureBytes) {
            self.kid = kid
            self.algorithm = algorithm
            self.contents = contents
        }
    }

    /// Runs `change` on the current manifest under the exclusive lock, then writes the new
    /// secrets and the new manifest atomically. Nothing is written when `change` throws.
    public func update<R>(
        _ change: (inout KeyManifest, inout [NewSecret]) throws -> R
    ) throws -> R {
        try createDirectoryIfNeeded()
        let lock = try Lock(path: path + "/.lock")
        defer { lock.release() }
        let before = try readManifest()
        // Refuse to change a keyring whose keys do not load: the change would hide the damage.
        _ = try load()
        var manifest = before
        var secrets: [NewSecret] = []
        let result = try change(&manifest, &secrets)
        for secret in secrets {
            // A secret is only written for a key the new manifest names, so a kid can never
            // point a file outside this directory.
            guard KeyEntry.isValidKid(secret.kid), manifest.entry(secret.kid)?.algorithm == secret.algorithm else {
                throw KeyringError(.invalidKid, "refusing to write a secret for \(secret.kid), which the keyring does not name")
            }
        }
        for secret in secrets {
            try writeAtomically(secretPath(kid: secret.kid, algorithm: secret.algorithm), mode: 0o600, contents: secret.contents)
        }
        if manifest != before {
            try writeAtomically(manifestPath, mode: 0o644, contents: SecureBytes(ManifestCoding.encode(manifest)))
        }
        return result
    }

    private func createDirectoryIfNeeded() throws(KeyringError) {
        var info = stat()
        if stat(path, &info) == 0 { return }
        guard mkdir(path, 0o700) == 0 || errno == EEXIST else {
            throw KeyringError(.io, "cannot create \(path): \(String(cString: strerror(errno)))")
        }
    }

    /// Writes `contents` to a temporary file in the same directory, fsyncs it, renames it over
    /// `file` and fsyncs the directory, so the change is all-or-nothing and durable.
    private func writeAtomically(_ file: String, mode: mode_t, contents: SecureBytes) throws(KeyringError) {
        // Created exclusively under a name no other run can pick: never through a symlink
        // or a file someone else left there.
        let suffix = (try? SystemRandom.bytes(6)).map { Base64URL.encode($0) } ?? "0"
        let temporary = "\(file).tmp-\(getpid())-\(suffix)"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode)
        guard fd >= 0 else { throw KeyringError(.io, "cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var ok = fchmod(fd, mode) == 0
        ok =
            ok
            && contents.withUnsafeBytes { buffer in
                var offset = 0
                while offset < buffer.count {
                    let written = write(fd, buffer.baseAddress! + offset, buffer.count - offset)
                    if written < 0 {
                        if errno == EINTR { continue }
                        return false
                    }
                    offset += written
                }
                return true
            }
        ok = ok && fsync(fd) == 0
        let failure = ok ? "" : String(cString: strerror(errno))
        close(fd)
        guard ok, rename(temporary, file) == 0 else {
            unlink(temporary)
            throw KeyringError(.io, "cannot write \(file): \(failure.isEmpty ? String(cString: strerror(errno)) : failure)")
        }
        let directory = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directory >= 0 {
            fsync(directory)
            close(directory)
        }
    }

    /// An exclusive advisory lock, released on close and by the kernel if the process dies.
    private struct Lock {
        let fd: Int32

        init(path: String) throws(KeyringError) {
            fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
            guard fd >= 0 else { throw KeyringError(.io, "cannot open \(path): \(String(cString: strerror(errno)))") }
            while flock(fd, LOCK_EX) != 0 {
                guard errno == EINTR else {
                    close(fd)
                    throw KeyringError(.io, "cannot lock \(path): \(String(cString: strerror(errno)))")
                }
            }
        }

        func release() {
            flock(fd, LOCK_UN)
            close(fd)
        }
    }
}
