internal import InviteToken
internal import Foundation
internal import Logging
internal import PostgresNIO
internal import Synchronization

/// The shared store: PostgreSQL through a postgres-nio `PostgresClient` connection pool, for
/// several service instances behind a load balancer (DESIGN.md §6).
///
/// Same answers as ``SQLiteStore`` for every call, proven by the same contract suite. What
/// differs is how races are ruled out: SQLite has one writer, PostgreSQL has many. Each write
/// is one transaction (READ COMMITTED). An acceptance is one statement that takes its
/// invitation row (revoked? uses left? re-checked on the newest committed row) and writes
/// everything else only if that succeeded: a limited invitation's row with a conditional
/// `UPDATE … RETURNING` of its use count, so every acceptance of it, on any instance, counts
/// its use after the previous one committed; an unlimited one's with `SELECT … FOR SHARE`, so
/// its acceptances run side by side (see ``accept(_:_:)``). Revoking takes the row with
/// `SELECT … FOR UPDATE`, which waits for both kinds. Inserts
/// that two transactions may race for (an idempotent connect, a relationship or DAP grant two
/// invitations both give) use `ON CONFLICT DO NOTHING` on the unique index that states the
/// invariant, and any unique violation left (SQLSTATE 23505) is a ``StoreError/Code/conflict``
/// (or, in an acceptance, a rerun that answers like a repeat), never a generic failure.
/// Serialization failures and deadlocks (40001, 40P01) rerun the whole transaction, at most
/// ``maximumAttempts`` times. Values are always bound parameters (`PostgresQuery`
/// interpolation binds); only constant SQL is ever spliced.
///
/// The pool reconnects by itself: while the server is down, calls fail with
/// ``StoreError/Code/unavailable`` after at most ``leaseTimeout`` instead of hanging, and work
/// again once it is back, without a restart.
public final class PostgresStore: RelationshipStore {
    /// Attempts of one transaction that hits serialization failures or deadlocks.
    static let maximumAttempts = 5

    private let client: PostgresClient
    /// Runs the client's pool; cancelled by ``shutdown()`` or when the store goes away.
    private let runner: Task<Void, Never>
    /// How long a call waits for a pooled connection before answering `unavailable`.
    private let leaseTimeout: Duration
    /// How long ``ping()`` waits: a readiness probe must answer before the prober gives up.
    private let pingTimeout: Duration

    /// Queries are not logged (they carry ids and emails); the pool's own warnings are.
    fileprivate static let quiet = Logger(label: "invitelink.postgres.query", factory: { _ in SwiftLogNoOpLogHandler() })

    /// Opens a pool for `url` (see ``PostgresConfiguration`` for what the URL may say). No
    /// connection is made until the first call; call ``migrate()`` before use.
    public convenience init(url: String) throws {
        var logger = Logger(label: "invitelink.postgres")
        logger.logLevel = .warning
        try self.init(configuration: PostgresConfiguration(url: url), logger: logger)
    }

    init(
        configuration: PostgresConfiguration, logger: Logger,
        leaseTimeout: Duration = .seconds(10), pingTimeout: Duration = .seconds(2)
    ) {
        let client = PostgresClient(configuration: configuration.client, backgroundLogger: logger)
        self.client = client
        self.leaseTimeout = leaseTimeout
        self.pingTimeout = pingTimeout
        // The pool only hands out connections while run() runs. The store owns this task and
        // cancels it (closing every connection) in shutdown() or deinit, so it never outlives
        // its store; the task holds the client, not the store. An immediate task enters run()
        // before init returns, so no first call can find the pool not yet running.
        if #available(macOS 26.0, *) {
            runner = Task.immediate { await client.run() }
        } else {
            runner = Task { await client.run() }
        }
    }

    deinit {
        runner.cancel()
    }

    /// Closes the pool's connections and waits until they are closed. Calls after it fail with
    /// ``StoreError/Code/unavailable``.
    public func shutdown() async {
        runner.cancel()
        await runner.value
    }

    // MARK: Schema

    /// Applies the migrations not yet recorded in `schema_migrations`, all in one transaction
    /// that first takes a transaction-scoped advisory lock: instances starting at once migrate
    /// one after the other, and a migration that fails leaves nothing half-applied.
    public func migrate() async throws {
        try await write { db in
            try await db.run("SELECT pg_advisory_xact_lock(\(PostgresSchema.migrationLockKey))")
            try await db.run(PostgresQuery(unsafeSQL: PostgresSchema.createMigrationsTable))
            let applied = Set(try await db.rows("SELECT version FROM schema_migrations").map { try $0.decode(Int64.self) })
            for migration in PostgresSchema.migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await db.run(PostgresQuery(unsafeSQL: statement))
                }
                try await db.run("INSERT INTO schema_migrations (version, name) VALUES (\(migration.version), \(migration.name))")
            }
        }
    }

    public func ping() async throws {
        try await perform(transaction: false, retryingUniqueViolations: false, within: pingTimeout) { db in
            try await db.run("SELECT 1")
        }
    }

    // MARK: Partners

    public func addPartner(_ partner: Partner, actor: String) async throws {
        try await write { db in
            let inserted = try await db.rows("""
                INSERT INTO partners (id, name, kind, created_at)
                VALUES (\(partner.id), \(partner.name), \(partner.kind.rawValue), \(partner.createdAt))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """)
            guard !inserted.isEmpty else { throw StoreError(.conflict, "partner \(partner.id) already exists") }
            try await Self.audit(db, at: partner.createdAt, actor: actor, action: "partner.added", subject: partner.id,
                                 detail: ["kind": partner.kind.rawValue, "name": partner.name])
        }
    }

    public func partner(id: String) async throws -> Partner? {
        try await read { db in try await Self.partner(db, id: id) }
    }

    public func connect(resellerID: String, providerID: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            try await Self.requirePartner(db, id: resellerID, kind: .reseller)
            try await Self.requirePartner(db, id: providerID, kind: .provider)
            // Two instances connecting the same pair at once: the second waits on the index
            // entry of the first, then inserts nothing and stays silent, as if it came later.
            let inserted = try await db.rows("""
                INSERT INTO provider_connections (reseller_id, provider_id, connected_at)
                VALUES (\(resellerID), \(providerID), \(at))
                ON CONFLICT (reseller_id, provider_id) WHERE disconnected_at IS NULL DO NOTHING
                RETURNING id
                """)
            guard !inserted.isEmpty else { return }
            try await Self.audit(db, at: at, actor: actor, action: "partner.connected", subject: resellerID,
                                 detail: ["provider_id": providerID])
        }
    }

    public func disconnect(resellerID: String, providerID: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            let ended = try await db.rows("""
                UPDATE provider_connections SET disconnected_at = \(at)
                WHERE reseller_id = \(resellerID) AND provider_id = \(providerID) AND disconnected_at IS NULL
                RETURNING id
                """)
            guard !ended.isEmpty else {
                throw StoreError(.notFound, "reseller \(resellerID) is not connected to provider \(providerID)")
            }
            try await Self.audit(db, at: at, actor: actor, action: "partner.disconnected", subject: resellerID,
                                 detail: ["provider_id": providerID])
        }
    }

    public func providers(ofReseller resellerID: String) async throws -> [Partner] {
        try await read { db in
            try await db.rows("""
                SELECT p.id, p.name, p.kind, p.created_at FROM partners p
                JOIN provider_connections c ON c.provider_id = p.id
                WHERE c.reseller_id = \(resellerID) AND c.disconnected_at IS NULL
                ORDER BY p.name, p.id
                """).map(Self.partner(row:))
        }
    }

    public func isConnected(resellerID: String, providerID: String) async throws -> Bool {
        try await read { db in try await Self.isConnected(db, resellerID: resellerID, providerID: providerID) }
    }

    // MARK: Customers and people

    public func addCustomer(_ customer: Customer, actor: String) async throws {
        try await write { db in
            let inserted = try await db.rows("""
                INSERT INTO customers (id, name, domain, created_at)
                VALUES (\(customer.id), \(customer.name), \(customer.domain), \(customer.createdAt))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """)
            guard !inserted.isEmpty else { throw StoreError(.conflict, "customer \(customer.id) already exists") }
            try await Self.audit(db, at: customer.createdAt, actor: actor, action: "customer.added", subject: customer.id,
                                 detail: ["domain": customer.domain, "name": customer.name])
        }
    }

    public func customer(id: String) async throws -> Customer? {
        try await read { db in try await Self.customer(db, id: id) }
    }

    /// Stores the email lowercased (Swift's `lowercased()`, as ``SQLiteStore`` does), so
    /// uniqueness and look-up ignore case the same way on both backends.
    public func addUser(_ user: User, actor: String) async throws {
        let email = user.email.lowercased()
        try await write { db in
            try await Self.requireTenant(db, user.tenant, role: user.role)
            let taken = try await db.rows("""
                SELECT EXISTS (SELECT 1 FROM users WHERE id = \(user.id)),
                       EXISTS (SELECT 1 FROM users WHERE email = \(email))
                """)[0].decode((Bool, Bool).self)
            guard !taken.0 else { throw StoreError(.conflict, "user \(user.id) already exists") }
            guard !taken.1 else { throw StoreError(.conflict, "a user with this email already exists") }
            // A racing insert of the same id or email ends in 23505, which is a conflict too.
            try await db.run("""
                INSERT INTO users (id, partner_id, customer_id, email, role, password_hash,
                                   must_change_password, failed_sign_ins, locked_until, created_at)
                VALUES (\(user.id), \(user.tenant.partnerID), \(user.tenant.customerID), \(email), \(user.role.rawValue),
                        \(user.passwordHash), \(user.mustChangePassword), \(Int64(user.failedSignIns)), \(user.lockedUntil),
                        \(user.createdAt))
                """)
            try await Self.audit(db, at: user.createdAt, actor: actor, action: "user.added", subject: user.id,
                                 detail: ["role": user.role.rawValue, "tenant": user.tenant.auditName])
        }
    }

    public func user(email: String) async throws -> User? {
        let email = email.lowercased()
        return try await read { db in
            try await db.rows("SELECT \(unescaped: Self.userColumns) FROM users WHERE email = \(email)").first.map(Self.user(row:))
        }
    }

    public func user(id: String) async throws -> User? {
        try await read { db in
            try await db.rows("SELECT \(unescaped: Self.userColumns) FROM users WHERE id = \(id)").first.map(Self.user(row:))
        }
    }

    public func setPassword(userID: String, passwordHash: String, at: UnixTime) async throws {
        try await write { db in
            let updated = try await db.rows("""
                UPDATE users SET password_hash = \(passwordHash), must_change_password = FALSE, failed_sign_ins = 0,
                                 locked_until = NULL
                WHERE id = \(userID) RETURNING id
                """)
            guard !updated.isEmpty else { throw StoreError(.notFound, "no user \(userID)") }
            try await Self.audit(db, at: at, actor: userID, action: "user.password_set", subject: userID)
        }
    }

    /// Not audited here: the server appends its own sign-in entries with ``appendAudit(_:)``.
    public func recordFailedSignIn(userID: String, lockedUntil: UnixTime?) async throws {
        try await write { db in
            let updated = try await db.rows("""
                UPDATE users SET failed_sign_ins = failed_sign_ins + 1,
                                 locked_until = COALESCE(\(lockedUntil)::BIGINT, locked_until)
                WHERE id = \(userID) RETURNING id
                """)
            guard !updated.isEmpty else { throw StoreError(.notFound, "no user \(userID)") }
        }
    }

    /// Not audited here: the server appends its own sign-in entries with ``appendAudit(_:)``.
    public func recordSuccessfulSignIn(userID: String) async throws {
        try await write { db in
            let updated = try await db.rows("""
                UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = \(userID) RETURNING id
                """)
            guard !updated.isEmpty else { throw StoreError(.notFound, "no user \(userID)") }
        }
    }

    // MARK: Credentials

    public func addCredential(_ credential: Credential, actor: String) async throws {
        let hash = Data(credential.secretHash)
        try await write { db in
            try await Self.requireTenant(db, credential.tenant, role: credential.role)
            let taken = try await db.rows("""
                SELECT EXISTS (SELECT 1 FROM credentials WHERE id = \(credential.id)),
                       EXISTS (SELECT 1 FROM credentials WHERE secret_hash = \(hash))
                """)[0].decode((Bool, Bool).self)
            guard !taken.0 else { throw StoreError(.conflict, "credential \(credential.id) already exists") }
            guard !taken.1 else { throw StoreError(.conflict, "a credential with this secret already exists") }
            try await db.run("""
                INSERT INTO credentials (id, partner_id, customer_id, role, secret_hash, created_at, revoked_at)
                VALUES (\(credential.id), \(credential.tenant.partnerID), \(credential.tenant.customerID),
                        \(credential.role.rawValue), \(hash), \(credential.createdAt), \(credential.revokedAt))
                """)
            try await Self.audit(db, at: credential.createdAt, actor: actor, action: "credential.added", subject: credential.id,
                                 detail: ["role": credential.role.rawValue, "tenant": credential.tenant.auditName])
        }
    }

    /// The credential and its partner in one prepared statement: one round trip per
    /// authenticated call.
    public func principal(secretHash: [UInt8]) async throws -> Principal? {
        let hash = Data(secretHash)
        return try await read { db in
            guard let row = try await db.first(PrincipalLookup(secretHash: hash)) else { return nil }
            let (id, partnerID, customerID, role, storedHash, createdAt, revokedAt, partnerName, partnerKind, partnerCreatedAt) =
                try row.decode((String, String?, String?, String, Data, UnixTime, UnixTime?, String?, String?, UnixTime?).self)
            let credential = try Self.credential(
                id: id, partnerID: partnerID, customerID: customerID, role: role, hash: storedHash, createdAt: createdAt, revokedAt: revokedAt
            )
            var partner: Partner?
            if let partnerID, let partnerName, let partnerKind, let partnerCreatedAt {
                guard let kind = PartnerKind(rawValue: partnerKind) else { throw Self.corrupt("partners.kind") }
                partner = Partner(id: partnerID, name: partnerName, kind: kind, createdAt: partnerCreatedAt)
            }
            return Principal(credential: credential, partner: partner)
        }
    }

    // MARK: Signed-out sessions

    public func revokeSession(digest: [UInt8], expiresAt: UnixTime, now: UnixTime) async throws {
        let digest = Data(digest)
        try await write { db in
            try await db.run("DELETE FROM revoked_sessions WHERE expires_at <= \(now)")
            try await db.run("""
                INSERT INTO revoked_sessions (digest, expires_at) VALUES (\(digest), \(expiresAt))
                ON CONFLICT (digest) DO NOTHING
                """)
        }
    }

    public func isSessionRevoked(digest: [UInt8]) async throws -> Bool {
        let digest = Data(digest)
        return try await read { db in
            try await db.rows("SELECT EXISTS (SELECT 1 FROM revoked_sessions WHERE digest = \(digest))")[0].decode(Bool.self)
        }
    }

    public func revokeCredential(id: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            guard let row = try await db.rows("SELECT revoked_at FROM credentials WHERE id = \(id) FOR UPDATE").first else {
                throw StoreError(.notFound, "no credential \(id)")
            }
            guard try row.decode(UnixTime?.self) == nil else { return }
            try await db.run("UPDATE credentials SET revoked_at = \(at) WHERE id = \(id)")
            try await Self.audit(db, at: at, actor: actor, action: "credential.revoked", subject: id)
        }
    }

    // MARK: Invitations

    /// Records the invitation as issued: unused and unrevoked, whatever `useCount` and
    /// `revokedAt` say. Throws `.invalidInput` for `maxUses` below 1, `.conflict` for an id
    /// already recorded, `.unknownPartner` for a missing provider and `.providerNotConnected`
    /// for a provider the reseller is not connected to.
    public func addInvitation(_ invitation: Invitation) async throws {
        if let maxUses = invitation.maxUses, maxUses < 1 {
            throw StoreError(.invalidInput, "max_uses must be at least 1, or absent for unlimited")
        }
        var detail = ["reseller_id": invitation.resellerID, "dap": String(invitation.delegatedAdmin),
                      "kid": invitation.kid, "expires_at": String(invitation.expiresAt)]
        detail["provider_id"] = invitation.providerID
        detail["max_uses"] = invitation.maxUses.map(String.init)
        let auditDetail = StoredJSON.auditDetail(detail)
        // One statement, atomic on its own: the invitation, inserted only when its id is new and
        // its provider (if any) is one the reseller is connected to, and its audit entry. The
        // reseller need not exist yet (an operator may mint links ahead of time): acceptance
        // checks that the reseller and provider exist, at acceptance time.
        let inserted = try await autocommit { db in
            try await db.rows("""
                WITH inserted AS (
                    INSERT INTO invitations (id, reseller_id, provider_id, dap, kid, issued_at, expires_at,
                                             max_uses, use_count, issued_by, customer_email, revoked_at)
                    SELECT \(invitation.id), \(invitation.resellerID), \(invitation.providerID)::TEXT, \(invitation.delegatedAdmin),
                           \(invitation.kid), \(invitation.issuedAt), \(invitation.expiresAt), \(invitation.maxUses.map(Int64.init))::BIGINT,
                           0, \(invitation.issuedBy), \(invitation.customerEmail)::TEXT, NULL
                    WHERE \(invitation.providerID)::TEXT IS NULL OR EXISTS (
                        SELECT 1 FROM provider_connections c JOIN partners p ON p.id = c.provider_id AND p.kind = 'provider'
                        WHERE c.reseller_id = \(invitation.resellerID) AND c.provider_id = \(invitation.providerID)::TEXT
                          AND c.disconnected_at IS NULL)
                    ON CONFLICT (id) DO NOTHING
                    RETURNING id
                ), logged AS (
                    INSERT INTO audit_log (at, actor, action, subject, detail)
                    SELECT \(invitation.issuedAt), \(invitation.issuedBy), 'invitation.issued', id, \(auditDetail) FROM inserted
                )
                SELECT count(*) FROM inserted
                """)[0].decode(Int64.self) > 0
        }
        guard !inserted else { return }
        // Nothing inserted: say why, in the order SQLiteStore checks.
        let (taken, providerKind, connected) = try await read { db in
            try await db.rows("""
                SELECT EXISTS (SELECT 1 FROM invitations WHERE id = \(invitation.id)),
                       (SELECT kind FROM partners WHERE id = \(invitation.providerID)::TEXT),
                       EXISTS (SELECT 1 FROM provider_connections
                               WHERE reseller_id = \(invitation.resellerID) AND provider_id = \(invitation.providerID)::TEXT
                                 AND disconnected_at IS NULL)
                """)[0].decode((Bool, String?, Bool).self)
        }
        if taken { throw StoreError(.conflict, "invitation \(invitation.id) already exists") }
        let providerID = invitation.providerID ?? ""
        guard providerKind == PartnerKind.provider.rawValue else { throw StoreError(.unknownPartner, "no provider \(providerID)") }
        guard connected else {
            throw StoreError(.providerNotConnected, "reseller \(invitation.resellerID) is not connected to provider \(providerID)")
        }
        // The provider was connected again between the two statements.
        throw StoreError(.unavailable, "invitation \(invitation.id) could not be recorded; try again")
    }

    public func invitation(id: String) async throws -> Invitation? {
        try await read { db in try await Self.invitation(db, id: id) }
    }

    /// One statement, so the invitation and its acceptances come from one snapshot.
    public func invitation(id: String, resellerID: String) async throws -> InvitationRecord? {
        try await read { db in
            try await db.rows("""
                SELECT \(unescaped: Self.invitationColumns), \(unescaped: Self.acceptanceResults)
                FROM invitations i WHERE i.id = \(id) AND i.reseller_id = \(resellerID)
                """).first.map(Self.invitationRecord(row:))
        }
    }

    public func invitations(resellerID: String, page: PageRequest) async throws -> Page<InvitationRecord> {
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .invitations) }
        let limit = page.limit
        return try await read { db in
            let rows = try await db.rows("""
                SELECT \(unescaped: Self.invitationColumns), \(unescaped: Self.acceptanceResults)
                FROM invitations i
                WHERE i.reseller_id = \(resellerID)
                  AND (\(after == nil) OR (i.issued_at, i.id) < (\(after?.time ?? 0), \(after?.key ?? "")))
                ORDER BY i.issued_at DESC, i.id DESC LIMIT \(Int64(limit + 1))
                """)
            let records = try rows.prefix(limit).map(Self.invitationRecord(row:))
            let next = rows.count > limit ? records.last.map {
                PageCursor(list: .invitations, time: $0.invitation.issuedAt, key: $0.invitation.id).encoded
            } : nil
            return Page(items: records, nextCursor: next)
        }
    }

    /// The row lock waits until every acceptance holding the row has committed, and none can
    /// follow; the invitation is read by a later statement, whose snapshot sees all of them, so
    /// its use count (counted from the acceptances) is final. Read in the locking statement it
    /// could miss those the lock waited for: after the wait, PostgreSQL re-checks the newest
    /// version of the locked row but keeps the statement's older snapshot for everything else.
    public func revokeInvitation(id: String, resellerID: String, at: UnixTime, actor: String) async throws -> Invitation {
        try await write { db in
            let locked = try await db.rows("SELECT reseller_id, revoked_at FROM invitations WHERE id = \(id) FOR UPDATE").first
            guard let (owner, revokedAt) = try locked?.decode((String, UnixTime?).self), owner == resellerID else {
                throw StoreError(.notFound, "no invitation \(id)")
            }
            if revokedAt != nil {
                guard let invitation = try await Self.invitation(db, id: id) else { throw StoreError(.notFound, "no invitation \(id)") }
                return invitation
            }
            let revoked = try await db.rows("""
                UPDATE invitations i SET revoked_at = \(at) WHERE i.id = \(id) RETURNING \(unescaped: Self.invitationColumns)
                """)[0]
            try await Self.audit(db, at: at, actor: actor, action: "invitation.revoked", subject: id)
            return try Self.invitation(row: revoked)
        }
    }

    // MARK: Acceptance

    /// Accepts in two statements on one connection: a read of the facts the rules need, then
    /// one statement that uses the invitation and writes everything, which PostgreSQL runs as one
    /// transaction. When another transaction got in between (the last use, a revocation, the
    /// same customer on another instance: ``Self/outrun`` or a unique violation), both run
    /// again and the second read sees what it committed, so the answer is the one a serial
    /// order gives.
    public func accept(_ request: AcceptanceRequest) async throws -> Acceptance {
        try await perform(transaction: false, retryingUniqueViolations: true, within: leaseTimeout) { db in
            try await Self.accept(db, request)
        }
    }

    /// Thrown, and caught by the retry loop, when the use of the invitation found it revoked or
    /// used up after the facts had been read.
    static let outrun = StoreError(.unavailable, "the invitation changed during the acceptance; retries exhausted")

    /// The facts read in one statement, decided by ``AcceptanceRules``, then written by one more.
    ///
    /// The statement's first step takes the invitation row and re-checks "not revoked, uses
    /// left" on its newest committed version (a locking statement waits for the row's lock,
    /// then re-evaluates its WHERE), and every other write selects from its result: nothing is
    /// written unless the use was granted. A limited invitation's row is taken by a
    /// conditional `UPDATE … RETURNING` of `use_count`, so every acceptance of it, on any
    /// instance, counts its use after the previous one has committed. The lock is held only
    /// while the server runs that one statement and commits it, never across a round trip to
    /// this process. (`SELECT … FOR UPDATE` at the start of an explicit transaction is as
    /// correct, but holds the row for the whole transaction: it measured 3–6× slower on one
    /// link accepted by many.)
    ///
    /// An unlimited invitation, the default and the link a reseller sends to many customers,
    /// has no count to keep, so its row is not written: `SELECT … FOR SHARE` takes it. Written,
    /// the row stays locked until the commit's WAL flush, so acceptances of one link would
    /// commit one flush after the other; shared, they run side by side and their commits share
    /// flushes. FOR SHARE, not FOR KEY SHARE: it conflicts with any update of the row, the
    /// non-key update of `revoked_at` included, so a revocation waits for the acceptances that
    /// hold the row, and an acceptance that waited for a revocation finds the newest row revoked
    /// and writes nothing (``outrun``: the rerun answers `revoked`). Its `use_count` stays 0; an
    /// invitation's use count is read as the number of its acceptances, equal to the counter
    /// wherever that is kept (a customer's first acceptance counts one use, a repeat none).
    private static func accept(_ db: PostgresConnection, _ request: AcceptanceRequest) async throws -> Acceptance {
        // The stored counter, not the count of acceptances: it is exact where it is compared
        // (a limited invitation), and counting on every acceptance costs more the more
        // popular the link.
        guard let row = try await db.first(ReadAcceptanceFacts(invitationID: request.invitationID, customerID: request.customerID)) else {
            throw StoreError(.unknownInvitation, "no invitation \(request.invitationID)")
        }
        let invitation = try invitation(row: row)
        // The invitation's columns again, then the five facts.
        let (_, _, _, _, _, _, _, _, _, _, _, _, stored, customerExists, resellerKind, providerKind, connected) = try row.decode((
            String, String, String?, Bool, String, UnixTime, UnixTime, Int64?, String, String?, UnixTime?, Int64,
            String?, Bool, String?, String?, Bool
        ).self)
        let facts = AcceptanceFacts(
            invitation: invitation, storedAnswer: try stored.map(StoredJSON.decodeAcceptance), customerExists: customerExists,
            resellerKind: resellerKind.flatMap(PartnerKind.init(rawValue:)),
            providerKind: providerKind.flatMap(PartnerKind.init(rawValue:)), providerConnected: connected
        )
        switch try AcceptanceRules.decide(facts, request: request) {
        case .repeat(let answer):
            return answer
        case .accept:
            break
        }

        // Which relationships this acceptance creates is known only inside the statement, so
        // the stored answer is sent in each of its (at most four) forms and the statement keeps
        // the one that happened: byte for byte the JSON SQLiteStore stores.
        func answer(reseller: Bool, provider: Bool) -> Acceptance {
            AcceptanceRules.answer(to: request, for: invitation, resellerCreated: reseller, providerCreated: provider)
        }
        let answers = [
            answer(reseller: true, provider: true), answer(reseller: true, provider: false),
            answer(reseller: false, provider: true), answer(reseller: false, provider: false),
        ]
        let json = answers.map(StoredJSON.encode)

        // Each write selects from the one before it, so they run in SQLiteStore's order (and
        // two acceptances for one customer take the unique index entries in the same order).
        // A relationship or DAP grant the customer already has, or that a concurrent
        // transaction is creating (another invitation of this partner accepted at the same
        // moment), is left alone: the INSERT waits for that transaction and then does nothing,
        // exactly as if it had come second. The audit entries are one INSERT, so their ids
        // follow ORDER BY. The CHECK (use_count <= max_uses) backs the WHERE up; the
        // acceptances primary key backs up the same customer accepting twice at once.
        // `max_uses` never changes once issued, so the facts say how to take the row.
        let values = AcceptanceWrite(
            invitationID: invitation.id, resellerID: invitation.resellerID, customerID: request.customerID, at: request.at,
            providerID: invitation.providerID, delegatedAdmin: invitation.delegatedAdmin, acceptedBy: request.acceptedBy,
            auditDetails: [
                StoredJSON.auditDetail(["customer_id": request.customerID]),
                StoredJSON.auditDetail(["partner_id": invitation.resellerID, "role": "reseller", "invitation_id": invitation.id]),
                StoredJSON.auditDetail(["partner_id": invitation.providerID ?? "", "role": "provider", "invitation_id": invitation.id]),
                StoredJSON.auditDetail(["partner_id": invitation.resellerID, "invitation_id": invitation.id]),
            ],
            answers: json
        )
        let written = invitation.maxUses == nil
            ? try await db.first(AcceptUnlimitedUse(values))
            : try await db.first(AcceptLimitedUse(values))
        guard let outcome = written else { throw StoreError(.unavailable, "PostgreSQL answered the acceptance with no row") }
        guard outcome.0 else { throw outrun }
        return answer(reseller: outcome.1, provider: outcome.2)
    }

    // MARK: Customers of a partner

    public func customers(ofPartner partnerID: String, page: PageRequest) async throws -> Page<PartnerCustomer> {
        let after = try page.cursor.map { cursor -> (time: UnixTime, id: Int64) in
            let decoded = try PageCursor(decoding: cursor, for: .customers)
            guard let id = Int64(decoded.key), String(id) == decoded.key else {
                throw StoreError(.invalidCursor, "the page cursor is not one this list handed out")
            }
            return (decoded.time, id)
        }
        let limit = page.limit
        return try await read { db in
            let rows = try await db.rows("""
                SELECT r.id, r.role, r.created_at, d.granted_at, c.id, c.name, c.domain, c.created_at
                FROM relationships r
                JOIN customers c ON c.id = r.customer_id
                LEFT JOIN dap_grants d ON d.partner_id = r.partner_id AND d.customer_id = r.customer_id
                WHERE r.partner_id = \(partnerID) AND r.removed_at IS NULL
                  AND (\(after == nil) OR (r.created_at, r.id) > (\(after?.time ?? 0), \(after?.id ?? 0)))
                ORDER BY r.created_at, r.id LIMIT \(Int64(limit + 1))
                """)
            var last: (time: UnixTime, id: Int64)?
            let items = try rows.prefix(limit).map { row in
                let (relationshipID, roleText, since, grantedAt, id, name, domain, createdAt) =
                    try row.decode((Int64, String, UnixTime, UnixTime?, String, String, String, UnixTime).self)
                guard let role = RelationshipRole(rawValue: roleText) else { throw Self.corrupt("relationships.role") }
                last = (since, relationshipID)
                return PartnerCustomer(
                    customer: Customer(id: id, name: name, domain: domain, createdAt: createdAt),
                    role: role, since: since, delegatedAdminSince: grantedAt
                )
            }
            var next: String?
            if rows.count > limit, let last {
                next = PageCursor(list: .customers, time: last.time, key: String(last.id)).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }

    public func removeRelationship(partnerID: String, customerID: String, at: UnixTime, actor: String) async throws -> RelationshipRemoval {
        try await write { db in
            let removed = try await db.rows("""
                UPDATE relationships SET removed_at = \(at)
                WHERE partner_id = \(partnerID) AND customer_id = \(customerID) AND removed_at IS NULL
                RETURNING id
                """)
            guard !removed.isEmpty else {
                throw StoreError(.notFound, "no active relationship between \(partnerID) and customer \(customerID)")
            }
            let retained = try await Self.hasDelegatedAdmin(db, partnerID: partnerID, customerID: customerID)
            try await Self.audit(db, at: at, actor: actor, action: "relationship.removed", subject: customerID,
                                 detail: ["partner_id": partnerID, "delegated_admin_retained": String(retained)])
            return RelationshipRemoval(removed: true, delegatedAdminRetained: retained)
        }
    }

    public func hasDelegatedAdmin(partnerID: String, customerID: String) async throws -> Bool {
        try await read { db in try await Self.hasDelegatedAdmin(db, partnerID: partnerID, customerID: customerID) }
    }

    // MARK: Audit

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await write { db in
            try await Self.audit(db, at: entry.at, actor: entry.actor, action: entry.action, subject: entry.subject, detail: entry.detail)
        }
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            try await db.rows("""
                SELECT id, at, actor, action, subject, detail FROM audit_log ORDER BY id DESC LIMIT \(Int64(max(limit, 0)))
                """).map { row in
                let (id, at, actor, action, subject, detail) = try row.decode((Int64, UnixTime, String, String, String, String).self)
                return AuditEntry(id: id, at: at, actor: actor, action: action, subject: subject, detail: detail)
            }
        }
    }

    // MARK: Test hooks

    /// Runs `sql` outside the store's API, for contract tests that must reach under it (tamper
    /// with the audit log, count rows). Test code only: the SQL is spliced as given.
    func executeForTesting(_ sql: String) async throws {
        try await write { db in try await db.run(PostgresQuery(unsafeSQL: sql)) }
    }

    /// The first column of the first row of `sql`, as text (integers in decimal, bytes in
    /// base64url), or nil for no row or NULL.
    func scalarForTesting(_ sql: String) async throws -> String? {
        try await read { db in
            guard let cell = try await db.rows(PostgresQuery(unsafeSQL: sql)).first?.first, cell.bytes != nil else { return nil }
            switch cell.dataType {
            case .int2, .int4, .int8: return String(try cell.decode(Int64.self))
            case .bool: return String(try cell.decode(Bool.self))
            case .bytea: return Base64URL.encode(Array(try cell.decode(Data.self)))
            default: return try cell.decode(String.self)
            }
        }
    }

    // MARK: Access

    private func read<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await perform(transaction: false, retryingUniqueViolations: false, within: leaseTimeout, body)
    }

    /// One statement outside an explicit transaction: atomic on its own, one round trip.
    private func autocommit<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await perform(transaction: false, retryingUniqueViolations: false, within: leaseTimeout, body)
    }

    private func write<T: Sendable>(
        retryingUniqueViolations: Bool = false, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        try await perform(transaction: true, retryingUniqueViolations: retryingUniqueViolations, within: leaseTimeout, body)
    }

    /// Runs `body` on a pooled connection, in a transaction when `transaction` is set (reads are
    /// single statements, each its own snapshot), rerunning it after a serialization failure or
    /// deadlock, and after a unique violation when `retryingUniqueViolations`.
    private func perform<T: Sendable>(
        transaction: Bool, retryingUniqueViolations: Bool, within timeout: Duration,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        var attempt = 1
        while true {
            do {
                return try await leased(within: timeout) { connection in
                    if transaction {
                        try await connection.withTransaction(logger: Self.quiet) { try await body($0) }
                    } else {
                        try await body(connection)
                    }
                }
            } catch {
                let failure = PostgresFailure(error)
                let retryable = failure.isTransient || (retryingUniqueViolations && failure.isUniqueViolation)
                    || failure.storeError == Self.outrun
                guard retryable, attempt < Self.maximumAttempts else { throw failure.storeError }
                // A short random pause, longer each time, so that the transactions that
                // collided do not collide again in lockstep.
                try? await Task.sleep(for: .milliseconds(Int.random(in: 1...5) * attempt))
                attempt += 1
            }
        }
    }

    /// Runs `body` with a pooled connection, or throws `.unavailable` if none is handed out
    /// within `timeout`. While the server is down the pool queues requests until its circuit
    /// breaker trips (a minute); callers, and a readiness probe above all, need an answer sooner.
    /// The deadline covers only the wait for a connection, never the work itself, so a slow
    /// transaction is not cut in the middle and its caller never misreads a commit.
    private func leased<T: Sendable>(
        within timeout: Duration, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let lease = LeaseRace()
        let client = self.client
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                try await client.withConnection { connection in
                    guard lease.claim(.leased) else { throw LeaseRace.lateLease }
                    return try await body(connection)
                }
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                if lease.claim(.timedOut) {
                    throw StoreError(.unavailable, "no PostgreSQL connection within \(timeout.components.seconds) s")
                }
                return nil
            }
            while let answer = try await group.next() {
                if let answer {
                    group.cancelAll()
                    return answer
                }
            }
            throw StoreError(.unavailable, "the PostgreSQL call ended without an answer")
        }
    }
}

/// Who won the race between a connection lease and its deadline: whichever claims first.
private final class LeaseRace: Sendable {
    enum Outcome: Int { case leased = 1, timedOut = 2 }
    static let lateLease = StoreError(.unavailable, "a PostgreSQL connection came after the deadline")
    private let state = Atomic<Int>(0)

    func claim(_ outcome: Outcome) -> Bool {
        state.compareExchange(expected: 0, desired: outcome.rawValue, ordering: .acquiringAndReleasing).exchanged
    }
}

// MARK: - Queries shared by several operations

extension PostgresStore {
    fileprivate static let userColumns =
        "id, partner_id, customer_id, email, role, password_hash, must_change_password, failed_sign_ins, locked_until, created_at"
    /// The stored columns of invitation `i` but its use count.
    static let invitationFields = """
        i.id, i.reseller_id, i.provider_id, i.dap, i.kid, i.issued_at, i.expires_at, i.max_uses, i.issued_by,
        i.customer_email, i.revoked_at
        """
    /// ``invitationFields`` and the use count, read as the number of acceptances: `use_count` is
    /// kept only for limited invitations (see ``accept(_:_:)``). The acceptances' primary key
    /// (invitation_id, customer_id) makes it an index range count.
    fileprivate static let invitationColumns =
        invitationFields + ", (SELECT count(*) FROM acceptances a WHERE a.invitation_id = i.id)"
    /// The stored answers of invitation `i`, in the order they were given.
    fileprivate static let acceptanceResults = """
        ARRAY(SELECT a.result FROM acceptances a WHERE a.invitation_id = i.id ORDER BY a.accepted_at, a.seq)
        """

    private static func partner(_ db: PostgresConnection, id: String) async throws -> Partner? {
        try await db.rows("SELECT id, name, kind, created_at FROM partners WHERE id = \(id)").first.map(partner(row:))
    }

    private static func customer(_ db: PostgresConnection, id: String) async throws -> Customer? {
        try await db.rows("SELECT id, name, domain, created_at FROM customers WHERE id = \(id)").first.map { row in
            let (id, name, domain, createdAt) = try row.decode((String, String, String, UnixTime).self)
            return Customer(id: id, name: name, domain: domain, createdAt: createdAt)
        }
    }

    private static func invitation(_ db: PostgresConnection, id: String) async throws -> Invitation? {
        try await db.rows("SELECT \(unescaped: invitationColumns) FROM invitations i WHERE i.id = \(id)").first.map(invitation(row:))
    }

    private static func isConnected(_ db: PostgresConnection, resellerID: String, providerID: String) async throws -> Bool {
        try await db.rows("""
            SELECT EXISTS (SELECT 1 FROM provider_connections
                           WHERE reseller_id = \(resellerID) AND provider_id = \(providerID) AND disconnected_at IS NULL)
            """)[0].decode(Bool.self)
    }

    private static func hasDelegatedAdmin(_ db: PostgresConnection, partnerID: String, customerID: String) async throws -> Bool {
        try await db.rows("""
            SELECT EXISTS (SELECT 1 FROM dap_grants WHERE partner_id = \(partnerID) AND customer_id = \(customerID))
            """)[0].decode(Bool.self)
    }

    /// Throws `.unknownPartner` unless partner `id` exists and is of `kind`.
    private static func requirePartner(_ db: PostgresConnection, id: String, kind: PartnerKind) async throws {
        guard let partner = try await partner(db, id: id), partner.kind == kind else {
            throw StoreError(.unknownPartner, "no \(kind.rawValue) \(id)")
        }
    }

    /// Throws `.invalidInput` for a role the tenant cannot hold, `.unknownPartner` or
    /// `.unknownCustomer` for a missing tenant.
    private static func requireTenant(_ db: PostgresConnection, _ tenant: Tenant, role: Role) async throws {
        guard role.isAllowed(for: tenant) else {
            throw StoreError(.invalidInput, "role \(role.rawValue) is not allowed for \(tenant.auditName)")
        }
        switch tenant {
        case .partner(let id):
            guard try await partner(db, id: id) != nil else { throw StoreError(.unknownPartner, "no partner \(id)") }
        case .customer(let id):
            guard try await customer(db, id: id) != nil else { throw StoreError(.unknownCustomer, "no customer \(id)") }
        }
    }

    private static func audit(
        _ db: PostgresConnection, at: UnixTime, actor: String, action: String, subject: String, detail: [String: String] = [:]
    ) async throws {
        try await audit(db, at: at, actor: actor, action: action, subject: subject, detail: detail.isEmpty ? "" : StoredJSON.auditDetail(detail))
    }

    private static func audit(_ db: PostgresConnection, at: UnixTime, actor: String, action: String, subject: String, detail: String) async throws {
        try await db.run("""
            INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (\(at), \(actor), \(action), \(subject), \(detail))
            """)
    }
}

// MARK: - Rows and JSON

extension PostgresStore {
    private static func corrupt(_ column: String) -> StoreError {
        StoreError(.unavailable, "unexpected value in \(column)")
    }

    private static func partner(row: PostgresRow) throws -> Partner {
        let (id, name, kindText, createdAt) = try row.decode((String, String, String, UnixTime).self)
        guard let kind = PartnerKind(rawValue: kindText) else { throw corrupt("partners.kind") }
        return Partner(id: id, name: name, kind: kind, createdAt: createdAt)
    }

    private static func tenant(partnerID: String?, customerID: String?) throws -> Tenant {
        if let partnerID { return .partner(partnerID) }
        if let customerID { return .customer(customerID) }
        throw corrupt("tenant")
    }

    private static func user(row: PostgresRow) throws -> User {
        let (id, partnerID, customerID, email, roleText, passwordHash, mustChange, failed, lockedUntil, createdAt) =
            try row.decode((String, String?, String?, String, String, String, Bool, Int64, UnixTime?, UnixTime).self)
        guard let role = Role(rawValue: roleText) else { throw corrupt("users.role") }
        return User(
            id: id, tenant: try tenant(partnerID: partnerID, customerID: customerID), email: email, role: role,
            passwordHash: passwordHash, mustChangePassword: mustChange, failedSignIns: Int(failed),
            lockedUntil: lockedUntil, createdAt: createdAt
        )
    }

    private static func credential(
        id: String, partnerID: String?, customerID: String?, role roleText: String, hash: Data, createdAt: UnixTime, revokedAt: UnixTime?
    ) throws -> Credential {
        guard let role = Role(rawValue: roleText) else { throw corrupt("credentials.role") }
        return Credential(
            id: id, tenant: try tenant(partnerID: partnerID, customerID: customerID), role: role,
            secretHash: Array(hash), createdAt: createdAt, revokedAt: revokedAt
        )
    }

    /// Reads the columns of ``invitationColumns``, in that order.
    private static func invitation(row: PostgresRow) throws -> Invitation {
        let (id, resellerID, providerID, dap, kid, issuedAt, expiresAt, maxUses, issuedBy, customerEmail, revokedAt, useCount) =
            try row.decode((String, String, String?, Bool, String, UnixTime, UnixTime, Int64?, String, String?, UnixTime?, Int64).self)
        return Invitation(
            id: id, resellerID: resellerID, providerID: providerID, delegatedAdmin: dap, kid: kid, issuedAt: issuedAt,
            expiresAt: expiresAt, maxUses: maxUses.map { Int($0) }, issuedBy: issuedBy, customerEmail: customerEmail,
            revokedAt: revokedAt, useCount: Int(useCount)
        )
    }

    /// Reads ``invitationColumns`` followed by ``acceptanceResults``.
    private static func invitationRecord(row: PostgresRow) throws -> InvitationRecord {
        let (id, resellerID, providerID, dap, kid, issuedAt, expiresAt, maxUses, issuedBy, customerEmail, revokedAt, useCount, results) =
            try row.decode((String, String, String?, Bool, String, UnixTime, UnixTime, Int64?, String, String?, UnixTime?, Int64, [String]).self)
        let invitation = Invitation(
            id: id, resellerID: resellerID, providerID: providerID, delegatedAdmin: dap, kid: kid, issuedAt: issuedAt,
            expiresAt: expiresAt, maxUses: maxUses.map { Int($0) }, issuedBy: issuedBy, customerEmail: customerEmail,
            revokedAt: revokedAt, useCount: Int(useCount)
        )
        return InvitationRecord(invitation: invitation, acceptances: try results.map(StoredJSON.decodeAcceptance))
    }

}

extension PostgresConnection {
    /// Runs `query` and returns every row. Rows are always read to the end, so the connection
    /// is ready for the next statement of the transaction.
    fileprivate func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await self.query(query, logger: PostgresStore.quiet).collect()
    }

    /// Runs a statement whose rows, if any, do not matter.
    fileprivate func run(_ query: PostgresQuery) async throws {
        _ = try await rows(query)
    }
}


// MARK: - The acceptance's write, prepared

/// The values of the acceptance's one write statement (see `PostgresStore.accept`).
private struct AcceptanceWrite: Sendable {
    var invitationID: String, resellerID: String, customerID: String, at: UnixTime
    var providerID: String?, delegatedAdmin: Bool, acceptedBy: String
    /// The audit details of: accepted, reseller relationship, provider relationship, DAP grant.
    var auditDetails: [String]
    /// The stored answer when both, only the reseller's, only the provider's, or no
    /// relationship is created.
    var answers: [String]

    /// `$1` invitation, `$2` reseller, `$3` customer, `$4` time, `$5` provider (or null),
    /// `$6` DAP asked, `$7` who accepts, `$8`–`$11` audit details, `$12`–`$15` answers.
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text, .int8, .text, .bool, .text]
        + Array(repeating: .text, count: 8)

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 15)
        bindings.append(invitationID)
        bindings.append(resellerID)
        bindings.append(customerID)
        bindings.append(at)
        bindings.append(providerID)
        bindings.append(delegatedAdmin)
        bindings.append(acceptedBy)
        for text in auditDetails + answers { bindings.append(text) }
        return bindings
    }

    /// The statement, taking the invitation row with `take` (`WHERE id = $1 AND revoked_at IS
    /// NULL` followed by `tail`). Each write selects from the one before it, so they run in
    /// SQLiteStore's order; see `PostgresStore.accept` for why each step is as it is.
    static func sql(take head: String, tail: String) -> String {
        """
        WITH used AS (
            \(head) WHERE id = $1 AND revoked_at IS NULL \(tail)
        ), reseller AS (
            INSERT INTO relationships (partner_id, customer_id, role, invitation_id, created_at)
            SELECT $2, $3, 'reseller', id, $4 FROM used
            ON CONFLICT (partner_id, customer_id) WHERE removed_at IS NULL DO NOTHING
            RETURNING 1
        ), provider AS (
            INSERT INTO relationships (partner_id, customer_id, role, invitation_id, created_at)
            SELECT $5::TEXT, $3, 'provider', id, $4
            FROM used, (SELECT count(*) FROM reseller) AS after_reseller
            WHERE $5::TEXT IS NOT NULL
            ON CONFLICT (partner_id, customer_id) WHERE removed_at IS NULL DO NOTHING
            RETURNING 1
        ), granted AS (
            INSERT INTO dap_grants (partner_id, customer_id, granted_at, invitation_id)
            SELECT $2, $3, $4, id
            FROM used, (SELECT count(*) FROM provider) AS after_provider
            WHERE $6
            ON CONFLICT (partner_id, customer_id) DO NOTHING
            RETURNING 1
        ), created AS (
            SELECT (SELECT count(*) FROM reseller) > 0 AS reseller, (SELECT count(*) FROM provider) > 0 AS provider
        ), logged AS (
            INSERT INTO audit_log (at, actor, action, subject, detail)
            SELECT $4, $7, entry.action, entry.subject, entry.detail FROM (
                SELECT 0 AS position, 'invitation.accepted' AS action, id AS subject, $8 AS detail FROM used
                UNION ALL
                SELECT 1, 'relationship.created', $3, $9 FROM reseller
                UNION ALL
                SELECT 2, 'relationship.created', $3, $10 FROM provider
                UNION ALL
                SELECT 3, 'dap.granted', $3, $11 FROM granted
            ) entry ORDER BY entry.position
        ), accepted AS (
            INSERT INTO acceptances (invitation_id, customer_id, accepted_by, accepted_at, result)
            SELECT id, $3, $7, $4,
                   CASE WHEN created.reseller AND created.provider THEN $12
                        WHEN created.reseller THEN $13
                        WHEN created.provider THEN $14
                        ELSE $15 END
            FROM used, created
            RETURNING 1
        )
        SELECT (SELECT count(*) FROM accepted) > 0, created.reseller, created.provider FROM created
        """
    }
}

/// An acceptance's write as a prepared statement: each connection has PostgreSQL plan it once,
/// not on every acceptance (planning measured as costly as running it). One type per way of
/// taking the invitation row, since a prepared statement's text is fixed.
private protocol PreparedAcceptance: PostgresPreparedStatement where Row == (Bool, Bool, Bool) {
    var values: AcceptanceWrite { get }
}

extension PreparedAcceptance {
    static var bindingDataTypes: [PostgresDataType] { AcceptanceWrite.bindingDataTypes }
    func makeBindings() throws -> PostgresBindings { try values.makeBindings() }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// A limited invitation: its use count goes up by one, if a use is left.
private struct AcceptLimitedUse: PreparedAcceptance {
    static let name = "invitelink_accept_limited"
    static let sql = AcceptanceWrite.sql(
        take: "UPDATE invitations SET use_count = use_count + 1", tail: "AND use_count < max_uses RETURNING id")
    let values: AcceptanceWrite
    init(_ values: AcceptanceWrite) { self.values = values }
}

/// An unlimited invitation: its row is only share-locked.
private struct AcceptUnlimitedUse: PreparedAcceptance {
    static let name = "invitelink_accept_unlimited"
    static let sql = AcceptanceWrite.sql(take: "SELECT id FROM invitations", tail: "AND max_uses IS NULL FOR SHARE")
    let values: AcceptanceWrite
    init(_ values: AcceptanceWrite) { self.values = values }
}

/// The two reads on every acceptance's path, prepared for the same reason. Their rows are
/// decoded where they are used.

/// A credential by its secret's hash, with its partner's record (null columns for a customer's).
private struct PrincipalLookup: PostgresPreparedStatement {
    static let name = "invitelink_principal"
    static let sql = """
        SELECT c.id, c.partner_id, c.customer_id, c.role, c.secret_hash, c.created_at, c.revoked_at,
               p.name, p.kind, p.created_at
        FROM credentials c LEFT JOIN partners p ON p.id = c.partner_id
        WHERE c.secret_hash = $1 AND c.revoked_at IS NULL
        """
    static let bindingDataTypes: [PostgresDataType] = [.bytea]
    let secretHash: Data

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        try bindings.append(secretHash)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// An invitation's stored fields and use count, then the facts the acceptance rules need: the
/// customer's stored answer, whether the customer exists, the reseller's and provider's kinds,
/// and whether they are connected.
private struct ReadAcceptanceFacts: PostgresPreparedStatement {
    static let name = "invitelink_acceptance_facts"
    static let sql = """
        SELECT \(PostgresStore.invitationFields), i.use_count,
               (SELECT result FROM acceptances WHERE invitation_id = i.id AND customer_id = $2),
               EXISTS (SELECT 1 FROM customers WHERE id = $2),
               (SELECT kind FROM partners WHERE id = i.reseller_id),
               (SELECT kind FROM partners WHERE id = i.provider_id),
               EXISTS (SELECT 1 FROM provider_connections
                       WHERE reseller_id = i.reseller_id AND provider_id = i.provider_id AND disconnected_at IS NULL)
        FROM invitations i WHERE i.id = $1
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text]
    let invitationID: String, customerID: String

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(invitationID)
        bindings.append(customerID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresConnection {
    /// Runs a prepared statement and returns its first row, if any (reading all of them, so the
    /// connection is ready for the next statement).
    fileprivate func first<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> Statement.Row? {
        var first: Statement.Row?
        for try await row in try await execute(statement, logger: PostgresStore.quiet) where first == nil { first = row }
        return first
    }
}
