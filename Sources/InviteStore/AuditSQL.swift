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

    /// The actor of a stored row: no id for `cli` and `system`.
    static func actor(kind: String, id: String) -> AuditActor {
        AuditActor(kind: kind, id: kind == "cli" || kind == "system" ? nil : id)
    }
}
