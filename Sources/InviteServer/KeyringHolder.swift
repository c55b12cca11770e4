public import InviteToken
public import Logging
import ServiceLifecycle
import Synchronization
import UnixSignals

/// The keyring a running server verifies and signs with, reloaded from `Keys/` on SIGHUP and
/// on a periodic check.
///
/// A reload never fails open. The manifest's states always apply: a key revoked or retired
/// there stops verifying at the next check, whatever else is wrong. A key whose file is
/// missing, unreadable, too open or corrupt is unusable (neither signs nor verifies) while the
/// others keep working. Only a manifest that cannot be read at all leaves the last good keyring
/// in use. Either way the holder is *degraded* until a reload succeeds in full, is retried on
/// every check, and `/readyz` reports `keyring_stale` once that has lasted longer than the
/// check interval.
public final class KeyringHolder: Sendable {
    /// What a reload did.
    public enum ReloadOutcome: Sendable, Equatable {
        /// Nothing on disk changed since the last load.
        case unchanged
        /// Every verifying key loaded.
        case loaded
        /// The manifest applied, but these keys' material did not load and they are unusable.
        case partial(unavailable: [String])
        /// The manifest could not be read; the last good keyring stays in use.
        case failed

        /// Whether the keyring in use differs from the one on disk.
        public var isDegraded: Bool {
            switch self {
            case .unchanged, .loaded: false
            case .partial, .failed: true
            }
        }
    }

    private struct State {
        var keyring: Keyring
        var fingerprint: [UInt8]?
        /// Since when the keyring in use has differed from the one on disk.
        var degradedSince: ContinuousClock.Instant?
        /// The last problem logged, so a retry every check logs only when it changes.
        var lastProblem: String?
    }

    private let directory: KeyringDirectory
    private let state: Mutex<State>
    private let logger: Logger

    /// Loads the keyring strictly: a server does not start on a keyring whose keys do not
    /// all load.
    public init(directory: KeyringDirectory, logger: Logger) throws {
        self.directory = directory
        self.logger = logger
        let keyring = try directory.load()
        self.state = Mutex(State(keyring: keyring, fingerprint: directory.fingerprint(for: keyring.manifest)))
    }

    /// A holder with a fixed keyring (tests).
    public init(keyring: Keyring, logger: Logger = Logger(label: "invitelink.keyring")) {
        self.directory = KeyringDirectory(path: "/nonexistent")
        self.logger = logger
        self.state = Mutex(State(keyring: keyring))
    }

    public var current: Keyring { state.withLock { $0.keyring } }

    /// Whether the keyring in use has differed from the one on disk for longer than `limit`.
    public func isStale(after limit: Duration) -> Bool {
        state.withLock { $0.degradedSince.map { ContinuousClock.now - $0 > limit } ?? false }
    }

    /// Re-reads the keyring when anything it depends on changed, when the last load was
    /// degraded, or always when `force`.
    @discardableResult
    public func reload(force: Bool = false) -> ReloadOutcome {
        let (manifest, previous, degraded) = state.withLock { ($0.keyring.manifest, $0.fingerprint, $0.degradedSince != nil) }
        let fingerprint = directory.fingerprint(for: manifest)
        if !force, !degraded, fingerprint == previous { return .unchanged }
        let outcome: ReloadOutcome
        let problem: String?
        do {
            let (keyring, unavailable) = try directory.loadAvailable()
            outcome = unavailable.isEmpty ? .loaded : .partial(unavailable: unavailable.keys.sorted())
            problem = unavailable.isEmpty ? nil : unavailable.sorted { $0.key < $1.key }.map { "\($0.value)" }.joined(separator: "; ")
            // The fingerprint is taken again over the new manifest's keys, so the next check
            // compares like with like.
            let loaded = directory.fingerprint(for: keyring.manifest)
            state.withLock {
                $0.keyring = keyring; $0.fingerprint = loaded
            }
        } catch {
            outcome = .failed
            problem = "\(error)"
            state.withLock { $0.fingerprint = fingerprint }
        }
        let logged = state.withLock { state -> String? in
            if outcome.isDegraded {
                if state.degradedSince == nil { state.degradedSince = .now }
            } else {
                state.degradedSince = nil
            }
            defer { state.lastProblem = problem }
            return state.lastProblem
        }
        switch outcome {
        case .unchanged:
            break
        case .loaded:
            let keyring = current
            logger.info(
                "keyring loaded",
                metadata: [
                    "keys": "\(keyring.entries.count)", "primary": "\(keyring.manifest.primary?.kid ?? "none")",
                ])
        case .partial(let unavailable) where problem != logged:
            logger.error(
                "keyring loaded without some keys; they neither sign nor verify until fixed",
                metadata: [
                    "unusable": "\(unavailable.joined(separator: ","))", "error": "\(problem ?? "")",
                ])
        case .failed where problem != logged:
            logger.error("keyring manifest failed to load; keeping the last good keyring", metadata: ["error": "\(problem ?? "")"])
        case .partial, .failed:
            break
        }
        return outcome
    }
}

/// Reloads the keyring every `interval` and on SIGHUP until shutdown.
struct KeyringReloadService: Service {
    let holder: KeyringHolder
    let interval: Duration
    let metrics: ServiceMetrics

    /// Stops at graceful shutdown (SIGTERM): both loops are cancelled, so the service group
    /// can finish and the process exits once the server has drained.
    func run() async throws {
        try await cancelWhenGracefulShutdown {
            await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    while !Task.isCancelled {
                        try? await Task.sleep(for: interval)
                        guard !Task.isCancelled else { return }
                        record(holder.reload())
                    }
                }
                group.addTask {
                    for await _ in await UnixSignalsSequence(trapping: .sighup) {
                        record(holder.reload(force: true))
                    }
                }
                await group.next()
                group.cancelAll()
            }
        }
    }

    private func record(_ outcome: KeyringHolder.ReloadOutcome) {
        if outcome.isDegraded { metrics.recordKeyringReloadFailure() }
    }
}
