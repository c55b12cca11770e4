internal import Foundation
internal import GRDB

/// Webhook endpoints and deliveries (DESIGN.md §9). SQLite has one writer, so a fan-out sees
/// every entry below the last committed one and claims need no row locks.
extension SQLiteStore {
    public func addWebhook(_ endpoint: WebhookEndpoint, actor: String) async throws {
        try await write { db in
            guard try Self.partner(db, id: endpoint.partnerID) != nil else {
                throw StoreError(.unknownPartner, "no partner \(endpoint.partnerID)")
            }
            try db.run(
                sql: "INSERT INTO webhooks (id, partner_id, url, events, secret, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                arguments: [
                    endpoint.id, endpoint.partnerID, endpoint.url, WebhookEventType.stored(endpoint.events), endpoint.secret,
                    endpoint.createdAt,
                ])
            try Self.audit(
                db, at: endpoint.createdAt, actor: actor, action: "webhook.added", subject: endpoint.id,
                detail: ["url": endpoint.url, "events": WebhookEventType.stored(endpoint.events)], partner: endpoint.partnerID)
        }
    }

    public func webhooks(partnerID: String) async throws -> [WebhookEndpoint] {
        try await readStatement { db in
            try db.rows(
                sql: "SELECT * FROM webhooks WHERE partner_id = ? AND removed_at IS NULL ORDER BY created_at, id", arguments: [partnerID]
            ).map(Self.webhook(row:))
        }
    }

    public func webhook(id: String, partnerID: String) async throws -> WebhookEndpoint? {
        try await readStatement { db in
            try db.row(sql: "SELECT * FROM webhooks WHERE id = ? AND partner_id = ? AND removed_at IS NULL", arguments: [id, partnerID])
                .map(Self.webhook(row:))
        }
    }

    public func removeWebhook(id: String, partnerID: String, at: UnixTime, actor: String) async throws {
        try await write { db in
            try db.run(
                sql: "UPDATE webhooks SET removed_at = ? WHERE id = ? AND partner_id = ? AND removed_at IS NULL",
                arguments: [at, id, partnerID])
            guard db.changesCount > 0 else { throw StoreError(.notFound, "no webhook \(id)") }
            // Nothing more is sent to it.
            try db.run(
                sql:
                    "UPDATE webhook_deliveries SET status = 'failed', last_error = 'endpoint removed', updated_at = ? WHERE endpoint_id = ? AND status = 'pending'",
                arguments: [at, id])
            try Self.audit(db, at: at, actor: actor, action: "webhook.removed", subject: id, partner: partnerID)
        }
    }

    public func rotateWebhookSecret(
        id: String, partnerID: String, newSecret: String, keepPreviousUntil: UnixTime, at: UnixTime, actor: String
    ) async throws -> WebhookEndpoint {
        try await write { db in
            try db.run(
                sql: """
                    UPDATE webhooks SET previous_secret = secret, previous_secret_until = ?, secret = ?
                    WHERE id = ? AND partner_id = ? AND removed_at IS NULL
                    """,
                arguments: [keepPreviousUntil, newSecret, id, partnerID])
            guard db.changesCount > 0, let row = try db.row(sql: "SELECT * FROM webhooks WHERE id = ?", arguments: [id]) else {
                throw StoreError(.notFound, "no webhook \(id)")
            }
            try Self.audit(
                db, at: at, actor: actor, action: "webhook.secret_rotated", subject: id,
                detail: ["previous_secret_until": String(keepPreviousUntil)], partner: partnerID)
            return Self.webhook(row: row)
        }
    }

    public func webhookDeliveries(endpointID: String, partnerID: String, page: PageRequest) async throws -> Page<WebhookDelivery>? {
        let before = try page.cursor.map { try PageCursor.position($0, in: .deliveries).id } ?? Int64.max
        let limit = page.limit
        return try await read { db in
            guard try Self.exists(db, sql: "SELECT 1 FROM webhooks WHERE id = ? AND partner_id = ?", arguments: [endpointID, partnerID])
            else { return nil }
            let rows = try db.rows(
                sql: "SELECT * FROM webhook_deliveries WHERE endpoint_id = ? AND id < ? ORDER BY id DESC LIMIT ?",
                arguments: [endpointID, before, limit + 1])
            let items = try rows.prefix(limit).map(Self.delivery(row:))
            let next = rows.count > limit ? items.last.map { PageCursor(list: .deliveries, time: 0, key: String($0.id)).encoded } : nil
            return Page(items: items, nextCursor: next)
        }
    }

    public func fanOutWebhookEvents(at: UnixTime, limit: Int) async throws -> WebhookFanOut {
        try await write { db in
            let last = try db.int(sql: "SELECT last_seq FROM webhook_fanout WHERE id = 1").map(Int64.init) ?? 0
            let range = try db.row(
                sql: "SELECT max(id), count(*) FROM (SELECT id FROM audit_log WHERE id > ? ORDER BY id LIMIT ?)", arguments: [last, limit])
            guard let range, let upTo: Int64 = range[0] else { return .caughtUp }
            try db.run(sql: Self.fanOutSQL, arguments: [last, upTo, at])
            let made = db.changesCount
            try db.run(sql: "UPDATE webhook_fanout SET last_seq = ? WHERE id = 1", arguments: [upTo])
            return WebhookFanOut(entries: range[1], deliveries: made)
        }
    }

    /// `?1` after seq, `?2` through seq, `?3` now: a pending delivery for every webhook event
    /// entry in the range and every endpoint of its partner that asked for the type and was
    /// registered by the time of the entry.
    static let fanOutSQL = """
        INSERT INTO webhook_deliveries (endpoint_id, event_seq, event_type, status, attempts, next_attempt_ms, created_at, updated_at)
        SELECT w.id, a.id, e.type, 'pending', 0, ?3 * 1000, ?3, ?3
        FROM audit_log a
        JOIN (\(WebhookSQL.eventTypes)) e ON e.action = a.action
        JOIN webhooks w ON w.partner_id = a.partner_id AND w.removed_at IS NULL AND w.created_at <= a.at
                       AND (',' || w.events || ',') LIKE ('%,' || e.type || ',%')
        WHERE a.id > ?1 AND a.id <= ?2
        ON CONFLICT (endpoint_id, event_seq) DO NOTHING
        """

    public func claimWebhookDeliveries(
        nowMilliseconds: Int64, limit: Int, perEndpoint: Int, excluding: Set<String>, leaseMilliseconds: Int64
    ) async throws -> [WebhookJob] {
        let excluded = String(decoding: try JSONSerialization.data(withJSONObject: Array(excluding)), as: UTF8.self)
        return try await write { db in
            let rows = try db.rows(
                sql: """
                    UPDATE webhook_deliveries SET claimed_until_ms = ?1 + ?3, attempts = attempts + 1, updated_at = ?1 / 1000
                    WHERE id IN (\(WebhookSQL.due))
                    RETURNING *
                    """,
                arguments: [nowMilliseconds, limit, leaseMilliseconds, perEndpoint, excluded])
            return try rows.map { row in
                let delivery = try Self.delivery(row: row)
                guard let endpoint = try db.row(sql: "SELECT * FROM webhooks WHERE id = ?", arguments: [delivery.endpointID]),
                    let entry = try db.row(sql: "SELECT \(AuditSQL.columns) FROM audit_log WHERE id = ?", arguments: [delivery.eventSeq])
                else { throw Self.corrupt("webhook_deliveries") }
                return WebhookJob(delivery: delivery, endpoint: Self.webhook(row: endpoint), event: Self.auditEntry(row: entry))
            }
        }
    }

    public func recordWebhookAttempt(deliveryID: Int64, outcome: WebhookAttemptOutcome, at: UnixTime) async throws {
        let (status, code, error, next) = WebhookSQL.columns(of: outcome)
        try await write { db in
            if outcome == .released {
                try db.run(
                    sql: "UPDATE webhook_deliveries SET claimed_until_ms = NULL, attempts = attempts - 1 WHERE id = ?",
                    arguments: [deliveryID]
                )
                return
            }
            try db.run(
                sql: """
                    UPDATE webhook_deliveries SET status = ?, last_status = ?, last_error = ?, next_attempt_ms = ?,
                                                  claimed_until_ms = NULL, updated_at = ?
                    WHERE id = ?
                    """,
                arguments: [status, code, error, next, at, deliveryID])
        }
    }

    public func oldestPendingWebhookDelivery() async throws -> UnixTime? {
        try await readStatement { db in
            // The lowest pending id is the oldest (ids grow with time): the front of an index.
            try db.int(sql: "SELECT created_at FROM webhook_deliveries WHERE status = 'pending' ORDER BY id LIMIT 1").map(UnixTime.init)
        }
    }

    static func webhook(row: Row) -> WebhookEndpoint {
        WebhookEndpoint(
            id: row["id"], partnerID: row["partner_id"], url: row["url"], events: WebhookEventType.parse(stored: row["events"]),
            secret: row["secret"], previousSecret: row["previous_secret"], previousSecretUntil: row["previous_secret_until"],
            createdAt: row["created_at"])
    }

    static func delivery(row: Row) throws -> WebhookDelivery {
        guard let type = WebhookEventType(rawValue: row["event_type"]), let status = WebhookDelivery.Status(rawValue: row["status"]) else {
            throw corrupt("webhook_deliveries")
        }
        return WebhookDelivery(
            id: row["id"], endpointID: row["endpoint_id"], eventSeq: row["event_seq"], eventType: type, status: status,
            attempts: row["attempts"], nextAttemptMilliseconds: row["next_attempt_ms"], lastStatusCode: row["last_status"],
            lastError: row["last_error"], createdAt: row["created_at"], updatedAt: row["updated_at"])
    }
}

/// SQL both backends share for webhooks.
enum WebhookSQL {
    /// A table of (action, type): which audit actions are which webhook events.
    static let eventTypes = WebhookEventType.allCases.map { "SELECT '\($0.auditAction)' AS action, '\($0.rawValue)' AS type" }
        .joined(separator: " UNION ALL ")

    /// The ids of the `?2` soonest pending deliveries due at `?1` (milliseconds) and not
    /// claimed, at most `?4` of each endpoint and none of the endpoints in the JSON array `?5`:
    /// what a claim takes. Each endpoint's rows are read from the front of its range of the
    /// `webhook_deliveries_due` index, so a backlog behind them is never scanned.
    static let due = """
        SELECT d.id FROM webhooks w, webhook_deliveries d
        WHERE w.removed_at IS NULL AND w.id NOT IN (SELECT value FROM json_each(?5))
          AND d.id IN (
              SELECT id FROM webhook_deliveries
              WHERE endpoint_id = w.id AND status = 'pending' AND next_attempt_ms <= ?1
                AND (claimed_until_ms IS NULL OR claimed_until_ms <= ?1)
              ORDER BY next_attempt_ms, id LIMIT ?4)
        ORDER BY d.next_attempt_ms, d.id LIMIT ?2
        """

    /// status, last HTTP status, last error (at most 200 characters, never a body), next attempt.
    static func columns(of outcome: WebhookAttemptOutcome) -> (String, Int64?, String?, Int64?) {
        switch outcome {
        case .delivered(let code): ("delivered", Int64(code), nil, nil)
        case .retry(let code, let error, let next): ("pending", code.map(Int64.init), error.map { String($0.prefix(200)) }, next)
        case .failed(let code, let error): ("failed", code.map(Int64.init), error.map { String($0.prefix(200)) }, nil)
        case .released: ("pending", nil, nil, nil)
        }
    }
}
