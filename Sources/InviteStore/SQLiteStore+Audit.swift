internal import Foundation
internal import GRDB

/// The audit log (DESIGN.md §8): entries appended on their own, reading them, and sealing
/// them into signed checkpoints.
extension SQLiteStore {
    /// Inserts `entry` as given, its actor kind included.
    static func insert(_ db: Database, _ entry: AuditEntry) throws {
        try db.run(
            sql: """
                INSERT INTO audit_log (at, actor, actor_kind, action, subject, detail, partner_id, customer_id)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
            arguments: [
                entry.at, entry.actor.id ?? entry.actor.kind, entry.actor.kind, entry.action, entry.subject, entry.detail,
                entry.partnerID, entry.customerID,
            ])
    }

    public func appendAudit(_ entry: AuditEntry) async throws {
        try entry.requireValidDetail()
        try await write { db in try Self.insert(db, entry) }
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        try await readStatement { db in
            try db.rows(sql: "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [max(limit, 0)]).map(Self.auditEntry(row:))
        }
    }

    public func auditEntries(_ query: AuditQuery, page: PageRequest) async throws -> Page<AuditEntry> {
        let after = max(try page.cursor.map { try PageCursor.position($0, in: .audit).id } ?? 0, query.afterSeq ?? 0)
        let limit = page.limit
        return try await readStatement { db in
            var sql = "SELECT * FROM audit_log WHERE id > ?"
            var arguments: StatementArguments = [after]
            if let since = query.since {
                sql += " AND at >= ?"
                arguments += [since]
            }
            if let action = query.action {
                sql += " AND action = ?"
                arguments += [action]
            }
            if let partnerID = query.partnerID {
                sql += " AND partner_id = ?"
                arguments += [partnerID]
            }
            if let customerID = query.customerID {
                sql += " AND customer_id = ?"
                arguments += [customerID]
            }
            if let through = query.throughSeq {
                sql += " AND id <= ?"
                arguments += [through]
            }
            sql += " ORDER BY id LIMIT ?"
            arguments += [limit + 1]
            let rows = try db.rows(sql: sql, arguments: arguments)
            let items = try rows.prefix(limit).map(Self.auditEntry(row:))
            let next = rows.count > limit ? items.last.map { PageCursor(list: .audit, time: 0, key: String($0.seq ?? 0)).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    public func auditCheckpoints() async throws -> [AuditCheckpoint] {
        try await readStatement { db in
            try db.rows(sql: "SELECT * FROM audit_checkpoints ORDER BY last_seq").map(Self.checkpoint(row:))
        }
    }

    public func auditChainLinks(_ range: ClosedRange<Int64>) async throws -> [Int64: [UInt8]] {
        try await readStatement { db in
            var links: [Int64: [UInt8]] = [:]
            for row in try db.rows(
                sql: "SELECT seq, link FROM audit_chain WHERE seq BETWEEN ? AND ?", arguments: [range.lowerBound, range.upperBound])
            {
                let link: Data = row["link"]
                links[row["seq"]] = Array(link)
            }
            return links
        }
    }

    /// SQLite has one writer and never hands out a `seq` below one already committed, so
    /// every entry a snapshot shows after the last checkpoint can be sealed. The entries are
    /// read and hashed outside the writer; the write only records the links and the
    /// checkpoint, and stands down when another sealer (the CLI beside the server) was first.
    public func sealAudit(at: UnixTime, limit: Int, sign: @Sendable (CheckpointDraft) throws -> String) async throws -> AuditCheckpoint? {
        let (base, entries) = try await read { db -> ((last: Int64, head: [UInt8]), [AuditEntry]) in
            let last = try db.row(sql: "SELECT last_seq, head FROM audit_checkpoints ORDER BY last_seq DESC LIMIT 1")
            let base: (last: Int64, head: [UInt8]) =
                if let last { (last["last_seq"], Array(last["head"] as Data)) } else { (0, AuditChain.genesis) }
            let rows = try db.rows(sql: "SELECT * FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", arguments: [base.last, limit])
            return (base, try rows.map(Self.auditEntry(row:)))
        }
        guard let first = entries.first?.seq, let last = entries.last?.seq else { return nil }
        var head = base.head
        var links: [(Int64, [UInt8])] = []
        links.reserveCapacity(entries.count)
        for entry in entries {
            head = try AuditChain.link(after: head, entry)
            links.append((entry.seq ?? 0, head))
        }
        let draft = CheckpointDraft(first: first, last: last, count: Int64(entries.count), previous: base.head, head: head, at: at)
        let token = try sign(draft)
        let sealedLinks = links
        return try await write { db -> AuditCheckpoint? in
            let current = try db.int(sql: "SELECT max(last_seq) FROM audit_checkpoints").map(Int64.init) ?? 0
            guard current == base.last else { return nil }
            for (seq, link) in sealedLinks {
                try db.run(sql: "INSERT INTO audit_chain (seq, link) VALUES (?, ?)", arguments: [seq, Data(link)])
            }
            try db.run(
                sql: """
                    INSERT INTO audit_checkpoints (first_seq, last_seq, entry_count, previous_head, head, at, token)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [draft.first, draft.last, draft.count, Data(draft.previous), Data(draft.head), draft.at, token])
            return AuditCheckpoint(
                id: db.lastInsertedRowID, first: draft.first, last: draft.last, count: draft.count, previous: draft.previous,
                head: draft.head, at: draft.at, token: token)
        }
    }

    static func auditEntry(row: Row) -> AuditEntry {
        AuditEntry(
            seq: row["id"], at: row["at"], actor: AuditSQL.actor(kind: row["actor_kind"], id: row["actor"]), action: row["action"],
            subject: row["subject"], detail: row["detail"], partnerID: row["partner_id"], customerID: row["customer_id"])
    }

    static func checkpoint(row: Row) -> AuditCheckpoint {
        AuditCheckpoint(
            id: row["id"], first: row["first_seq"], last: row["last_seq"], count: row["entry_count"],
            previous: Array(row["previous_head"] as Data), head: Array(row["head"] as Data), at: row["at"], token: row["token"])
    }
}
