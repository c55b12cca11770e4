internal import PostgresNIO

/// Accepting an invitation: the facts for ``AcceptanceRules`` and the writes they allow, in one
/// statement when the request states the token's terms, else one read and one write.
extension PostgresStore {
    // MARK: Acceptance

    /// Accepts in one statement when the request states its token's terms and the stored
    /// invitation states the same (every acceptance through ``InvitationService``): one round
    /// trip. Otherwise in two statements on one connection: a read of the facts the rules need,
    /// then one statement that uses the invitation and writes everything, which PostgreSQL runs
    /// as one transaction. When another transaction got in between (the last use, a revocation, the
    /// same customer on another instance: ``Self/outrun`` or a unique violation), both run
    /// again and the second read sees what it committed, so the answer is the one a serial
    /// order gives.
    public func accept(_ request: AcceptanceRequest) async throws -> Acceptance {
        try await perform(transaction: false, retryingUniqueViolations: true, within: leaseTimeout) { db in
            try await Self.accept(db, request)
        }
    }

    /// Thrown, and caught by the retry loop, when the use of the invitation found it revoked or
    /// used up after the facts had been read.
    static let outrun = StoreError(.unavailable, "the invitation changed during the acceptance; retries exhausted")

    /// The facts read in one statement, decided by ``AcceptanceRules``, then written by one more
    /// (after ``acceptInOneStatement(_:_:terms:)``, when the request has terms, wrote nothing).
    ///
    /// The statement's first step takes the invitation row and re-checks "not revoked, uses
    /// left" on its newest committed version (a locking statement waits for the row's lock,
    /// then re-evaluates its WHERE), and every other write selects from its result: nothing is
    /// written unless the use was granted. A limited invitation's row is taken by a
    /// conditional `UPDATE … RETURNING` of `use_count`, so every acceptance of it, on any
    /// instance, counts its use after the previous one has committed. The lock is held only
    /// while the server runs that one statement and commits it, never across a round trip to
    /// this process. (`SELECT … FOR UPDATE` at the start of an explicit transaction is as
    /// correct, but holds the row for the whole transaction: it measured 3–6× slower on one
    /// link accepted by many.)
    ///
    /// An unlimited invitation, the default and the link a reseller sends to many customers,
    /// has no count to keep, so its row is not written: `SELECT … FOR SHARE` takes it. Written,
    /// the row stays locked until the commit's WAL flush, so acceptances of one link would
    /// commit one flush after the other; shared, they run side by side and their commits share
    /// flushes. FOR SHARE, not FOR KEY SHARE: it conflicts with any update of the row, the
    /// non-key update of `revoked_at` included, so a revocation waits for the acceptances that
    /// hold the row, and an acceptance that waited for a revocation finds the newest row revoked
    /// and writes nothing (``outrun``: the rerun answers `revoked`). Its `use_count` stays 0; an
    /// invitation's use count is read as the number of its acceptances, equal to the counter
    /// wherever that is kept (a customer's first acceptance counts one use, a repeat none).
    static func accept(_ db: PostgresConnection, _ request: AcceptanceRequest) async throws -> Acceptance {
        if let terms = request.terms, let answer = try await acceptInOneStatement(db, request, terms: terms) {
            return answer
        }
        // The stored counter, not the count of acceptances: it is exact where it is compared
        // (a limited invitation), and counting on every acceptance costs more the more
        // popular the link.
        guard
            let row = try await db.first(
                ReadAcceptanceFacts(
                    invitationID: request.invitationID, customerID: request.customerID, credentialID: request.confirmingCredential))
        else {
            throw StoreError(.unknownInvitation, "no invitation \(request.invitationID)")
        }
        let facts = try facts(row: row, request)
        let invitation = facts.invitation
        switch try AcceptanceRules.decide(facts, request: request) {
        case .repeat(let answer):
            return answer
        case .accept:
            break
        }
        let terms = InvitationTerms(of: invitation)
        let values = acceptanceWrite(request, terms: terms)
        // `max_uses` never changes once issued, so the facts say how to take the row.
        let written =
            invitation.maxUses == nil
            ? try await db.first(AcceptUnlimitedUse(values))
            : try await db.first(AcceptLimitedUse(values))
        guard let outcome = written else { throw StoreError(.unavailable, "PostgreSQL answered the acceptance with no row") }
        guard outcome.0 else { throw outrun }
        return AcceptanceRules.answer(to: request, terms: terms, resellerCreated: outcome.1, providerCreated: outcome.2)
    }

    /// The acceptance as one round trip (``AcceptInOneStatement``): facts and writes in one
    /// statement, answered from the request's terms when it wrote. Nil when it wrote nothing
    /// and the rules would accept on its facts: the stored invitation's terms are not the
    /// request's, or another transaction changed the invitation after the statement's
    /// snapshot; the facts-first path decides then. A repeat or a refusal is answered from
    /// the statement's own facts, as the facts-first path would answer it.
    static func acceptInOneStatement(
        _ db: PostgresConnection, _ request: AcceptanceRequest, terms: InvitationTerms
    ) async throws -> Acceptance? {
        let values = acceptanceWrite(request, terms: terms)
        guard let row = try await db.first(AcceptInOneStatement(values, confirming: request.confirmingCredential)) else {
            throw StoreError(.unknownInvitation, "no invitation \(request.invitationID)")
        }
        // The facts' columns, then the write's three; the facts are decoded only when it wrote nothing.
        let cells = row.makeRandomAccess()
        let outcome = ReadAcceptanceFacts.columnCount
        if try cells[outcome].decode(Bool.self) {
            return AcceptanceRules.answer(
                to: request, terms: terms, resellerCreated: try cells[outcome + 1].decode(Bool.self),
                providerCreated: try cells[outcome + 2].decode(Bool.self))
        }
        switch try AcceptanceRules.decide(try facts(row: row, request), request: request) {
        case .repeat(let answer): return answer
        case .accept: return nil
        }
    }

    /// The invitation and the five facts of a row that starts with ``ReadAcceptanceFacts``'s
    /// columns; throws `.credentialRevoked` first when the credential it confirms is not live.
    static func facts(row: PostgresRow, _ request: AcceptanceRequest) throws -> AcceptanceFacts {
        // The invitation's twelve columns, then the five facts and the credential's.
        let cells = row.makeRandomAccess()
        guard try cells[17].decode(Bool.self) else {
            throw StoreError(.credentialRevoked, "credential \(request.confirmingCredential ?? "") is revoked")
        }
        return AcceptanceFacts(
            invitation: try invitation(row: row),
            storedAnswer: try cells[12].decode(String?.self).map(StoredJSON.decodeAcceptance),
            customerExists: try cells[13].decode(Bool.self),
            resellerKind: try cells[14].decode(String?.self).flatMap(PartnerKind.init(rawValue:)),
            providerKind: try cells[15].decode(String?.self).flatMap(PartnerKind.init(rawValue:)),
            providerConnected: try cells[16].decode(Bool.self)
        )
    }

    /// The values of an acceptance's write of an invitation with `terms`.
    static func acceptanceWrite(_ request: AcceptanceRequest, terms: InvitationTerms) -> AcceptanceWrite {
        // Which relationships this acceptance creates is known only inside the statement, so
        // the stored answer is sent in each of its (at most four) forms and the statement keeps
        // the one that happened: byte for byte the JSON SQLiteStore stores.
        func answer(reseller: Bool, provider: Bool) -> Acceptance {
            AcceptanceRules.answer(to: request, terms: terms, resellerCreated: reseller, providerCreated: provider)
        }
        let answers = [
            answer(reseller: true, provider: true), answer(reseller: true, provider: false),
            answer(reseller: false, provider: true), answer(reseller: false, provider: false),
        ]
        let json = answers.map(StoredJSON.encode)

        // Each write selects from the one before it, so they run in SQLiteStore's order (and
        // two acceptances for one customer take the unique index entries in the same order).
        // A relationship or DAP grant the customer already has, or that a concurrent
        // transaction is creating (another invitation of this partner accepted at the same
        // moment), is left alone: the INSERT waits for that transaction and then does nothing,
        // exactly as if it had come second. The audit entries are one INSERT, so their ids
        // follow ORDER BY. The CHECK (use_count <= max_uses) backs the WHERE up; the
        // acceptances primary key backs up the same customer accepting twice at once.
        let invitationID = request.invitationID
        return AcceptanceWrite(
            invitationID: invitationID, resellerID: terms.resellerID, customerID: request.customerID, at: request.at,
            providerID: terms.providerID, delegatedAdmin: terms.delegatedAdmin, acceptedBy: request.acceptedBy,
            auditDetails: [
                StoredJSON.auditDetail(["customer_id": request.customerID]),
                StoredJSON.auditDetail(["partner_id": terms.resellerID, "role": "reseller", "invitation_id": invitationID]),
                StoredJSON.auditDetail(["partner_id": terms.providerID ?? "", "role": "provider", "invitation_id": invitationID]),
                StoredJSON.auditDetail(["partner_id": terms.resellerID, "invitation_id": invitationID]),
            ],
            answers: json
        )
    }
}
