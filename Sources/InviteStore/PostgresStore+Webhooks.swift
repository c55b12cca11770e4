internal import Foundation
internal import PostgresNIO

/// Webhook endpoints and deliveries (DESIGN.md §9) with several instances: the fan-out runs
/// one at a time under an advisory lock and reads only up to the audit horizon (so no entry
/// that commits late is skipped), and claims take due rows with `FOR UPDATE SKIP LOCKED`, so
/// each attempt is made by exactly one instance.
extension PostgresStore {
    static let webhookColumns = "id, partner_id, url, events, secret, previous_secret, previous_secret_until, created_at"
    static let deliveryColumns = """
        id, endpoint_id, event_seq, event_type, status, attempts, next_attempt_ms, last_status, last_error, created_at, updated_at
        """
    /// The transaction-scoped advisory lock of the webhook fan-out, keyed by the schema as
    /// ``sealLock`` is.
    static let fanOutLock = "pg_try_advisory_xact_lock(hashtextextended(current_schema() || ':webhook-fan-out', 0))"

    public func addWebhook(_ endpoint: WebhookEndpoint, actor: String) async throws {
        try await write { db in
            guard try await Self.partner(db, id: endpoint.partnerID) != nil else {
                throw StoreError(.unknownPartner, "no partner \(endpoint.partnerID)")
            }
            let events = WebhookEventType.stored(endpoint.events)
            try await db.run(
                """
                INSERT INTO webhooks (id, partner_id, url, events, secret, created_at)
                VALUES (\(endpoint.id), \(endpoint.partnerID), \(endpoint.url), \(events), \(endpoint.secret), \(endpoint.createdAt))
                """)
            try await Self.audit(
                db, at: endpoint.createdAt, actor: actor, action: "webhook.added", subject: endpoint.id,
                detail: ["url": endpoint.url, "events": events], partner: endpoint.partnerID)
        }
    }

    public func webhooks(partnerID: String) async throws -> [WebhookEndpoint] {
        try await read { db in
            try await db.rows(
                """
                SELECT \(unescaped: Self.webhookColumns) FROM webhooks
                WHERE partner_id = \(partnerID) AND removed_at IS NULL ORDER BY created_at, id
                """
            ).map(Self.webhook(row:))
        }
    }

    public func webhook(id: String, partnerID: String) async throws -> WebhookEndpoint? {
        try await read { db in
            try await db.rows(
                """
                SELECT \(unescaped: Self.webhookColumns) FROM webhooks
                WHERE id = \(id) AND partner_id = \(partnerID) AND removed_at IS NULL
                """
            ).first.map(Self.webhook(row:))
        }
    }

    public func removeWebhook(id: String, partnerID: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            let removed = try await db.rows(
                "UPDATE webhooks SET removed_at = \(at) WHERE id = \(id) AND partner_id = \(partnerID) AND removed_at IS NULL RETURNING id")
            guard !removed.isEmpty else { throw StoreError(.notFound, "no webhook \(id)") }
            try await db.run(
                """
                UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint removed', updated_at = \(at)
                WHERE endpoint_id = \(id) AND status = 'pending'
                """)
            try await Self.audit(db, at: at, actor: actor, action: "webhook.removed", subject: id, partner: partnerID)
        }
    }

    public func rotateWebhookSecret(
        id: String, partnerID: String, newSecret: String, keepPreviousUntil: UnixTime, at: UnixTime, actor: String
    ) async throws -> WebhookEndpoint {
        try await write { db in
            let rows = try await db.rows(
                """
                UPDATE webhooks SET previous_secret = secret, previous_secret_until = \(keepPreviousUntil), secret = \(newSecret)
                WHERE id = \(id) AND partner_id = \(partnerID) AND removed_at IS NULL
                RETURNING \(unescaped: Self.webhookColumns)
                """)
            guard let row = rows.first else { throw StoreError(.notFound, "no webhook \(id)") }
            try await Self.audit(
                db, at: at, actor: actor, action: "webhook.secret_rotated", subject: id,
                detail: ["previous_secret_until": String(keepPreviousUntil)], partner: partnerID)
            return try Self.webhook(row: row)
        }
    }

    public func webhookDeliveries(endpointID: String, partnerID: String, page: PageRequest) async throws -> Page<WebhookDelivery>? {
        let before = try page.cursor.map { try PageCursor.position($0, in: .deliveries).id } ?? Int64.max
        let limit = page.limit
        return try await read { db in
            guard
                try await db.rows(
                    "SELECT EXISTS (SELECT 1 FROM webhooks WHERE id = \(endpointID) AND partner_id = \(partnerID))"
                )[0].decode(Bool.self)
            else { return nil }
            let rows = try await db.rows(
                """
                SELECT \(unescaped: Self.deliveryColumns) FROM webhook_deliveries
                WHERE endpoint_id = \(endpointID) AND id < \(before) ORDER BY id DESC LIMIT \(Int64(limit + 1))
                """)
            let items = try rows.prefix(limit).map(Self.delivery(row:))
            let next = rows.count > limit ? items.last.map { PageCursor(list: .deliveries, time: 0, key: String($0.id)).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    public func fanOutWebhookEvents(at: UnixTime, limit: Int) async throws -> WebhookFanOut {
        guard let horizon = try await auditHorizon(waitingUpTo: Self.fanOutHorizonWait) else { return .caughtUp }
        return try await write { db in
            // Another instance fanning out: it moves the cursor; this one has nothing to do now.
            guard try await db.rows("SELECT \(unescaped: Self.fanOutLock)")[0].decode(Bool.self) else { return .caughtUp }
            let last = try await db.rows("SELECT last_seq FROM webhook_fanout WHERE id = 1")[0].decode(Int64.self)
            let upTo = min(horizon, last + Int64(limit))
            guard upTo > last else { return .caughtUp }
            let made = try await db.rows(
                """
                WITH made AS (
                    INSERT INTO webhook_deliveries (endpoint_id, event_seq, event_type, status, attempts, next_attempt_ms,
                                                    created_at, updated_at)
                    SELECT w.id, a.id, e.type, 'pending', 0, \(at * 1000), \(at), \(at)
                    FROM audit_log a
                    JOIN (\(unescaped: WebhookSQL.eventTypes)) e ON e.action = a.action
                    JOIN webhooks w ON w.partner_id = a.partner_id AND w.removed_at IS NULL AND w.created_at <= a.at
                                   AND (',' || w.events || ',') LIKE ('%,' || e.type || ',%')
                    WHERE a.id > \(last) AND a.id <= \(upTo)
                    ON CONFLICT (endpoint_id, event_seq) DO NOTHING
                    RETURNING 1
                ) SELECT count(*) FROM made
                """)[0].decode(Int64.self)
            try await db.run("UPDATE webhook_fanout SET last_seq = \(upTo) WHERE id = 1")
            // Seqs a rollback took count as passed: the cursor moved over them all the same.
            return WebhookFanOut(entries: Int(upTo - last), deliveries: Int(made))
        }
    }

    public func claimWebhookDeliveries(
        nowMilliseconds now: Int64, limit: Int, perEndpoint: Int, excluding: Set<String>, leaseMilliseconds lease: Int64
    ) async throws -> [WebhookJob] {
        let excluded = Array(excluding)
        return try await write { db in
            // Candidates are picked without locks, at most `perEndpoint` per endpoint, each
            // endpoint's from the front of its range of the `webhook_deliveries_due` index (a
            // backlog behind them is never scanned); their rows are then locked, skipping those
            // another instance holds, and checked again on their newest version.
            let claimed = try await db.rows(
                """
                WITH due AS (
                    SELECT id FROM webhook_deliveries
                    WHERE id IN (
                        SELECT candidate.id FROM webhooks w, LATERAL (
                            SELECT id FROM webhook_deliveries
                            WHERE endpoint_id = w.id AND status = 'pending' AND next_attempt_ms <= \(now)
                              AND (claimed_until_ms IS NULL OR claimed_until_ms <= \(now))
                            ORDER BY next_attempt_ms, id LIMIT \(Int64(perEndpoint))
                        ) candidate
                        WHERE w.removed_at IS NULL AND NOT (w.id = ANY(\(excluded))))
                      AND status = 'pending' AND (claimed_until_ms IS NULL OR claimed_until_ms <= \(now))
                    ORDER BY next_attempt_ms, id LIMIT \(Int64(limit))
                    FOR UPDATE SKIP LOCKED
                )
                UPDATE webhook_deliveries d SET claimed_until_ms = \(now + lease), attempts = d.attempts + 1, updated_at = \(now / 1000)
                FROM due WHERE d.id = due.id
                RETURNING d.id, d.endpoint_id, d.event_seq, d.event_type, d.status, d.attempts, d.next_attempt_ms, d.last_status,
                          d.last_error, d.created_at, d.updated_at
                """
            ).map(Self.delivery(row:))
            guard !claimed.isEmpty else { return [] }
            let endpointIDs = Array(Set(claimed.map(\.endpointID))), seqs = claimed.map(\.eventSeq)
            var endpoints: [String: WebhookEndpoint] = [:]
            for row in try await db.rows("SELECT \(unescaped: Self.webhookColumns) FROM webhooks WHERE id = ANY(\(endpointIDs))") {
                let endpoint = try Self.webhook(row: row)
                endpoints[endpoint.id] = endpoint
            }
            var events: [Int64: AuditEntry] = [:]
            for row in try await db.rows("SELECT \(unescaped: AuditSQL.columns) FROM audit_log WHERE id = ANY(\(seqs))") {
                let entry = try Self.auditEntry(row: row)
                events[entry.seq ?? 0] = entry
            }
            return try claimed.map { delivery in
                guard let endpoint = endpoints[delivery.endpointID], let event = events[delivery.eventSeq] else {
                    throw Self.corrupt("webhook_deliveries")
                }
                return WebhookJob(delivery: delivery, endpoint: endpoint, event: event)
            }
        }
    }

    public func recordWebhookAttempt(deliveryID: Int64, outcome: WebhookAttemptOutcome, at: UnixTime) async throws {
        let (status, code, error, next) = WebhookSQL.columns(of: outcome)
        try await write { db in
            if outcome == .released {
                try await db.run("UPDATE webhook_deliveries SET claimed_until_ms = NULL, attempts = attempts - 1 WHERE id = \(deliveryID)")
                return
            }
            try await db.run(
                """
                UPDATE webhook_deliveries SET status = \(status), last_status = \(code), last_error = \(error),
                                              next_attempt_ms = \(next), claimed_until_ms = NULL, updated_at = \(at)
                WHERE id = \(deliveryID)
                """)
        }
    }

    public func oldestPendingWebhookDelivery() async throws -> UnixTime? {
        try await read { db in
            // The lowest pending id is the oldest (ids grow with time): the front of an index.
            try await db.rows("SELECT created_at FROM webhook_deliveries WHERE status = 'pending' ORDER BY id LIMIT 1").first?
                .decode(UnixTime.self)
        }
    }

    static func webhook(row: PostgresRow) throws -> WebhookEndpoint {
        let (id, partnerID, url, events, secret, previous, previousUntil, createdAt) =
            try row.decode((String, String, String, String, String, String?, UnixTime?, UnixTime).self)
        return WebhookEndpoint(
            id: id, partnerID: partnerID, url: url, events: WebhookEventType.parse(stored: events), secret: secret,
            previousSecret: previous, previousSecretUntil: previousUntil, createdAt: createdAt)
    }

    static func delivery(row: PostgresRow) throws -> WebhookDelivery {
        let (id, endpointID, seq, typeText, statusText, attempts, next, lastStatus, lastError, createdAt, updatedAt) =
            try row.decode((Int64, String, Int64, String, String, Int64, UnixTime?, Int64?, String?, UnixTime, UnixTime).self)
        guard let type = WebhookEventType(rawValue: typeText), let status = WebhookDelivery.Status(rawValue: statusText) else {
            throw corrupt("webhook_deliveries")
        }
        return WebhookDelivery(
            id: id, endpointID: endpointID, eventSeq: seq, eventType: type, status: status, attempts: Int(attempts),
            nextAttemptMilliseconds: next, lastStatusCode: lastStatus.map(Int.init), lastError: lastError, createdAt: createdAt,
            updatedAt: updatedAt)
    }
}
