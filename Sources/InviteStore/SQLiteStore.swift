internal import InviteToken
internal import Foundation
internal import GRDB

/// The embedded store: one SQLite file in WAL mode behind a GRDB `DatabasePool`.
///
/// Durability: every commit is `synchronous=FULL`, so an acceptance acknowledged to a client
/// survives `kill -9` and power loss (DESIGN.md §6). Readers run concurrently on WAL snapshots;
/// all writes go through one ``GroupCommitWriter``, which runs each write in its own savepoint
/// inside a shared `BEGIN IMMEDIATE` transaction and answers callers only after that
/// transaction committed. Each write checks its preconditions and changes the data inside its
/// savepoint, so check-then-act races cannot happen (the writer is serial), and unique indexes
/// back every invariant up in case of a bug.
public final class SQLiteStore: RelationshipStore {
    private let pool: DatabasePool
    private let writer: GroupCommitWriter
    /// The temporary directory the file lives in, if any: removed once no store uses it.
    private let temporaryDirectory: TemporaryDirectory?

    /// Opens (creating if needed) the database at `path`, relative to the working directory or
    /// absolute, creating missing parent directories. Call ``migrate()`` before use.
    public convenience init(path: String) throws {
        try self.init(path: path, temporaryDirectory: nil)
    }

    /// A store in a fresh temporary directory that is deleted with the store: for tests and for
    /// `sqlite::memory:`, where a pool needs a real file for its WAL.
    public static func temporary() throws -> SQLiteStore {
        let directory = try TemporaryDirectory()
        return try SQLiteStore(path: directory.url.appendingPathComponent("store.sqlite").path, temporaryDirectory: directory)
    }

    /// Opens `path`, keeping `temporaryDirectory` alive as long as this store.
    init(path: String, temporaryDirectory: TemporaryDirectory?) throws {
        let pool: DatabasePool
        do {
            let file = URL(fileURLWithPath: path)
            try FileManager.default.createDirectory(at: file.deletingLastPathComponent(), withIntermediateDirectories: true)
            // The database holds password hashes and credential digests: created readable by
            // its owner alone. SQLite gives the -wal and -shm files the database file's mode.
            let created = open(file.path, O_WRONLY | O_CREAT | O_CLOEXEC, 0o600)
            if created >= 0 { close(created) }
            var configuration = Configuration()
            configuration.label = "InviteStore"
            configuration.journalMode = .wal
            configuration.foreignKeysEnabled = true
            // Another process (the CLI next to a running server) may hold the write lock briefly.
            configuration.busyMode = .timeout(5)
            pool = try DatabasePool(path: file.path, configuration: configuration)
            // GRDB sets `synchronous=NORMAL` on the writer when it enables WAL, after any
            // `prepareDatabase` hook has run; NORMAL can lose the last commits on power loss.
            // The writer connection lives as long as the pool, so setting FULL once here holds
            // for every commit.
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA synchronous = FULL")
            }
        } catch {
            throw Self.storeError(error)
        }
        self.pool = pool
        self.temporaryDirectory = temporaryDirectory
        self.writer = GroupCommitWriter(pool: pool, mapError: Self.storeError)
    }

    public func migrate() async throws {
        let pool = self.pool
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            SQLiteSchema.migrator.asyncMigrate(pool) { result in
                switch result {
                case .success: continuation.resume()
                case .failure(let error): continuation.resume(throwing: Self.storeError(error))
                }
            }
        }
    }

    public func ping() async throws {
        _ = try await readStatement { db in try db.int(sql: "SELECT 1") }
    }

    // MARK: Partners

    public func addPartner(_ partner: Partner, actor: String) async throws {
        try await write { db in
            guard try Self.partner(db, id: partner.id) == nil else {
                throw StoreError(.conflict, "partner \(partner.id) already exists")
            }
            try db.run(sql: "INSERT INTO partners (id, name, kind, created_at) VALUES (?, ?, ?, ?)",
                arguments: [partner.id, partner.name, partner.kind.rawValue, partner.createdAt]
            )
            try Self.audit(db, at: partner.createdAt, actor: actor, action: "partner.added", subject: partner.id,
                           detail: ["kind": partner.kind.rawValue, "name": partner.name])
        }
    }

    public func partner(id: String) async throws -> Partner? {
        try await readStatement { db in try Self.partner(db, id: id) }
    }

    public func connect(resellerID: String, providerID: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            try Self.requirePartner(db, id: resellerID, kind: .reseller)
            try Self.requirePartner(db, id: providerID, kind: .provider)
            guard try !Self.isConnected(db, resellerID: resellerID, providerID: providerID) else { return }
            try db.run(sql: "INSERT INTO provider_connections (reseller_id, provider_id, connected_at) VALUES (?, ?, ?)",
                arguments: [resellerID, providerID, at]
            )
            try Self.audit(db, at: at, actor: actor, action: "partner.connected", subject: resellerID,
                           detail: ["provider_id": providerID])
        }
    }

    public func disconnect(resellerID: String, providerID: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            try db.run(sql: """
                    UPDATE provider_connections SET disconnected_at = ?
                    WHERE reseller_id = ? AND provider_id = ? AND disconnected_at IS NULL
                    """,
                arguments: [at, resellerID, providerID]
            )
            guard db.changesCount > 0 else {
                throw StoreError(.notFound, "reseller \(resellerID) is not connected to provider \(providerID)")
            }
            try Self.audit(db, at: at, actor: actor, action: "partner.disconnected", subject: resellerID,
                           detail: ["provider_id": providerID])
        }
    }

    public func providers(ofReseller resellerID: String) async throws -> [Partner] {
        try await readStatement { db in
            try db.rows(sql: """
                    SELECT p.* FROM partners p
                    JOIN provider_connections c ON c.provider_id = p.id
                    WHERE c.reseller_id = ? AND c.disconnected_at IS NULL
                    ORDER BY p.name, p.id
                    """,
                arguments: [resellerID]
            ).map(Self.partner(row:))
        }
    }

    public func isConnected(resellerID: String, providerID: String) async throws -> Bool {
        try await readStatement { db in try Self.isConnected(db, resellerID: resellerID, providerID: providerID) }
    }

    // MARK: Customers and people

    public func addCustomer(_ customer: Customer, actor: String) async throws {
        try await write { db in
            guard try Self.customer(db, id: customer.id) == nil else {
                throw StoreError(.conflict, "customer \(customer.id) already exists")
            }
            try db.run(sql: "INSERT INTO customers (id, name, domain, created_at) VALUES (?, ?, ?, ?)",
                arguments: [customer.id, customer.name, customer.domain, customer.createdAt]
            )
            try Self.audit(db, at: customer.createdAt, actor: actor, action: "customer.added", subject: customer.id,
                           detail: ["domain": customer.domain, "name": customer.name])
        }
    }

    public func customer(id: String) async throws -> Customer? {
        try await readStatement { db in try Self.customer(db, id: id) }
    }

    /// Stores the email lowercased, so uniqueness and look-up ignore case; the returned
    /// ``User`` carries the lowercased form.
    public func addUser(_ user: User, actor: String) async throws {
        let email = user.email.lowercased()
        try await write { db in
            try Self.requireTenant(db, user.tenant, role: user.role)
            guard try !Self.exists(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [user.id]) else {
                throw StoreError(.conflict, "user \(user.id) already exists")
            }
            guard try !Self.exists(db, sql: "SELECT 1 FROM users WHERE email = ?", arguments: [email]) else {
                throw StoreError(.conflict, "a user with this email already exists")
            }
            try db.run(sql: """
                    INSERT INTO users (id, partner_id, customer_id, email, role, password_hash,
                                       must_change_password, failed_sign_ins, locked_until, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    user.id, user.tenant.partnerID, user.tenant.customerID, email, user.role.rawValue,
                    user.passwordHash, user.mustChangePassword, user.failedSignIns, user.lockedUntil, user.createdAt,
                ]
            )
            try Self.audit(db, at: user.createdAt, actor: actor, action: "user.added", subject: user.id,
                           detail: ["role": user.role.rawValue, "tenant": user.tenant.auditName])
        }
    }

    public func user(email: String) async throws -> User? {
        let email = email.lowercased()
        return try await readStatement { db in
            try db.row(sql: "SELECT * FROM users WHERE email = ?", arguments: [email]).map(Self.user(row:))
        }
    }

    public func user(id: String) async throws -> User? {
        try await readStatement { db in
            try db.row(sql: "SELECT * FROM users WHERE id = ?", arguments: [id]).map(Self.user(row:))
        }
    }

    public func setPassword(userID: String, passwordHash: String, at: UnixTime) async throws {
        try await write { db in
            try db.run(sql: """
                    UPDATE users SET password_hash = ?, must_change_password = 0, failed_sign_ins = 0,
                                     locked_until = NULL
                    WHERE id = ?
                    """,
                arguments: [passwordHash, userID]
            )
            guard db.changesCount > 0 else { throw StoreError(.notFound, "no user \(userID)") }
            try Self.audit(db, at: at, actor: userID, action: "user.password_set", subject: userID)
        }
    }

    /// Not audited here: the server appends its own sign-in entries with ``appendAudit(_:)``.
    public func recordFailedSignIn(userID: String, lockedUntil: UnixTime?) async throws {
        try await write { db in
            try db.run(sql: """
                    UPDATE users SET failed_sign_ins = failed_sign_ins + 1,
                                     locked_until = COALESCE(?, locked_until)
                    WHERE id = ?
                    """,
                arguments: [lockedUntil, userID]
            )
            guard db.changesCount > 0 else { throw StoreError(.notFound, "no user \(userID)") }
        }
    }

    /// Not audited here: the server appends its own sign-in entries with ``appendAudit(_:)``.
    public func recordSuccessfulSignIn(userID: String) async throws {
        try await write { db in
            try db.run(sql: "UPDATE users SET failed_sign_ins = 0, locked_until = NULL WHERE id = ?",
                arguments: [userID]
            )
            guard db.changesCount > 0 else { throw StoreError(.notFound, "no user \(userID)") }
        }
    }

    // MARK: Credentials

    public func addCredential(_ credential: Credential, actor: String) async throws {
        try await write { db in
            try Self.requireTenant(db, credential.tenant, role: credential.role)
            guard try !Self.exists(db, sql: "SELECT 1 FROM credentials WHERE id = ?", arguments: [credential.id]) else {
                throw StoreError(.conflict, "credential \(credential.id) already exists")
            }
            let hash = Data(credential.secretHash)
            guard try !Self.exists(db, sql: "SELECT 1 FROM credentials WHERE secret_hash = ?", arguments: [hash]) else {
                throw StoreError(.conflict, "a credential with this secret already exists")
            }
            try db.run(sql: """
                    INSERT INTO credentials (id, partner_id, customer_id, role, secret_hash, created_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    credential.id, credential.tenant.partnerID, credential.tenant.customerID, credential.role.rawValue,
                    hash, credential.createdAt, credential.revokedAt,
                ]
            )
            try Self.audit(db, at: credential.createdAt, actor: actor, action: "credential.added", subject: credential.id,
                           detail: ["role": credential.role.rawValue, "tenant": credential.tenant.auditName])
        }
    }

    /// Both look-ups with one reader: a partner's record never changes once added, so the two
    /// statements need no shared snapshot.
    public func principal(secretHash: [UInt8]) async throws -> Principal? {
        let hash = Data(secretHash)
        // One statement: every API call starts here.
        return try await readStatement { db in
            guard let row = try db.row(
                sql: """
                    SELECT c.*, p.name AS partner_name, p.kind AS partner_kind, p.created_at AS partner_created_at
                    FROM credentials c LEFT JOIN partners p ON p.id = c.partner_id
                    WHERE c.secret_hash = ? AND c.revoked_at IS NULL
                    """,
                arguments: [hash]
            ) else { return nil }
            let credential = try Self.credential(row: row)
            var partner: Partner?
            if let partnerID = credential.tenant.partnerID, let name: String = row["partner_name"] {
                guard let kind = PartnerKind(rawValue: row["partner_kind"]) else { throw Self.corrupt("partners.kind") }
                partner = Partner(id: partnerID, name: name, kind: kind, createdAt: row["partner_created_at"])
            }
            return Principal(credential: credential, partner: partner)
        }
    }

    // MARK: Signed-out sessions

    public func revokeSession(digest: [UInt8], expiresAt: UnixTime, now: UnixTime) async throws {
        let digest = Data(digest)
        try await write { db in
            try db.run(sql: "DELETE FROM revoked_sessions WHERE expires_at <= ?", arguments: [now])
            try db.run(sql: "INSERT INTO revoked_sessions (digest, expires_at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
                       arguments: [digest, expiresAt])
        }
    }

    public func isSessionRevoked(digest: [UInt8]) async throws -> Bool {
        let digest = Data(digest)
        return try await readStatement { db in
            try db.int(sql: "SELECT 1 FROM revoked_sessions WHERE digest = ?", arguments: [digest]) != nil
        }
    }

    public func revokeCredential(id: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            guard let row = try db.row(sql: "SELECT revoked_at FROM credentials WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no credential \(id)")
            }
            guard (row["revoked_at"] as UnixTime?) == nil else { return }
            try db.run(sql: "UPDATE credentials SET revoked_at = ? WHERE id = ?", arguments: [at, id])
            try Self.audit(db, at: at, actor: actor, action: "credential.revoked", subject: id)
        }
    }

    // MARK: Invitations

    /// Records the invitation as issued: unused and unrevoked, whatever `useCount` and
    /// `revokedAt` say. Throws `.invalidInput` for `maxUses` below 1 and `.conflict` for an id
    /// already recorded.
    public func addInvitation(_ invitation: Invitation) async throws {
        if let maxUses = invitation.maxUses, maxUses < 1 {
            throw StoreError(.invalidInput, "max_uses must be at least 1, or absent for unlimited")
        }
        try await write { db in
            // The reseller need not exist yet (an operator may mint links ahead of time):
            // acceptance checks that the reseller and provider exist, at acceptance time.
            if let providerID = invitation.providerID {
                try Self.requireConnection(db, resellerID: invitation.resellerID, providerID: providerID)
            }
            do {
                try db.run(sql: """
                        INSERT INTO invitations (id, reseller_id, provider_id, dap, kid, issued_at, expires_at,
                                                 max_uses, use_count, issued_by, customer_email, revoked_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, NULL)
                        """,
                    arguments: [
                        invitation.id, invitation.resellerID, invitation.providerID, invitation.delegatedAdmin,
                        invitation.kid, invitation.issuedAt, invitation.expiresAt, invitation.maxUses,
                        invitation.issuedBy, invitation.customerEmail,
                    ]
                )
            } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY {
                throw StoreError(.conflict, "invitation \(invitation.id) already exists")
            }
            var detail = ["reseller_id": invitation.resellerID, "dap": String(invitation.delegatedAdmin),
                          "kid": invitation.kid, "expires_at": String(invitation.expiresAt)]
            detail["provider_id"] = invitation.providerID
            detail["max_uses"] = invitation.maxUses.map(String.init)
            try Self.audit(db, at: invitation.issuedAt, actor: invitation.issuedBy, action: "invitation.issued",
                           subject: invitation.id, detail: detail)
        }
    }

    public func invitation(id: String) async throws -> Invitation? {
        try await readStatement { db in try Self.invitation(db, id: id) }
    }

    public func invitation(id: String, resellerID: String) async throws -> InvitationRecord? {
        try await read { db in
            guard let invitation = try Self.invitation(db, id: id), invitation.resellerID == resellerID else { return nil }
            return InvitationRecord(invitation: invitation, acceptances: try Self.acceptances(db, invitationID: id))
        }
    }

    public func invitations(resellerID: String, page: PageRequest) async throws -> Page<InvitationRecord> {
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .invitations) }
        let limit = page.limit
        return try await read { db in
            var sql = "SELECT * FROM invitations WHERE reseller_id = ?"
            var arguments: StatementArguments = [resellerID]
            if let after {
                sql += " AND (issued_at < ? OR (issued_at = ? AND id < ?))"
                arguments += [after.time, after.time, after.key]
            }
            sql += " ORDER BY issued_at DESC, id DESC LIMIT ?"
            arguments += [limit + 1]
            let rows = try db.rows(sql: sql, arguments: arguments)
            let invitations = rows.prefix(limit).map(Self.invitation(row:))
            let records = try invitations.map {
                InvitationRecord(invitation: $0, acceptances: try Self.acceptances(db, invitationID: $0.id))
            }
            let next = rows.count > limit ? invitations.last.map {
                PageCursor(list: .invitations, time: $0.issuedAt, key: $0.id).encoded
            } : nil
            return Page(items: records, nextCursor: next)
        }
    }

    public func revokeInvitation(id: String, resellerID: String, at: UnixTime, actor: String) async throws -> Invitation {
        try await write { db in
            guard var invitation = try Self.invitation(db, id: id), invitation.resellerID == resellerID else {
                throw StoreError(.notFound, "no invitation \(id)")
            }
            guard invitation.revokedAt == nil else { return invitation }
            try db.run(sql: "UPDATE invitations SET revoked_at = ? WHERE id = ?", arguments: [at, id])
            try Self.audit(db, at: at, actor: actor, action: "invitation.revoked", subject: id)
            invitation.revokedAt = at
            return invitation
        }
    }

    // MARK: Acceptance

    public func accept(_ request: AcceptanceRequest) async throws -> Acceptance {
        try await write { db in try Self.accept(db, request) }
    }

    /// Gathers the facts in one statement, lets ``AcceptanceRules`` decide, then writes what
    /// it decided. Runs inside the writer's savepoint: a throw anywhere leaves no trace.
    private static func accept(_ db: Database, _ request: AcceptanceRequest) throws -> Acceptance {
        guard let invitation = try invitation(db, id: request.invitationID) else {
            throw StoreError(.unknownInvitation, "no invitation \(request.invitationID)")
        }
        guard let row = try db.row(
            sql: """
                SELECT (SELECT result FROM acceptances WHERE invitation_id = ?1 AND customer_id = ?2) AS stored,
                       EXISTS (SELECT 1 FROM customers WHERE id = ?2) AS customer_exists,
                       (SELECT kind FROM partners WHERE id = ?3) AS reseller_kind,
                       (SELECT kind FROM partners WHERE id = ?4) AS provider_kind,
                       EXISTS (SELECT 1 FROM provider_connections
                               WHERE reseller_id = ?3 AND provider_id = ?4 AND disconnected_at IS NULL) AS connected
                """,
            arguments: [invitation.id, request.customerID, invitation.resellerID, invitation.providerID]
        ) else { throw corrupt("acceptance facts") }
        let stored: String? = row["stored"]
        let facts = AcceptanceFacts(
            invitation: invitation, storedAnswer: try stored.map(StoredJSON.decodeAcceptance),
            customerExists: row["customer_exists"],
            resellerKind: (row["reseller_kind"] as String?).flatMap(PartnerKind.init(rawValue:)),
            providerKind: (row["provider_kind"] as String?).flatMap(PartnerKind.init(rawValue:)),
            providerConnected: row["connected"]
        )
        switch try AcceptanceRules.decide(facts, request: request) {
        case .repeat(let answer):
            return answer
        case .accept(let invitation):
            return try write(db, acceptanceOf: invitation, request)
        }
    }

    /// Writes an acceptance the rules allowed: the relationships the customer lacks, the DAP
    /// grant, the use and the stored answer, with their audit entries.
    private static func write(_ db: Database, acceptanceOf invitation: Invitation, _ request: AcceptanceRequest) throws -> Acceptance {
        try audit(db, at: request.at, actor: request.acceptedBy, action: "invitation.accepted", subject: invitation.id,
                  detail: ["customer_id": request.customerID])
        let resellerCreated = try establishRelationship(db, partnerID: invitation.resellerID, role: .reseller, request: request)
        var providerCreated = false
        if let providerID = invitation.providerID {
            providerCreated = try establishRelationship(db, partnerID: providerID, role: .provider, request: request)
        }
        if invitation.delegatedAdmin {
            try db.run(sql: """
                    INSERT INTO dap_grants (partner_id, customer_id, granted_at, invitation_id) VALUES (?, ?, ?, ?)
                    ON CONFLICT (partner_id, customer_id) DO NOTHING
                    """,
                arguments: [invitation.resellerID, request.customerID, request.at, invitation.id]
            )
            if db.changesCount > 0 {
                try audit(db, at: request.at, actor: request.acceptedBy, action: "dap.granted", subject: request.customerID,
                          detail: ["partner_id": invitation.resellerID, "invitation_id": invitation.id])
            }
        }
        // The CHECK (use_count <= max_uses) turns a bug in the rules into a failed acceptance
        // rather than an extra one.
        try db.run(sql: "UPDATE invitations SET use_count = use_count + 1 WHERE id = ?", arguments: [invitation.id])

        let acceptance = AcceptanceRules.answer(
            to: request, for: invitation, resellerCreated: resellerCreated, providerCreated: providerCreated
        )
        try db.run(sql: """
                INSERT INTO acceptances (invitation_id, customer_id, accepted_by, accepted_at, result)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [invitation.id, request.customerID, request.acceptedBy, request.at, StoredJSON.encode(acceptance)]
        )
        return acceptance
    }

    /// Creates the partner's relationship with the customer unless an active one exists;
    /// whether it did.
    private static func establishRelationship(
        _ db: Database, partnerID: String, role: RelationshipRole, request: AcceptanceRequest
    ) throws -> Bool {
        let active = try exists(
            db,
            sql: "SELECT 1 FROM relationships WHERE partner_id = ? AND customer_id = ? AND removed_at IS NULL",
            arguments: [partnerID, request.customerID]
        )
        guard !active else { return false }
        try db.run(sql: """
                INSERT INTO relationships (partner_id, customer_id, role, invitation_id, created_at)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [partnerID, request.customerID, role.rawValue, request.invitationID, request.at]
        )
        try audit(db, at: request.at, actor: request.acceptedBy, action: "relationship.created", subject: request.customerID,
                  detail: ["partner_id": partnerID, "role": role.rawValue, "invitation_id": request.invitationID])
        return true
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
        return try await readStatement { db in
            var sql = """
                SELECT r.id AS relationship_id, r.role, r.created_at AS since, d.granted_at,
                       c.id, c.name, c.domain, c.created_at
                FROM relationships r
                JOIN customers c ON c.id = r.customer_id
                LEFT JOIN dap_grants d ON d.partner_id = r.partner_id AND d.customer_id = r.customer_id
                WHERE r.partner_id = ? AND r.removed_at IS NULL
                """
            var arguments: StatementArguments = [partnerID]
            if let after {
                sql += " AND (r.created_at > ? OR (r.created_at = ? AND r.id > ?))"
                arguments += [after.time, after.time, after.id]
            }
            sql += " ORDER BY r.created_at, r.id LIMIT ?"
            arguments += [limit + 1]
            let rows = try db.rows(sql: sql, arguments: arguments)
            let items = try rows.prefix(limit).map { row in
                guard let role = RelationshipRole(rawValue: row["role"]) else { throw Self.corrupt("relationships.role") }
                return PartnerCustomer(
                    customer: Self.customer(row: row), role: role, since: row["since"], delegatedAdminSince: row["granted_at"]
                )
            }
            var next: String?
            if rows.count > limit, let last = rows.prefix(limit).last {
                let id: Int64 = last["relationship_id"]
                next = PageCursor(list: .customers, time: last["since"], key: String(id)).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }

    public func removeRelationship(partnerID: String, customerID: String, at: UnixTime, actor: String) async throws -> RelationshipRemoval {
        try await write { db in
            try db.run(sql: """
                    UPDATE relationships SET removed_at = ?
                    WHERE partner_id = ? AND customer_id = ? AND removed_at IS NULL
                    """,
                arguments: [at, partnerID, customerID]
            )
            guard db.changesCount > 0 else {
                throw StoreError(.notFound, "no active relationship between \(partnerID) and customer \(customerID)")
            }
            let retained = try Self.hasDelegatedAdmin(db, partnerID: partnerID, customerID: customerID)
            try Self.audit(db, at: at, actor: actor, action: "relationship.removed", subject: customerID,
                           detail: ["partner_id": partnerID, "delegated_admin_retained": String(retained)])
            return RelationshipRemoval(removed: true, delegatedAdminRetained: retained)
        }
    }

    public func hasDelegatedAdmin(partnerID: String, customerID: String) async throws -> Bool {
        try await readStatement { db in try Self.hasDelegatedAdmin(db, partnerID: partnerID, customerID: customerID) }
    }

    // MARK: Audit

    public func appendAudit(_ entry: AuditEntry) async throws {
        try await write { db in
            try Self.audit(db, at: entry.at, actor: entry.actor, action: entry.action, subject: entry.subject, detail: entry.detail)
        }
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        try await readStatement { db in
            try db.rows(sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [max(limit, 0)]).map { row in
                AuditEntry(id: row["id"], at: row["at"], actor: row["actor"], action: row["action"],
                           subject: row["subject"], detail: row["detail"])
            }
        }
    }

    // MARK: Test hooks

    /// How many write transactions the group-commit writer has run.
    var writeTransactionCountForTesting: Int { writer.batchCount }

    /// Runs `sql` on the writer connection outside the store's API, for contract tests that
    /// must reach under it (tamper with the audit log, count rows).
    func executeForTesting(_ sql: String) async throws {
        try await write { db in try db.execute(sql: sql) }
    }

    /// The first column of the first row of `sql`, read on the writer connection, where the
    /// per-connection settings that matter for durability (`synchronous`) live.
    func scalarForTesting(_ sql: String) async throws -> String? {
        do {
            return try await pool.writeWithoutTransaction { db in
                switch try DatabaseValue.fetchOne(db, sql: sql)?.storage {
                case nil, .null: nil
                case .int64(let value): String(value)
                case .double(let value): String(value)
                case .string(let value): value
                case .blob(let value): Base64URL.encode(value)
                }
            }
        } catch {
            throw Self.storeError(error)
        }
    }

    // MARK: Access

    // Reads run on the calling thread. A read here is a few indexed rows from pages SQLite
    // has cached, done in microseconds, and never waits for a writer (WAL); the closure never
    // suspends, so the reader it holds is back in the pool at once. Hopping to GRDB's reader
    // queue and back instead costs two thread switches per read, more than the read itself.

    /// Several statements that must see one snapshot: one deferred read transaction.
    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try Self.blockingRead(pool, isolated: true, body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// One statement, atomic on its own: no transaction around it.
    private func readStatement<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try Self.blockingRead(pool, isolated: false, body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Not `async`, so that GRDB's synchronous read is the one called.
    private static func blockingRead<T>(_ pool: DatabasePool, isolated: Bool, _ body: (Database) throws -> T) throws -> T {
        isolated ? try pool.read(body) : try pool.unsafeRead(body)
    }

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        do {
            return try await writer.write(body)
        } catch {
            throw Self.storeError(error)
        }
    }

    /// Turns what SQLite or GRDB threw into a ``StoreError``: unique violations are conflicts
    /// (the backstop when two writers raced past a check), everything else is unavailable.
    static func storeError(_ error: any Error) -> any Error {
        if error is StoreError { return error }
        if let error = error as? DatabaseError {
            switch error.extendedResultCode {
            case .SQLITE_CONSTRAINT_PRIMARYKEY, .SQLITE_CONSTRAINT_UNIQUE:
                return StoreError(.conflict, error.message ?? "unique constraint violated")
            default:
                return StoreError(.unavailable, "SQLite: \(error.message ?? error.resultCode.description)")
            }
        }
        return StoreError(.unavailable, String(describing: error))
    }
}

// MARK: - Queries shared by several operations

extension SQLiteStore {
    private static func exists(_ db: Database, sql: String, arguments: StatementArguments) throws -> Bool {
        try db.int(sql: sql, arguments: arguments) != nil
    }

    private static func partner(_ db: Database, id: String) throws -> Partner? {
        try db.row(sql: "SELECT * FROM partners WHERE id = ?", arguments: [id]).map(partner(row:))
    }

    private static func customer(_ db: Database, id: String) throws -> Customer? {
        try db.row(sql: "SELECT * FROM customers WHERE id = ?", arguments: [id]).map(customer(row:))
    }

    private static func invitation(_ db: Database, id: String) throws -> Invitation? {
        try db.row(sql: "SELECT * FROM invitations WHERE id = ?", arguments: [id]).map(invitation(row:))
    }

    private static func acceptances(_ db: Database, invitationID: String) throws -> [Acceptance] {
        try db.strings(sql: "SELECT result FROM acceptances WHERE invitation_id = ? ORDER BY accepted_at, rowid",
            arguments: [invitationID]
        ).map(StoredJSON.decodeAcceptance)
    }

    private static func isConnected(_ db: Database, resellerID: String, providerID: String) throws -> Bool {
        try exists(
            db,
            sql: """
                SELECT 1 FROM provider_connections
                WHERE reseller_id = ? AND provider_id = ? AND disconnected_at IS NULL
                """,
            arguments: [resellerID, providerID]
        )
    }

    private static func hasDelegatedAdmin(_ db: Database, partnerID: String, customerID: String) throws -> Bool {
        try exists(db, sql: "SELECT 1 FROM dap_grants WHERE partner_id = ? AND customer_id = ?", arguments: [partnerID, customerID])
    }

    /// Throws `.unknownPartner` unless partner `id` exists and is of `kind`.
    private static func requirePartner(_ db: Database, id: String, kind: PartnerKind) throws {
        guard let partner = try partner(db, id: id), partner.kind == kind else {
            throw StoreError(.unknownPartner, "no \(kind.rawValue) \(id)")
        }
    }

    /// Throws `.unknownPartner` for a missing provider, `.providerNotConnected` when the
    /// reseller has no active connection to it.
    private static func requireConnection(_ db: Database, resellerID: String, providerID: String) throws {
        try requirePartner(db, id: providerID, kind: .provider)
        guard try isConnected(db, resellerID: resellerID, providerID: providerID) else {
            throw StoreError(.providerNotConnected, "reseller \(resellerID) is not connected to provider \(providerID)")
        }
    }

    /// Throws `.invalidInput` for a role the tenant cannot hold, `.unknownPartner` or
    /// `.unknownCustomer` for a missing tenant.
    private static func requireTenant(_ db: Database, _ tenant: Tenant, role: Role) throws {
        guard role.isAllowed(for: tenant) else {
            throw StoreError(.invalidInput, "role \(role.rawValue) is not allowed for \(tenant.auditName)")
        }
        switch tenant {
        case .partner(let id):
            guard try partner(db, id: id) != nil else { throw StoreError(.unknownPartner, "no partner \(id)") }
        case .customer(let id):
            guard try customer(db, id: id) != nil else { throw StoreError(.unknownCustomer, "no customer \(id)") }
        }
    }

    private static func audit(
        _ db: Database, at: UnixTime, actor: String, action: String, subject: String, detail: [String: String] = [:]
    ) throws {
        try audit(db, at: at, actor: actor, action: action, subject: subject, detail: detail.isEmpty ? "" : StoredJSON.auditDetail(detail))
    }

    private static func audit(_ db: Database, at: UnixTime, actor: String, action: String, subject: String, detail: String) throws {
        try db.run(sql: "INSERT INTO audit_log (at, actor, action, subject, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [at, actor, action, subject, detail]
        )
    }
}

// MARK: - Rows and JSON

extension SQLiteStore {
    private static func corrupt(_ column: String) -> StoreError {
        StoreError(.unavailable, "unexpected value in \(column)")
    }

    private static func partner(row: Row) throws -> Partner {
        guard let kind = PartnerKind(rawValue: row["kind"]) else { throw corrupt("partners.kind") }
        return Partner(id: row["id"], name: row["name"], kind: kind, createdAt: row["created_at"])
    }

    private static func customer(row: Row) -> Customer {
        Customer(id: row["id"], name: row["name"], domain: row["domain"], createdAt: row["created_at"])
    }

    private static func tenant(row: Row) throws -> Tenant {
        if let partnerID: String = row["partner_id"] { return .partner(partnerID) }
        if let customerID: String = row["customer_id"] { return .customer(customerID) }
        throw corrupt("tenant")
    }

    private static func user(row: Row) throws -> User {
        guard let role = Role(rawValue: row["role"]) else { throw corrupt("users.role") }
        return User(
            id: row["id"], tenant: try tenant(row: row), email: row["email"], role: role,
            passwordHash: row["password_hash"], mustChangePassword: row["must_change_password"],
            failedSignIns: row["failed_sign_ins"], lockedUntil: row["locked_until"], createdAt: row["created_at"]
        )
    }

    private static func credential(row: Row) throws -> Credential {
        guard let role = Role(rawValue: row["role"]) else { throw corrupt("credentials.role") }
        let hash: Data = row["secret_hash"]
        return Credential(
            id: row["id"], tenant: try tenant(row: row), role: role, secretHash: Array(hash),
            createdAt: row["created_at"], revokedAt: row["revoked_at"]
        )
    }

    private static func invitation(row: Row) -> Invitation {
        Invitation(
            id: row["id"], resellerID: row["reseller_id"], providerID: row["provider_id"], delegatedAdmin: row["dap"],
            kid: row["kid"], issuedAt: row["issued_at"], expiresAt: row["expires_at"], maxUses: row["max_uses"],
            issuedBy: row["issued_by"], customerEmail: row["customer_email"], revokedAt: row["revoked_at"],
            useCount: row["use_count"]
        )
    }

}

extension Database {
    // Every statement goes through the connection's statement cache: SQLite's prepare and
    // GRDB's authorizer pass then happen once per SQL text and connection, not on every call,
    // which was most of the writer's time per acceptance.

    fileprivate func run(sql: String, arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    fileprivate func row(sql: String, arguments: StatementArguments = []) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    fileprivate func rows(sql: String, arguments: StatementArguments = []) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    fileprivate func string(sql: String, arguments: StatementArguments = []) throws -> String? {
        try String.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    fileprivate func strings(sql: String, arguments: StatementArguments = []) throws -> [String] {
        try String.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    fileprivate func int(sql: String, arguments: StatementArguments = []) throws -> Int? {
        try Int.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }
}

