internal import Foundation
internal import Logging
internal import PostgresNIO

// MARK: - Rows and JSON

extension PostgresStore {
    static func corrupt(_ column: String) -> StoreError {
        StoreError(.unavailable, "unexpected value in \(column)")
    }

    static func partner(row: PostgresRow) throws -> Partner {
        let (id, name, kindText, createdAt) = try row.decode((String, String, String, UnixTime).self)
        guard let kind = PartnerKind(rawValue: kindText) else { throw corrupt("partners.kind") }
        return Partner(id: id, name: name, kind: kind, createdAt: createdAt)
    }

    static func tenant(partnerID: String?, customerID: String?) throws -> Tenant {
        if let partnerID { return .partner(partnerID) }
        if let customerID { return .customer(customerID) }
        throw corrupt("tenant")
    }

    static func user(row: PostgresRow) throws -> User {
        let (id, partnerID, customerID, email, roleText, passwordHash, mustChange, sessionVersion, createdAt, disabledAt) =
            try row.decode((String, String?, String?, String, String, String, Bool, Int64, UnixTime, UnixTime?).self)
        guard let role = Role(rawValue: roleText) else { throw corrupt("users.role") }
        return User(
            id: id, tenant: try tenant(partnerID: partnerID, customerID: customerID), email: email, role: role,
            passwordHash: passwordHash, mustChangePassword: mustChange, sessionVersion: Int(sessionVersion),
            createdAt: createdAt, disabledAt: disabledAt
        )
    }

    static func credential(
        id: String, partnerID: String?, customerID: String?, role roleText: String, hash: Data, createdAt: UnixTime, revokedAt: UnixTime?
    ) throws -> Credential {
        guard let role = Role(rawValue: roleText) else { throw corrupt("credentials.role") }
        return Credential(
            id: id, tenant: try tenant(partnerID: partnerID, customerID: customerID), role: role,
            secretHash: Array(hash), createdAt: createdAt, revokedAt: revokedAt
        )
    }

    /// Reads the columns of ``invitationColumns``, in that order.
    static func invitation(row: PostgresRow) throws -> Invitation {
        let (id, resellerID, providerID, dap, kid, issuedAt, expiresAt, maxUses, issuedBy, customerEmail, revokedAt, useCount) =
            try row.decode((String, String, String?, Bool, String, UnixTime, UnixTime, Int64?, String, String?, UnixTime?, Int64).self)
        return Invitation(
            id: id, resellerID: resellerID, providerID: providerID, delegatedAdmin: dap, kid: kid, issuedAt: issuedAt,
            expiresAt: expiresAt, maxUses: maxUses.map { Int($0) }, issuedBy: issuedBy, customerEmail: customerEmail,
            revokedAt: revokedAt, useCount: Int(useCount)
        )
    }

    /// Reads ``invitationColumns`` followed by ``acceptanceResults``.
    static func invitationRecord(row: PostgresRow) throws -> InvitationRecord {
        let (id, resellerID, providerID, dap, kid, issuedAt, expiresAt, maxUses, issuedBy, customerEmail, revokedAt, useCount, results) =
            try row.decode(
                (String, String, String?, Bool, String, UnixTime, UnixTime, Int64?, String, String?, UnixTime?, Int64, [String]).self)
        let invitation = Invitation(
            id: id, resellerID: resellerID, providerID: providerID, delegatedAdmin: dap, kid: kid, issuedAt: issuedAt,
            expiresAt: expiresAt, maxUses: maxUses.map { Int($0) }, issuedBy: issuedBy, customerEmail: customerEmail,
            revokedAt: revokedAt, useCount: Int(useCount)
        )
        return InvitationRecord(invitation: invitation, acceptances: try results.map(StoredJSON.decodeAcceptance))
    }

}

extension PostgresConnection {
    /// Runs `query` and returns every row. Rows are always read to the end, so the connection
    /// is ready for the next statement of the transaction.
    func rows(_ query: PostgresQuery) async throws -> [PostgresRow] {
        try await self.query(query, logger: PostgresStore.quiet).collect()
    }

    /// Runs a statement whose rows, if any, do not matter.
    func run(_ query: PostgresQuery) async throws {
        _ = try await rows(query)
    }
}
