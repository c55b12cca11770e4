/// Everything the service keeps: partners and their provider connections, customers and the
/// people who sign in for them, credentials, invitations, acceptances, relationships, DAP grants
/// and the append-only audit log.
///
/// One protocol, two implementations (``SQLiteStore``, ``PostgresStore``), one contract test
/// suite run against both. Every method that changes state writes its audit entry in the same
/// transaction. Errors are ``StoreError`` with a stable code.
public protocol RelationshipStore: Sendable {
    /// Creates or upgrades the schema (versioned migrations). Safe to call on every start.
    func migrate() async throws
    /// Succeeds when the database answers a trivial query.
    func ping() async throws
    /// Releases what the store holds open (a connection pool); calls after it fail. Stores
    /// with nothing to release use the default, which does nothing.
    func shutdown() async

    // MARK: Partners

    /// Throws `.conflict` when the id is taken.
    func addPartner(_ partner: Partner, actor: String) async throws
    func partner(id: String) async throws -> Partner?
    /// Makes the reseller an indirect reseller of the provider. Idempotent.
    /// Throws `.unknownPartner` when either is missing or of the wrong kind.
    func connect(resellerID: String, providerID: String, at: UnixTime, actor: String) async throws
    /// Ends the connection. Throws `.notFound` when they were not connected.
    func disconnect(resellerID: String, providerID: String, at: UnixTime, actor: String) async throws
    /// The providers the reseller is currently connected to, by name.
    func providers(ofReseller resellerID: String) async throws -> [Partner]
    func isConnected(resellerID: String, providerID: String) async throws -> Bool

    // MARK: Customers and people

    /// Throws `.conflict` when the id is taken.
    func addCustomer(_ customer: Customer, actor: String) async throws
    func customer(id: String) async throws -> Customer?
    /// Adds a customer with its global admin and, when a reseller creates it, that reseller's
    /// relationship, in one transaction ("Add a new customer", DESIGN.md §7). Throws
    /// `.conflict` when the id, the domain (case-insensitive) or the admin's email is taken,
    /// `.unknownPartner` when the reseller is missing or not a reseller.
    func addCustomer(_ new: NewCustomer, actor: String) async throws
    /// Adds a person, with the setup link that lets them choose a password when given, in one
    /// transaction. Throws `.conflict` when the email (case-insensitive) is taken.
    func addUser(_ user: User, setupLink: SetupLink?, actor: String) async throws
    /// The people of a tenant, by email, a page at a time.
    func users(of tenant: Tenant, page: PageRequest) async throws -> Page<User>
    /// Disables (ending every session at once: the session version rises) or enables a user.
    /// Idempotent. Throws `.notFound` for an unknown id.
    @discardableResult
    func setDisabled(userID: String, disabled: Bool, at: UnixTime, actor: String) async throws -> User
    /// Resets a password: the old one stops working, every session ends, and `setupLink` (which
    /// ends any older unused one) is how the person chooses a new one.
    @discardableResult
    func resetPassword(userID: String, setupLink: SetupLink, at: UnixTime, actor: String) async throws -> User
    /// Uses setup link `linkID` of user `userID` to set a password, in one transaction: the link
    /// must be unused and unexpired at `at` (else `.usedUp`, `.expired` is `.usedUp` too:
    /// nothing tells the two apart to a holder) and the user enabled. Returns the user as now.
    func completeSetup(linkID: String, userID: String, passwordHash: String, at: UnixTime) async throws -> User
    /// A setup link's record.
    func setupLink(id: String) async throws -> SetupLink?
    /// Looks a user up by email, case-insensitively.
    func user(email: String) async throws -> User?
    func user(id: String) async throws -> User?
    /// Stores a new password hash, clears `mustChangePassword` and raises `sessionVersion`
    /// (every session made before ends). Returns the user as it is now.
    @discardableResult
    func setPassword(userID: String, passwordHash: String, at: UnixTime) async throws -> User
    /// Counts a sign-in attempt for the address with this digest before its password is
    /// checked, in one atomic statement (so parallel attempts, on any instance, cannot all
    /// pass): ``SignInAttempt/locked(until:)`` once `limits.failures` attempts fell within
    /// `limits.window`, until `limits.lockout` has passed; then the count starts over.
    /// The attempt that locks the address records `lockEntry` (`sign_in.locked`) in the same
    /// transaction.
    func claimSignInAttempt(emailDigest: [UInt8], now: UnixTime, limits: SignInLimits, lockEntry: AuditEntry) async throws
        -> SignInAttempt
    /// Forgets the address's failures (its password was right) and records `entry`, the
    /// successful sign-in, in the same transaction.
    func signedIn(emailDigest: [UInt8], entry: AuditEntry) async throws

    // MARK: Credentials

    func addCredential(_ credential: Credential, actor: String) async throws
    /// The unrevoked credential whose secret hashes to `secretHash` and, for a partner's
    /// credential, the partner: what every authenticated call needs first, in one trip.
    func principal(secretHash: [UInt8]) async throws -> Principal?
    /// Throws `.notFound` for an unknown id; revoking twice is not an error.
    func revokeCredential(id: String, at: UnixTime, actor: String) async throws

    // MARK: Invitations

    /// Records an issued invitation. The reseller need not be in the database yet (acceptance
    /// checks it); a provider named must be one the reseller is connected to, else
    /// `.providerNotConnected`. With `credentialID`, the credential must be unrevoked in the
    /// transaction that records it, else `.credentialRevoked` before any other refusal (a
    /// caller that authenticated from a cache learns of a revocation here, without a read).
    func addInvitation(_ invitation: Invitation, confirmingCredential credentialID: String?) async throws
    /// Any invitation by id, for verification and the acceptance page.
    func invitation(id: String) async throws -> Invitation?
    /// The reseller's own invitation with its acceptances; nil when missing or another's.
    func invitation(id: String, resellerID: String) async throws -> InvitationRecord?
    /// The reseller's invitations, newest first.
    func invitations(resellerID: String, page: PageRequest) async throws -> Page<InvitationRecord>
    /// The acceptances of reseller `resellerID`'s invitation `invitationID`, oldest first, a
    /// page at a time; nil when the invitation is not that reseller's.
    func acceptances(invitationID: String, resellerID: String, page: PageRequest) async throws -> Page<Acceptance>?
    /// Revokes the reseller's own invitation; idempotent. Throws `.notFound` when missing or
    /// another's. Returns the invitation as it is now.
    func revokeInvitation(id: String, resellerID: String, at: UnixTime, actor: String) async throws -> Invitation

    // MARK: Acceptance

    /// Accepts an invitation in one transaction: the reseller relationship, the provider
    /// relationship when named, the DAP grant when asked, the acceptance and the audit entries —
    /// or nothing. A customer that already accepted this invitation gets its first answer back.
    /// Throws `.unknownInvitation`, `.revoked`, `.usedUp`, `.unknownPartner`,
    /// `.providerNotConnected` or `.unknownCustomer`, and `.credentialRevoked` before all of them
    /// when the request's `confirmingCredential` is revoked or gone. The caller has already
    /// verified the token, including its expiry.
    func accept(_ request: AcceptanceRequest) async throws -> Acceptance

    // MARK: Customers of a partner

    /// Customers with an active relationship to the partner, oldest relationship first; with
    /// `includeRetained`, also those whose relationship ended while the partner keeps its DAP
    /// grant, ordered by relationship or grant time.
    func customers(ofPartner partnerID: String, includeRetained: Bool, page: PageRequest) async throws -> Page<PartnerCustomer>
    /// One customer of the partner, with an active relationship; nil otherwise.
    func customer(id: String, ofPartner partnerID: String) async throws -> PartnerCustomer?
    /// The names of the given partners, customers and users (users by email), in three queries
    /// whatever their number: what a list page shows for the ids it holds.
    func displayNames(partnerIDs: Set<String>, customerIDs: Set<String>, userIDs: Set<String>) async throws -> DisplayNames
    /// Ends the partner's relationship with the customer, on the partner's or the customer's
    /// behalf; DAP grants and other partners' relationships stay. Throws `.notFound` when there
    /// is no active relationship.
    func removeRelationship(
        partnerID: String, customerID: String, by side: RemovalSide, at: UnixTime, actor: String
    ) async throws -> RelationshipRemoval
    /// Removes the partner's DAP grant on the customer (the customer takes it back, or the
    /// partner gives it up); the relationship stays. Throws `.notFound` when there is none.
    func removeDelegatedAdmin(partnerID: String, customerID: String, by side: RemovalSide, at: UnixTime, actor: String) async throws
    /// The partners holding an active relationship or a DAP grant on the customer, by id.
    func partners(ofCustomer customerID: String, page: PageRequest) async throws -> Page<CustomerPartner>
    /// Partner `id` as the customer sees it; nil when it holds neither a relationship nor a
    /// DAP grant on the customer.
    func partner(id: String, ofCustomer customerID: String) async throws -> CustomerPartner?
    /// Whether the partner holds delegated admin privileges for the customer.
    func hasDelegatedAdmin(partnerID: String, customerID: String) async throws -> Bool

    // MARK: Signed-out sessions

    /// Remembers a signed-out browser session, by a digest of its cookie, until `expiresAt`
    /// (when the cookie would have stopped working anyway), so that every instance refuses a
    /// copy of it. Forgets sessions already past their expiry on the way.
    func revokeSession(digest: [UInt8], expiresAt: UnixTime, now: UnixTime) async throws
    /// Whether the session with this digest was signed out.
    func isSessionRevoked(digest: [UInt8]) async throws -> Bool

    // MARK: Audit

    /// Appends an entry on its own (key changes from the CLI, failed sign-ins), with the actor
    /// kind it names. Throws `.invalidInput` when `detail` is neither empty nor a JSON object.
    func appendAudit(_ entry: AuditEntry) async throws
    /// The newest entries first.
    func auditLog(limit: Int) async throws -> [AuditEntry]
    /// The entries `query` selects, oldest (lowest `seq`) first, a page at a time.
    func auditEntries(_ query: AuditQuery, page: PageRequest) async throws -> Page<AuditEntry>
    /// Every checkpoint, oldest first.
    func auditCheckpoints() async throws -> [AuditCheckpoint]
    /// The stored chain link of each sealed entry with `seq` in `range`, by `seq`.
    func auditChainLinks(_ range: ClosedRange<Int64>) async throws -> [Int64: [UInt8]]
    /// Seals the entries after the last checkpoint (at most `limit` of them) into a new one:
    /// their chain links and the checkpoint whose token `sign` makes, in one transaction. Nil
    /// when there is nothing to seal yet, or another sealer got there first. Never skips an
    /// entry: on PostgreSQL it waits until no transaction that could still commit a lower
    /// `seq` is running, and takes nothing that acceptances wait for.
    func sealAudit(at: UnixTime, limit: Int, sign: @Sendable (CheckpointDraft) throws -> String) async throws -> AuditCheckpoint?
    /// Deletes the sealed entries up to `throughSeq` (the last entry of a checkpoint made at or
    /// before `until`: what `audit export --until` wrote), their links and the checkpoints that
    /// covered them, and records that the log now starts after it; with its own audit entry.
    /// The chain stays verifiable from the next checkpoint, whose signed `prev` is the head at
    /// the cut. Returns the seq pruned through (0 when nothing was sealed by then).
    func pruneAudit(until: UnixTime, at: UnixTime, actor: String) async throws -> Int64
    /// The seq the log was pruned through (0: never pruned).
    func auditPrunedThrough() async throws -> Int64

    // MARK: Webhooks

    /// Registers an endpoint, with its audit entry. Throws `.unknownPartner` for a missing partner.
    func addWebhook(_ endpoint: WebhookEndpoint, actor: String) async throws
    /// The partner's endpoints, oldest first.
    func webhooks(partnerID: String) async throws -> [WebhookEndpoint]
    /// The partner's endpoint `id`; nil when missing, removed or another partner's.
    func webhook(id: String, partnerID: String) async throws -> WebhookEndpoint?
    /// Removes the partner's endpoint: no more deliveries to it. Throws `.notFound`.
    func removeWebhook(id: String, partnerID: String, at: UnixTime, actor: String) async throws
    /// Replaces the secret; the old one keeps signing (beside the new) until `keepPreviousUntil`.
    /// Throws `.notFound`. Returns the endpoint as it is now.
    func rotateWebhookSecret(
        id: String, partnerID: String, newSecret: String, keepPreviousUntil: UnixTime, at: UnixTime, actor: String
    ) async throws -> WebhookEndpoint
    /// The deliveries to the partner's endpoint, newest first, a page at a time; nil when the
    /// endpoint is not the partner's.
    func webhookDeliveries(endpointID: String, partnerID: String, page: PageRequest) async throws -> Page<WebhookDelivery>?
    /// Turns audit entries that are webhook events (``WebhookEventType``) into pending
    /// deliveries to every endpoint of the partner each concerns that asked for the type and
    /// existed when it happened, exactly once each: one fan-out at a time, from a durable
    /// cursor, never skipping an entry that commits late. Looks at most `limit` entries on;
    /// says how far the cursor moved and how many deliveries it made.
    func fanOutWebhookEvents(at: UnixTime, limit: Int) async throws -> WebhookFanOut
    /// Claims up to `limit` pending deliveries due at `nowMilliseconds`, at most `perEndpoint`
    /// of one endpoint and none of the endpoints in `excluding` (those this instance already
    /// sends to at its limit), for one attempt each, for `leaseMilliseconds`: no other claim
    /// (on any instance) takes them until the lease ends, so a crashed instance's attempts are
    /// made again by another. The work is bounded by the number of endpoints and the limits,
    /// never by how many deliveries wait: a dead receiver's backlog costs nothing here.
    func claimWebhookDeliveries(
        nowMilliseconds: Int64, limit: Int, perEndpoint: Int, excluding: Set<String>, leaseMilliseconds: Int64
    ) async throws -> [WebhookJob]
    /// Records an attempt's outcome and ends the claim.
    func recordWebhookAttempt(deliveryID: Int64, outcome: WebhookAttemptOutcome, at: UnixTime) async throws
    /// When the oldest pending delivery was made, if any: for the oldest-event-age metric.
    func oldestPendingWebhookDelivery() async throws -> UnixTime?
}

extension RelationshipStore {
    /// Records an issued invitation for a caller whose credential was read in this request.
    public func addInvitation(_ invitation: Invitation) async throws {
        try await addInvitation(invitation, confirmingCredential: nil)
    }
}
