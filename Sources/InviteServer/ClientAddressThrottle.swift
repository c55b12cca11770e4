import Synchronization

/// Slows down a client address that keeps failing to sign in, whatever emails it tries
/// (DESIGN.md §11): after `failures` failed sign-ins within `window` seconds the address is
/// answered 429 until the window has passed. Kept in memory, per instance: the per-address
/// lockout in the store is what holds across instances; this bounds what one client can make
/// one instance do.
///
/// The address is the peer's, or, only when the operator names one, the last entry of a
/// trusted proxy's header (`serve --trusted-proxy-header X-Forwarded-For`): a header a client
/// can set itself is never believed otherwise.
final class ClientAddressThrottle: Sendable {
    struct Entry {
        var failures: Int
        var windowStart: Int64
    }

    let failures: Int
    let window: Int64
    /// Addresses remembered at most; when full, entries whose window has passed are dropped,
    /// then the oldest.
    let capacity: Int
    private let entries = Mutex<[String: Entry]>([:])

    init(failures: Int, window: Int64, capacity: Int = 100_000) {
        self.failures = failures
        self.window = window
        self.capacity = capacity
    }

    /// Seconds until `address` may try again, or nil when it may now.
    func retryAfter(_ address: String?, now: Int64) -> Int64? {
        guard let address else { return nil }
        return entries.withLock { entries in
            guard let entry = entries[address], now - entry.windowStart < window, entry.failures >= failures else { return nil }
            return entry.windowStart + window - now
        }
    }

    func recordFailure(_ address: String?, now: Int64) {
        guard let address else { return }
        entries.withLock { entries in
            if var entry = entries[address], now - entry.windowStart < window {
                entry.failures += 1
                entries[address] = entry
                return
            }
            if entries.count >= capacity {
                entries = entries.filter { now - $0.value.windowStart < window }
                if entries.count >= capacity, let oldest = entries.min(by: { $0.value.windowStart < $1.value.windowStart }) {
                    entries[oldest.key] = nil
                }
            }
            entries[address] = Entry(failures: 1, windowStart: now)
        }
    }
}
