import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs password hashing (scrypt: tens of milliseconds and 16 MiB each) on threads of its
/// own, so sign-ins never occupy the threads that serve requests (DESIGN.md §11).
///
/// At most `threads` hashes run at once and at most `queue` more wait; a job beyond that is
/// refused at once with ``Busy`` (answered 503 with `Retry-After`) instead of waiting, so a
/// flood of sign-ins costs the server a bounded amount of CPU and memory and never stalls it.
/// The threads end when the pool is released.
final class PasswordHashingPool: Sendable {
    /// The pool and its queue are full.
    struct Busy: Error, CustomStringConvertible {
        var description: String { "too many sign-ins are being checked at once" }
    }

    private final class Shared: @unchecked Sendable {
        // @unchecked: every field is read and written with `condition` locked.
        let condition = NSCondition()
        var jobs: [@Sendable () -> Void] = []
        var closed = false
    }

    /// The hashing threads' nice value (request threads run at 0): the lowest, about 1/70 of a
    /// request thread's share when both compete for a core, all of an idle one.
    static let niceness: Int32 = 19

    let threads: Int
    let queue: Int
    private let shared = Shared()
    /// Jobs admitted and not yet finished (running or waiting).
    private let admitted = Atomic<Int>(0)

    init(threads: Int, queue: Int) {
        precondition(threads >= 1 && queue >= 0)
        self.threads = threads
        self.queue = queue
        for index in 0..<threads {
            let shared = self.shared
            let thread = Thread {
                // Below the request threads: under a flood of sign-ins the hashing threads take
                // what the requests leave, so acceptances keep their pace; hashing gets all of it
                // on an idle machine. Raising one's own nice value needs no privilege.
                // (On Linux the nice value is per thread, and who = 0 is the calling thread.)
                _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, Self.niceness)
                // Named from the thread itself (Linux copies the creating thread's name).
                Thread.current.name = "password-hash-\(index)"
                while true {
                    shared.condition.lock()
                    while shared.jobs.isEmpty && !shared.closed { shared.condition.wait() }
                    if shared.jobs.isEmpty {
                        shared.condition.unlock()
                        return
                    }
                    let job = shared.jobs.removeFirst()
                    shared.condition.unlock()
                    job()
                }
            }
            thread.start()
        }
    }

    deinit {
        shared.condition.lock()
        shared.closed = true
        shared.condition.broadcast()
        shared.condition.unlock()
    }

    /// Jobs running or waiting now.
    var load: Int { admitted.load(ordering: .acquiring) }

    /// Whether a job would be admitted now. A sign-in asks before doing anything else, so
    /// that during a flood the refusals cost nothing (no store write, no look-up); ``run(_:)``
    /// still enforces the bound.
    var hasRoom: Bool { load < threads + queue }

    /// Runs `work` on one of the pool's threads, or throws ``Busy`` at once when the pool and
    /// its queue are full.
    func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let limit = threads + queue
        let (_, admittedNow) = admitted.wrappingAdd(1, ordering: .acquiringAndReleasing)
        guard admittedNow <= limit else {
            admitted.wrappingSubtract(1, ordering: .acquiringAndReleasing)
            throw Busy()
        }
        return try await withCheckedThrowingContinuation { continuation in
            let job: @Sendable () -> Void = {
                let result = Result { try work() }
                self.admitted.wrappingSubtract(1, ordering: .acquiringAndReleasing)
                continuation.resume(with: result)
            }
            shared.condition.lock()
            shared.jobs.append(job)
            shared.condition.signal()
            shared.condition.unlock()
        }
    }
}
