internal import Foundation
internal import PostgresNIO

/// Partners, customers, the people who sign in, credentials and signed-out sessions.
extension PostgresStore {
    // MARK: Partners

    public func addPartner(_ partner: Partner, actor: String) async throws {
        try await write { db in
            let inserted = try await db.rows(
                """
                INSERT INTO partners (id, name, kind, created_at)
                VALUES (\(partner.id), \(partner.name), \(partner.kind.rawValue), \(partner.createdAt))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """)
            guard !inserted.isEmpty else { throw StoreError(.conflict, "partner \(partner.id) already exists") }
            try await Self.audit(
                db, at: partner.createdAt, actor: actor, action: "partner.added", subject: partner.id,
                detail: ["kind": partner.kind.rawValue, "name": partner.name], partner: partner.id)
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
            let inserted = try await db.rows(
                """
                INSERT INTO provider_connections (reseller_id, provider_id, connected_at)
                VALUES (\(resellerID), \(providerID), \(at))
                ON CONFLICT (reseller_id, provider_id) WHERE disconnected_at IS NULL DO NOTHING
                RETURNING id
                """)
            guard !inserted.isEmpty else { return }
            try await Self.audit(
                db, at: at, actor: actor, action: "partner.connected", subject: resellerID,
                detail: ["provider_id": providerID], partner: resellerID)
        }
    }

    public func disconnect(resellerID: String, providerID: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            let ended = try await db.rows(
                """
                UPDATE provider_connections SET disconnected_at = \(at)
                WHERE reseller_id = \(resellerID) AND provider_id = \(providerID) AND disconnected_at IS NULL
                RETURNING id
                """)
            guard !ended.isEmpty else {
                throw StoreError(.notFound, "reseller \(resellerID) is not connected to provider \(providerID)")
            }
            try await Self.audit(
                db, at: at, actor: actor, action: "partner.disconnected", subject: resellerID,
                detail: ["provider_id": providerID], partner: resellerID)
        }
    }

    public func providers(ofReseller resellerID: String) async throws -> [Partner] {
        try await read { db in
            try await db.rows(
                """
                SELECT p.id, p.name, p.kind, p.created_at FROM partners p
                JOIN provider_connections c ON c.provider_id = p.id
                WHERE c.reseller_id = \(resellerID) AND c.disconnected_at IS NULL
                ORDER BY p.name, p.id
                """
            ).map(Self.partner(row:))
        }
    }

    public func isConnected(resellerID: String, providerID: String) async throws -> Bool {
        try await read { db in try await Self.isConnected(db, resellerID: resellerID, providerID: providerID) }
    }

    // MARK: Customers and people

    public func addCustomer(_ customer: Customer, actor: String) async throws {
        try await write { db in
            let inserted = try await db.rows(
                """
                INSERT INTO customers (id, name, domain, created_at)
                VALUES (\(customer.id), \(customer.name), \(customer.domain), \(customer.createdAt))
                ON CONFLICT (id) DO NOTHING RETURNING id
                """)
            guard !inserted.isEmpty else { throw StoreError(.conflict, "customer \(customer.id) already exists") }
            try await Self.audit(
                db, at: customer.createdAt, actor: actor, action: "customer.added", subject: customer.id,
                detail: ["domain": customer.domain, "name": customer.name], customer: customer.id)
        }
    }

    public func customer(id: String) async throws -> Customer? {
        try await read { db in try await Self.customer(db, id: id) }
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

    public func setPassword(userID: String, passwordHash: String, at: UnixTime) async throws -> User {
        try await write { db in
            let updated = try await db.rows(
                """
                UPDATE users SET password_hash = \(passwordHash), must_change_password = FALSE,
                                 session_version = session_version + 1
                WHERE id = \(userID) RETURNING \(unescaped: Self.userColumns)
                """)
            guard let row = updated.first else { throw StoreError(.notFound, "no user \(userID)") }
            let user = try Self.user(row: row)
            try await Self.audit(db, at: at, actor: userID, action: "user.password_set", subject: userID, tenant: user.tenant)
            return user
        }
    }

    /// One `INSERT … ON CONFLICT DO UPDATE … WHERE`: PostgreSQL takes the row's lock and
    /// re-reads it, so attempts racing on several instances count one after the other.
    public func claimSignInAttempt(
        emailDigest: [UInt8], now: UnixTime, limits: SignInLimits, lockEntry: AuditEntry
    ) async throws -> SignInAttempt {
        let digest = Data(emailDigest)
        let failures = Int64(limits.failures), window = limits.window, lockout = limits.lockout
        return try await write { db in
            let rows = try await db.rows(
                """
                INSERT INTO sign_in_failures AS f (email_digest, failures, window_start, locked_until)
                VALUES (\(digest), 1, \(now), CASE WHEN 1 >= \(failures) THEN \(now + lockout) END)
                ON CONFLICT (email_digest) DO UPDATE SET
                    failures = CASE WHEN f.locked_until <= \(now) OR f.window_start <= \(now - window) THEN 1
                                    ELSE f.failures + 1 END,
                    window_start = CASE WHEN f.locked_until <= \(now) OR f.window_start <= \(now - window) THEN \(now)
                                        ELSE f.window_start END,
                    locked_until = CASE
                        WHEN (CASE WHEN f.locked_until <= \(now) OR f.window_start <= \(now - window) THEN 1
                                   ELSE f.failures + 1 END) >= \(failures)
                        THEN \(now + lockout) END
                WHERE f.locked_until IS NULL OR f.locked_until <= \(now)
                RETURNING f.failures
                """)
            if UInt8.random(in: 0...63) == 0 {
                try await db.run(
                    """
                    DELETE FROM sign_in_failures
                    WHERE window_start <= \(now - window) AND (locked_until IS NULL OR locked_until <= \(now))
                    """)
            }
            if let row = rows.first {
                let failure = Int(try row.decode(Int64.self))
                // This attempt is the one that locks the address.
                if failure == limits.failures { try await Self.insert(db, lockEntry) }
                return .allowed(failure: failure)
            }
            let locked = try await db.rows("SELECT locked_until FROM sign_in_failures WHERE email_digest = \(digest)")
            return .locked(until: try locked.first?.decode(UnixTime?.self) ?? now + 1)
        }
    }

    public func signedIn(emailDigest: [UInt8], entry: AuditEntry) async throws {
        try await write { db in
            try await db.run("DELETE FROM sign_in_failures WHERE email_digest = \(Data(emailDigest))")
            try await Self.insert(db, entry)
        }
    }

    // MARK: Credentials

    public func addCredential(_ credential: Credential, actor: String) async throws {
        let hash = Data(credential.secretHash)
        try await write { db in
            try await Self.requireTenant(db, credential.tenant, role: credential.role)
            let taken = try await db.rows(
                """
                SELECT EXISTS (SELECT 1 FROM credentials WHERE id = \(credential.id)),
                       EXISTS (SELECT 1 FROM credentials WHERE secret_hash = \(hash))
                """)[0].decode((Bool, Bool).self)
            guard !taken.0 else { throw StoreError(.conflict, "credential \(credential.id) already exists") }
            guard !taken.1 else { throw StoreError(.conflict, "a credential with this secret already exists") }
            try await db.run(
                """
                INSERT INTO credentials (id, partner_id, customer_id, role, secret_hash, created_at, revoked_at)
                VALUES (\(credential.id), \(credential.tenant.partnerID), \(credential.tenant.customerID),
                        \(credential.role.rawValue), \(hash), \(credential.createdAt), \(credential.revokedAt))
                """)
            try await Self.audit(
                db, at: credential.createdAt, actor: actor, action: "credential.added", subject: credential.id,
                detail: ["role": credential.role.rawValue, "tenant": credential.tenant.auditName], tenant: credential.tenant)
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
                id: id, partnerID: partnerID, customerID: customerID, role: role, hash: storedHash, createdAt: createdAt,
                revokedAt: revokedAt
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
            try await db.run(
                """
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
            let row = try await db.rows("SELECT revoked_at, partner_id, customer_id FROM credentials WHERE id = \(id) FOR UPDATE").first
            guard let (revokedAt, partnerID, customerID) = try row?.decode((UnixTime?, String?, String?).self) else {
                throw StoreError(.notFound, "no credential \(id)")
            }
            guard revokedAt == nil else { return }
            try await db.run("UPDATE credentials SET revoked_at = \(at) WHERE id = \(id)")
            try await Self.audit(
                db, at: at, actor: actor, action: "credential.revoked", subject: id, partner: partnerID, customer: customerID)
        }
    }
}
