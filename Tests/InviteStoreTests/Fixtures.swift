import InviteStore
import Testing

/// A small world every contract test starts from: two resellers, two providers (one connected
/// to reseller A), and customers made on demand.
enum Fixtures {
    static let t0: UnixTime = 1_800_000_000
    static let resellerA = "res_a"
    static let resellerB = "res_b"
    static let provider = "prov_x"
    static let otherProvider = "prov_y"
    static let actor = "cli"

    /// Adds the partners and connects reseller A to ``provider``.
    static func seed(_ store: any RelationshipStore) async throws {
        try await store.addPartner(Partner(id: resellerA, name: "Reseller A", kind: .reseller, createdAt: t0), actor: actor)
        try await store.addPartner(Partner(id: resellerB, name: "Reseller B", kind: .reseller, createdAt: t0), actor: actor)
        try await store.addPartner(Partner(id: provider, name: "Provider X", kind: .provider, createdAt: t0), actor: actor)
        try await store.addPartner(Partner(id: otherProvider, name: "Provider Y", kind: .provider, createdAt: t0), actor: actor)
        try await store.connect(resellerID: resellerA, providerID: provider, at: t0, actor: actor)
    }

    @discardableResult
    static func addCustomer(_ store: any RelationshipStore, _ id: String) async throws -> Customer {
        let customer = Customer(id: id, name: "Customer \(id)", domain: "\(id).example", createdAt: t0)
        try await store.addCustomer(customer, actor: actor)
        return customer
    }

    static func invitation(
        _ id: String, reseller: String = resellerA, provider: String? = provider, dap: Bool = true,
        maxUses: Int? = nil, issuedAt: UnixTime = t0
    ) -> Invitation {
        Invitation(
            id: id, resellerID: reseller, providerID: provider, delegatedAdmin: dap, kid: "k1",
            issuedAt: issuedAt, expiresAt: issuedAt + 14 * 86_400, maxUses: maxUses, issuedBy: "cred_\(reseller)"
        )
    }

    /// The terms of an ``invitation(_:reseller:provider:dap:maxUses:issuedAt:)`` with its defaults,
    /// which requests state unless told otherwise, as a verified token would: so the contract
    /// runs PostgreSQL's one-statement acceptance where they match and its facts-first path
    /// where they do not (an invitation issued with other terms).
    static let defaultTerms = InvitationTerms(resellerID: resellerA, providerID: provider, delegatedAdmin: true)

    static func request(
        _ invitationID: String, customer: String, at: UnixTime = t0 + 60, terms: InvitationTerms? = defaultTerms
    ) -> AcceptanceRequest {
        AcceptanceRequest(invitationID: invitationID, customerID: customer, acceptedBy: "user_\(customer)", at: at, terms: terms)
    }
}

/// Expects `body` to throw a ``StoreError`` with `code`; records which other outcome happened
/// otherwise.
func expectStoreError<T>(
    _ code: StoreError.Code, _ comment: Comment,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> T
) async {
    do {
        _ = try await body()
        Issue.record("expected \(code), but it succeeded: \(comment)", sourceLocation: sourceLocation)
    } catch let error as StoreError {
        #expect(error.code == code, "\(comment): \(error)", sourceLocation: sourceLocation)
    } catch {
        Issue.record("expected StoreError \(code), got \(error): \(comment)", sourceLocation: sourceLocation)
    }
}
