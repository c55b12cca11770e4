internal import PostgresNIO

/// A partner's customers.
extension PostgresStore {
    // MARK: Customers of a partner

    func activeCustomers(ofPartner partnerID: String, page: PageRequest) async throws -> Page<PartnerCustomer> {
        let after = try page.cursor.map(PageCursor.customersPosition)
        let limit = page.limit
        return try await read { db in
            let rows = try await db.rows(
                """
                \(unescaped: Self.partnerCustomerColumns)
                WHERE r.partner_id = \(partnerID) AND r.removed_at IS NULL
                  AND (\(after == nil) OR (r.created_at, r.id) > (\(after?.time ?? 0), \(after?.id ?? 0)))
                ORDER BY r.created_at, r.id LIMIT \(Int64(limit + 1))
                """)
            var last: (time: UnixTime, id: Int64)?
            let items = try rows.prefix(limit).map { row in
                let (relationshipID, item) = try Self.partnerCustomer(row: row)
                last = (item.since ?? 0, relationshipID)
                return item
            }
            var next: String?
            if rows.count > limit, let last {
                next = PageCursor(list: .customers, time: last.time, key: String(last.id)).encoded
            }
            return Page(items: items, nextCursor: next)
        }
    }

    public func customer(id: String, ofPartner partnerID: String) async throws -> PartnerCustomer? {
        try await read { db in
            try await db.rows(
                """
                \(unescaped: Self.partnerCustomerColumns)
                WHERE r.partner_id = \(partnerID) AND r.removed_at IS NULL AND c.id = \(id)
                """
            ).first.map { try Self.partnerCustomer(row: $0).item }
        }
    }

    public func displayNames(partnerIDs: Set<String>, customerIDs: Set<String>, userIDs: Set<String>) async throws -> DisplayNames {
        @Sendable func names(_ rows: [PostgresRow]) throws -> [String: String] {
            var names: [String: String] = [:]
            for row in rows {
                let (id, name) = try row.decode((String, String).self)
                names[id] = name
            }
            return names
        }
        let partners = Array(partnerIDs), customers = Array(customerIDs), users = Array(userIDs)
        return try await read { db in
            DisplayNames(
                partners: try names(try await db.rows("SELECT id, name FROM partners WHERE id = ANY(\(partners))")),
                customers: try names(try await db.rows("SELECT id, name FROM customers WHERE id = ANY(\(customers))")),
                users: try names(try await db.rows("SELECT id, email FROM users WHERE id = ANY(\(users))")))
        }
    }

    /// A partner's relationships with their customers and DAP grants, up to the WHERE.
    static let partnerCustomerColumns = """
        SELECT r.id, r.role, r.created_at, d.granted_at, c.id, c.name, c.domain, c.created_at
        FROM relationships r
        JOIN customers c ON c.id = r.customer_id
        LEFT JOIN dap_grants d ON d.partner_id = r.partner_id AND d.customer_id = r.customer_id
        """

    /// A row of ``partnerCustomerColumns``: the relationship's row id and the item.
    static func partnerCustomer(row: PostgresRow) throws -> (relationshipID: Int64, item: PartnerCustomer) {
        let (relationshipID, roleText, since, grantedAt, id, name, domain, createdAt) =
            try row.decode((Int64, String, UnixTime, UnixTime?, String, String, String, UnixTime).self)
        guard let role = RelationshipRole(rawValue: roleText) else { throw Self.corrupt("relationships.role") }
        return (
            relationshipID,
            PartnerCustomer(
                customer: Customer(id: id, name: name, domain: domain, createdAt: createdAt), role: role, since: since,
                delegatedAdminSince: grantedAt)
        )
    }

    public func hasDelegatedAdmin(partnerID: String, customerID: String) async throws -> Bool {
        try await read { db in try await Self.hasDelegatedAdmin(db, partnerID: partnerID, customerID: customerID) }
    }
}
