/// A partner's webhook endpoint (DESIGN.md §9). Its secret signs every delivery; after a
/// rotation the previous one signs too until `previousSecretUntil`.
public struct WebhookEndpoint: Sendable, Equatable {
    public var id: String
    public var partnerID: String
    public var url: String
    public var events: [WebhookEventType]
    /// `whsec_` and the base64 of the key bytes, as Standard Webhooks writes it.
    public var secret: String
    public var previousSecret: String?
    public var previousSecretUntil: UnixTime?
    public var createdAt: UnixTime

    public init(
        id: String, partnerID: String, url: String, events: [WebhookEventType], secret: String, previousSecret: String? = nil,
        previousSecretUntil: UnixTime? = nil, createdAt: UnixTime
    ) {
        self.id = id
        self.partnerID = partnerID
        self.url = url
        self.events = events
        self.secret = secret
        self.previousSecret = previousSecret
        self.previousSecretUntil = previousSecretUntil
        self.createdAt = createdAt
    }

    /// The secrets that sign a delivery made at `now`: the current one, and the previous one
    /// while its 24 hours last.
    public func signingSecrets(at now: UnixTime) -> [String] {
        if let previousSecret, let until = previousSecretUntil, now < until { return [secret, previousSecret] }
        return [secret]
    }
}

/// The events of DESIGN.md §9, each the webhook form of an audit action: the audit entry,
/// written in the change's own transaction, is the outbox row the event is delivered from.
public enum WebhookEventType: String, Sendable, CaseIterable, Codable {
    case relationshipCreated = "relationship.created"
    case relationshipRemoved = "relationship.removed"
    case delegatedAdminGranted = "delegated_admin.granted"
    case delegatedAdminRemoved = "delegated_admin.removed"
    case invitationRevoked = "invitation.revoked"

    /// The audit action each event is made from.
    public var auditAction: String {
        switch self {
        case .relationshipCreated: "relationship.created"
        case .relationshipRemoved: "relationship.removed"
        case .delegatedAdminGranted: "dap.granted"
        case .delegatedAdminRemoved: "dap.removed"
        case .invitationRevoked: "invitation.revoked"
        }
    }

    public init?(auditAction: String) {
        guard let type = Self.allCases.first(where: { $0.auditAction == auditAction }) else { return nil }
        self = type
    }

    /// How a set of events is stored: names joined by commas, in the order of `allCases`.
    static func stored(_ events: [WebhookEventType]) -> String {
        allCases.filter(events.contains).map(\.rawValue).joined(separator: ",")
    }

    static func parse(stored text: String) -> [WebhookEventType] {
        text.split(separator: ",").compactMap { WebhookEventType(rawValue: String($0)) }
    }
}

/// One event's delivery to one endpoint, with the outcome of its last attempt.
public struct WebhookDelivery: Sendable, Equatable {
    public enum Status: String, Sendable {
        case pending, delivered, failed
    }

    public var id: Int64
    public var endpointID: String
    /// The audit entry the event is made from; the event's `webhook-id` is `msg_` and this.
    public var eventSeq: Int64
    public var eventType: WebhookEventType
    public var status: Status
    public var attempts: Int
    /// When the next attempt is due, in Unix milliseconds.
    public var nextAttemptMilliseconds: Int64?
    public var lastStatusCode: Int?
    public var lastError: String?
    public var createdAt: UnixTime
    public var updatedAt: UnixTime

    public init(
        id: Int64, endpointID: String, eventSeq: Int64, eventType: WebhookEventType, status: Status, attempts: Int,
        nextAttemptMilliseconds: Int64?, lastStatusCode: Int?, lastError: String?, createdAt: UnixTime, updatedAt: UnixTime
    ) {
        self.id = id
        self.endpointID = endpointID
        self.eventSeq = eventSeq
        self.eventType = eventType
        self.status = status
        self.attempts = attempts
        self.nextAttemptMilliseconds = nextAttemptMilliseconds
        self.lastStatusCode = lastStatusCode
        self.lastError = lastError
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// The Standard Webhooks message id: the same on every attempt of this event.
    public var messageID: String { "msg_\(eventSeq)" }
}

/// What one fan-out did: how many audit entries it moved its cursor past (0: caught up) and
/// how many deliveries those made (0 when no endpoint asked for them).
public struct WebhookFanOut: Sendable, Equatable {
    public var entries: Int
    public var deliveries: Int

    public init(entries: Int, deliveries: Int) {
        self.entries = entries
        self.deliveries = deliveries
    }

    public static let caughtUp = WebhookFanOut(entries: 0, deliveries: 0)
}

/// A delivery claimed for one attempt: everything the attempt needs.
public struct WebhookJob: Sendable {
    public var delivery: WebhookDelivery
    public var endpoint: WebhookEndpoint
    /// The audit entry the event reports.
    public var event: AuditEntry
}

/// What one attempt came to.
public enum WebhookAttemptOutcome: Sendable, Equatable {
    /// A 2xx answer.
    case delivered(statusCode: Int)
    /// Try again at `nextAttemptMilliseconds`: a non-2xx answer (its code) or no answer (`error`).
    case retry(statusCode: Int?, error: String?, nextAttemptMilliseconds: Int64)
    /// The retry window is over: the delivery is given up.
    case failed(statusCode: Int?, error: String?)
    /// Not attempted after all (shutting down): back to pending, at once, for any instance.
    case released
}
