internal import Foundation
internal import GRDB

/// Partners, customers, the people who sign in, credentials and signed-out sessions.
extension SQLiteStore {
    // MARK: Partners

    public func addPartner(_ partner: Partner, actor: String) async throws {
        try await write { db in
            guard try Self.partner(db, id: partner.id) == nil else {
                throw StoreError(.conflict, "partner \(partner.id) already exists")
            }
            try db.run(
                sql: "INSERT INTO partners (id, name, kind, created_at) VALUES (?, ?, ?, ?)",
                arguments: [partner.id, partner.name, partner.kind.rawValue, partner.createdAt]
            )
            try Self.audit(
                db, at: partner.createdAt, actor: actor, action: "partner.added", subject: partner.id,
                detail: ["kind": partner.kind.rawValue, "name": partner.name], partner: partner.id)
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
            try db.run(
                sql: "INSERT INTO provider_connections (reseller_id, provider_id, connected_at) VALUES (?, ?, ?)",
                arguments: [resellerID, providerID, at]
            )
            try Self.audit(
                db, at: at, actor: actor, action: "partner.connected", subject: resellerID,
                detail: ["provider_id": providerID], partner: resellerID)
        }
    }

    public func disconnect(resellerID: String, providerID: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            try db.run(
                sql: """
                    UPDATE provider_connections SET disconnected_at = ?
                    WHERE reseller_id = ? AND provider_id = ? AND disconnected_at IS NULL
                    """,
                arguments: [at, resellerID, providerID]
            )
            guard db.changesCount > 0 else {
                throw StoreError(.notFound, "reseller \(resellerID) is not connected to provider \(providerID)")
            }
            try Self.audit(
                db, at: at, actor: actor, action: "partner.disconnected", subject: resellerID,
                detail: ["provider_id": providerID], partner: resellerID)
        }
    }

    public func providers(ofReseller resellerID: String) async throws -> [Partner] {
        try await readStatement { db in
            try db.rows(
                sql: """
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
            try db.run(
                sql: "INSERT INTO customers (id, name, domain, created_at) VALUES (?, ?, ?, ?)",
                arguments: [customer.id, customer.name, customer.domain, customer.createdAt]
            )
            try Self.audit(
                db, at: customer.createdAt, actor: actor, action: "customer.added", subject: customer.id,
                detail: ["domain": customer.domain, "name": customer.name], customer: customer.id)
        }
    }

    public func customer(id: String) async throws -> Customer? {
        try await readStatement { db in try Self.customer(db, id: id) }
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

    public func setPassword(userID: String, passwordHash: String, at: UnixTime) async throws -> User {
        try await write { db in
            try db.run(
                sql: """
                    UPDATE users SET password_hash = ?, must_change_password = 0, session_version = session_version + 1
                    WHERE id = ?
                    """,
                arguments: [passwordHash, userID]
            )
            guard db.changesCount > 0, let row = try db.row(sql: "SELECT * FROM users WHERE id = ?", arguments: [userID])
            else { throw StoreError(.notFound, "no user \(userID)") }
            let user = try Self.user(row: row)
            try Self.audit(db, at: at, actor: userID, action: "user.password_set", subject: userID, tenant: user.tenant)
            return user
        }
    }

    public func claimSignInAttempt(
        emailDigest: [UInt8], now: UnixTime, limits: SignInLimits, lockEntry: AuditEntry
    ) async throws -> SignInAttempt {
        let digest = Data(emailDigest)
        return try await write { db in
            // Unqualified columns in DO UPDATE are the stored row's. A lock that has ended, or a
            // first failure older than the window, starts the count over.
            let row = try db.row(
                sql: """
                    INSERT INTO sign_in_failures (email_digest, failures, window_start, locked_until)
                    VALUES (?1, 1, ?2, CASE WHEN 1 >= ?3 THEN ?2 + ?5 END)
                    ON CONFLICT (email_digest) DO UPDATE SET
                        failures = CASE WHEN locked_until <= ?2 OR window_start <= ?2 - ?4 THEN 1 ELSE failures + 1 END,
                        window_start = CASE WHEN locked_until <= ?2 OR window_start <= ?2 - ?4 THEN ?2 ELSE window_start END,
                        locked_until = CASE
                            WHEN (CASE WHEN locked_until <= ?2 OR window_start <= ?2 - ?4 THEN 1 ELSE failures + 1 END) >= ?3
                            THEN ?2 + ?5 END
                    WHERE locked_until IS NULL OR locked_until <= ?2
                    RETURNING failures
                    """,
                arguments: [digest, now, limits.failures, limits.window, limits.lockout])
            if UInt8.random(in: 0...63) == 0 { try Self.pruneSignInFailures(db, now: now, limits: limits) }
            if let row {
                let failure: Int = row[0]
                // This attempt is the one that locks the address.
                if failure == limits.failures { try Self.insert(db, lockEntry) }
                return .allowed(failure: failure)
            }
            let until = try db.int(sql: "SELECT locked_until FROM sign_in_failures WHERE email_digest = ?", arguments: [digest])
            return .locked(until: UnixTime(until ?? Int(now + 1)))
        }
    }

    public func signedIn(emailDigest: [UInt8], entry: AuditEntry) async throws {
        try await write { db in
            try db.run(sql: "DELETE FROM sign_in_failures WHERE email_digest = ?", arguments: [Data(emailDigest)])
            try Self.insert(db, entry)
        }
    }

    /// Rows whose window and lock have both passed say nothing any more.
    static func pruneSignInFailures(_ db: Database, now: UnixTime, limits: SignInLimits) throws {
        try db.run(
            sql: """
                DELETE FROM sign_in_failures
                WHERE window_start <= ? AND (locked_until IS NULL OR locked_until <= ?)
                """,
            arguments: [now - limits.window, now])
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
            try db.run(
                sql: """
                    INSERT INTO credentials (id, partner_id, customer_id, role, secret_hash, created_at, revoked_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    credential.id, credential.tenant.partnerID, credential.tenant.customerID, credential.role.rawValue,
                    hash, credential.createdAt, credential.revokedAt,
                ]
            )
            try Self.audit(
                db, at: credential.createdAt, actor: actor, action: "credential.added", subject: credential.id,
                detail: ["role": credential.role.rawValue, "tenant": credential.tenant.auditName], tenant: credential.tenant)
        }
    }

    /// Both look-ups with one reader: a partner's record never changes once added, so the two
    /// statements need no shared snapshot.
    public func principal(secretHash: [UInt8]) async throws -> Principal? {
        let hash = Data(secretHash)
        // One statement: every API call starts here.
        return try await readStatement { db in
            guard
                let row = try db.row(
                    sql: """
                        SELECT c.*, p.name AS partner_name, p.kind AS partner_kind, p.created_at AS partner_created_at
                        FROM credentials c LEFT JOIN partners p ON p.id = c.partner_id
                        WHERE c.secret_hash = ? AND c.revoked_at IS NULL
                        """,
                    arguments: [hash]
                )
            else { return nil }
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
            try db.run(
                sql: "INSERT INTO revoked_sessions (digest, expires_at) VALUES (?, ?) ON CONFLICT (digest) DO NOTHING",
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
            guard let row = try db.row(sql: "SELECT * FROM credentials WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no credential \(id)")
            }
            guard (row["revoked_at"] as UnixTime?) == nil else { return }
            try db.run(sql: "UPDATE credentials SET revoked_at = ? WHERE id = ?", arguments: [at, id])
            try Self.audit(db, at: at, actor: actor, action: "credential.revoked", subject: id, tenant: try Self.tenant(row: row))
        }
    }
}
