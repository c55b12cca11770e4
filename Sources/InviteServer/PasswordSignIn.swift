import Hummingbird
import InviteCrypto
import InviteService
import InviteStore

/// Email-and-password checks for the acceptance pages and the portal, under the limits of
/// DESIGN.md §11:
///
/// - every attempt is first counted in the store, per email address, in one atomic statement;
///   the fifth failure within 15 minutes locks the address for 15 minutes (429), on every
///   instance, and only a right password clears the count;
/// - unknown addresses are counted and locked the same way and cost the same hash, so neither
///   the answer nor its time tells which addresses have accounts;
/// - a client address with many failures is answered 429 by this instance;
/// - hashing runs on ``PasswordHashingPool``, never on the request threads; a full pool is 503.
///
/// The current-password check of a password change goes through the same limits.
struct PasswordSignIn: Sendable {
    enum Outcome {
        case signedIn(User)
        /// Unknown email or wrong password: the same answer for both.
        case refused
        /// Locked out (the address, or the client); the caller may retry after this many seconds.
        case locked(retryAfter: Int64)
    }

    let store: any RelationshipStore
    let pool: PasswordHashingPool
    let limits: SignInLimits
    let clients: ClientAddressThrottle
    /// The header a proxy in front sets to the client's address, when the operator named one.
    let trustedProxyHeader: String?

    /// A hash of a random password, checked for unknown emails so they cost what known ones
    /// do. Made once per process, at the first unknown email, not at every start.
    static let decoy: String = (try? PasswordHash.make(password: Identifiers.random(prefix: ""))) ?? ""

    init(store: any RelationshipStore, configuration: ServerConfiguration) {
        self.store = store
        self.pool = PasswordHashingPool(threads: configuration.passwordHashingThreads, queue: configuration.passwordHashingQueue)
        self.limits = configuration.signInLimits
        self.clients = ClientAddressThrottle(failures: configuration.clientAddressFailures, window: configuration.signInLimits.window)
        self.trustedProxyHeader = configuration.trustedProxyHeader
    }

    /// Checks `password` for `email`, as sent by `request` (whose client address the
    /// per-client throttle counts).
    func check(email: String, password: String, request: Request, context: AppRequestContext, now: Int64) async throws -> Outcome {
        let email = email.trimmingWhitespace().lowercased()
        let client = context.clientAddress(request, trustedHeader: trustedProxyHeader)
        if let wait = clients.retryAfter(client, now: now) { return .locked(retryAfter: wait) }
        // A full pool refuses before the attempt is counted: a flood's refusals cost no write.
        guard pool.hasRoom else { throw PasswordHashingPool.Busy() }
        let digest = try Digest.sha256(Array(email.utf8))
        // Every outcome is audited (DESIGN.md §8): the lock with the attempt that sets it, a
        // success with the cleared count, a failure on its own. Never the email or password.
        let user = try await store.user(email: email)
        func entry(_ action: String) -> AuditEntry {
            AuditEntry.signIn(action, user: user, emailDigest: digest, client: client, at: now)
        }
        switch try await store.claimSignInAttempt(emailDigest: digest, now: now, limits: limits, lockEntry: entry("sign_in.locked")) {
        case .locked(let until):
            clients.recordFailure(client, now: now)
            return .locked(retryAfter: max(until - now, 1))
        case .allowed:
            break
        }
        // A disabled person, or one with no password yet (a reset, a setup link not followed),
        // is checked against the decoy like an unknown email, and refused like one.
        let hash = user.flatMap { $0.maySignIn ? $0.passwordHash : nil } ?? Self.decoy
        let matches = try await pool.run { try PasswordHash.verify(password, against: hash) }
        guard matches, let user, user.maySignIn else {
            clients.recordFailure(client, now: now)
            try await store.appendAudit(entry("sign_in.failed"))
            return .refused
        }
        try await store.signedIn(emailDigest: digest, entry: entry("sign_in.succeeded"))
        return .signedIn(user)
    }

    /// A new password's hash, made on the pool.
    func hash(_ password: String) async throws -> String {
        try await pool.run { try PasswordHash.make(password: password) }
    }

    /// `page` (a 429 saying so) with `Retry-After`.
    static func locked(_ page: Response, retryAfter seconds: Int64) -> Response {
        var page = page
        page.headers[.retryAfter] = String(seconds)
        return page
    }

    /// "Try again in …" for a lockout.
    static func retryText(_ seconds: Int64, catalog: Catalog) -> String {
        catalog.text("common.locked", count: Int(max(1, (seconds + 59) / 60)))
    }
}
