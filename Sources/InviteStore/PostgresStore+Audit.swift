internal import Foundation
internal import PostgresNIO

/// The audit log (DESIGN.md §8) as ``SQLiteStore`` keeps it, and the one thing PostgreSQL
/// makes harder: with many writers, an entry can commit after one with a higher `seq`.
extension PostgresStore {
    /// The transaction-scoped advisory lock a seal takes, so one instance at a time writes a
    /// checkpoint; keyed by the schema, so installations sharing a database do not wait on
    /// each other.
    static let sealLock = "pg_try_advisory_xact_lock(hashtextextended(current_schema() || ':audit-seal', 0))"

    /// Inserts `entry` as given, its actor kind included.
    static func insert(_ db: PostgresConnection, _ entry: AuditEntry) async throws {
        try await db.run(
            """
            INSERT INTO audit_log (at, actor, actor_kind, action, subject, detail, partner_id, customer_id)
            VALUES (\(entry.at), \(entry.actor.id ?? entry.actor.kind), \(entry.actor.kind), \(entry.action), \(entry.subject),
                    \(entry.detail), \(entry.partnerID), \(entry.customerID))
            """)
    }

    public func appendAudit(_ entry: AuditEntry) async throws {
        try entry.requireValidDetail()
        try await write { db in try await Self.insert(db, entry) }
    }

    public func auditLog(limit: Int) async throws -> [AuditEntry] {
        try await read { db in
            try await db.rows("SELECT \(unescaped: AuditSQL.columns) FROM audit_log ORDER BY id DESC LIMIT \(Int64(max(limit, 0)))")
                .map(Self.auditEntry(row:))
        }
    }

    public func auditEntries(_ query: AuditQuery, page: PageRequest) async throws -> Page<AuditEntry> {
        let cursor = max(try page.cursor.map { try PageCursor.position($0, in: .audit).id } ?? 0, query.afterSeq ?? 0)
        let limit = page.limit
        return try await read { db in
            var after = cursor
            if let since = query.since {
                var binds = PostgresBindings(capacity: 1)
                binds.append(since)
                let sql = "SELECT \(AuditSQL.sealedBefore("$1::BIGINT"))::BIGINT"
                after = max(after, try await db.rows(PostgresQuery(unsafeSQL: sql, binds: binds))[0].decode(Int64.self))
            }
            let rows = try await db.rows(
                """
                SELECT \(unescaped: AuditSQL.columns) FROM audit_log
                WHERE id > \(after)
                  AND (\(query.since)::BIGINT IS NULL OR at >= \(query.since)::BIGINT)
                  AND (\(query.action)::TEXT IS NULL OR action = \(query.action)::TEXT)
                  AND (\(query.partnerID)::TEXT IS NULL OR partner_id = \(query.partnerID)::TEXT)
                  AND (\(query.customerID)::TEXT IS NULL OR customer_id = \(query.customerID)::TEXT)
                  AND (\(query.throughSeq)::BIGINT IS NULL OR id <= \(query.throughSeq)::BIGINT)
                ORDER BY id LIMIT \(Int64(limit + 1))
                """)
            let items = try rows.prefix(limit).map(Self.auditEntry(row:))
            let next = rows.count > limit ? items.last.map { PageCursor(list: .audit, time: 0, key: String($0.seq ?? 0)).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    public func auditCheckpoints() async throws -> [AuditCheckpoint] {
        try await read { db in
            try await db.rows(
                "SELECT id, first_seq, last_seq, entry_count, previous_head, head, at, token FROM audit_checkpoints ORDER BY last_seq"
            ).map { row in
                let (id, first, last, count, previous, head, at, token) =
                    try row.decode((Int64, Int64, Int64, Int64, Data, Data, UnixTime, String).self)
                return AuditCheckpoint(
                    id: id, first: first, last: last, count: count, previous: Array(previous), head: Array(head), at: at, token: token)
            }
        }
    }

    public func auditChainLinks(_ range: ClosedRange<Int64>) async throws -> [Int64: [UInt8]] {
        try await read { db in
            var links: [Int64: [UInt8]] = [:]
            for row in try await db.rows(
                "SELECT seq, link FROM audit_chain WHERE seq BETWEEN \(range.lowerBound) AND \(range.upperBound)")
            {
                let (seq, link) = try row.decode((Int64, Data).self)
                links[seq] = Array(link)
            }
            return links
        }
    }

    /// How long a seal waits for the transactions that might still commit an entry below its
    /// horizon. They are a few milliseconds long, but the wait covers every transaction of the
    /// cluster (a report, a backup, a loaded machine): a seal has a minute or two, so it waits
    /// long; the webhook fan-out, which runs every half second, waits little and tries again.
    static let sealHorizonWait: Duration = .seconds(30)
    static let fanOutHorizonWait: Duration = .seconds(2)

    /// The highest `seq` below which every entry is final (committed, or never to be), after
    /// waiting without locks for the transactions that might still commit one; nil when no
    /// entry was ever written or a transaction stays open past `wait`.
    ///
    /// Entries take their `seq` from a sequence, in a trigger that first gives the transaction
    /// its id, and commit in any order: a `seq` can become visible after a higher one, or never
    /// (a rollback). So this notes the last `seq` handed out and the first transaction id not
    /// yet assigned, then waits until every transaction below that id has ended (the snapshot's
    /// `xmin` passes it). Every transaction that took a `seq` up to the noted one had its id by
    /// then, so from then on each such `seq` is committed or never will be. Sealing and the
    /// webhook fan-out both read up to it.
    func auditHorizon(waitingUpTo wait: Duration) async throws -> Int64? {
        let (issued, horizonXID) = try await read { db in
            try await db.rows(
                "SELECT pg_sequence_last_value('audit_log_seq'), pg_snapshot_xmax(pg_current_snapshot())::TEXT"
            )[0].decode((Int64?, String).self)
        }
        guard let issued else { return nil }
        let deadline = ContinuousClock.now + wait
        while true {
            let passed = try await read { db in
                try await db.rows("SELECT pg_snapshot_xmin(pg_current_snapshot()) >= \(horizonXID)::xid8")[0].decode(Bool.self)
            }
            if passed { return issued }
            guard ContinuousClock.now < deadline else { return nil }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Seals without ever skipping an entry, and without holding anything an acceptance waits
    /// for.
    ///
    /// It reads up to ``auditHorizon()``, where every entry is final. The entries are read,
    /// hashed and signed outside any transaction; the write takes a transaction-scoped advisory lock
    /// (one sealer at a time across instances; a second stands down), checks that no other
    /// checkpoint was written meanwhile, and inserts the links and the checkpoint.
    public func sealAudit(at: UnixTime, limit: Int, sign: @Sendable (CheckpointDraft) throws -> String) async throws -> AuditCheckpoint? {
        guard let issued = try await auditHorizon(waitingUpTo: Self.sealHorizonWait) else { return nil }
        let (base, entries) = try await read { db -> ((last: Int64, head: [UInt8]), [AuditEntry]) in
            let last = try await db.rows("SELECT last_seq, head FROM audit_checkpoints ORDER BY last_seq DESC LIMIT 1").first
            let base: (last: Int64, head: [UInt8])
            if let last {
                let (seq, head) = try last.decode((Int64, Data).self)
                base = (seq, Array(head))
            } else {
                base = (0, AuditChain.genesis)
            }
            let rows = try await db.rows(
                """
                SELECT \(unescaped: AuditSQL.columns) FROM audit_log WHERE id > \(base.last) AND id <= \(issued)
                ORDER BY id LIMIT \(Int64(limit))
                """)
            return (base, try rows.map(Self.auditEntry(row:)))
        }
        guard let first = entries.first?.seq, let last = entries.last?.seq else { return nil }
        var linker = AuditChain.Linker(after: base.head)
        // The links go as hex text: postgres-nio binds arrays of text, not of bytes.
        var seqs: [Int64] = [], links: [String] = []
        for entry in entries {
            let link = try linker.append(entry)
            seqs.append(entry.seq ?? 0)
            links.append(Self.hex(link))
        }
        let draft = CheckpointDraft(
            first: first, last: last, count: Int64(entries.count), previous: base.head, head: linker.head, at: at)
        let token = try sign(draft)
        let (sealedSeqs, sealedLinks) = (seqs, links)
        return try await write { db -> AuditCheckpoint? in
            guard try await db.rows("SELECT \(unescaped: Self.sealLock)")[0].decode(Bool.self) else { return nil }
            let current = try await db.rows("SELECT COALESCE(max(last_seq), 0) FROM audit_checkpoints")[0].decode(Int64.self)
            guard current == base.last else { return nil }
            try await db.run(
                """
                INSERT INTO audit_chain (seq, link)
                SELECT seq, decode(link, 'hex') FROM unnest(\(sealedSeqs)::BIGINT[], \(sealedLinks)::TEXT[]) AS l(seq, link)
                """)
            let id = try await db.rows(
                """
                INSERT INTO audit_checkpoints (first_seq, last_seq, entry_count, previous_head, head, at, token)
                VALUES (\(draft.first), \(draft.last), \(draft.count), \(Data(draft.previous)), \(Data(draft.head)), \(draft.at), \(token))
                RETURNING id
                """)[0].decode(Int64.self)
            return AuditCheckpoint(
                id: id, first: draft.first, last: draft.last, count: draft.count, previous: draft.previous, head: draft.head,
                at: draft.at, token: token)
        }
    }

    public func pruneAudit(until: UnixTime, at: UnixTime, actor: String) async throws -> Int64 {
        try await write { db in
            guard
                let through = try await db.rows("SELECT max(last_seq) FROM audit_checkpoints WHERE at <= \(until)")[0].decode(Int64?.self)
            else { return 0 }
            try await db.run("UPDATE audit_pruned SET through_seq = greatest(through_seq, \(through)) WHERE id = 1")
            try await db.run("DELETE FROM audit_log WHERE id <= \(through)")
            try await db.run("DELETE FROM audit_chain WHERE seq <= \(through)")
            try await db.run("DELETE FROM audit_checkpoints WHERE last_seq <= \(through)")
            try await Self.audit(db, at: at, actor: actor, action: "audit.pruned", subject: String(through))
            return through
        }
    }

    public func auditPrunedThrough() async throws -> Int64 {
        try await read { db in try await db.rows("SELECT through_seq FROM audit_pruned WHERE id = 1")[0].decode(Int64.self) }
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        return String(unsafeUninitializedCapacity: bytes.count * 2) { out in
            for (index, byte) in bytes.enumerated() {
                out[2 * index] = digits[Int(byte >> 4)]
                out[2 * index + 1] = digits[Int(byte & 0x0f)]
            }
            return bytes.count * 2
        }
    }

    static func auditEntry(row: PostgresRow) throws -> AuditEntry {
        let (seq, at, actor, kind, action, subject, detail, partnerID, customerID) =
            try row.decode((Int64, UnixTime, String, String, String, String, String, String?, String?).self)
        return AuditEntry(
            seq: seq, at: at, actor: AuditSQL.actor(kind: kind, id: actor), action: action, subject: subject, detail: detail,
            partnerID: partnerID, customerID: customerID)
    }
}
