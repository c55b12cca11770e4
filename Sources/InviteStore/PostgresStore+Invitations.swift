internal import PostgresNIO

/// Issued invitations: recording, listing, revoking.
extension PostgresStore {
    // MARK: Invitations

    /// Records the invitation as issued: unused and unrevoked, whatever `useCount` and
    /// `revokedAt` say. Throws `.invalidInput` for `maxUses` below 1, `.conflict` for an id
    /// already recorded, `.unknownPartner` for a missing provider and `.providerNotConnected`
    /// for a provider the reseller is not connected to.
    public func addInvitation(_ invitation: Invitation, confirmingCredential credentialID: String?) async throws {
        try invitation.requireValidMaxUses()
        var detail = [
            "reseller_id": invitation.resellerID, "dap": String(invitation.delegatedAdmin),
            "kid": invitation.kid, "expires_at": String(invitation.expiresAt),
        ]
        detail["provider_id"] = invitation.providerID
        detail["max_uses"] = invitation.maxUses.map(String.init)
        let issuance = Issuance(invitation: invitation, credentialID: credentialID, auditDetail: StoredJSON.auditDetail(detail))
        let inserted = try await issuances.submit(issuance) { batch in try await self.issue(batch) }
        guard !inserted else { return }
        // Nothing inserted: say why, in the order SQLiteStore checks (the credential first).
        let (credentialLive, taken, providerKind, connected) = try await read { db in
            try await db.rows(
                """
                SELECT \(credentialID)::TEXT IS NULL OR EXISTS (
                           SELECT 1 FROM credentials WHERE id = \(credentialID)::TEXT AND revoked_at IS NULL),
                       EXISTS (SELECT 1 FROM invitations WHERE id = \(invitation.id)),
                       (SELECT kind FROM partners WHERE id = \(invitation.providerID)::TEXT),
                       EXISTS (SELECT 1 FROM provider_connections
                               WHERE reseller_id = \(invitation.resellerID) AND provider_id = \(invitation.providerID)::TEXT
                                 AND disconnected_at IS NULL)
                """)[0].decode((Bool, Bool, String?, Bool).self)
        }
        guard credentialLive else { throw StoreError(.credentialRevoked, "credential \(credentialID ?? "") is revoked") }
        if taken { throw StoreError(.conflict, "invitation \(invitation.id) already exists") }
        let providerID = invitation.providerID ?? ""
        guard providerKind == PartnerKind.provider.rawValue else { throw StoreError(.unknownPartner, "no provider \(providerID)") }
        guard connected else {
            throw StoreError(.providerNotConnected, "reseller \(invitation.resellerID) is not connected to provider \(providerID)")
        }
        // The provider was connected again between the two statements.
        throw StoreError(.unavailable, "invitation \(invitation.id) could not be recorded; try again")
    }

    /// One issuance for ``IssueInvitations``.
    struct Issuance: Sendable {
        let invitation: Invitation, credentialID: String?, auditDetail: String
    }

    /// Records a batch of issuances in one statement (``IssueInvitations``) and says, for each,
    /// whether it was inserted. An id given twice is sent once: its later issuances are not
    /// inserted (and are then refused as taken, as they would be one after the other).
    func issue(_ batch: [Issuance]) async throws -> [Bool] {
        var seen = Set<String>()
        let first = batch.map { seen.insert($0.invitation.id).inserted }
        let sent = zip(batch, first).filter(\.1).map(\.0)
        let inserted = try await autocommit { db in
            var ids = Set<String>()
            for try await id in try await db.execute(IssueInvitations(batch: sent), logger: Self.quiet) { ids.insert(id) }
            return ids
        }
        return zip(batch, first).map { issuance, first in first && inserted.contains(issuance.invitation.id) }
    }

    public func invitation(id: String) async throws -> Invitation? {
        try await read { db in try await Self.invitation(db, id: id) }
    }

    /// One statement, so the invitation and its acceptances come from one snapshot.
    public func invitation(id: String, resellerID: String) async throws -> InvitationRecord? {
        try await read { db in
            try await db.rows(
                """
                SELECT \(unescaped: Self.invitationColumns), \(unescaped: Self.acceptanceResults)
                FROM invitations i WHERE i.id = \(id) AND i.reseller_id = \(resellerID)
                """
            ).first.map(Self.invitationRecord(row:))
        }
    }

    public func invitations(resellerID: String, page: PageRequest) async throws -> Page<InvitationRecord> {
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .invitations) }
        let limit = page.limit
        return try await read { db in
            let rows = try await db.rows(
                """
                SELECT \(unescaped: Self.invitationColumns), \(unescaped: Self.acceptanceResults)
                FROM invitations i
                WHERE i.reseller_id = \(resellerID)
                  AND (\(after == nil) OR (i.issued_at, i.id) < (\(after?.time ?? 0), \(after?.key ?? "")))
                ORDER BY i.issued_at DESC, i.id DESC LIMIT \(Int64(limit + 1))
                """)
            let records = try rows.prefix(limit).map(Self.invitationRecord(row:))
            let next =
                rows.count > limit
                ? records.last.map {
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
            let revoked = try await db.rows(
                """
                UPDATE invitations i SET revoked_at = \(at) WHERE i.id = \(id) RETURNING \(unescaped: Self.invitationColumns)
                """)[0]
            try await Self.audit(db, at: at, actor: actor, action: "invitation.revoked", subject: id, partner: resellerID)
            return try Self.invitation(row: revoked)
        }
    }

    public func acceptances(invitationID: String, resellerID: String, page: PageRequest) async throws -> Page<Acceptance>? {
        let after = try page.cursor.map { try PageCursor.position($0, in: .acceptances) }
        let limit = page.limit
        return try await read { db in
            let owned = try await db.rows(
                "SELECT 1 FROM invitations WHERE id = \(invitationID) AND reseller_id = \(resellerID)")
            guard !owned.isEmpty else { return nil }
            let rows = try await db.rows(
                """
                SELECT seq, accepted_at, result FROM acceptances
                WHERE invitation_id = \(invitationID)
                  AND (\(after == nil) OR (accepted_at, seq) > (\(after?.time ?? 0), \(after?.id ?? 0)))
                ORDER BY accepted_at, seq LIMIT \(Int64(limit + 1))
                """)
            var last: (time: UnixTime, seq: Int64)?
            let items = try rows.prefix(limit).map { row in
                let (seq, acceptedAt, result) = try row.decode((Int64, UnixTime, String).self)
                last = (acceptedAt, seq)
                return try StoredJSON.decodeAcceptance(result)
            }
            var next: String?
            if rows.count > limit, let last {
                next = PageCursor(list: .acceptances, time: last.time, key: String(last.seq)).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }
}
