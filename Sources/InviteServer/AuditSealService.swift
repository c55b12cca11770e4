import Foundation
import InviteService
import InviteStore
import Logging
import ServiceLifecycle

/// Seals new audit entries into a signed checkpoint every interval (DESIGN.md §8: within 2
/// minutes of their commit). With several instances each tries; the store lets one at a time
/// write a checkpoint and the others stand down. A failure (no Ed25519 primary key, the
/// database away) is logged and retried next round; it never stops the service.
struct AuditSealService: Service {
    let store: any RelationshipStore
    let sealer: AuditSealer
    let interval: Duration
    let logger: Logger
    let clock: @Sendable () -> Int64

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                try? await Task.sleep(for: interval)
                guard !Task.isCancelled else { return }
                do {
                    let sealed = try await sealer.sealAll(store, now: clock())
                    if let last = sealed.last {
                        logger.info("audit entries sealed", metadata: ["checkpoints": "\(sealed.count)", "through_seq": "\(last.last)"])
                    }
                } catch {
                    logger.warning("sealing the audit log failed; retrying next round", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
