/// One append-only audit row: who did what to which subject.
public struct AuditEntry: Sendable, Equatable {
    public var id: Int64?
    public var at: UnixTime
    /// Credential id, user id or `cli`.
    public var actor: String
    /// e.g. `invitation.issued`, `invitation.revoked`, `invitation.accepted`,
    /// `relationship.removed`, `key.rotated`.
    public var action: String
    public var subject: String
    /// Free text or compact JSON, never a secret or a token.
    public var detail: String

    public init(id: Int64? = nil, at: UnixTime, actor: String, action: String, subject: String, detail: String = "") {
        self.id = id
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
    }
}
