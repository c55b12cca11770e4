internal import Foundation
internal import GRDB

// MARK: - Rows and JSON

extension SQLiteStore {
    static func corrupt(_ column: String) -> StoreError {
        StoreError(.unavailable, "unexpected value in \(column)")
    }

    static func partner(row: Row) throws -> Partner {
        guard let kind = PartnerKind(rawValue: row["kind"]) else { throw corrupt("partners.kind") }
        return Partner(id: row["id"], name: row["name"], kind: kind, createdAt: row["created_at"])
    }

    static func customer(row: Row) -> Customer {
        Customer(id: row["id"], name: row["name"], domain: row["domain"], createdAt: row["created_at"])
    }

    static func tenant(row: Row) throws -> Tenant {
        if let partnerID: String = row["partner_id"] { return .partner(partnerID) }
        if let customerID: String = row["customer_id"] { return .customer(customerID) }
        throw corrupt("tenant")
    }

    static func user(row: Row) throws -> User {
        guard let role = Role(rawValue: row["role"]) else { throw corrupt("users.role") }
        return User(
            id: row["id"], tenant: try tenant(row: row), email: row["email"], role: role,
            passwordHash: row["password_hash"], mustChangePassword: row["must_change_password"],
            sessionVersion: row["session_version"], createdAt: row["created_at"], disabledAt: row["disabled_at"]
        )
    }

    static func credential(row: Row) throws -> Credential {
        guard let role = Role(rawValue: row["role"]) else { throw corrupt("credentials.role") }
        let hash: Data = row["secret_hash"]
        return Credential(
            id: row["id"], tenant: try tenant(row: row), role: role, secretHash: Array(hash),
            createdAt: row["created_at"], revokedAt: row["revoked_at"]
        )
    }

    static func invitation(row: Row) -> Invitation {
        Invitation(
            id: row["id"], resellerID: row["reseller_id"], providerID: row["provider_id"], delegatedAdmin: row["dap"],
            kid: row["kid"], issuedAt: row["issued_at"], expiresAt: row["expires_at"], maxUses: row["max_uses"],
            issuedBy: row["issued_by"], customerEmail: row["customer_email"], revokedAt: row["revoked_at"],
            useCount: row["use_count"]
        )
    }

}

extension Database {
    // Every statement goes through the connection's statement cache: SQLite's prepare and
    // GRDB's authorizer pass then happen once per SQL text and connection, not on every call,
    // which was most of the writer's time per acceptance.

    func run(sql: String, arguments: StatementArguments = []) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }

    func row(sql: String, arguments: StatementArguments = []) throws -> Row? {
        try Row.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    func rows(sql: String, arguments: StatementArguments = []) throws -> [Row] {
        try Row.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func string(sql: String, arguments: StatementArguments = []) throws -> String? {
        try String.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    func strings(sql: String, arguments: StatementArguments = []) throws -> [String] {
        try String.fetchAll(cachedStatement(sql: sql), arguments: arguments)
    }

    func int(sql: String, arguments: StatementArguments = []) throws -> Int? {
        try Int.fetchOne(cachedStatement(sql: sql), arguments: arguments)
    }

    /// The rows one at a time, each read in place (no copy): for long scans.
    func cursor(sql: String, arguments: StatementArguments = []) throws -> RowCursor {
        try Row.fetchCursor(cachedStatement(sql: sql), arguments: arguments)
    }
}
