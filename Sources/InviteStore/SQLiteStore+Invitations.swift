internal import Foundation
internal import GRDB

/// Issued invitations: recording, listing, revoking.
extension SQLiteStore {
    // MARK: Invitations

    /// Records the invitation as issued: unused and unrevoked, whatever `useCount` and
    /// `revokedAt` say. Throws `.invalidInput` for `maxUses` below 1 and `.conflict` for an id
    /// already recorded.
    public func addInvitation(_ invitation: Invitation, confirmingCredential credentialID: String?) async throws {
        try invitation.requireValidMaxUses()
        try await write { db in
            try Self.confirm(db, credential: credentialID)
            // The reseller need not exist yet (an operator may mint links ahead of time):
            // acceptance checks that the reseller and provider exist, at acceptance time.
            if let providerID = invitation.providerID {
                try Self.requireConnection(db, resellerID: invitation.resellerID, providerID: providerID)
            }
            do {
                try db.run(
                    sql: """
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
            var detail = [
                "reseller_id": invitation.resellerID, "dap": String(invitation.delegatedAdmin),
                "kid": invitation.kid, "expires_at": String(invitation.expiresAt),
            ]
            detail["provider_id"] = invitation.providerID
            detail["max_uses"] = invitation.maxUses.map(String.init)
            try Self.audit(
                db, at: invitation.issuedAt, actor: invitation.issuedBy, action: "invitation.issued",
                subject: invitation.id, detail: detail, partner: invitation.resellerID)
        }
    }

    public func invitation(id: String) async throws -> Invitation? {
        try await readStatement { db in try Self.invitation(db, id: id) }
    }

    public func invitation(id: String, resellerID: String) async throws -> InvitationRecord? {
        try await read { db in
            guard let invitation = try Self.invitation(db, id: id), invitation.resellerID == resellerID else { return nil }
            return InvitationRecord(invitation: invitation, acceptances: try Self.acceptancePreview(db, invitationID: id))
        }
    }

    public func invitations(resellerID: String, page: PageRequest) async throws -> Page<InvitationRecord> {
        let after = try page.cursor.map { try PageCursor(decoding: $0, for: .invitations) }
        let limit = page.limit
        return try await read { db in
            // Each row brings its first acceptances along, read through the index in the same
            // statement (a JSON array of the stored answers): no query per row.
            var sql = """
                SELECT *, (SELECT json_group_array(result) FROM (
                               SELECT result FROM acceptances a WHERE a.invitation_id = invitations.id
                               ORDER BY accepted_at, rowid LIMIT \(InvitationRecord.acceptancePreview))) AS preview
                FROM invitations WHERE reseller_id = ?
                """
            var arguments: StatementArguments = [resellerID]
            if let after {
                // A row value, which SQLite reads as a range of the index; the same test spelt
                // with OR is not, and a deep page would walk the list from its start.
                sql += " AND (issued_at, id) < (?, ?)"
                arguments += [after.time, after.key]
            }
            sql += " ORDER BY issued_at DESC, id DESC LIMIT ?"
            arguments += [limit + 1]
            let rows = try db.rows(sql: sql, arguments: arguments)
            let invitations = rows.prefix(limit).map(Self.invitation(row:))
            let records = try zip(invitations, rows).map { invitation, row in
                InvitationRecord(invitation: invitation, acceptances: try Self.acceptances(jsonArray: row["preview"]))
            }
            let next =
                rows.count > limit
                ? invitations.last.map {
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
            try Self.audit(db, at: at, actor: actor, action: "invitation.revoked", subject: id, partner: resellerID)
            invitation.revokedAt = at
            return invitation
        }
    }

    public func acceptances(invitationID: String, resellerID: String, page: PageRequest) async throws -> Page<Acceptance>? {
        let after = try page.cursor.map { try PageCursor.position($0, in: .acceptances) }
        let limit = page.limit
        return try await read { db in
            guard let invitation = try Self.invitation(db, id: invitationID), invitation.resellerID == resellerID else { return nil }
            var sql = "SELECT rowid, accepted_at, result FROM acceptances WHERE invitation_id = ?"
            var arguments: StatementArguments = [invitationID]
            if let after {
                sql += " AND (accepted_at, rowid) > (?, ?)"
                arguments += [after.time, after.id]
            }
            sql += " ORDER BY accepted_at, rowid LIMIT ?"
            arguments += [limit + 1]
            let rows = try db.rows(sql: sql, arguments: arguments)
            let items = try rows.prefix(limit).map { try StoredJSON.decodeAcceptance($0["result"]) }
            var next: String?
            if rows.count > limit, let last = rows.prefix(limit).last {
                let id: Int64 = last["rowid"]
                next = PageCursor(list: .acceptances, time: last["accepted_at"], key: String(id)).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }

    /// Stored answers from a `json_group_array` of them, oldest first.
    static func acceptances(jsonArray text: String?) throws -> [Acceptance] {
        guard let text, let data = text.data(using: .utf8),
            let results = try JSONSerialization.jsonObject(with: data) as? [String]
        else { throw corrupt("acceptances preview") }
        return try results.map(StoredJSON.decodeAcceptance).sorted { $0.acceptedAt < $1.acceptedAt }
    }
}
