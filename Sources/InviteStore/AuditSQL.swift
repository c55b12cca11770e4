/// SQL both backends share for the audit log.
enum AuditSQL {
    /// The columns the stores' entry decoders read, in their order (by position: a seal
    /// decodes thousands of rows, and a lookup by name costs more than the decoding).
    static let columns = "id, at, actor, actor_kind, action, subject, detail, partner_id, customer_id"

    /// The kind of the actor whose id is the parameter `id` (`?2`, `$7`…), worked out as the
    /// entry is written (see ``AuditActor``): `cli` and `system` are themselves, `cred_…` a
    /// credential, a user id a partner's or a customer's user by the user's tenant.
    static func actorKind(_ id: String) -> String {
        """
        CASE WHEN \(id) IN ('cli', 'system') THEN \(id) WHEN substr(\(id), 1, 5) = 'cred_' THEN 'credential' \
        ELSE COALESCE((SELECT CASE WHEN u.partner_id IS NOT NULL THEN 'partner_user' ELSE 'customer_user' END \
        FROM users u WHERE u.id = \(id)), 'unknown') END
        """
    }

    /// How far behind its checkpoint's time an entry's own time may be, at most: the
    /// instances' clocks may disagree by this much (an entry is timed by the instance that
    /// writes it, its checkpoint by the one that seals it, after the entry committed).
    static let sinceMargin: UnixTime = 300

    /// A `seq` at or below which every entry is older than the time that is the parameter
    /// `since` (`?`, `$1`…): the entries before the first checkpoint sealed at or after
    /// `since` − ``sinceMargin`` were all sealed before that, so they are older than `since`. A
    /// read `--since` starts there and scans the rest by `seq` (the log has no index by time:
    /// it would be a fourth b-tree written by every entry, for a query a SIEM makes a few
    /// times a day). Checkpoints tile the sealed `seq`s, so this holds however their times
    /// are ordered; with no checkpoint after the margin, every sealed entry is before `since`.
    static func sealedBefore(_ since: String) -> String {
        """
        COALESCE((SELECT min(first_seq) - 1 FROM audit_checkpoints WHERE at >= \(since) - \(sinceMargin)), \
        (SELECT max(last_seq) FROM audit_checkpoints), 0)
        """
    }

    /// The actor of a stored row: no id for `cli` and `system`.
    static func actor(kind: String, id: String) -> AuditActor {
        AuditActor(kind: kind, id: kind == "cli" || kind == "system" ? nil : id)
    }
}
