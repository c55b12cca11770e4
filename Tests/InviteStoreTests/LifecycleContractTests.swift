import InviteStore
import Testing

/// Both sides of a relationship (DESIGN.md §7) on every backend: what a customer ends, what a
/// partner keeps, "Add a new customer", setup links and disabled people.
@Suite("RelationshipStore contract: both sides of a relationship")
struct LifecycleContractTests {
    typealias F = Fixtures

    /// Customer `c1` accepts reseller A's DAP link naming the provider: two relationships and
    /// reseller A's DAP grant.
    static func acceptedWithDAP(_ store: any RelationshipStore) async throws {
        try await F.seed(store)
        try await F.addCustomer(store, "c1")
        try await store.addInvitation(F.invitation("inv1"))
        _ = try await store.accept(F.request("inv1", customer: "c1"))
    }

    static func person(_ id: String, _ tenant: Tenant, role: Role = .globalAdmin, hash: String = "") -> User {
        User(
            id: id, tenant: tenant, email: "\(id)@example.test", role: role, passwordHash: hash, mustChangePassword: false,
            createdAt: F.t0)
    }

    static func link(_ id: String, user: String, at: UnixTime = F.t0) -> SetupLink {
        SetupLink(id: id, userID: user, issuedAt: at, expiresAt: at + 72 * 3600)
    }

    @Test("a customer sees its partners with their relationship and DAP grant", arguments: StoreBackend.all)
    func customerSeesPartners(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.acceptedWithDAP(store)
        let page = try await store.partners(ofCustomer: "c1", page: PageRequest())
        #expect(page.items.map(\.partner.id) == [F.provider, F.resellerA], "partners by id: \(page.items)")
        let reseller = try #require(page.items.first { $0.partner.id == F.resellerA })
        #expect(reseller.relationshipSince == F.t0 + 60 && reseller.delegatedAdminSince == F.t0 + 60 && reseller.role == .reseller)
        let provider = try #require(page.items.first { $0.partner.id == F.provider })
        #expect(provider.relationshipSince == F.t0 + 60 && provider.delegatedAdminSince == nil)
        #expect(try await store.partners(ofCustomer: "nobody", page: PageRequest()).items.isEmpty)
        #expect(try await store.partner(id: F.resellerA, ofCustomer: "c1") == reseller)
        #expect(try await store.partner(id: F.resellerB, ofCustomer: "c1") == nil, "a partner with nothing on c1")
        #expect(try await store.partner(id: F.resellerA, ofCustomer: "nobody") == nil, "another customer's partner")

        let first = try await store.partners(ofCustomer: "c1", page: PageRequest(limit: 1))
        let second = try await store.partners(ofCustomer: "c1", page: PageRequest(limit: 1, cursor: first.nextCursor))
        #expect(first.items.map(\.partner.id) == [F.provider] && second.items.map(\.partner.id) == [F.resellerA])
        #expect(second.nextCursor == nil, "a page past the last partner")
    }

    @Test("a relationship the customer ends keeps the DAP grant, which stays listed on both sides", arguments: StoreBackend.all)
    func customerEndedRelationshipKeepsDAP(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.acceptedWithDAP(store)
        let removal = try await store.removeRelationship(
            partnerID: F.resellerA, customerID: "c1", by: .customer, at: F.t0 + 99, actor: "u1")
        #expect(removal == RelationshipRemoval(removed: true, delegatedAdminRetained: true))
        #expect(try await store.hasDelegatedAdmin(partnerID: F.resellerA, customerID: "c1"), "ending the relationship removed DAP")

        let partners = try await store.partners(ofCustomer: "c1", page: PageRequest()).items
        let reseller = try #require(
            partners.first { $0.partner.id == F.resellerA }, "a partner keeping DAP vanished from the customer's list")
        #expect(reseller.relationshipSince == nil && reseller.delegatedAdminSince != nil)

        #expect(try await store.customers(ofPartner: F.resellerA, page: PageRequest()).items.isEmpty, "an ended relationship is listed")
        let retained = try await store.customers(ofPartner: F.resellerA, includeRetained: true, page: PageRequest()).items
        #expect(retained.map(\.customer.id) == ["c1"] && retained[0].relationshipActive == false && retained[0].delegatedAdminSince != nil)
        #expect(
            try await store.customers(ofPartner: F.provider, page: PageRequest()).items.map(\.customer.id) == ["c1"],
            "the provider's ended too")

        await expectStoreError(.notFound, "ending it twice") {
            try await store.removeRelationship(partnerID: F.resellerA, customerID: "c1", by: .customer, at: F.t0 + 100, actor: "u1")
        }
        let entries = try await store.auditLog(limit: 5)
        let entry = try #require(entries.first { $0.action == "relationship.removed" })
        #expect(entry.detail.contains("\"by\":\"customer\""), "the audit entry does not say which side: \(entry.detail)")
    }

    @Test("removing DAP keeps the relationship, and a second removal is notFound", arguments: StoreBackend.all)
    func dapRemovalKeepsRelationship(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.acceptedWithDAP(store)
        try await store.removeDelegatedAdmin(partnerID: F.resellerA, customerID: "c1", by: .customer, at: F.t0 + 99, actor: "u1")
        #expect(try await !store.hasDelegatedAdmin(partnerID: F.resellerA, customerID: "c1"))
        let customers = try await store.customers(ofPartner: F.resellerA, page: PageRequest()).items
        #expect(customers.map(\.customer.id) == ["c1"] && customers[0].delegatedAdminSince == nil, "the relationship went with DAP")
        await expectStoreError(.notFound, "removing DAP twice") {
            try await store.removeDelegatedAdmin(partnerID: F.resellerA, customerID: "c1", by: .customer, at: F.t0 + 100, actor: "u1")
        }
        await expectStoreError(.notFound, "the provider never held DAP") {
            try await store.removeDelegatedAdmin(partnerID: F.provider, customerID: "c1", by: .customer, at: F.t0 + 100, actor: "u1")
        }
    }

    @Test("a retained grant given up leaves both lists", arguments: StoreBackend.all)
    func givingUpARetainedGrant(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await Self.acceptedWithDAP(store)
        _ = try await store.removeRelationship(partnerID: F.resellerA, customerID: "c1", by: .partner, at: F.t0 + 99, actor: "cred")
        try await store.removeDelegatedAdmin(partnerID: F.resellerA, customerID: "c1", by: .partner, at: F.t0 + 100, actor: "cred")
        #expect(try await store.customers(ofPartner: F.resellerA, includeRetained: true, page: PageRequest()).items.isEmpty)
        #expect(try await store.partners(ofCustomer: "c1", page: PageRequest()).items.map(\.partner.id) == [F.provider])
    }

    @Test("retained and active customers page together by time, then id", arguments: StoreBackend.all)
    func retainedPaging(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        for (index, id) in ["c1", "c2", "c3"].enumerated() {
            try await F.addCustomer(store, id)
            try await store.addInvitation(F.invitation("inv\(id)", provider: nil))
            _ = try await store.accept(F.request("inv\(id)", customer: id, at: F.t0 + 10 + Int64(index)))
        }
        _ = try await store.removeRelationship(partnerID: F.resellerA, customerID: "c2", by: .customer, at: F.t0 + 50, actor: "u")
        var seen: [String] = []
        var page = PageRequest(limit: 1)
        while true {
            let result = try await store.customers(ofPartner: F.resellerA, includeRetained: true, page: page)
            seen += result.items.map(\.customer.id)
            guard let next = result.nextCursor else { break }
            page = PageRequest(limit: 1, cursor: next)
        }
        #expect(seen == ["c1", "c2", "c3"], "pages of one: \(seen)")
        await expectStoreError(.invalidCursor, "a cursor of the active-only list") {
            let active = try await store.customers(ofPartner: F.resellerA, page: PageRequest(limit: 1))
            return try await store.customers(
                ofPartner: F.resellerA, includeRetained: true, page: PageRequest(limit: 1, cursor: active.nextCursor))
        }
    }

    @Test("adding a new customer writes customer, admin, setup link and relationship in one transaction", arguments: StoreBackend.all)
    func addNewCustomer(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        let customer = Customer(id: "new1", name: "New One", domain: "new1.example", createdAt: F.t0)
        let admin = Self.person("admin-new1", .customer("new1"))
        try await store.addCustomer(
            NewCustomer(customer: customer, admin: admin, setupLink: Self.link("s1", user: admin.id), resellerID: F.resellerA),
            actor: "cred")
        #expect(try await store.customer(id: "new1", ofPartner: F.resellerA)?.role == .reseller)
        #expect(try await store.user(id: admin.id)?.tenant == .customer("new1"))
        #expect(try await store.setupLink(id: "s1")?.userID == admin.id)

        // A taken domain, then a taken admin email: nothing of either attempt stays.
        let again = Customer(id: "new2", name: "New Two", domain: "new1.example", createdAt: F.t0)
        await expectStoreError(.conflict, "a taken domain") {
            try await store.addCustomer(
                NewCustomer(customer: again, admin: Self.person("admin-new2", .customer("new2")), setupLink: nil, resellerID: F.resellerA),
                actor: "cred")
        }
        var clash = Self.person("admin-new3", .customer("new3"))
        clash.email = admin.email
        await expectStoreError(.conflict, "a taken admin email") {
            try await store.addCustomer(
                NewCustomer(
                    customer: Customer(id: "new3", name: "New Three", domain: "new3.example", createdAt: F.t0), admin: clash,
                    setupLink: Self.link("s3", user: clash.id), resellerID: F.resellerA),
                actor: "cred")
        }
        #expect(try await store.customer(id: "new2") == nil, "a refused customer was written")
        #expect(try await store.customer(id: "new3") == nil, "a refused customer was written")
        #expect(try await store.setupLink(id: "s3") == nil, "a refused customer's setup link was written")
        #expect(try await store.customers(ofPartner: F.resellerA, page: PageRequest()).items.map(\.customer.id) == ["new1"])
        await expectStoreError(.unknownPartner, "a provider cannot add customers") {
            try await store.addCustomer(
                NewCustomer(
                    customer: Customer(id: "new4", name: "Four", domain: "new4.example", createdAt: F.t0),
                    admin: Self.person("admin-new4", .customer("new4")), setupLink: nil, resellerID: F.provider),
                actor: "cred")
        }
    }

    @Test("a setup link works once, not after it expires, and not once a newer one is made", arguments: StoreBackend.all)
    func setupLinksWorkOnce(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        let user = Self.person("u1", .partner(F.resellerA), role: .adminAgent)
        try await store.addUser(user, setupLink: Self.link("s1", user: "u1"), actor: "cli")
        #expect(try await store.user(id: "u1")?.maySignIn == false, "a person without a password could sign in")

        let set = try await store.completeSetup(linkID: "s1", userID: "u1", passwordHash: "hash-1", at: F.t0 + 10)
        #expect(set.passwordHash == "hash-1" && set.maySignIn && set.sessionVersion == 1)
        await expectStoreError(.usedUp, "the same link twice") {
            try await store.completeSetup(linkID: "s1", userID: "u1", passwordHash: "hash-2", at: F.t0 + 11)
        }
        #expect(try await store.user(id: "u1")?.passwordHash == "hash-1", "a used link changed the password")

        // A reset: the old password stops working, sessions end, and only the newest link works.
        let reset = try await store.resetPassword(
            userID: "u1", setupLink: Self.link("s2", user: "u1", at: F.t0 + 20), at: F.t0 + 20, actor: "cli")
        #expect(reset.passwordHash.isEmpty && reset.sessionVersion == 2)
        _ = try await store.resetPassword(userID: "u1", setupLink: Self.link("s3", user: "u1", at: F.t0 + 21), at: F.t0 + 21, actor: "cli")
        await expectStoreError(.usedUp, "a link replaced by a newer one") {
            try await store.completeSetup(linkID: "s2", userID: "u1", passwordHash: "hash-3", at: F.t0 + 22)
        }
        await expectStoreError(.usedUp, "another user's id with this link") {
            try await store.completeSetup(linkID: "s3", userID: "someone", passwordHash: "hash-3", at: F.t0 + 22)
        }
        await expectStoreError(.usedUp, "an expired link") {
            try await store.completeSetup(linkID: "s3", userID: "u1", passwordHash: "hash-3", at: F.t0 + 21 + 72 * 3600)
        }
        _ = try await store.resetPassword(userID: "u1", setupLink: Self.link("s4", user: "u1", at: F.t0 + 30), at: F.t0 + 30, actor: "cli")
        #expect(try await store.completeSetup(linkID: "s4", userID: "u1", passwordHash: "hash-4", at: F.t0 + 31).passwordHash == "hash-4")
        await expectStoreError(.notFound, "resetting an unknown user") {
            try await store.resetPassword(userID: "nobody", setupLink: Self.link("s5", user: "nobody"), at: F.t0, actor: "cli")
        }
    }

    @Test("one setup link used by twenty requests at once sets the password once", arguments: StoreBackend.all)
    func setupLinkRace(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await store.addUser(Self.person("u1", .partner(F.resellerA)), setupLink: Self.link("s1", user: "u1"), actor: "cli")
        let outcomes = await withTaskGroup(of: String?.self) { group in
            for attempt in 0..<20 {
                group.addTask {
                    do {
                        return try await store.completeSetup(linkID: "s1", userID: "u1", passwordHash: "hash-\(attempt)", at: F.t0 + 1)
                            .passwordHash
                    } catch let error as StoreError where error.code == .usedUp {
                        return nil
                    } catch {
                        return "unexpected: \(error)"
                    }
                }
            }
            var all: [String?] = []
            for await outcome in group { all.append(outcome) }
            return all
        }
        let winners = outcomes.compactMap { $0 }
        #expect(winners.count == 1 && winners[0].hasPrefix("hash-"), "\(outcomes)")
        #expect(try await store.user(id: "u1")?.passwordHash == winners.first, "the stored password is not the winner's")
        #expect(try await store.user(id: "u1")?.sessionVersion == 1, "the session version rose more than once")
    }

    @Test("disabling ends sessions and setup links; enabling lets the person in again; both idempotent", arguments: StoreBackend.all)
    func disablingAUser(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await store.addUser(Self.person("u1", .partner(F.resellerA), hash: "h"), setupLink: Self.link("s1", user: "u1"), actor: "cli")
        let disabled = try await store.setDisabled(userID: "u1", disabled: true, at: F.t0 + 5, actor: "cli")
        #expect(disabled.disabledAt == F.t0 + 5 && disabled.sessionVersion == 1 && !disabled.maySignIn)
        let again = try await store.setDisabled(userID: "u1", disabled: true, at: F.t0 + 6, actor: "cli")
        #expect(again.disabledAt == F.t0 + 5 && again.sessionVersion == 1, "disabling twice changed the user")
        await expectStoreError(.usedUp, "a disabled person's setup link") {
            try await store.completeSetup(linkID: "s1", userID: "u1", passwordHash: "x", at: F.t0 + 7)
        }
        let enabled = try await store.setDisabled(userID: "u1", disabled: false, at: F.t0 + 8, actor: "cli")
        #expect(enabled.disabledAt == nil && enabled.maySignIn && enabled.sessionVersion == 1)
        await expectStoreError(.notFound, "an unknown user") {
            try await store.setDisabled(userID: "nobody", disabled: true, at: F.t0, actor: "cli")
        }
        let actions = try await store.auditLog(limit: 10).map(\.action)
        #expect(actions.filter { $0 == "user.disabled" }.count == 1 && actions.filter { $0 == "user.enabled" }.count == 1, "\(actions)")
    }

    @Test("a tenant's people are listed by email, a page at a time, and no other tenant's", arguments: StoreBackend.all)
    func usersOfATenant(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        for id in ["b", "a", "c"] { try await store.addUser(Self.person(id, .partner(F.resellerA), role: .salesAgent), actor: "cli") }
        try await store.addUser(Self.person("z", .partner(F.resellerB)), actor: "cli")
        let first = try await store.users(of: .partner(F.resellerA), page: PageRequest(limit: 2))
        let second = try await store.users(of: .partner(F.resellerA), page: PageRequest(limit: 2, cursor: first.nextCursor))
        #expect(first.items.map(\.id) == ["a", "b"] && second.items.map(\.id) == ["c"] && second.nextCursor == nil)
        #expect(try await store.users(of: .customer("c1"), page: PageRequest()).items.isEmpty)
    }
}
