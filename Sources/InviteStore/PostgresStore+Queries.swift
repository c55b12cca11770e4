internal import PostgresNIO

// MARK: - Queries shared by several operations

extension PostgresStore {
    static let userColumns =
        "id, partner_id, customer_id, email, role, password_hash, must_change_password, session_version, created_at, disabled_at"
    /// The stored columns of invitation `i` but its use count.
    static let invitationFields = """
        i.id, i.reseller_id, i.provider_id, i.dap, i.kid, i.issued_at, i.expires_at, i.max_uses, i.issued_by,
        i.customer_email, i.revoked_at
        """
    /// ``invitationFields`` and the use count, read as the number of acceptances: `use_count` is
    /// kept only for limited invitations (see ``accept(_:_:)``). The acceptances' primary key
    /// (invitation_id, customer_id) makes it an index range count.
    static let invitationColumns =
        invitationFields + ", (SELECT count(*) FROM acceptances a WHERE a.invitation_id = i.id)"
    /// The stored answers of invitation `i`, in the order they were given.
    static let acceptanceResults = """
        ARRAY(SELECT a.result FROM acceptances a WHERE a.invitation_id = i.id ORDER BY a.accepted_at, a.seq
              LIMIT \(InvitationRecord.acceptancePreview))
        """

    static func partner(_ db: PostgresConnection, id: String) async throws -> Partner? {
        try await db.rows("SELECT id, name, kind, created_at FROM partners WHERE id = \(id)").first.map(partner(row:))
    }

    static func customer(_ db: PostgresConnection, id: String) async throws -> Customer? {
        try await db.rows("SELECT id, name, domain, created_at FROM customers WHERE id = \(id)").first.map { row in
            let (id, name, domain, createdAt) = try row.decode((String, String, String, UnixTime).self)
            return Customer(id: id, name: name, domain: domain, createdAt: createdAt)
        }
    }

    static func invitation(_ db: PostgresConnection, id: String) async throws -> Invitation? {
        try await db.rows("SELECT \(unescaped: invitationColumns) FROM invitations i WHERE i.id = \(id)").first.map(invitation(row:))
    }

    static func isConnected(_ db: PostgresConnection, resellerID: String, providerID: String) async throws -> Bool {
        try await db.rows(
            """
            SELECT EXISTS (SELECT 1 FROM provider_connections
                           WHERE reseller_id = \(resellerID) AND provider_id = \(providerID) AND disconnected_at IS NULL)
            """)[0].decode(Bool.self)
    }

    static func hasDelegatedAdmin(_ db: PostgresConnection, partnerID: String, customerID: String) async throws -> Bool {
        try await db.rows(
            """
            SELECT EXISTS (SELECT 1 FROM dap_grants WHERE partner_id = \(partnerID) AND customer_id = \(customerID))
            """)[0].decode(Bool.self)
    }

    /// Throws `.unknownPartner` unless partner `id` exists and is of `kind`.
    static func requirePartner(_ db: PostgresConnection, id: String, kind: PartnerKind) async throws {
        guard let partner = try await partner(db, id: id), partner.kind == kind else {
            throw StoreError(.unknownPartner, "no \(kind.rawValue) \(id)")
        }
    }

    /// Throws `.invalidInput` for a role the tenant cannot hold, `.unknownPartner` or
    /// `.unknownCustomer` for a missing tenant.
    static func requireTenant(_ db: PostgresConnection, _ tenant: Tenant, role: Role) async throws {
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

    /// Appends an audit entry in the caller's transaction; `tenant` stands for `partner` or
    /// `customer`, whichever it is.
    static func audit(
        _ db: PostgresConnection, at: UnixTime, actor: String, action: String, subject: String, detail: [String: String] = [:],
        partner: String? = nil, customer: String? = nil, tenant: Tenant? = nil
    ) async throws {
        let detail = detail.isEmpty ? "" : StoredJSON.auditDetail(detail)
        let partnerID = partner ?? tenant?.partnerID, customerID = customer ?? tenant?.customerID
        try await db.run(
            """
            INSERT INTO audit_log (at, actor, actor_kind, action, subject, detail, partner_id, customer_id)
            SELECT \(at), a.id, \(unescaped: AuditSQL.actorKind("a.id")), \(action), \(subject), \(detail), \(partnerID)::TEXT,
                   \(customerID)::TEXT
            FROM (SELECT \(actor)::TEXT AS id) a
            """)
    }
}
