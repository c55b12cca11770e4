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
            try db.rows(sql: "SELECT \(AuditSQL.columns) FROM audit_log ORDER BY id DESC LIMIT ?", arguments: [max(limit, 0)]).map(
                Self.auditEntry(row:))
        }
    }

    public func auditEntries(_ query: AuditQuery, page: PageRequest) async throws -> Page<AuditEntry> {
        let after = max(try page.cursor.map { try PageCursor.position($0, in: .audit).id } ?? 0, query.afterSeq ?? 0)
        let limit = page.limit
        return try await readStatement { db in
            var sql = "SELECT \(AuditSQL.columns) FROM audit_log WHERE id > ?"
            var arguments: StatementArguments = [after]
            if let since = query.since {
                // The start is worked out once, before the scan (an uncorrelated subquery), and
                // bounds the primary-key range.
                sql = "SELECT \(AuditSQL.columns) FROM audit_log WHERE id > max(?, \(AuditSQL.sealedBefore("?"))) AND at >= ?"
                arguments += [since, since]
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
            // Blocks do not overlap, so those touching the range end at the first block that
            // reaches past it: one range of the primary key, however many blocks follow.
            let blocks = try db.cursor(
                sql: """
                    SELECT links FROM audit_chain_blocks
                    WHERE last_seq >= ?1
                      AND last_seq <= COALESCE((SELECT min(last_seq) FROM audit_chain_blocks WHERE last_seq >= ?2), ?2)
                    """,
                arguments: [range.lowerBound, range.upperBound])
            while let block = try blocks.next() {
                AuditChainBlock.decode(block[0], in: range, into: &links)
            }
            // Links sealed before blocks existed (schema v7), one row each.
            let rows = try db.cursor(
                sql: "SELECT seq, link FROM audit_chain WHERE seq BETWEEN ? AND ?", arguments: [range.lowerBound, range.upperBound])
            while let row = try rows.next() {
                let link: Data = row[1]
                links[row[0]] = Array(link)
            }
            return links
        }
    }

    /// SQLite has one writer and never hands out a `seq` below one already committed, so
    /// every entry a snapshot shows after the last checkpoint can be sealed. The entries are
    /// read and linked by a reader, a row at a time; the write records the links as one block
    /// and the checkpoint, and stands down when another sealer (the CLI beside the server)
    /// was first.
    public func sealAudit(at: UnixTime, limit: Int, sign: @Sendable (CheckpointDraft) throws -> String) async throws -> AuditCheckpoint? {
        let (base, sealed) = try await read { db -> ((last: Int64, head: [UInt8]), [(seq: Int64, link: [UInt8])]) in
            let last = try db.row(sql: "SELECT last_seq, head FROM audit_checkpoints ORDER BY last_seq DESC LIMIT 1")
            let base: (last: Int64, head: [UInt8]) =
                if let last { (last["last_seq"], Array(last["head"] as Data)) } else { (0, AuditChain.genesis) }
            var linker = AuditChain.Linker(after: base.head)
            var links: [(seq: Int64, link: [UInt8])] = []
            links.reserveCapacity(limit)
            let rows = try db.cursor(
                sql: "SELECT \(AuditSQL.columns) FROM audit_log WHERE id > ? ORDER BY id LIMIT ?", arguments: [base.last, limit])
            while let row = try rows.next() {
                let entry = Self.auditEntry(row: row)
                links.append((entry.seq ?? 0, try linker.append(entry)))
            }
            return (base, links)
        }
        guard let first = sealed.first?.seq, let last = sealed.last else { return nil }
        let draft = CheckpointDraft(
            first: first, last: last.seq, count: Int64(sealed.count), previous: base.head, head: last.link, at: at)
        let token = try sign(draft)
        let block = AuditChainBlock.encode(sealed)
        return try await write { db -> AuditCheckpoint? in
            let current = try db.int(sql: "SELECT max(last_seq) FROM audit_checkpoints").map(Int64.init) ?? 0
            guard current == base.last else { return nil }
            try db.run(
                sql: "INSERT INTO audit_chain_blocks (last_seq, first_seq, links) VALUES (?, ?, ?)",
                arguments: [draft.last, draft.first, block])
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

    public func pruneAudit(until: UnixTime, at: UnixTime, actor: String) async throws -> Int64 {
        try await write { db in
            guard let through = try db.int(sql: "SELECT max(last_seq) FROM audit_checkpoints WHERE at <= ?", arguments: [until]) else {
                return 0
            }
            try db.run(sql: "UPDATE audit_pruned SET through_seq = max(through_seq, ?) WHERE id = 1", arguments: [through])
            try db.run(sql: "DELETE FROM audit_log WHERE id <= ?", arguments: [through])
            try db.run(sql: "DELETE FROM audit_chain WHERE seq <= ?", arguments: [through])
            try db.run(sql: "DELETE FROM audit_chain_blocks WHERE last_seq <= ?", arguments: [through])
            try db.run(sql: "DELETE FROM audit_checkpoints WHERE last_seq <= ?", arguments: [through])
            try Self.audit(db, at: at, actor: actor, action: "audit.pruned", subject: String(through))
            return Int64(through)
        }
    }

    public func auditPrunedThrough() async throws -> Int64 {
        try await readStatement { db in Int64(try db.int(sql: "SELECT through_seq FROM audit_pruned WHERE id = 1") ?? 0) }
    }

    static func auditEntry(row: Row) -> AuditEntry {
        AuditEntry(
            seq: row[0], at: row[1], actor: AuditSQL.actor(kind: row[3], id: row[2]), action: row[4], subject: row[5],
            detail: row[6], partnerID: row[7], customerID: row[8])
    }

    static func checkpoint(row: Row) -> AuditCheckpoint {
        AuditCheckpoint(
            id: row["id"], first: row["first_seq"], last: row["last_seq"], count: row["entry_count"],
            previous: Array(row["previous_head"] as Data), head: Array(row["head"] as Data), at: row["at"], token: row["token"])
    }
}
