/// The acceptance rules of DESIGN.md §5, decided in one place for every backend.
///
/// A backend gathers the ``AcceptanceFacts`` its own way (SQLite inside `BEGIN IMMEDIATE`,
/// PostgreSQL in one read before the statement that takes the invitation row), asks
/// ``decide(_:request:)``, and then writes what the decision says, or answers the repeat. Nothing
/// else decides whether an acceptance may happen, and the answer an acceptance gives is built
/// by ``answer(to:for:resellerCreated:providerCreated:)`` alone, so both backends store the
/// same bytes.
public enum AcceptanceRules {
    /// What the rules decided.
    public enum Decision: Sendable, Equatable {
        /// The customer accepted this invitation before: its stored answer, marked as a repeat.
        case `repeat`(Acceptance)
        /// Every rule holds: create the relationships (and the DAP grant) the invitation asks for.
        case accept(Invitation)
    }

    /// The checks, in the order the contract lists them; the first that fails is the answer.
    /// A repeat is answered before any other check: a customer that accepted keeps getting the
    /// same answer even after the link is revoked or used up.
    public static func decide(_ facts: AcceptanceFacts, request: AcceptanceRequest) throws(StoreError) -> Decision {
        let invitation = facts.invitation
        if var stored = facts.storedAnswer {
            stored.isRepeat = true
            return .repeat(stored)
        }
        guard invitation.revokedAt == nil else {
            throw StoreError(.revoked, "invitation \(invitation.id) was revoked")
        }
        guard invitation.hasUsesLeft else {
            throw StoreError(.usedUp, "invitation \(invitation.id) has no uses left")
        }
        guard facts.customerExists else {
            throw StoreError(.unknownCustomer, "no customer \(request.customerID)")
        }
        guard facts.resellerKind == .reseller else {
            throw StoreError(.unknownPartner, "no reseller \(invitation.resellerID)")
        }
        if let providerID = invitation.providerID {
            guard facts.providerKind == .provider else {
                throw StoreError(.unknownPartner, "no provider \(providerID)")
            }
            guard facts.providerConnected else {
                throw StoreError(.providerNotConnected, "reseller \(invitation.resellerID) is not connected to provider \(providerID)")
            }
        }
        return .accept(invitation)
    }

    /// The answer to an acceptance of `invitation` by `request`'s customer, given which of the
    /// relationships it asked for this acceptance created (the rest the customer already had).
    public static func answer(
        to request: AcceptanceRequest, for invitation: Invitation, resellerCreated: Bool, providerCreated: Bool
    ) -> Acceptance {
        answer(to: request, terms: InvitationTerms(of: invitation), resellerCreated: resellerCreated, providerCreated: providerCreated)
    }

    /// The same answer from the invitation's terms alone (which is all it depends on).
    public static func answer(
        to request: AcceptanceRequest, terms: InvitationTerms, resellerCreated: Bool, providerCreated: Bool
    ) -> Acceptance {
        var outcomes = [RelationshipOutcome(partnerID: terms.resellerID, role: .reseller, created: resellerCreated)]
        if let providerID = terms.providerID {
            outcomes.append(RelationshipOutcome(partnerID: providerID, role: .provider, created: providerCreated))
        }
        return Acceptance(
            invitationID: request.invitationID, customerID: request.customerID, acceptedBy: request.acceptedBy,
            acceptedAt: request.at, relationships: outcomes, delegatedAdmin: terms.delegatedAdmin
        )
    }
}

/// What a backend found for one acceptance, read under the lock it accepts with.
public struct AcceptanceFacts: Sendable {
    public var invitation: Invitation
    /// This customer's earlier acceptance of this invitation, if any.
    public var storedAnswer: Acceptance?
    public var customerExists: Bool
    /// The kind of the partner the invitation names as reseller; nil when there is none.
    public var resellerKind: PartnerKind?
    /// The kind of the partner the invitation names as provider; nil when there is none.
    public var providerKind: PartnerKind?
    /// Whether the reseller is connected to the provider now (meaningless without a provider).
    public var providerConnected: Bool

    public init(
        invitation: Invitation, storedAnswer: Acceptance?, customerExists: Bool,
        resellerKind: PartnerKind?, providerKind: PartnerKind?, providerConnected: Bool
    ) {
        self.invitation = invitation
        self.storedAnswer = storedAnswer
        self.customerExists = customerExists
        self.resellerKind = resellerKind
        self.providerKind = providerKind
        self.providerConnected = providerConnected
    }
}
