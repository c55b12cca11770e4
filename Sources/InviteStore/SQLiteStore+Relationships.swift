internal import Foundation
internal import GRDB

/// A partner's customers.
extension SQLiteStore {
    // MARK: Customers of a partner

    func activeCustomers(ofPartner partnerID: String, page: PageRequest) async throws -> Page<PartnerCustomer> {
        let after = try page.cursor.map(PageCursor.customersPosition)
        let limit = page.limit
        return try await readStatement { db in
            var sql = Self.partnerCustomerQuery
            var arguments: StatementArguments = [partnerID]
            if let after {
                // A row value, which SQLite reads as a range of relationships_by_partner; the
                // same test spelt with OR is not, and a deep page would walk the list from its start.
                sql += " AND (r.created_at, r.id) > (?, ?)"
                arguments += [after.time, after.id]
            }
            sql += " ORDER BY r.created_at, r.id LIMIT ?"
            arguments += [limit + 1]
            let rows = try db.rows(sql: sql, arguments: arguments)
            let items = try rows.prefix(limit).map(Self.partnerCustomer(row:))
            var next: String?
            if rows.count > limit, let last = rows.prefix(limit).last {
                let id: Int64 = last["relationship_id"]
                next = PageCursor(list: .customers, time: last["since"], key: String(id)).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }

    public func customer(id: String, ofPartner partnerID: String) async throws -> PartnerCustomer? {
        try await readStatement { db in
            try db.row(sql: Self.partnerCustomerQuery + " AND c.id = ?", arguments: [partnerID, id]).map(Self.partnerCustomer(row:))
        }
    }

    public func displayNames(partnerIDs: Set<String>, customerIDs: Set<String>, userIDs: Set<String>) async throws -> DisplayNames {
        @Sendable func names(_ db: Database, _ sql: String, _ ids: Set<String>) throws -> [String: String] {
            guard !ids.isEmpty else { return [:] }
            let list = String(decoding: try JSONSerialization.data(withJSONObject: Array(ids)), as: UTF8.self)
            var names: [String: String] = [:]
            for row in try db.rows(sql: sql, arguments: [list]) { names[row[0]] = row[1] }
            return names
        }
        return try await read { db in
            DisplayNames(
                partners: try names(db, "SELECT id, name FROM partners WHERE id IN (SELECT value FROM json_each(?))", partnerIDs),
                customers: try names(db, "SELECT id, name FROM customers WHERE id IN (SELECT value FROM json_each(?))", customerIDs),
                users: try names(db, "SELECT id, email FROM users WHERE id IN (SELECT value FROM json_each(?))", userIDs))
        }
    }

    /// A partner's active relationships with their customers and DAP grants; `?` is the partner.
    static let partnerCustomerQuery = """
        SELECT r.id AS relationship_id, r.role, r.created_at AS since, d.granted_at,
               c.id, c.name, c.domain, c.created_at
        FROM relationships r
        JOIN customers c ON c.id = r.customer_id
        LEFT JOIN dap_grants d ON d.partner_id = r.partner_id AND d.customer_id = r.customer_id
        WHERE r.partner_id = ? AND r.removed_at IS NULL
        """

    static func partnerCustomer(row: Row) throws -> PartnerCustomer {
        guard let role = RelationshipRole(rawValue: row["role"]) else { throw Self.corrupt("relationships.role") }
        return PartnerCustomer(
            customer: Self.customer(row: row), role: role, since: row["since"], delegatedAdminSince: row["granted_at"])
    }

    public func hasDelegatedAdmin(partnerID: String, customerID: String) async throws -> Bool {
        try await readStatement { db in try Self.hasDelegatedAdmin(db, partnerID: partnerID, customerID: customerID) }
    }
}
