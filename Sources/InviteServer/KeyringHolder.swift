public import Logging
public import InviteToken
import ServiceLifecycle
import UnixSignals
import Synchronization

/// The keyring a running server verifies and signs with, reloaded from `Keys/` on SIGHUP and
/// on a periodic check. A keyring that fails to load is logged and the last good one kept, so
/// a half-edited or corrupt `keyring.json` never takes the service down.
public final class KeyringHolder: Sendable {
    private let directory: KeyringDirectory
    private let state: Mutex<(keyring: Keyring, fingerprint: [UInt8]?)>
    private let logger: Logger

    public init(directory: KeyringDirectory, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        let fingerprint = directory.manifestFingerprint()
        self.state = Mutex((try directory.load(), fingerprint))
    }

    /// A holder with a fixed keyring (tests).
    public init(keyring: Keyring, logger: Logger = Logger(label: "invitelink.keyring")) {
        self.directory = KeyringDirectory(path: "/nonexistent")
        self.logger = logger
        self.state = Mutex((keyring, nil))
    }

    public var current: Keyring { state.withLock { $0.keyring } }

    /// Re-reads the keyring when the manifest changed (or always, when `force`).
    /// Returns whether a new keyring is in use.
    @discardableResult
    public func reload(force: Bool = false) -> Bool {
        let fingerprint = directory.manifestFingerprint()
        if !force, fingerprint == state.withLock({ $0.fingerprint }) { return false }
        do {
            let keyring = try directory.load()
            state.withLock { $0 = (keyring, fingerprint) }
            logger.info("keyring loaded", metadata: [
                "keys": "\(keyring.entries.count)", "primary": "\(keyring.manifest.primary?.kid ?? "none")",
            ])
            return true
        } catch {
            // Remember the bad fingerprint so the periodic check logs once per change.
            state.withLock { $0.fingerprint = fingerprint }
            logger.error("keyring failed to load; keeping the last good one", metadata: ["error": "\(error)"])
            return false
        }
    }
}

/// Reloads the keyring every `interval` and on SIGHUP until shutdown.
struct KeyringReloadService: Service {
    let holder: KeyringHolder
    let interval: Duration

    /// Stops at graceful shutdown (SIGTERM): both loops are cancelled, so the service group
    /// can finish and the process exits once the server has drained.
    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        guard !Task.isCancelled else { return }
                        holder.reload()
                    }
                }
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        holder.reload(force: true)
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }
}
