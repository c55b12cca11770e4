/// The sign-in limits of DESIGN.md §11, kept in the store so that they hold across instances.
///
/// Counted per email address, known or not (by a digest of the address, so unknown addresses
/// are not stored in clear): an unknown address is refused and locked exactly like a real
/// one, so neither the answers nor their timing tell which addresses have accounts.
public struct SignInLimits: Sendable, Equatable {
    /// Failures within ``window`` that lock the address.
    public var failures: Int
    /// Seconds over which failures are counted; an older first failure starts the count over.
    public var window: UnixTime
    /// Seconds a lock lasts; when it ends, the count starts over.
    public var lockout: UnixTime

    public init(failures: Int = 5, window: UnixTime = 15 * 60, lockout: UnixTime = 15 * 60) {
        self.failures = failures
        self.window = window
        self.lockout = lockout
    }
}

/// The store's answer to "may this sign-in check a password?".
public enum SignInAttempt: Sendable, Equatable {
    /// Yes. The attempt already counts as failure number `failure`; a correct password clears
    /// the count. The attempt that reaches the limit is still checked, and locks the address.
    case allowed(failure: Int)
    /// No: the address is locked until then.
    case locked(until: UnixTime)
}
