import InviteStore
import Testing

/// ``AcceptanceRules`` alone, without a database: each rule, the order they are checked in,
/// and the repeat answered before any of them.
@Suite("AcceptanceRules")
struct AcceptanceRulesTests {
    static let request = AcceptanceRequest(invitationID: "inv_1", customerID: "cus_1", acceptedBy: "usr_1", at: 1_800_000_100)

    static func invitation(provider: String? = "prov_1", maxUses: Int? = nil, useCount: Int = 0, revokedAt: Int64? = nil) -> Invitation {
        Invitation(
            id: "inv_1", resellerID: "res_1", providerID: provider, delegatedAdmin: true, kid: "k1",
            issuedAt: 1_800_000_000, expiresAt: 1_800_086_400, maxUses: maxUses, issuedBy: "cred_1",
            revokedAt: revokedAt, useCount: useCount
        )
    }

    /// Facts under which every rule holds; each test spoils one or more.
    static func facts(
        _ invitation: Invitation = invitation(), stored: Acceptance? = nil, customerExists: Bool = true,
        reseller: PartnerKind? = .reseller, provider: PartnerKind? = .provider, connected: Bool = true
    ) -> AcceptanceFacts {
        AcceptanceFacts(
            invitation: invitation, storedAnswer: stored, customerExists: customerExists,
            resellerKind: reseller, providerKind: provider, providerConnected: connected
        )
    }

    func code(_ facts: AcceptanceFacts) -> StoreError.Code? {
        do {
            _ = try AcceptanceRules.decide(facts, request: Self.request)
            return nil
        } catch {
            return error.code
        }
    }

    @Test func everyRuleHolds() throws {
        #expect(try AcceptanceRules.decide(Self.facts(), request: Self.request) == .accept(Self.invitation()))
        #expect(code(Self.facts(Self.invitation(provider: nil), provider: nil, connected: false)) == nil)
    }

    @Test func eachRuleRefusesWithItsCode() {
        #expect(code(Self.facts(Self.invitation(revokedAt: 1))) == .revoked)
        #expect(code(Self.facts(Self.invitation(maxUses: 2, useCount: 2))) == .usedUp)
        #expect(code(Self.facts(Self.invitation(maxUses: 2, useCount: 1))) == nil)
        #expect(code(Self.facts(customerExists: false)) == .unknownCustomer)
        #expect(code(Self.facts(reseller: nil)) == .unknownPartner)
        #expect(code(Self.facts(reseller: .provider)) == .unknownPartner)
        #expect(code(Self.facts(provider: nil)) == .unknownPartner)
        #expect(code(Self.facts(provider: .reseller)) == .unknownPartner)
        #expect(code(Self.facts(connected: false)) == .providerNotConnected)
    }

    @Test func theFirstFailingRuleIsTheAnswer() {
        let all = Self.facts(
            Self.invitation(maxUses: 1, useCount: 1, revokedAt: 1), customerExists: false, reseller: nil, provider: nil, connected: false
        )
        #expect(code(all) == .revoked)
        #expect(code(Self.facts(Self.invitation(maxUses: 1, useCount: 1), customerExists: false)) == .usedUp)
        #expect(code(Self.facts(customerExists: false, reseller: nil)) == .unknownCustomer)
        #expect(code(Self.facts(reseller: nil, connected: false)) == .unknownPartner)
    }

    @Test func aRepeatIsAnsweredBeforeAnyRuleAndMarked() throws {
        let first = AcceptanceRules.answer(to: Self.request, for: Self.invitation(), resellerCreated: true, providerCreated: false)
        #expect(!first.isRepeat)
        let facts = Self.facts(Self.invitation(maxUses: 1, useCount: 1, revokedAt: 1), stored: first, customerExists: false)
        guard case .repeat(let answer) = try AcceptanceRules.decide(facts, request: Self.request) else {
            Issue.record("a stored answer was not answered as a repeat")
            return
        }
        #expect(answer == first)
        #expect(answer.isRepeat)
    }

    @Test func theAnswerNamesEachRelationshipAskedFor() {
        let twoTier = AcceptanceRules.answer(to: Self.request, for: Self.invitation(), resellerCreated: true, providerCreated: false)
        #expect(
            twoTier.relationships == [
                RelationshipOutcome(partnerID: "res_1", role: .reseller, created: true),
                RelationshipOutcome(partnerID: "prov_1", role: .provider, created: false),
            ])
        #expect(twoTier.delegatedAdmin)
        let direct = AcceptanceRules.answer(
            to: Self.request, for: Self.invitation(provider: nil), resellerCreated: false, providerCreated: true)
        #expect(direct.relationships == [RelationshipOutcome(partnerID: "res_1", role: .reseller, created: false)])
    }

    @Test func statusFollowsTheSameOrder() {
        #expect(Self.invitation().status(at: 1_800_000_100) == .pending)
        #expect(Self.invitation(useCount: 3).status(at: 1_800_000_100) == .accepted)
        #expect(Self.invitation(maxUses: 1, useCount: 1).status(at: 1_900_000_000) == .usedUp)
        #expect(Self.invitation(maxUses: 1, useCount: 1, revokedAt: 5).status(at: 1_800_000_100) == .revoked)
        #expect(Self.invitation().status(at: 1_800_086_400) == .expired)
        #expect(Self.invitation(maxUses: 5, useCount: 2).usesLeft == 3)
        #expect(Self.invitation().usesLeft == nil)
    }
}
