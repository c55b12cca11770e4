import InviteService
import InviteStore

/// Email-and-password sign-in with the throttling both the acceptance pages and the reseller
/// portal use: each failure is answered more slowly (200 ms per recent failure), the
/// ``failuresBeforeLockout``th locks the account for ``lockout`` seconds, and an unknown email
/// costs the same scrypt work as a known one so timing does not tell which emails exist.
struct PasswordSignIn: Sendable {
    static let failuresBeforeLockout = 5
    static let lockout: Int64 = 15 * 60

    enum Outcome {
        case signedIn(User)
        /// Unknown email or wrong password: the same answer for both.
        case refused
        /// Locked out; the caller may retry after this many seconds.
        case locked(retryAfter: Int64)
    }

    let store: any RelationshipStore

    func check(email: String, password: String, now: Int64) async throws -> Outcome {
        guard let user = try await store.user(email: email.lowercased()) else {
            _ = try? PasswordHash.verify(password, against: Assets.decoyPasswordHash)
            return .refused
        }
        if let lockedUntil = user.lockedUntil, lockedUntil > now {
            return .locked(retryAfter: lockedUntil - now)
        }
        guard try PasswordHash.verify(password, against: user.passwordHash) else {
            let failures = user.failedSignIns + 1
            let lock = failures >= Self.failuresBeforeLockout ? now + Self.lockout : nil
            try await store.recordFailedSignIn(userID: user.id, lockedUntil: lock)
            try await Task.sleep(for: .milliseconds(200 * min(failures, Self.failuresBeforeLockout)))
            return .refused
        }
        try await store.recordSuccessfulSignIn(userID: user.id)
        return .signedIn(user)
    }

    /// "Try again in …" for a lockout.
    static func retryText(_ seconds: Int64) -> String {
        let minutes = max(1, (seconds + 59) / 60)
        return "Too many failed sign-ins. Try again in \(minutes == 1 ? "a minute" : "\(minutes) minutes")."
    }
}
