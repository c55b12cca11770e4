internal import GRDB

/// Accepting an invitation: the facts for ``AcceptanceRules``, then the writes it allows.
extension SQLiteStore {
    // MARK: Acceptance

    public func accept(_ request: AcceptanceRequest) async throws -> Acceptance {
        try await write { db in try Self.accept(db, request) }
    }

    /// Gathers the facts in one statement, lets ``AcceptanceRules`` decide, then writes what
    /// it decided. Runs inside the writer's savepoint: a throw anywhere leaves no trace.
    static func accept(_ db: Database, _ request: AcceptanceRequest) throws -> Acceptance {
        try confirm(db, credential: request.confirmingCredential)
        guard let invitation = try invitation(db, id: request.invitationID) else {
            throw StoreError(.unknownInvitation, "no invitation \(request.invitationID)")
        }
        guard
            let row = try db.row(
                sql: """
                    SELECT (SELECT result FROM acceptances WHERE invitation_id = ?1 AND customer_id = ?2) AS stored,
                           EXISTS (SELECT 1 FROM customers WHERE id = ?2) AS customer_exists,
                           (SELECT kind FROM partners WHERE id = ?3) AS reseller_kind,
                           (SELECT kind FROM partners WHERE id = ?4) AS provider_kind,
                           EXISTS (SELECT 1 FROM provider_connections
                                   WHERE reseller_id = ?3 AND provider_id = ?4 AND disconnected_at IS NULL) AS connected
                    """,
                arguments: [invitation.id, request.customerID, invitation.resellerID, invitation.providerID]
            )
        else { throw corrupt("acceptance facts") }
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
    static func write(_ db: Database, acceptanceOf invitation: Invitation, _ request: AcceptanceRequest) throws -> Acceptance {
        try audit(
            db, at: request.at, actor: request.acceptedBy, action: "invitation.accepted", subject: invitation.id,
            detail: ["customer_id": request.customerID], partner: invitation.resellerID, customer: request.customerID)
        let resellerCreated = try establishRelationship(db, partnerID: invitation.resellerID, role: .reseller, request: request)
        var providerCreated = false
        if let providerID = invitation.providerID {
            providerCreated = try establishRelationship(db, partnerID: providerID, role: .provider, request: request)
        }
        if invitation.delegatedAdmin {
            try db.run(
                sql: """
                    INSERT INTO dap_grants (partner_id, customer_id, granted_at, invitation_id) VALUES (?, ?, ?, ?)
                    ON CONFLICT (partner_id, customer_id) DO NOTHING
                    """,
                arguments: [invitation.resellerID, request.customerID, request.at, invitation.id]
            )
            if db.changesCount > 0 {
                try audit(
                    db, at: request.at, actor: request.acceptedBy, action: "dap.granted", subject: request.customerID,
                    detail: ["partner_id": invitation.resellerID, "invitation_id": invitation.id], partner: invitation.resellerID,
                    customer: request.customerID)
            }
        }
        // The CHECK (use_count <= max_uses) turns a bug in the rules into a failed acceptance
        // rather than an extra one.
        try db.run(sql: "UPDATE invitations SET use_count = use_count + 1 WHERE id = ?", arguments: [invitation.id])

        let acceptance = AcceptanceRules.answer(
            to: request, for: invitation, resellerCreated: resellerCreated, providerCreated: providerCreated
        )
        try db.run(
            sql: """
                INSERT INTO acceptances (invitation_id, customer_id, accepted_by, accepted_at, result)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [invitation.id, request.customerID, request.acceptedBy, request.at, StoredJSON.encode(acceptance)]
        )
        return acceptance
    }

    /// Creates the partner's relationship with the customer unless an active one exists;
    /// whether it did.
    static func establishRelationship(
        _ db: Database, partnerID: String, role: RelationshipRole, request: AcceptanceRequest
    ) throws -> Bool {
        let active = try exists(
            db,
            sql: "SELECT 1 FROM relationships WHERE partner_id = ? AND customer_id = ? AND removed_at IS NULL",
            arguments: [partnerID, request.customerID]
        )
        guard !active else { return false }
        try db.run(
            sql: """
                INSERT INTO relationships (partner_id, customer_id, role, invitation_id, created_at)
                VALUES (?, ?, ?, ?, ?)
                """,
            arguments: [partnerID, request.customerID, role.rawValue, request.invitationID, request.at]
        )
        try audit(
            db, at: request.at, actor: request.acceptedBy, action: "relationship.created", subject: request.customerID,
            detail: ["partner_id": partnerID, "role": role.rawValue, "invitation_id": request.invitationID], partner: partnerID,
            customer: request.customerID)
        return true
    }
}
