internal import Foundation
internal import GRDB

/// Both sides of a relationship (DESIGN.md §7): adding a customer with its admin, people and
/// their setup links, a customer's partners, retained DAP grants, and ending either.
extension SQLiteStore {
    // MARK: Adding customers and people

    public func addCustomer(_ new: NewCustomer, actor: String) async throws {
        let customer = new.customer
        try await write { db in
            if let resellerID = new.resellerID { try Self.requirePartner(db, id: resellerID, kind: .reseller) }
            guard try Self.customer(db, id: customer.id) == nil else {
                throw StoreError(.conflict, "customer \(customer.id) already exists")
            }
            guard try !Self.exists(db, sql: "SELECT 1 FROM customers WHERE domain = ?", arguments: [customer.domain]) else {
                throw StoreError(.conflict, "a customer with the domain \(customer.domain) already exists")
            }
            try db.run(
                sql: "INSERT INTO customers (id, name, domain, created_at) VALUES (?, ?, ?, ?)",
                arguments: [customer.id, customer.name, customer.domain, customer.createdAt]
            )
            var detail = ["domain": customer.domain, "name": customer.name]
            if let resellerID = new.resellerID { detail["reseller_id"] = resellerID }
            try Self.audit(
                db, at: customer.createdAt, actor: actor, action: "customer.added", subject: customer.id, detail: detail,
                partner: new.resellerID, customer: customer.id)
            try Self.insertUser(db, new.admin, setupLink: new.setupLink, actor: actor)
            if let resellerID = new.resellerID {
                try db.run(
                    sql: """
                        INSERT INTO relationships (partner_id, customer_id, role, invitation_id, created_at)
                        VALUES (?, ?, 'reseller', NULL, ?)
                        """,
                    arguments: [resellerID, customer.id, customer.createdAt])
                try Self.audit(
                    db, at: customer.createdAt, actor: actor, action: "relationship.created", subject: customer.id,
                    detail: ["partner_id": resellerID, "role": "reseller", "via": "customer_added"], partner: resellerID,
                    customer: customer.id)
            }
        }
    }

    public func addUser(_ user: User, setupLink: SetupLink?, actor: String) async throws {
        try await write { db in try Self.insertUser(db, user, setupLink: setupLink, actor: actor) }
    }

    /// Inserts a person (email lowercased, so uniqueness and look-up ignore case) and their
    /// setup link, with the audit entry.
    static func insertUser(_ db: Database, _ user: User, setupLink: SetupLink?, actor: String) throws {
        let email = user.email.lowercased()
        try requireTenant(db, user.tenant, role: user.role)
        guard try !exists(db, sql: "SELECT 1 FROM users WHERE id = ?", arguments: [user.id]) else {
            throw StoreError(.conflict, "user \(user.id) already exists")
        }
        guard try !exists(db, sql: "SELECT 1 FROM users WHERE email = ?", arguments: [email]) else {
            throw StoreError(.conflict, "a user with this email already exists")
        }
        try db.run(
            sql: """
                INSERT INTO users (id, partner_id, customer_id, email, role, password_hash,
                                   must_change_password, session_version, created_at, disabled_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                user.id, user.tenant.partnerID, user.tenant.customerID, email, user.role.rawValue,
                user.passwordHash, user.mustChangePassword, user.sessionVersion, user.createdAt, user.disabledAt,
            ]
        )
        try audit(
            db, at: user.createdAt, actor: actor, action: "user.added", subject: user.id,
            detail: ["role": user.role.rawValue, "tenant": user.tenant.auditName], tenant: user.tenant)
        if let setupLink { try insertSetupLink(db, setupLink) }
    }

    /// Records a setup link and ends the person's older unused ones: only the newest works.
    static func insertSetupLink(_ db: Database, _ link: SetupLink) throws {
        try db.run(
            sql: "UPDATE setup_links SET used_at = ? WHERE user_id = ? AND used_at IS NULL",
            arguments: [link.issuedAt, link.userID])
        try db.run(
            sql: "INSERT INTO setup_links (id, user_id, issued_at, expires_at) VALUES (?, ?, ?, ?)",
            arguments: [link.id, link.userID, link.issuedAt, link.expiresAt])
    }

    public func users(of tenant: Tenant, page: PageRequest) async throws -> Page<User> {
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .users).key }
        let limit = page.limit
        let column = tenant.partnerID != nil ? "partner_id" : "customer_id"
        return try await readStatement { db in
            let rows = try db.rows(
                sql: "SELECT * FROM users WHERE \(column) = ? AND email > ? ORDER BY email LIMIT ?",
                arguments: [tenant.id, after ?? "", limit + 1])
            let items = try rows.prefix(limit).map(Self.user(row:))
            let next = rows.count > limit ? items.last.map { PageCursor(list: .users, time: 0, key: $0.email).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    public func setDisabled(userID: String, disabled: Bool, at: UnixTime, actor: String) async throws -> User {
        try await write { db in
            guard let row = try db.row(sql: "SELECT * FROM users WHERE id = ?", arguments: [userID]) else {
                throw StoreError(.notFound, "no user \(userID)")
            }
            let user = try Self.user(row: row)
            guard (user.disabledAt != nil) != disabled else { return user }
            try db.run(
                sql: disabled
                    ? "UPDATE users SET disabled_at = ?, session_version = session_version + 1 WHERE id = ?"
                    : "UPDATE users SET disabled_at = NULL WHERE id = ? AND ? IS NOT NULL",
                arguments: disabled ? [at, userID] : [userID, at])
            try Self.audit(
                db, at: at, actor: actor, action: disabled ? "user.disabled" : "user.enabled", subject: userID, tenant: user.tenant)
            return try Self.user(db, id: userID)
        }
    }

    public func resetPassword(userID: String, setupLink: SetupLink, at: UnixTime, actor: String) async throws -> User {
        try await write { db in
            try db.run(
                sql: """
                    UPDATE users SET password_hash = '', must_change_password = 0, session_version = session_version + 1
                    WHERE id = ?
                    """,
                arguments: [userID])
            guard db.changesCount > 0 else { throw StoreError(.notFound, "no user \(userID)") }
            try Self.insertSetupLink(db, setupLink)
            let user = try Self.user(db, id: userID)
            try Self.audit(db, at: at, actor: actor, action: "user.password_reset", subject: userID, tenant: user.tenant)
            return user
        }
    }

    public func completeSetup(linkID: String, userID: String, passwordHash: String, at: UnixTime) async throws -> User {
        try await write { db in
            try db.run(
                sql: """
                    UPDATE setup_links SET used_at = ?
                    WHERE id = ? AND user_id = ? AND used_at IS NULL AND expires_at > ?
                      AND EXISTS (SELECT 1 FROM users WHERE id = setup_links.user_id AND disabled_at IS NULL)
                    """,
                arguments: [at, linkID, userID, at])
            guard db.changesCount > 0 else { throw StoreError(.usedUp, "this setup link has been used, replaced or has expired") }
            try db.run(
                sql: """
                    UPDATE users SET password_hash = ?, must_change_password = 0, session_version = session_version + 1
                    WHERE id = ?
                    """,
                arguments: [passwordHash, userID])
            let user = try Self.user(db, id: userID)
            try Self.audit(
                db, at: at, actor: userID, action: "user.password_set", subject: userID, detail: ["via": "setup_link"], tenant: user.tenant)
            return user
        }
    }

    public func setupLink(id: String) async throws -> SetupLink? {
        try await readStatement { db in
            try db.row(sql: "SELECT * FROM setup_links WHERE id = ?", arguments: [id]).map { row in
                SetupLink(
                    id: row["id"], userID: row["user_id"], issuedAt: row["issued_at"], expiresAt: row["expires_at"],
                    usedAt: row["used_at"])
            }
        }
    }

    static func user(_ db: Database, id: String) throws -> User {
        guard let row = try db.row(sql: "SELECT * FROM users WHERE id = ?", arguments: [id]) else {
            throw StoreError(.notFound, "no user \(id)")
        }
        return try user(row: row)
    }

    // MARK: A partner's customers, a customer's partners

    public func customers(ofPartner partnerID: String, includeRetained: Bool, page: PageRequest) async throws -> Page<PartnerCustomer> {
        guard includeRetained else { return try await activeCustomers(ofPartner: partnerID, page: page) }
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .customersWithRetained) }
        let limit = page.limit
        return try await readStatement { db in
            // Each customer once: its active relationship, else its retained grant, ordered
            // by the relationship's or the grant's time.
            let rows = try db.rows(
                sql: """
                    SELECT * FROM (
                        SELECT r.role, r.created_at AS since, d.granted_at, r.created_at AS position,
                               c.id, c.name, c.domain, c.created_at
                        FROM relationships r
                        JOIN customers c ON c.id = r.customer_id
                        LEFT JOIN dap_grants d ON d.partner_id = r.partner_id AND d.customer_id = r.customer_id
                        WHERE r.partner_id = ?1 AND r.removed_at IS NULL
                        UNION ALL
                        SELECT NULL, NULL, d.granted_at, d.granted_at, c.id, c.name, c.domain, c.created_at
                        FROM dap_grants d
                        JOIN customers c ON c.id = d.customer_id
                        WHERE d.partner_id = ?1 AND NOT EXISTS (
                            SELECT 1 FROM relationships r
                            WHERE r.partner_id = d.partner_id AND r.customer_id = d.customer_id AND r.removed_at IS NULL)
                    )
                    WHERE position > ?2 OR (position = ?2 AND id > ?3)
                    ORDER BY position, id LIMIT ?4
                    """,
                arguments: [partnerID, after?.time ?? Int64.min, after?.key ?? "", limit + 1])
            let items = try rows.prefix(limit).map(Self.retainedCustomer(row:))
            var next: String?
            if rows.count > limit, let last = rows.prefix(limit).last {
                next = PageCursor(list: .customersWithRetained, time: last["position"], key: last["id"]).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }

    static func retainedCustomer(row: Row) throws -> PartnerCustomer {
        var role: RelationshipRole?
        if let text: String = row["role"] {
            guard let known = RelationshipRole(rawValue: text) else { throw corrupt("relationships.role") }
            role = known
        }
        return PartnerCustomer(customer: customer(row: row), role: role, since: row["since"], delegatedAdminSince: row["granted_at"])
    }

    public func partners(ofCustomer customerID: String, page: PageRequest) async throws -> Page<CustomerPartner> {
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .partners).key }
        let limit = page.limit
        return try await readStatement { db in
            let rows = try db.rows(
                sql: """
                    SELECT p.id, p.name, p.kind, p.created_at, r.role, r.created_at AS since, d.granted_at
                    FROM partners p
                    LEFT JOIN relationships r ON r.partner_id = p.id AND r.customer_id = ?1 AND r.removed_at IS NULL
                    LEFT JOIN dap_grants d ON d.partner_id = p.id AND d.customer_id = ?1
                    WHERE p.id IN (
                        SELECT partner_id FROM relationships WHERE customer_id = ?1 AND removed_at IS NULL
                        UNION SELECT partner_id FROM dap_grants WHERE customer_id = ?1)
                      AND p.id > ?2
                    ORDER BY p.id LIMIT ?3
                    """,
                arguments: [customerID, after ?? "", limit + 1])
            let items = try rows.prefix(limit).map(Self.customerPartner(row:))
            let next = rows.count > limit ? items.last.map { PageCursor(list: .partners, time: 0, key: $0.partner.id).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    public func partner(id: String, ofCustomer customerID: String) async throws -> CustomerPartner? {
        try await readStatement { db in
            try db.row(
                sql: """
                    SELECT p.id, p.name, p.kind, p.created_at, r.role, r.created_at AS since, d.granted_at
                    FROM partners p
                    LEFT JOIN relationships r ON r.partner_id = p.id AND r.customer_id = ?1 AND r.removed_at IS NULL
                    LEFT JOIN dap_grants d ON d.partner_id = p.id AND d.customer_id = ?1
                    WHERE p.id = ?2 AND (r.id IS NOT NULL OR d.partner_id IS NOT NULL)
                    """,
                arguments: [customerID, id]
            ).map(Self.customerPartner(row:))
        }
    }

    /// A row of the columns both look-ups above select.
    static func customerPartner(row: Row) throws -> CustomerPartner {
        var role: RelationshipRole?
        if let text: String = row["role"] {
            guard let known = RelationshipRole(rawValue: text) else { throw corrupt("relationships.role") }
            role = known
        }
        return CustomerPartner(
            partner: try partner(row: row), role: role, relationshipSince: row["since"], delegatedAdminSince: row["granted_at"])
    }

    // MARK: Ending relationships and grants

    public func removeRelationship(
        partnerID: String, customerID: String, by side: RemovalSide, at: UnixTime, actor: String
    ) async throws -> RelationshipRemoval {
        try await write { db in
            try db.run(
                sql: """
                    UPDATE relationships SET removed_at = ?
                    WHERE partner_id = ? AND customer_id = ? AND removed_at IS NULL
                    """,
                arguments: [at, partnerID, customerID]
            )
            guard db.changesCount > 0 else {
                throw StoreError(.notFound, "no active relationship between \(partnerID) and customer \(customerID)")
            }
            let retained = try Self.hasDelegatedAdmin(db, partnerID: partnerID, customerID: customerID)
            try Self.audit(
                db, at: at, actor: actor, action: "relationship.removed", subject: customerID,
                detail: ["partner_id": partnerID, "delegated_admin_retained": String(retained), "by": side.rawValue], partner: partnerID,
                customer: customerID)
            return RelationshipRemoval(removed: true, delegatedAdminRetained: retained)
        }
    }

    public func removeDelegatedAdmin(partnerID: String, customerID: String, by side: RemovalSide, at: UnixTime, actor: String) async throws
    {
        try await write { db in
            try db.run(sql: "DELETE FROM dap_grants WHERE partner_id = ? AND customer_id = ?", arguments: [partnerID, customerID])
            guard db.changesCount > 0 else {
                throw StoreError(.notFound, "\(partnerID) holds no delegated admin privileges for customer \(customerID)")
            }
            try Self.audit(
                db, at: at, actor: actor, action: "dap.removed", subject: customerID,
                detail: ["partner_id": partnerID, "by": side.rawValue], partner: partnerID, customer: customerID)
        }
    }
}
