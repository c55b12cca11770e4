internal import Foundation
internal import PostgresNIO

/// Both sides of a relationship (DESIGN.md §7), as ``SQLiteStore`` answers them. Where SQLite's
/// single writer rules races out, here a domain check takes a transaction-scoped advisory lock
/// on the domain, and conditional `UPDATE … RETURNING` statements decide who won.
extension PostgresStore {
    // MARK: Adding customers and people

    public func addCustomer(_ new: NewCustomer, actor: String) async throws {
        let customer = new.customer
        try await write { db in
            if let resellerID = new.resellerID { try await Self.requirePartner(db, id: resellerID, kind: .reseller) }
            // Two instances adding the same domain at once: the second waits here, then sees it.
            try await db.run("SELECT pg_advisory_xact_lock(hashtextextended(\("customer-domain:" + customer.domain), 0))")
            let taken = try await db.rows(
                """
                SELECT EXISTS (SELECT 1 FROM customers WHERE id = \(customer.id)),
                       EXISTS (SELECT 1 FROM customers WHERE domain = \(customer.domain))
                """)[0].decode((Bool, Bool).self)
            guard !taken.0 else { throw StoreError(.conflict, "customer \(customer.id) already exists") }
            guard !taken.1 else { throw StoreError(.conflict, "a customer with the domain \(customer.domain) already exists") }
            try await db.run(
                """
                INSERT INTO customers (id, name, domain, created_at)
                VALUES (\(customer.id), \(customer.name), \(customer.domain), \(customer.createdAt))
                """)
            var detail = ["domain": customer.domain, "name": customer.name]
            if let resellerID = new.resellerID { detail["reseller_id"] = resellerID }
            try await Self.audit(
                db, at: customer.createdAt, actor: actor, action: "customer.added", subject: customer.id, detail: detail,
                partner: new.resellerID, customer: customer.id)
            try await Self.insertUser(db, new.admin, setupLink: new.setupLink, actor: actor)
            if let resellerID = new.resellerID {
                try await db.run(
                    """
                    INSERT INTO relationships (partner_id, customer_id, role, invitation_id, created_at)
                    VALUES (\(resellerID), \(customer.id), 'reseller', NULL, \(customer.createdAt))
                    """)
                try await Self.audit(
                    db, at: customer.createdAt, actor: actor, action: "relationship.created", subject: customer.id,
                    detail: ["partner_id": resellerID, "role": "reseller", "via": "customer_added"], partner: resellerID,
                    customer: customer.id)
            }
        }
    }

    public func addUser(_ user: User, setupLink: SetupLink?, actor: String) async throws {
        try await write { db in try await Self.insertUser(db, user, setupLink: setupLink, actor: actor) }
    }

    /// Inserts a person (email lowercased with Swift's `lowercased()`, as ``SQLiteStore`` does)
    /// and their setup link, with the audit entry. A racing insert of the same id or email
    /// ends in 23505, which is a conflict too.
    static func insertUser(_ db: PostgresConnection, _ user: User, setupLink: SetupLink?, actor: String) async throws {
        let email = user.email.lowercased()
        try await requireTenant(db, user.tenant, role: user.role)
        let taken = try await db.rows(
            """
            SELECT EXISTS (SELECT 1 FROM users WHERE id = \(user.id)),
                   EXISTS (SELECT 1 FROM users WHERE email = \(email))
            """)[0].decode((Bool, Bool).self)
        guard !taken.0 else { throw StoreError(.conflict, "user \(user.id) already exists") }
        guard !taken.1 else { throw StoreError(.conflict, "a user with this email already exists") }
        try await db.run(
            """
            INSERT INTO users (id, partner_id, customer_id, email, role, password_hash,
                               must_change_password, session_version, created_at, disabled_at)
            VALUES (\(user.id), \(user.tenant.partnerID), \(user.tenant.customerID), \(email), \(user.role.rawValue),
                    \(user.passwordHash), \(user.mustChangePassword), \(Int64(user.sessionVersion)), \(user.createdAt),
                    \(user.disabledAt))
            """)
        try await audit(
            db, at: user.createdAt, actor: actor, action: "user.added", subject: user.id,
            detail: ["role": user.role.rawValue, "tenant": user.tenant.auditName], tenant: user.tenant)
        if let setupLink { try await insertSetupLink(db, setupLink) }
    }

    /// Records a setup link and ends the person's older unused ones: only the newest works.
    static func insertSetupLink(_ db: PostgresConnection, _ link: SetupLink) async throws {
        try await db.run("UPDATE setup_links SET used_at = \(link.issuedAt) WHERE user_id = \(link.userID) AND used_at IS NULL")
        try await db.run(
            """
            INSERT INTO setup_links (id, user_id, issued_at, expires_at)
            VALUES (\(link.id), \(link.userID), \(link.issuedAt), \(link.expiresAt))
            """)
    }

    public func users(of tenant: Tenant, page: PageRequest) async throws -> Page<User> {
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .users).key } ?? ""
        let limit = page.limit
        return try await read { db in
            let rows: PostgresRowSequence
            let query: PostgresQuery =
                tenant.partnerID != nil
                ? """
                SELECT \(unescaped: Self.userColumns) FROM users
                WHERE partner_id = \(tenant.id) AND email > \(after) ORDER BY email LIMIT \(Int64(limit + 1))
                """
                : """
                SELECT \(unescaped: Self.userColumns) FROM users
                WHERE customer_id = \(tenant.id) AND email > \(after) ORDER BY email LIMIT \(Int64(limit + 1))
                """
            rows = try await db.query(query, logger: Self.quiet)
            var items: [User] = []
            var more = false
            for try await row in rows {
                if items.count == limit {
                    more = true
                    continue
                }
                items.append(try Self.user(row: row))
            }
            let next = more ? items.last.map { PageCursor(list: .users, time: 0, key: $0.email).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    public func setDisabled(userID: String, disabled: Bool, at: UnixTime, actor: String) async throws -> User {
        try await write { db in
            // Only a change is written and audited; the row comes back either way.
            let changed = try await db.rows(
                disabled
                    ? """
                    UPDATE users SET disabled_at = \(at), session_version = session_version + 1
                    WHERE id = \(userID) AND disabled_at IS NULL RETURNING id
                    """
                    : "UPDATE users SET disabled_at = NULL WHERE id = \(userID) AND disabled_at IS NOT NULL RETURNING id")
            guard let row = try await db.rows("SELECT \(unescaped: Self.userColumns) FROM users WHERE id = \(userID)").first else {
                throw StoreError(.notFound, "no user \(userID)")
            }
            let user = try Self.user(row: row)
            if !changed.isEmpty {
                try await Self.audit(
                    db, at: at, actor: actor, action: disabled ? "user.disabled" : "user.enabled", subject: userID, tenant: user.tenant)
            }
            return user
        }
    }

    public func resetPassword(userID: String, setupLink: SetupLink, at: UnixTime, actor: String) async throws -> User {
        try await write { db in
            let updated = try await db.rows(
                """
                UPDATE users SET password_hash = '', must_change_password = FALSE, session_version = session_version + 1
                WHERE id = \(userID) RETURNING \(unescaped: Self.userColumns)
                """)
            guard let row = updated.first else { throw StoreError(.notFound, "no user \(userID)") }
            try await Self.insertSetupLink(db, setupLink)
            let user = try Self.user(row: row)
            try await Self.audit(db, at: at, actor: actor, action: "user.password_reset", subject: userID, tenant: user.tenant)
            return user
        }
    }

    public func completeSetup(linkID: String, userID: String, passwordHash: String, at: UnixTime) async throws -> User {
        try await write { db in
            // The link's row lock makes two uses at once wait for each other: one wins.
            let used = try await db.rows(
                """
                UPDATE setup_links SET used_at = \(at)
                WHERE id = \(linkID) AND user_id = \(userID) AND used_at IS NULL AND expires_at > \(at)
                  AND EXISTS (SELECT 1 FROM users WHERE id = setup_links.user_id AND disabled_at IS NULL)
                RETURNING id
                """)
            guard !used.isEmpty else { throw StoreError(.usedUp, "this setup link has been used, replaced or has expired") }
            let updated = try await db.rows(
                """
                UPDATE users SET password_hash = \(passwordHash), must_change_password = FALSE,
                                 session_version = session_version + 1
                WHERE id = \(userID) RETURNING \(unescaped: Self.userColumns)
                """)
            guard let row = updated.first else { throw StoreError(.notFound, "no user \(userID)") }
            let user = try Self.user(row: row)
            try await Self.audit(
                db, at: at, actor: userID, action: "user.password_set", subject: userID, detail: ["via": "setup_link"], tenant: user.tenant)
            return user
        }
    }

    public func setupLink(id: String) async throws -> SetupLink? {
        try await read { db in
            try await db.rows("SELECT id, user_id, issued_at, expires_at, used_at FROM setup_links WHERE id = \(id)").first.map { row in
                let (id, userID, issuedAt, expiresAt, usedAt) = try row.decode((String, String, UnixTime, UnixTime, UnixTime?).self)
                return SetupLink(id: id, userID: userID, issuedAt: issuedAt, expiresAt: expiresAt, usedAt: usedAt)
            }
        }
    }

    // MARK: A partner's customers, a customer's partners

    public func customers(ofPartner partnerID: String, includeRetained: Bool, page: PageRequest) async throws -> Page<PartnerCustomer> {
        guard includeRetained else { return try await activeCustomers(ofPartner: partnerID, page: page) }
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .customersWithRetained) }
        let limit = page.limit
        return try await read { db in
            let rows = try await db.rows(
                """
                SELECT role, since, granted_at, position, id, name, domain, created_at FROM (
                    SELECT r.role, r.created_at AS since, d.granted_at, r.created_at AS position,
                           c.id, c.name, c.domain, c.created_at
                    FROM relationships r
                    JOIN customers c ON c.id = r.customer_id
                    LEFT JOIN dap_grants d ON d.partner_id = r.partner_id AND d.customer_id = r.customer_id
                    WHERE r.partner_id = \(partnerID) AND r.removed_at IS NULL
                    UNION ALL
                    SELECT NULL, NULL, d.granted_at, d.granted_at, c.id, c.name, c.domain, c.created_at
                    FROM dap_grants d
                    JOIN customers c ON c.id = d.customer_id
                    WHERE d.partner_id = \(partnerID) AND NOT EXISTS (
                        SELECT 1 FROM relationships r
                        WHERE r.partner_id = d.partner_id AND r.customer_id = d.customer_id AND r.removed_at IS NULL)
                ) held
                WHERE (position, id) > (\(after?.time ?? Int64.min), \(after?.key ?? ""))
                ORDER BY position, id LIMIT \(Int64(limit + 1))
                """)
            var items: [PartnerCustomer] = []
            var lastPosition: UnixTime = 0
            for row in rows.prefix(limit) {
                let (roleText, since, grantedAt, position, id, name, domain, createdAt) =
                    try row.decode((String?, UnixTime?, UnixTime?, UnixTime, String, String, String, UnixTime).self)
                var role: RelationshipRole?
                if let roleText {
                    guard let known = RelationshipRole(rawValue: roleText) else { throw Self.corrupt("relationships.role") }
                    role = known
                }
                lastPosition = position
                items.append(
                    PartnerCustomer(
                        customer: Customer(id: id, name: name, domain: domain, createdAt: createdAt), role: role, since: since,
                        delegatedAdminSince: grantedAt))
            }
            var next: String?
            if rows.count > limit, let last = items.last {
                next = PageCursor(list: .customersWithRetained, time: lastPosition, key: last.customer.id).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }

    public func partners(ofCustomer customerID: String, page: PageRequest) async throws -> Page<CustomerPartner> {
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .partners).key } ?? ""
        let limit = page.limit
        return try await read { db in
            let rows = try await db.rows(
                """
                SELECT p.id, p.name, p.kind, p.created_at, r.role, r.created_at, d.granted_at
                FROM partners p
                LEFT JOIN relationships r ON r.partner_id = p.id AND r.customer_id = \(customerID) AND r.removed_at IS NULL
                LEFT JOIN dap_grants d ON d.partner_id = p.id AND d.customer_id = \(customerID)
                WHERE p.id IN (
                    SELECT partner_id FROM relationships WHERE customer_id = \(customerID) AND removed_at IS NULL
                    UNION SELECT partner_id FROM dap_grants WHERE customer_id = \(customerID))
                  AND p.id > \(after)
                ORDER BY p.id LIMIT \(Int64(limit + 1))
                """)
            let items = try rows.prefix(limit).map(Self.customerPartner(row:))
            let next = rows.count > limit ? items.last.map { PageCursor(list: .partners, time: 0, key: $0.partner.id).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    public func partner(id: String, ofCustomer customerID: String) async throws -> CustomerPartner? {
        try await read { db in
            try await db.rows(
                """
                SELECT p.id, p.name, p.kind, p.created_at, r.role, r.created_at, d.granted_at
                FROM partners p
                LEFT JOIN relationships r ON r.partner_id = p.id AND r.customer_id = \(customerID) AND r.removed_at IS NULL
                LEFT JOIN dap_grants d ON d.partner_id = p.id AND d.customer_id = \(customerID)
                WHERE p.id = \(id) AND (r.id IS NOT NULL OR d.partner_id IS NOT NULL)
                """
            ).first.map(Self.customerPartner(row:))
        }
    }

    /// A row of the columns both look-ups above select.
    static func customerPartner(row: PostgresRow) throws -> CustomerPartner {
        let (id, name, kindText, createdAt, roleText, since, grantedAt) =
            try row.decode((String, String, String, UnixTime, String?, UnixTime?, UnixTime?).self)
        guard let kind = PartnerKind(rawValue: kindText) else { throw corrupt("partners.kind") }
        var role: RelationshipRole?
        if let roleText {
            guard let known = RelationshipRole(rawValue: roleText) else { throw corrupt("relationships.role") }
            role = known
        }
        return CustomerPartner(
            partner: Partner(id: id, name: name, kind: kind, createdAt: createdAt), role: role, relationshipSince: since,
            delegatedAdminSince: grantedAt)
    }

    // MARK: Ending relationships and grants

    public func removeRelationship(
        partnerID: String, customerID: String, by side: RemovalSide, at: UnixTime, actor: String
    ) async throws -> RelationshipRemoval {
        try await write { db in
            let removed = try await db.rows(
                """
                UPDATE relationships SET removed_at = \(at)
                WHERE partner_id = \(partnerID) AND customer_id = \(customerID) AND removed_at IS NULL
                RETURNING id
                """)
            guard !removed.isEmpty else {
                throw StoreError(.notFound, "no active relationship between \(partnerID) and customer \(customerID)")
            }
            let retained = try await Self.hasDelegatedAdmin(db, partnerID: partnerID, customerID: customerID)
            try await Self.audit(
                db, at: at, actor: actor, action: "relationship.removed", subject: customerID,
                detail: ["partner_id": partnerID, "delegated_admin_retained": String(retained), "by": side.rawValue], partner: partnerID,
                customer: customerID)
            return RelationshipRemoval(removed: true, delegatedAdminRetained: retained)
        }
    }

    public func removeDelegatedAdmin(partnerID: String, customerID: String, by side: RemovalSide, at: UnixTime, actor: String) async throws
    {
        try await write { db in
            let removed = try await db.rows(
                "DELETE FROM dap_grants WHERE partner_id = \(partnerID) AND customer_id = \(customerID) RETURNING partner_id")
            guard !removed.isEmpty else {
                throw StoreError(.notFound, "\(partnerID) holds no delegated admin privileges for customer \(customerID)")
            }
            try await Self.audit(
                db, at: at, actor: actor, action: "dap.removed", subject: customerID,
                detail: ["partner_id": partnerID, "by": side.rawValue], partner: partnerID, customer: customerID)
        }
    }
}
