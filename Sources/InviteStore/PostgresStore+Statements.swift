internal import Foundation
internal import Logging
internal import PostgresNIO

// MARK: - The acceptance's write, prepared

/// The values of the acceptance's one write statement (see `PostgresStore.accept`).
struct AcceptanceWrite: Sendable {
    var invitationID: String, resellerID: String, customerID: String, at: UnixTime
    var providerID: String?, delegatedAdmin: Bool, acceptedBy: String
    /// The audit details of: accepted, reseller relationship, provider relationship, DAP grant.
    var auditDetails: [String]
    /// The stored answer when both, only the reseller's, only the provider's, or no
    /// relationship is created.
    var answers: [String]

    /// `$1` invitation, `$2` reseller, `$3` customer, `$4` time, `$5` provider (or null),
    /// `$6` DAP asked, `$7` who accepts, `$8`–`$11` audit details, `$12`–`$15` answers.
    static let bindingDataTypes: [PostgresDataType] =
        [.text, .text, .text, .int8, .text, .bool, .text]
        + Array(repeating: .text, count: 8)

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 15)
        bindings.append(invitationID)
        bindings.append(resellerID)
        bindings.append(customerID)
        bindings.append(at)
        bindings.append(providerID)
        bindings.append(delegatedAdmin)
        bindings.append(acceptedBy)
        for text in auditDetails + answers { bindings.append(text) }
        return bindings
    }

    /// The statement, taking the invitation row with `take` (`WHERE id = $1 AND revoked_at IS
    /// NULL` followed by `tail`), for an acceptance whose facts were read and decided first.
    static func sql(take head: String, tail: String) -> String {
        """
        WITH used AS (
            \(head) WHERE id = $1 AND revoked_at IS NULL \(tail)
        ), \(writes)
        SELECT (SELECT count(*) FROM accepted) > 0, created.reseller, created.provider FROM created
        """
    }

    /// The whole acceptance in one statement, for a request that states the invitation's terms
    /// (`$2`, `$5`, `$6`): the facts ``AcceptanceRules`` need, read as ``ReadAcceptanceFacts``
    /// reads them, and the writes, which happen only if the facts pass every rule and the stored
    /// invitation states the request's terms (the answers `$12`–`$15` were built from them).
    /// Its row is the facts, then what ``sql(take:tail:)`` answers; no row for an unknown
    /// invitation. When nothing was written the caller decides on the facts: a repeat, a
    /// refusal, or (the terms differ, or another transaction got in between) the facts-first
    /// path. The invitation row is taken as ``AcceptLimitedUse`` and ``AcceptUnlimitedUse``
    /// take it, whichever it is; the facts cannot say which before the statement runs.
    static let fusedSQL = """
        WITH facts AS (
            \(ReadAcceptanceFacts.select(customer: "$3", credential: "$16"))
        ), allowed AS (
            SELECT 1 FROM facts f
            WHERE f.credential_live AND f.stored IS NULL AND f.customer_exists AND f.reseller_kind = 'reseller'
              AND (f.provider_id IS NULL OR (f.provider_kind = 'provider' AND f.connected))
              AND f.reseller_id = $2 AND f.provider_id IS NOT DISTINCT FROM $5::TEXT AND f.dap = $6
        ), limited AS (
            UPDATE invitations SET use_count = use_count + 1
            WHERE id = $1 AND revoked_at IS NULL AND use_count < max_uses AND EXISTS (SELECT 1 FROM allowed)
            RETURNING id
        ), unlimited AS (
            SELECT id FROM invitations
            WHERE id = $1 AND revoked_at IS NULL AND max_uses IS NULL AND EXISTS (SELECT 1 FROM allowed)
            FOR SHARE
        ), used AS (
            SELECT id FROM limited UNION ALL SELECT id FROM unlimited
        ), \(writes)
        SELECT facts.*, (SELECT count(*) FROM accepted) > 0, created.reseller, created.provider FROM facts, created
        """

    /// The writes, each selecting from the one before it, so they run in SQLiteStore's order;
    /// see `PostgresStore.accept` for why each step is as it is. They follow a CTE `used`
    /// holding the invitation's id when its use was granted, no row otherwise.
    static let writes = """
        reseller AS (
            INSERT INTO relationships (partner_id, customer_id, role, invitation_id, created_at)
            SELECT $2, $3, 'reseller', id, $4 FROM used
            ON CONFLICT (partner_id, customer_id) WHERE removed_at IS NULL DO NOTHING
            RETURNING 1
        ), provider AS (
            INSERT INTO relationships (partner_id, customer_id, role, invitation_id, created_at)
            SELECT $5::TEXT, $3, 'provider', id, $4
            FROM used, (SELECT count(*) FROM reseller) AS after_reseller
            WHERE $5::TEXT IS NOT NULL
            ON CONFLICT (partner_id, customer_id) WHERE removed_at IS NULL DO NOTHING
            RETURNING 1
        ), granted AS (
            INSERT INTO dap_grants (partner_id, customer_id, granted_at, invitation_id)
            SELECT $2, $3, $4, id
            FROM used, (SELECT count(*) FROM provider) AS after_provider
            WHERE $6
            ON CONFLICT (partner_id, customer_id) DO NOTHING
            RETURNING 1
        ), created AS (
            SELECT (SELECT count(*) FROM reseller) > 0 AS reseller, (SELECT count(*) FROM provider) > 0 AS provider
        ), logged AS (
            INSERT INTO audit_log (at, actor, actor_kind, action, subject, detail, partner_id, customer_id)
            SELECT $4, $7, \(AuditSQL.actorKind("$7")), entry.action, entry.subject, entry.detail, entry.partner_id, $3 FROM (
                SELECT 0 AS position, 'invitation.accepted' AS action, id AS subject, $8 AS detail, $2 AS partner_id FROM used
                UNION ALL
                SELECT 1, 'relationship.created', $3, $9, $2 FROM reseller
                UNION ALL
                SELECT 2, 'relationship.created', $3, $10, $5::TEXT FROM provider
                UNION ALL
                SELECT 3, 'dap.granted', $3, $11, $2 FROM granted
            ) entry ORDER BY entry.position
        ), accepted AS (
            INSERT INTO acceptances (invitation_id, customer_id, accepted_by, accepted_at, result)
            SELECT id, $3, $7, $4,
                   CASE WHEN created.reseller AND created.provider THEN $12
                        WHEN created.reseller THEN $13
                        WHEN created.provider THEN $14
                        ELSE $15 END
            FROM used, created
            RETURNING 1
        )
        """
}

/// An acceptance's write as a prepared statement: each connection has PostgreSQL plan it once,
/// not on every acceptance (planning measured as costly as running it). One type per way of
/// taking the invitation row, since a prepared statement's text is fixed.
protocol PreparedAcceptance: PostgresPreparedStatement where Row == (Bool, Bool, Bool) {
    var values: AcceptanceWrite { get }
}

extension PreparedAcceptance {
    static var bindingDataTypes: [PostgresDataType] { AcceptanceWrite.bindingDataTypes }
    func makeBindings() throws -> PostgresBindings { try values.makeBindings() }
    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}

/// A limited invitation: its use count goes up by one, if a use is left.
struct AcceptLimitedUse: PreparedAcceptance {
    static let name = "invitelink_accept_limited"
    static let sql = AcceptanceWrite.sql(
        take: "UPDATE invitations SET use_count = use_count + 1", tail: "AND use_count < max_uses RETURNING id")
    let values: AcceptanceWrite
    init(_ values: AcceptanceWrite) { self.values = values }
}

/// An unlimited invitation: its row is only share-locked.
struct AcceptUnlimitedUse: PreparedAcceptance {
    static let name = "invitelink_accept_unlimited"
    static let sql = AcceptanceWrite.sql(take: "SELECT id FROM invitations", tail: "AND max_uses IS NULL FOR SHARE")
    let values: AcceptanceWrite
    init(_ values: AcceptanceWrite) { self.values = values }
}

/// The whole acceptance, facts and writes, in one statement (``AcceptanceWrite/fusedSQL``).
struct AcceptInOneStatement: PostgresPreparedStatement {
    static let name = "invitelink_accept_fused"
    static let sql = AcceptanceWrite.fusedSQL
    /// ``AcceptanceWrite``'s, then `$16` the credential to confirm (or null).
    static var bindingDataTypes: [PostgresDataType] { AcceptanceWrite.bindingDataTypes + [.text] }
    let values: AcceptanceWrite, credentialID: String?
    init(_ values: AcceptanceWrite, confirming credentialID: String?) {
        self.values = values
        self.credentialID = credentialID
    }
    func makeBindings() throws -> PostgresBindings {
        var bindings = try values.makeBindings()
        bindings.append(credentialID)
        return bindings
    }
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// The two reads on every acceptance's path, prepared for the same reason. Their rows are
/// decoded where they are used.

/// A credential by its secret's hash, with its partner's record (null columns for a customer's).
struct PrincipalLookup: PostgresPreparedStatement {
    static let name = "invitelink_principal"
    static let sql = """
        SELECT c.id, c.partner_id, c.customer_id, c.role, c.secret_hash, c.created_at, c.revoked_at,
               p.name, p.kind, p.created_at
        FROM credentials c LEFT JOIN partners p ON p.id = c.partner_id
        WHERE c.secret_hash = $1 AND c.revoked_at IS NULL
        """
    static let bindingDataTypes: [PostgresDataType] = [.bytea]
    let secretHash: Data

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 1)
        try bindings.append(secretHash)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// An invitation's stored fields and use count, then the facts the acceptance rules need: the
/// customer's stored answer, whether the customer exists, the reseller's and provider's kinds,
/// and whether they are connected.
struct ReadAcceptanceFacts: PostgresPreparedStatement {
    static let name = "invitelink_acceptance_facts"
    static let sql = select(customer: "$2", credential: "$3")
    /// How many columns ``select(customer:credential:)`` gives: the invitation's twelve, the
    /// five facts, the credential's.
    static let columnCount = 18

    /// The facts' SELECT, for the invitation `$1`, the customer the placeholder `customer` and
    /// the credential to confirm (or null) the placeholder `credential`: the invitation's
    /// columns, the five facts, then whether that credential is unrevoked.
    static func select(customer: String, credential: String) -> String {
        """
        SELECT \(PostgresStore.invitationFields), i.use_count,
               (SELECT result FROM acceptances WHERE invitation_id = i.id AND customer_id = \(customer)) AS stored,
               EXISTS (SELECT 1 FROM customers WHERE id = \(customer)) AS customer_exists,
               (SELECT kind FROM partners WHERE id = i.reseller_id) AS reseller_kind,
               (SELECT kind FROM partners WHERE id = i.provider_id) AS provider_kind,
               EXISTS (SELECT 1 FROM provider_connections
                       WHERE reseller_id = i.reseller_id AND provider_id = i.provider_id AND disconnected_at IS NULL) AS connected,
               \(credential)::TEXT IS NULL OR EXISTS (
                   SELECT 1 FROM credentials WHERE id = \(credential)::TEXT AND revoked_at IS NULL) AS credential_live
        FROM invitations i WHERE i.id = $1
        """
    }
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text]
    let invitationID: String, customerID: String, credentialID: String?

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 3)
        bindings.append(invitationID)
        bindings.append(customerID)
        bindings.append(credentialID)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

extension PostgresConnection {
    /// Runs a prepared statement and returns its first row, if any (reading all of them, so the
    /// connection is ready for the next statement).
    func first<Statement: PostgresPreparedStatement>(_ statement: Statement) async throws -> Statement.Row? {
        var first: Statement.Row?
        for try await row in try await execute(statement, logger: PostgresStore.quiet) where first == nil { first = row }
        return first
    }
}

// MARK: - Issuance, prepared and batched

/// Issuances made at once, in one statement, atomic on its own: each invitation is inserted
/// only when its id is new, its provider (if any) is one the reseller is connected to and the
/// credential to confirm (if any) is unrevoked, with its audit entry. The reseller need not
/// exist yet (an operator may mint links ahead of time): acceptance checks that the reseller
/// and provider exist, at acceptance time. Its rows are the ids inserted.
///
/// Each parameter is an array, one element per invitation. postgres-nio binds no NULL inside
/// an array, so an optional text is sent as "" for none and "+" before the value otherwise
/// (exact for every string, the empty one included), and the uses allowed as 0 for none (never
/// valid: ``Invitation/requireValidMaxUses()`` comes first). Ids repeated within one batch are
/// sent once (``PostgresStore/issue(_:)``).
struct IssueInvitations: PostgresPreparedStatement {
    static let name = "invitelink_issue"
    static let sql = """
        WITH batch AS (
            SELECT r.id, r.reseller_id, \(optional("r.provider_id")) AS provider_id, r.dap, r.kid, r.issued_at, r.expires_at,
                   NULLIF(r.max_uses, 0) AS max_uses, r.issued_by, \(optional("r.customer_email")) AS customer_email,
                   \(optional("r.credential_id")) AS credential_id, r.detail
            FROM unnest($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::BOOL[], $5::TEXT[], $6::BIGINT[], $7::BIGINT[],
                        $8::BIGINT[], $9::TEXT[], $10::TEXT[], $11::TEXT[], $12::TEXT[])
                AS r (id, reseller_id, provider_id, dap, kid, issued_at, expires_at, max_uses, issued_by, customer_email,
                      credential_id, detail)
        ), inserted AS (
            INSERT INTO invitations (id, reseller_id, provider_id, dap, kid, issued_at, expires_at,
                                     max_uses, use_count, issued_by, customer_email, revoked_at)
            SELECT b.id, b.reseller_id, b.provider_id, b.dap, b.kid, b.issued_at, b.expires_at,
                   b.max_uses, 0, b.issued_by, b.customer_email, NULL
            FROM batch b
            WHERE (b.provider_id IS NULL OR EXISTS (
                SELECT 1 FROM provider_connections c JOIN partners p ON p.id = c.provider_id AND p.kind = 'provider'
                WHERE c.reseller_id = b.reseller_id AND c.provider_id = b.provider_id AND c.disconnected_at IS NULL))
              AND (b.credential_id IS NULL OR EXISTS (
                SELECT 1 FROM credentials WHERE id = b.credential_id AND revoked_at IS NULL))
            ON CONFLICT (id) DO NOTHING
            RETURNING id
        ), logged AS (
            INSERT INTO audit_log (at, actor, actor_kind, action, subject, detail, partner_id)
            SELECT b.issued_at, b.issued_by, \(AuditSQL.actorKind("b.issued_by")), 'invitation.issued', b.id, b.detail,
                   b.reseller_id
            FROM batch b JOIN inserted USING (id)
        )
        SELECT id FROM inserted
        """

    /// The SQL that reads `column`, an optional text sent as ``encode(_:)`` sends it.
    private static func optional(_ column: String) -> String {
        "CASE WHEN \(column) = '' THEN NULL ELSE substr(\(column), 2) END"
    }

    /// An optional text as the statement receives it: "" for none, else "+" and the value.
    private static func encode(_ text: String?) -> String { text.map { "+" + $0 } ?? "" }

    /// `$1` ids, `$2` resellers, `$3` providers, `$4` DAP, `$5` kids, `$6` issued at, `$7` expires
    /// at, `$8` uses allowed, `$9` issued by, `$10` customer emails, `$11` the credentials to
    /// confirm, `$12` the audit entries' details.
    static let bindingDataTypes: [PostgresDataType] = [
        .textArray, .textArray, .textArray, .boolArray, .textArray, .int8Array, .int8Array, .int8Array, .textArray,
        .textArray, .textArray, .textArray,
    ]
    let batch: [PostgresStore.Issuance]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 12)
        func column<Value: PostgresArrayEncodable>(_ value: (PostgresStore.Issuance) -> Value) throws {
            try bindings.append(batch.map(value))
        }
        try column(\.invitation.id)
        try column(\.invitation.resellerID)
        try column { Self.encode($0.invitation.providerID) }
        try column(\.invitation.delegatedAdmin)
        try column(\.invitation.kid)
        try column(\.invitation.issuedAt)
        try column(\.invitation.expiresAt)
        try column { Int64($0.invitation.maxUses ?? 0) }
        try column(\.invitation.issuedBy)
        try column { Self.encode($0.invitation.customerEmail) }
        try column { Self.encode($0.credentialID) }
        try column(\.auditDetail)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> String { try row.decode(String.self) }
}
