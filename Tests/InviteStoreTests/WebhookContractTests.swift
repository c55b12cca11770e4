import InviteStore
import Testing

/// Webhook endpoints and deliveries (DESIGN.md §9) on every backend: events come from the
/// audit entries of the change's own transaction, fan out once to the endpoints that asked,
/// and each delivery is claimed by one attempt at a time.
@Suite("RelationshipStore contract: webhooks")
struct WebhookContractTests {
    typealias F = Fixtures

    static func endpoint(_ id: String, partner: String, events: [WebhookEventType] = WebhookEventType.allCases, at: UnixTime = F.t0)
        -> WebhookEndpoint
    {
        WebhookEndpoint(
            id: id, partnerID: partner, url: "https://hooks.example/\(id)", events: events, secret: "whsec_c2VjcmV0", createdAt: at)
    }

    /// Endpoints for reseller A (all events), the provider (relationship.created only) and
    /// reseller B, then an acceptance of reseller A's DAP link naming the provider.
    static func world(_ store: any RelationshipStore) async throws {
        try await F.seed(store)
        try await store.addWebhook(endpoint("wa", partner: F.resellerA), actor: "cli")
        try await store.addWebhook(endpoint("wp", partner: F.provider, events: [.relationshipCreated]), actor: "cli")
        try await store.addWebhook(endpoint("wb", partner: F.resellerB), actor: "cli")
        try await F.addCustomer(store, "c1")
        try await store.addInvitation(F.invitation("inv1"))
        _ = try await store.accept(F.request("inv1", customer: "c1"))
    }

    @Test("each event fans out once to each endpoint of the partner it concerns that asked for it", arguments: StoreBackend.all)
    func fanOut(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.world(store)
        #expect(try await store.fanOutWebhookEvents(at: F.t0 + 100, limit: 1000).deliveries == 3)
        #expect(try await store.fanOutWebhookEvents(at: F.t0 + 100, limit: 1000) == .caughtUp, "a second fan-out made deliveries again")
        let reseller = try #require(try await store.webhookDeliveries(endpointID: "wa", partnerID: F.resellerA, page: PageRequest()))
        #expect(Set(reseller.items.map(\.eventType)) == [.relationshipCreated, .delegatedAdminGranted])
        let provider = try #require(try await store.webhookDeliveries(endpointID: "wp", partnerID: F.provider, page: PageRequest()))
        #expect(provider.items.map(\.eventType) == [.relationshipCreated])
        #expect(try await store.webhookDeliveries(endpointID: "wb", partnerID: F.resellerB, page: PageRequest())?.items.isEmpty == true)
        #expect(
            try await store.webhookDeliveries(endpointID: "wa", partnerID: F.resellerB, page: PageRequest()) == nil, "another partner's")

        // Removals by the customer reach the reseller; a revoked invitation too.
        _ = try await store.removeRelationship(partnerID: F.resellerA, customerID: "c1", by: .customer, at: F.t0 + 101, actor: "u")
        try await store.removeDelegatedAdmin(partnerID: F.resellerA, customerID: "c1", by: .customer, at: F.t0 + 102, actor: "u")
        try await store.addInvitation(F.invitation("inv2"))
        _ = try await store.revokeInvitation(id: "inv2", resellerID: F.resellerA, at: F.t0 + 103, actor: "u")
        #expect(try await store.fanOutWebhookEvents(at: F.t0 + 110, limit: 1000).deliveries == 3)
        let all = try #require(try await store.webhookDeliveries(endpointID: "wa", partnerID: F.resellerA, page: PageRequest()))
        #expect(
            Set(all.items.map(\.eventType))
                == [.relationshipCreated, .delegatedAdminGranted, .relationshipRemoved, .delegatedAdminRemoved, .invitationRevoked])
        #expect(Set(all.items.map(\.messageID)).count == all.items.count, "two deliveries share a webhook-id")
    }

    @Test("a claim takes a due delivery once until its lease ends; outcomes are recorded", arguments: StoreBackend.all)
    func claims(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.world(store)
        _ = try await store.fanOutWebhookEvents(at: F.t0 + 100, limit: 1000)
        let first = try await store.claimWebhookDeliveries(
            nowMilliseconds: (F.t0 + 100) * 1000, limit: 10, perEndpoint: 10, excluding: [], leaseMilliseconds: 60_000)
        #expect(first.count == 3 && first.allSatisfy { $0.delivery.attempts == 1 })
        #expect(
            try await store.claimWebhookDeliveries(
                nowMilliseconds: (F.t0 + 120) * 1000, limit: 10, perEndpoint: 10, excluding: [], leaseMilliseconds: 60_000
            ).isEmpty, "a claimed delivery was claimed again")
        let job = try #require(first.first { $0.endpoint.id == "wa" && $0.delivery.eventType == .relationshipCreated })
        #expect(job.event.action == "relationship.created" && job.event.customerID == "c1")

        try await store.recordWebhookAttempt(
            deliveryID: job.delivery.id, outcome: .retry(statusCode: 500, error: nil, nextAttemptMilliseconds: (F.t0 + 105) * 1000),
            at: F.t0 + 101)
        // A crashed claimer's lease ends: its deliveries are claimed again.
        let again = try await store.claimWebhookDeliveries(
            nowMilliseconds: (F.t0 + 161) * 1000, limit: 10, perEndpoint: 10, excluding: [], leaseMilliseconds: 60_000)
        #expect(again.count == 3, "expired leases and the retry due: \(again.map(\.delivery.id))")
        #expect(again.first { $0.delivery.id == job.delivery.id }?.delivery.attempts == 2)
        for claimed in again {
            try await store.recordWebhookAttempt(deliveryID: claimed.delivery.id, outcome: .delivered(statusCode: 204), at: F.t0 + 162)
        }
        #expect(
            try await store.claimWebhookDeliveries(
                nowMilliseconds: (F.t0 + 1000) * 1000, limit: 10, perEndpoint: 10, excluding: [], leaseMilliseconds: 60_000
            ).isEmpty, "a delivered one came back")
        let page = try #require(try await store.webhookDeliveries(endpointID: "wa", partnerID: F.resellerA, page: PageRequest()))
        #expect(page.items.allSatisfy { $0.status == .delivered && $0.lastStatusCode == 204 })
        #expect(try await store.oldestPendingWebhookDelivery() == nil)
    }

    @Test("a removed endpoint gets nothing more; a rotated secret keeps the old one for a while", arguments: StoreBackend.all)
    func removeAndRotate(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.world(store)
        let rotated = try await store.rotateWebhookSecret(
            id: "wa", partnerID: F.resellerA, newSecret: "whsec_bmV3", keepPreviousUntil: F.t0 + 86_400, at: F.t0, actor: "u")
        #expect(rotated.signingSecrets(at: F.t0 + 10) == ["whsec_bmV3", "whsec_c2VjcmV0"])
        #expect(rotated.signingSecrets(at: F.t0 + 86_400) == ["whsec_bmV3"])
        await expectStoreError(.notFound, "rotating another partner's endpoint") {
            try await store.rotateWebhookSecret(
                id: "wa", partnerID: F.resellerB, newSecret: "whsec_eA", keepPreviousUntil: F.t0, at: F.t0, actor: "u")
        }
        _ = try await store.fanOutWebhookEvents(at: F.t0 + 100, limit: 1000)
        try await store.removeWebhook(id: "wa", partnerID: F.resellerA, at: F.t0 + 101, actor: "u")
        #expect(try await store.webhooks(partnerID: F.resellerA).isEmpty)
        let claimed = try await store.claimWebhookDeliveries(
            nowMilliseconds: (F.t0 + 102) * 1000, limit: 10, perEndpoint: 10, excluding: [], leaseMilliseconds: 60_000)
        #expect(!claimed.contains { $0.endpoint.id == "wa" }, "a removed endpoint's delivery was claimed")
        await expectStoreError(.notFound, "removing it twice") {
            try await store.removeWebhook(id: "wa", partnerID: F.resellerA, at: F.t0 + 102, actor: "u")
        }
        let actions = try await store.auditLog(limit: 50).map(\.action)
        #expect(actions.contains("webhook.added") && actions.contains("webhook.secret_rotated") && actions.contains("webhook.removed"))
    }

    @Test("an endpoint registered after an event does not get it", arguments: StoreBackend.all)
    func onlyLaterEvents(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await F.addCustomer(store, "c1")
        try await store.addInvitation(F.invitation("inv1"))
        _ = try await store.accept(F.request("inv1", customer: "c1", at: F.t0 + 10))
        try await store.addWebhook(Self.endpoint("late", partner: F.resellerA, at: F.t0 + 20), actor: "cli")
        #expect(try await store.fanOutWebhookEvents(at: F.t0 + 30, limit: 1000).deliveries == 0)
    }

    @Test("a claim takes at most the per-endpoint limit of one endpoint", arguments: StoreBackend.all)
    func perEndpointLimit(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.world(store) // wa: 2 deliveries, wp: 1
        _ = try await store.fanOutWebhookEvents(at: F.t0 + 100, limit: 1000)
        let claimed = try await store.claimWebhookDeliveries(
            nowMilliseconds: (F.t0 + 100) * 1000, limit: 10, perEndpoint: 1, excluding: [], leaseMilliseconds: 15_000)
        #expect(claimed.map(\.endpoint.id).sorted() == ["wa", "wp"], "\(claimed.map(\.endpoint.id))")
        let others = try await store.claimWebhookDeliveries(
            nowMilliseconds: (F.t0 + 100) * 1000, limit: 10, perEndpoint: 4, excluding: ["wa"], leaseMilliseconds: 15_000)
        #expect(others.isEmpty, "an excluded endpoint's delivery was claimed: \(others.map(\.endpoint.id))")
        #expect(
            try await store.claimWebhookDeliveries(
                nowMilliseconds: (F.t0 + 100) * 1000, limit: 10, perEndpoint: 1, excluding: [], leaseMilliseconds: 15_000
            ).count == 1)
    }

    @Test("a fan-out a few entries at a time moves past entries no endpoint wants, and catches up", arguments: StoreBackend.all)
    func catchesUpInSteps(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.world(store) // many entries (partners, customers, invitation) before the three events
        var steps: [WebhookFanOut] = []
        while steps.count < 100 {
            let step = try await store.fanOutWebhookEvents(at: F.t0 + 100, limit: 2)
            if step.entries == 0 { break }
            steps.append(step)
        }
        #expect(steps.reduce(0) { $0 + $1.deliveries } == 3, "\(steps)")
        #expect(steps.contains { $0.entries > 0 && $0.deliveries == 0 }, "every step made deliveries: the test proves nothing")
    }
}
