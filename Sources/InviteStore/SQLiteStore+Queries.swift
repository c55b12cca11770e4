internal import GRDB

// MARK: - Queries shared by several operations

extension SQLiteStore {
    static func exists(_ db: Database, sql: String, arguments: StatementArguments) throws -> Bool {
        try db.int(sql: sql, arguments: arguments) != nil
    }

    static func partner(_ db: Database, id: String) throws -> Partner? {
        try db.row(sql: "SELECT * FROM partners WHERE id = ?", arguments: [id]).map(partner(row:))
    }

    static func customer(_ db: Database, id: String) throws -> Customer? {
        try db.row(sql: "SELECT * FROM customers WHERE id = ?", arguments: [id]).map(customer(row:))
    }

    static func invitation(_ db: Database, id: String) throws -> Invitation? {
        try db.row(sql: "SELECT * FROM invitations WHERE id = ?", arguments: [id]).map(invitation(row:))
    }

    /// The first ``InvitationRecord/acceptancePreview`` acceptances of an invitation.
    static func acceptancePreview(_ db: Database, invitationID: String) throws -> [Acceptance] {
        try db.strings(
            sql: "SELECT result FROM acceptances WHERE invitation_id = ? ORDER BY accepted_at, rowid LIMIT ?",
            arguments: [invitationID, InvitationRecord.acceptancePreview]
        ).map(StoredJSON.decodeAcceptance)
    }

    static func isConnected(_ db: Database, resellerID: String, providerID: String) throws -> Bool {
        try exists(
            db,
            sql: """
                SELECT 1 FROM provider_connections
                WHERE reseller_id = ? AND provider_id = ? AND disconnected_at IS NULL
                """,
            arguments: [resellerID, providerID]
        )
    }

    static func hasDelegatedAdmin(_ db: Database, partnerID: String, customerID: String) throws -> Bool {
        try exists(db, sql: "SELECT 1 FROM dap_grants WHERE partner_id = ? AND customer_id = ?", arguments: [partnerID, customerID])
    }

    /// Throws `.unknownPartner` unless partner `id` exists and is of `kind`.
    static func requirePartner(_ db: Database, id: String, kind: PartnerKind) throws {
        guard let partner = try partner(db, id: id), partner.kind == kind else {
            throw StoreError(.unknownPartner, "no \(kind.rawValue) \(id)")
        }
    }

    /// Throws `.credentialRevoked` unless credential `id` (when given) exists unrevoked.
    static func confirm(_ db: Database, credential id: String?) throws {
        guard let id else { return }
        guard try db.row(sql: "SELECT 1 FROM credentials WHERE id = ? AND revoked_at IS NULL", arguments: [id]) != nil else {
            throw StoreError(.credentialRevoked, "credential \(id) is revoked")
        }
    }

    /// Throws `.unknownPartner` for a missing provider, `.providerNotConnected` when the
    /// reseller has no active connection to it.
    static func requireConnection(_ db: Database, resellerID: String, providerID: String) throws {
        try requirePartner(db, id: providerID, kind: .provider)
        guard try isConnected(db, resellerID: resellerID, providerID: providerID) else {
            throw StoreError(.providerNotConnected, "reseller \(resellerID) is not connected to provider \(providerID)")
        }
    }

    /// Throws `.invalidInput` for a role the tenant cannot hold, `.unknownPartner` or
    /// `.unknownCustomer` for a missing tenant.
    static func requireTenant(_ db: Database, _ tenant: Tenant, role: Role) throws {
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

    /// Appends an audit entry in the caller's transaction; `tenant` stands for `partner` or
    /// `customer`, whichever it is.
    static func audit(
        _ db: Database, at: UnixTime, actor: String, action: String, subject: String, detail: [String: String] = [:],
        partner: String? = nil, customer: String? = nil, tenant: Tenant? = nil
    ) throws {
        try db.run(
            sql: """
                INSERT INTO audit_log (at, actor, actor_kind, action, subject, detail, partner_id, customer_id)
                VALUES (?1, ?2, \(AuditSQL.actorKind("?2")), ?3, ?4, ?5, ?6, ?7)
                """,
            arguments: [
                at, actor, action, subject, detail.isEmpty ? "" : StoredJSON.auditDetail(detail), partner ?? tenant?.partnerID,
                customer ?? tenant?.customerID,
            ]
        )
    }
}
