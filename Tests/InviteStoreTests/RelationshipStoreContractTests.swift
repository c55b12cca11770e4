import InviteStore
import Testing

/// The behaviour every ``RelationshipStore`` must have, run against each backend of
/// ``StoreBackend/all``. A test here names no backend; what only one backend can show (its
/// durability settings, say) lives in that backend's own suite.
@Suite("RelationshipStore contract")
struct RelationshipStoreContractTests {
    typealias F = Fixtures

    // MARK: Schema

    @Test("migrating twice and again after reopening keeps the data", arguments: StoreBackend.all)
    func migrationsAreIdempotent(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        try await subject.store.migrate()
        try await F.seed(subject.store)
        try await subject.store.migrate()

        let reopened = try await subject.reopen()
        try await reopened.migrate()
        try await reopened.ping()
        #expect(try await reopened.partner(id: F.resellerA)?.name == "Reseller A", "a partner added before the re-migration is gone")
    }

    // MARK: Partners

    @Test("connect is idempotent and disconnect ends the connection", arguments: StoreBackend.all)
    func connectAndDisconnect(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await store.connect(resellerID: F.resellerA, providerID: F.provider, at: F.t0 + 1, actor: F.actor)
        #expect(
            try await store.providers(ofReseller: F.resellerA).map(\.id) == [F.provider],
            "connecting twice must leave one provider in the list")

        try await store.disconnect(resellerID: F.resellerA, providerID: F.provider, at: F.t0 + 2, actor: F.actor)
        #expect(
            try await store.isConnected(resellerID: F.resellerA, providerID: F.provider) == false,
            "still connected after disconnect")
        #expect(try await store.providers(ofReseller: F.resellerA).isEmpty, "a disconnected provider is still listed")

        try await store.connect(resellerID: F.resellerA, providerID: F.provider, at: F.t0 + 3, actor: F.actor)
        #expect(try await store.isConnected(resellerID: F.resellerA, providerID: F.provider), "reconnecting after a disconnect failed")
    }

    @Test("disconnecting partners that are not connected is notFound", arguments: StoreBackend.all)
    func disconnectUnconnected(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        await expectStoreError(.notFound, "reseller B was never connected") {
            try await store.disconnect(resellerID: F.resellerB, providerID: F.provider, at: F.t0, actor: F.actor)
        }
    }

    @Test("connect refuses missing partners and partners of the wrong kind", arguments: StoreBackend.all)
    func connectChecksPartners(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        await expectStoreError(.unknownPartner, "a missing provider") {
            try await store.connect(resellerID: F.resellerA, providerID: "prov_missing", at: F.t0, actor: F.actor)
        }
        await expectStoreError(.unknownPartner, "a provider given as the reseller") {
            try await store.connect(resellerID: F.otherProvider, providerID: F.provider, at: F.t0, actor: F.actor)
        }
    }

    // MARK: Duplicates

    @Test("a taken partner id is a conflict", arguments: StoreBackend.all)
    func duplicatePartner(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        await expectStoreError(.conflict, "second partner with id res_a") {
            try await store.addPartner(Partner(id: F.resellerA, name: "Other", kind: .provider, createdAt: F.t0), actor: F.actor)
        }
        #expect(try await store.partner(id: F.resellerA)?.name == "Reseller A", "the refused partner overwrote the first")
    }

    @Test("a taken customer id is a conflict", arguments: StoreBackend.all)
    func duplicateCustomer(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.addCustomer(store, "cus_1")
        await expectStoreError(.conflict, "second customer with id cus_1") {
            try await store.addCustomer(Customer(id: "cus_1", name: "Other", domain: "other.example", createdAt: F.t0), actor: F.actor)
        }
    }

    @Test("a user email taken in another case is a conflict", arguments: StoreBackend.all)
    func duplicateUserEmail(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.addCustomer(store, "cus_1")
        func user(_ id: String, _ email: String) -> User {
            User(
                id: id, tenant: .customer("cus_1"), email: email, role: .globalAdmin, passwordHash: "x",
                mustChangePassword: true, createdAt: F.t0)
        }
        try await store.addUser(user("usr_1", "Admin@Cus1.example"), actor: F.actor)
        await expectStoreError(.conflict, "the same email in lower case") {
            try await store.addUser(user("usr_2", "admin@cus1.example"), actor: F.actor)
        }
    }

    @Test("a taken invitation id is a conflict", arguments: StoreBackend.all)
    func duplicateInvitation(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await store.addInvitation(F.invitation("inv_1"))
        await expectStoreError(.conflict, "second invitation with id inv_1") {
            try await store.addInvitation(F.invitation("inv_1", provider: nil))
        }
    }

    // MARK: People and credentials

    @Test("users are found by email in any case, and password and sign-in state update", arguments: StoreBackend.all)
    func userLifecycle(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.addCustomer(store, "cus_1")
        try await store.addUser(
            User(
                id: "usr_1", tenant: .customer("cus_1"), email: "Admin@Cus1.Example", role: .globalAdmin,
                passwordHash: "old", mustChangePassword: true, createdAt: F.t0),
            actor: F.actor
        )
        #expect(try await store.user(email: "ADMIN@cus1.example")?.id == "usr_1", "look-up by email must ignore case")

        #expect(try await store.user(id: "usr_1")?.sessionVersion == 0)
        let changed = try await store.setPassword(userID: "usr_1", passwordHash: "new", at: F.t0 + 10)
        #expect(changed == (try await store.user(id: "usr_1")))
        #expect(
            changed.passwordHash == "new" && !changed.mustChangePassword && changed.sessionVersion == 1,
            "setPassword must store the hash, clear the one-time flag and raise the session version")
        #expect(try await store.setPassword(userID: "usr_1", passwordHash: "newer", at: F.t0 + 20).sessionVersion == 2)
    }

    // MARK: Bounded lists

    @Test("an invitation's acceptances: the first 10 on the record, all of them page by page", arguments: StoreBackend.all)
    func acceptancePages(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        try await store.addInvitation(F.invitation("inv_1", provider: nil, dap: false))
        for n in 0..<23 {
            try await F.addCustomer(store, "cus_\(n)")
            _ = try await store.accept(F.request("inv_1", customer: "cus_\(n)", at: F.t0 + Int64(n % 5)))
        }
        let record = try #require(try await store.invitation(id: "inv_1", resellerID: F.resellerA))
        #expect(record.invitation.useCount == 23)
        #expect(record.acceptances.count == InvitationRecord.acceptancePreview)
        let listed = try await store.invitations(resellerID: F.resellerA, page: PageRequest(limit: 10))
        #expect(listed.items.first { $0.invitation.id == "inv_1" }?.acceptances == record.acceptances)

        var seen: [String] = []
        var cursor: String?
        repeat {
            let page = try #require(
                try await store.acceptances(
                    invitationID: "inv_1", resellerID: F.resellerA, page: PageRequest(limit: 7, cursor: cursor)))
            #expect(page.items.count <= 7)
            seen += page.items.map(\.customerID)
            cursor = page.nextCursor
        } while cursor != nil
        #expect(Set(seen) == Set((0..<23).map { "cus_\($0)" }) && seen.count == 23, "\(seen)")
        let times = try #require(try await store.acceptances(invitationID: "inv_1", resellerID: F.resellerA, page: PageRequest(limit: 100)))
            .items.map(\.acceptedAt)
        #expect(times == times.sorted(), "not oldest first")
        #expect(Array(seen.prefix(InvitationRecord.acceptancePreview)) == record.acceptances.map(\.customerID))
        #expect(
            try await store.acceptances(invitationID: "inv_1", resellerID: F.resellerB, page: PageRequest(limit: 5)) == nil,
            "another reseller read the acceptances")
    }

    @Test("one customer of a partner, and names for many ids in one call", arguments: StoreBackend.all)
    func customerOfPartnerAndNames(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        try await F.addCustomer(store, "cus_2")
        try await store.addInvitation(F.invitation("inv_1", provider: nil))
        _ = try await store.accept(F.request("inv_1", customer: "cus_1"))
        #expect(try await store.customer(id: "cus_1", ofPartner: F.resellerA)?.customer.id == "cus_1")
        #expect(try await store.customer(id: "cus_2", ofPartner: F.resellerA) == nil, "a customer without a relationship")
        #expect(try await store.customer(id: "cus_1", ofPartner: F.resellerB) == nil, "another partner's customer")
        let names = try await store.displayNames(
            partnerIDs: [F.resellerA, "nobody"], customerIDs: ["cus_1", "cus_2"], userIDs: ["cred_x"])
        #expect(names.partners.count == 1 && names.partner("nobody") == "nobody")
        #expect(names.customers.count == 2)
        #expect(names.user("cred_x") == "cred_x")
    }

    // MARK: Sign-in limits

    static let limits = SignInLimits(failures: 5, window: 900, lockout: 900)
    static let lockEntry = AuditEntry(at: F.t0, actor: .system, action: "sign_in.locked", subject: "email")

    @Test("the fifth attempt locks the address; the lock ends and the count starts over", arguments: StoreBackend.all)
    func signInLockout(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        let email: [UInt8] = Array(repeating: 7, count: 32), other: [UInt8] = Array(repeating: 8, count: 32)
        let t = F.t0
        for failure in 1...5 {
            #expect(
                try await store.claimSignInAttempt(
                    emailDigest: email, now: t + Int64(failure), limits: Self.limits, lockEntry: Self.lockEntry)
                    == .allowed(failure: failure))
        }
        #expect(
            try await store.claimSignInAttempt(emailDigest: email, now: t + 6, limits: Self.limits, lockEntry: Self.lockEntry)
                == .locked(until: t + 5 + 900))
        #expect(
            try await store.claimSignInAttempt(emailDigest: other, now: t + 6, limits: Self.limits, lockEntry: Self.lockEntry)
                == .allowed(failure: 1))
        // Refused attempts do not extend the lock; when it ends the count starts over.
        #expect(
            try await store.claimSignInAttempt(emailDigest: email, now: t + 904, limits: Self.limits, lockEntry: Self.lockEntry)
                == .locked(until: t + 905))
        #expect(
            try await store.claimSignInAttempt(emailDigest: email, now: t + 905, limits: Self.limits, lockEntry: Self.lockEntry)
                == .allowed(failure: 1))
        #expect(
            try await store.claimSignInAttempt(emailDigest: email, now: t + 906, limits: Self.limits, lockEntry: Self.lockEntry)
                == .allowed(failure: 2))
        // A right password clears the count.
        try await store.signedIn(emailDigest: email, entry: AuditEntry(at: F.t0, actor: .system, action: "sign_in.succeeded", subject: "u"))
        #expect(
            try await store.claimSignInAttempt(emailDigest: email, now: t + 907, limits: Self.limits, lockEntry: Self.lockEntry)
                == .allowed(failure: 1))
    }

    @Test("failures older than the window no longer count", arguments: StoreBackend.all)
    func signInWindow(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        let email: [UInt8] = Array(repeating: 9, count: 32)
        for failure in 1...4 {
            #expect(
                try await store.claimSignInAttempt(emailDigest: email, now: F.t0, limits: Self.limits, lockEntry: Self.lockEntry)
                    == .allowed(failure: failure))
        }
        #expect(
            try await store.claimSignInAttempt(emailDigest: email, now: F.t0 + 900, limits: Self.limits, lockEntry: Self.lockEntry)
                == .allowed(failure: 1))
    }

    @Test("20 parallel attempts for one address: exactly 5 may check a password", arguments: StoreBackend.all)
    func signInRace(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        let email: [UInt8] = Array(repeating: 10, count: 32)
        let outcomes = try await withThrowingTaskGroup(of: SignInAttempt.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    try await store.claimSignInAttempt(emailDigest: email, now: F.t0, limits: Self.limits, lockEntry: Self.lockEntry)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let allowed = outcomes.compactMap { if case .allowed(let failure) = $0 { failure } else { nil } }
        #expect(allowed.sorted() == [1, 2, 3, 4, 5], "\(outcomes)")
        #expect(outcomes.filter { $0 == .locked(until: F.t0 + 900) }.count == 15, "\(outcomes)")
    }

    @Test("a role the tenant cannot hold is refused", arguments: StoreBackend.all)
    func userRoleMustFitTenant(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.addCustomer(store, "cus_1")
        await expectStoreError(.invalidInput, "admin-agent is a partner role") {
            try await store.addUser(
                User(
                    id: "usr_1", tenant: .customer("cus_1"), email: "a@b.example", role: .adminAgent,
                    passwordHash: "x", mustChangePassword: true, createdAt: F.t0),
                actor: F.actor
            )
        }
    }

    @Test("a credential is found by its secret hash until it is revoked", arguments: StoreBackend.all)
    func credentialLookupAndRevocation(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        let hash = [UInt8](repeating: 0xAB, count: 32)
        let credential = Credential(id: "crd_1", tenant: .partner(F.resellerA), role: .adminAgent, secretHash: hash, createdAt: F.t0)
        try await store.addCredential(credential, actor: F.actor)
        #expect(
            try await store.principal(secretHash: hash)?.credential == credential, "the credential read back differs from the one added")
        #expect(try await store.principal(secretHash: [UInt8](repeating: 0xAC, count: 32)) == nil, "another hash matched")

        try await store.revokeCredential(id: "crd_1", at: F.t0 + 5, actor: F.actor)
        #expect(try await store.principal(secretHash: hash) == nil, "a revoked credential still authenticates")
        try await store.revokeCredential(id: "crd_1", at: F.t0 + 6, actor: F.actor)
        await expectStoreError(.notFound, "revoking an unknown credential") {
            try await store.revokeCredential(id: "crd_missing", at: F.t0, actor: F.actor)
        }
    }

    @Test(
        "a principal is the credential with its partner's record, none for a customer's, nothing once revoked", arguments: StoreBackend.all)
    func principalLookup(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        let partnerHash = [UInt8](repeating: 0xA1, count: 32), customerHash = [UInt8](repeating: 0xA2, count: 32)
        let partnerCredential = Credential(
            id: "crd_p", tenant: .partner(F.resellerA), role: .adminAgent, secretHash: partnerHash, createdAt: F.t0)
        try await store.addCredential(partnerCredential, actor: F.actor)
        try await store.addCustomer(Customer(id: "cus_1", name: "Customer 1", domain: "c1.example", createdAt: F.t0), actor: F.actor)
        let customerCredential = Credential(
            id: "crd_c", tenant: .customer("cus_1"), role: .globalAdmin, secretHash: customerHash, createdAt: F.t0)
        try await store.addCredential(customerCredential, actor: F.actor)

        let reseller = try #require(try await store.partner(id: F.resellerA))
        #expect(
            try await store.principal(secretHash: partnerHash) == Principal(credential: partnerCredential, partner: reseller),
            "a partner's credential comes without its partner, or with another")
        #expect(
            try await store.principal(secretHash: customerHash) == Principal(credential: customerCredential, partner: nil),
            "a customer's credential comes with a partner")
        #expect(try await store.principal(secretHash: [UInt8](repeating: 0xA3, count: 32)) == nil, "another hash matched")
        try await store.revokeCredential(id: "crd_p", at: F.t0 + 5, actor: F.actor)
        #expect(try await store.principal(secretHash: partnerHash) == nil, "a revoked credential still authenticates")
    }

    @Test(
        "a signed-out session stays revoked until its expiry, twice is harmless, and expired ones are forgotten",
        arguments: StoreBackend.all)
    func revokedSessions(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        let first = [UInt8](repeating: 0x51, count: 32), second = [UInt8](repeating: 0x52, count: 32)
        #expect(try await store.isSessionRevoked(digest: first) == false, "a session never signed out is revoked")
        try await store.revokeSession(digest: first, expiresAt: F.t0 + 100, now: F.t0)
        try await store.revokeSession(digest: first, expiresAt: F.t0 + 100, now: F.t0 + 1)
        #expect(try await store.isSessionRevoked(digest: first), "a signed-out session is not revoked")
        #expect(try await store.isSessionRevoked(digest: second) == false, "another session is revoked too")
        // Revoking another session after the first one's expiry forgets the first.
        try await store.revokeSession(digest: second, expiresAt: F.t0 + 500, now: F.t0 + 100)
        #expect(try await store.isSessionRevoked(digest: first) == false, "an expired revocation was kept")
        #expect(try await store.isSessionRevoked(digest: second), "the new revocation is missing")
    }

    @Test("a second credential with the same secret hash is a conflict", arguments: StoreBackend.all)
    func duplicateCredentialHash(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        let hash = [UInt8](repeating: 1, count: 32)
        try await store.addCredential(
            Credential(id: "crd_1", tenant: .partner(F.resellerA), role: .globalAdmin, secretHash: hash, createdAt: F.t0), actor: F.actor)
        await expectStoreError(.conflict, "same secret hash under a new id") {
            try await store.addCredential(
                Credential(id: "crd_2", tenant: .partner(F.resellerB), role: .globalAdmin, secretHash: hash, createdAt: F.t0),
                actor: F.actor)
        }
    }

    // MARK: Invitations

    @Test("an invitation naming an unconnected provider is refused and not recorded", arguments: StoreBackend.all)
    func invitationWithUnconnectedProvider(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        await expectStoreError(.providerNotConnected, "reseller A is not connected to provider Y") {
            try await store.addInvitation(F.invitation("inv_1", provider: F.otherProvider))
        }
        #expect(try await store.invitation(id: "inv_1") == nil, "the refused invitation was recorded")
    }

    @Test("an invitation of a reseller not in the database is recorded; accepting it is unknownPartner", arguments: StoreBackend.all)
    func invitationOfMissingReseller(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        // The CLI may mint links ahead of the reseller's record (DESIGN.md §5: "the reseller
        // and provider exist" is checked at acceptance time).
        try await store.addInvitation(F.invitation("inv_1", provider: nil))
        #expect(try await store.invitation(id: "inv_1") != nil, "the invitation was not recorded")
        _ = try await F.addCustomer(store, "cust_1")
        await expectStoreError(.unknownPartner, "no partners exist") {
            _ = try await store.accept(F.request("inv_1", customer: "cust_1"))
        }
        #expect(try await store.invitation(id: "inv_1")?.useCount == 0, "a failed acceptance used the invitation")
    }

    // MARK: Acceptance

    @Test("accepting creates the reseller and provider relationships and the DAP grant", arguments: StoreBackend.all)
    func acceptCreatesEverything(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        try await store.addInvitation(F.invitation("inv_1", dap: true))

        let acceptance = try await store.accept(F.request("inv_1", customer: "cus_1"))
        #expect(
            acceptance.relationships == [
                RelationshipOutcome(partnerID: F.resellerA, role: .reseller, created: true),
                RelationshipOutcome(partnerID: F.provider, role: .provider, created: true),
            ], "the answer must list both relationships as created")
        #expect(acceptance.delegatedAdmin, "the answer must say DAP was granted")

        let resellerCustomers = try await store.customers(ofPartner: F.resellerA, page: PageRequest()).items
        #expect(
            resellerCustomers.map(\.customer.id) == ["cus_1"] && resellerCustomers.first?.delegatedAdminSince == F.t0 + 60,
            "the reseller must list the customer with DAP since the acceptance")
        #expect(
            try await store.customers(ofPartner: F.provider, page: PageRequest()).items.map(\.role) == [.provider],
            "the provider must list the customer in the provider role")
        #expect(try await store.hasDelegatedAdmin(partnerID: F.resellerA, customerID: "cus_1"), "no DAP grant")
        #expect(try await store.invitation(id: "inv_1")?.useCount == 1, "use_count must be 1")

        let actions = try await store.auditLog(limit: 10).map(\.action)
        #expect(
            actions.filter { $0 == "relationship.created" }.count == 2 && actions.contains("dap.granted")
                && actions.contains("invitation.accepted"), "audit entries missing: \(actions)")
    }

    @Test("the terms a request states decide nothing: the stored invitation's do", arguments: StoreBackend.all)
    func acceptanceTermsDecideNothing(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        for id in ["cus_1", "cus_2"] { try await F.addCustomer(store, id) }
        // Issued for the reseller alone, without DAP; the requests state the default terms
        // (with the provider and DAP), or none.
        try await store.addInvitation(F.invitation("inv_1", provider: nil, dap: false))
        let expected = [RelationshipOutcome(partnerID: F.resellerA, role: .reseller, created: true)]
        for (customer, terms) in [("cus_1", F.defaultTerms), ("cus_2", nil)] {
            let acceptance = try await store.accept(F.request("inv_1", customer: customer, terms: terms))
            #expect(acceptance.relationships == expected && !acceptance.delegatedAdmin, "terms \(String(describing: terms))")
            #expect(
                try await store.customers(ofPartner: F.provider, page: PageRequest()).items.isEmpty,
                "a provider relationship the invitation does not ask for")
            #expect(!(try await store.hasDelegatedAdmin(partnerID: F.resellerA, customerID: customer)), "a DAP grant not asked for")
            let again = try await store.accept(F.request("inv_1", customer: customer, terms: F.defaultTerms))
            #expect(again.isRepeat && again == acceptance, "the repeat must give the stored answer")
        }
        #expect(try await store.invitation(id: "inv_1")?.useCount == 2)
    }

    @Test("a write that confirms a credential refuses a revoked one first and writes nothing", arguments: StoreBackend.all)
    func writesConfirmCredentials(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        for id in ["cus_1", "cus_2"] { try await F.addCustomer(store, id) }
        for (id, tenant) in [("cred_r", Tenant.partner(F.resellerA)), ("cred_c", .customer("cus_1"))] {
            try await store.addCredential(
                Credential(
                    id: id, tenant: tenant, role: .globalAdmin, secretHash: Array(id.utf8) + [UInt8](repeating: 0, count: 26),
                    createdAt: F.t0),
                actor: F.actor)
        }
        try await store.addInvitation(F.invitation("inv_1"), confirmingCredential: "cred_r")
        var accept = F.request("inv_1", customer: "cus_1")
        accept.confirmingCredential = "cred_c"
        let first = try await store.accept(accept)
        #expect(!first.isRepeat)

        try await store.revokeCredential(id: "cred_r", at: F.t0 + 1, actor: F.actor)
        try await store.revokeCredential(id: "cred_c", at: F.t0 + 1, actor: F.actor)
        let auditBefore = try await subject.count(.audit_log)
        // Refused before the taken id (a conflict) and the unconnected provider would be.
        for invitation in [F.invitation("inv_1"), F.invitation("inv_2", provider: "prov_nobody"), F.invitation("inv_3")] {
            await expectStoreError(.credentialRevoked, "issuance by a revoked credential") {
                try await store.addInvitation(invitation, confirmingCredential: "cred_r")
            }
        }
        await expectStoreError(.credentialRevoked, "issuance by an unknown credential") {
            try await store.addInvitation(F.invitation("inv_4"), confirmingCredential: "cred_unknown")
        }
        #expect(try await store.invitation(id: "inv_3") == nil, "an invitation recorded for a revoked credential")
        // Refused before the repeat's stored answer, with the token's terms (PostgreSQL's one
        // statement) and without (its facts-first path).
        for (customer, terms) in [("cus_1", F.defaultTerms), ("cus_2", F.defaultTerms), ("cus_2", nil)] {
            var request = F.request("inv_1", customer: customer, terms: terms)
            request.confirmingCredential = "cred_c"
            await expectStoreError(.credentialRevoked, "acceptance by a revoked credential, \(customer)") {
                try await store.accept(request)
            }
        }
        #expect(try await subject.count(.relationships) == 2, "a relationship written for a revoked credential")
        #expect(try await subject.count(.audit_log) == auditBefore, "an audit entry written for a revoked credential")
        #expect(try await store.invitation(id: "inv_1")?.useCount == 1)
        // Not asked to confirm, the same calls go on as before.
        try await store.addInvitation(F.invitation("inv_3"))
        #expect(try await store.accept(F.request("inv_1", customer: "cus_2")).relationships.allSatisfy(\.created))
    }

    @Test("issuances made at once each get the answer they would get one after another", arguments: StoreBackend.all)
    func concurrentIssuances(backend: StoreBackend) async throws {
        // PostgreSQL records issuances made at once in shared statements: one refused must not
        // refuse, or record, another.
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        for id in ["cred_live", "cred_gone"] {
            try await store.addCredential(
                Credential(
                    id: id, tenant: .partner(F.resellerA), role: .globalAdmin,
                    secretHash: Array(id.utf8) + [UInt8](repeating: 0, count: 23), createdAt: F.t0),
                actor: F.actor)
        }
        try await store.revokeCredential(id: "cred_gone", at: F.t0, actor: F.actor)
        try await store.addInvitation(F.invitation("inv_taken"))
        let auditBefore = try await subject.count(.audit_log)
        var calls: [(invitation: Invitation, credential: String?, refusal: StoreError.Code?)] = []
        for i in 0..<16 {
            var invitation = F.invitation("inv_ok_\(i)", provider: i.isMultiple(of: 2) ? F.provider : nil, maxUses: i % 3 == 0 ? nil : i)
            invitation.customerEmail = i.isMultiple(of: 4) ? "buyer\(i)@example.com" : nil
            calls.append((invitation, i < 8 ? "cred_live" : nil, nil))
        }
        for i in 0..<4 {
            calls.append((F.invitation("inv_taken"), "cred_live", .conflict))
            calls.append((F.invitation("inv_far_\(i)", provider: F.otherProvider), "cred_live", .providerNotConnected))
            calls.append((F.invitation("inv_nobody_\(i)", provider: "prov_nobody"), nil, .unknownPartner))
            calls.append((F.invitation("inv_gone_\(i)"), "cred_gone", .credentialRevoked))
            // Empty strings are values, not "none".
            calls.append((F.invitation("inv_blank_provider_\(i)", provider: ""), nil, .unknownPartner))
            calls.append((F.invitation("inv_blank_credential_\(i)"), "", .credentialRevoked))
        }
        var blankEmail = F.invitation("inv_blank_email")
        blankEmail.customerEmail = ""
        calls.append((blankEmail, "cred_live", nil))
        // One new id issued twice at once: one is recorded, the other is a conflict.
        calls += [(F.invitation("inv_twice"), "cred_live", nil), (F.invitation("inv_twice"), "cred_live", nil)]
        calls.shuffle()
        let outcomes = await withTaskGroup(of: (Int, StoreError.Code?).self) { group in
            for (index, call) in calls.enumerated() {
                group.addTask {
                    do {
                        try await store.addInvitation(call.invitation, confirmingCredential: call.credential)
                        return (index, nil)
                    } catch let error as StoreError {
                        return (index, error.code)
                    } catch {
                        return (index, .unavailable)
                    }
                }
            }
            var outcomes = [Int: StoreError.Code?]()
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
        var twins: [StoreError.Code?] = []
        for (index, call) in calls.enumerated() {
            let outcome = outcomes[index] ?? .unavailable
            if call.invitation.id == "inv_twice" {
                twins.append(outcome)
                continue
            }
            #expect(outcome == call.refusal, "\(call.invitation.id) by \(call.credential ?? "no credential")")
            if call.refusal == nil {
                let recorded = try await store.invitation(id: call.invitation.id)
                #expect(recorded == call.invitation, "\(call.invitation.id) recorded as \(String(describing: recorded))")
            } else if call.invitation.id != "inv_taken" {
                #expect(try await store.invitation(id: call.invitation.id) == nil, "refused \(call.invitation.id) recorded")
            }
        }
        #expect(twins.filter { $0 == nil }.count == 1 && twins.filter { $0 == .conflict }.count == 1, "inv_twice: \(twins)")
        #expect(try await subject.count(.audit_log) == auditBefore + 18, "one audit entry per recorded issuance")
    }

    @Test("an acceptance that fails at its last step leaves nothing behind", arguments: StoreBackend.all)
    func acceptanceRollsBackWhole(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        // Limited, so that the use is counted by the acceptance's own writes on every backend.
        try await store.addInvitation(F.invitation("inv_1", dap: true, maxUses: 5))
        let auditBefore = try await subject.count(.audit_log)
        // The acceptance row is written last; failing there means every earlier write must go.
        for sql in subject.failAcceptanceInserts { try await subject.execute(sql) }

        await expectStoreError(.unavailable, "the injected failure did not surface as unavailable") {
            try await store.accept(F.request("inv_1", customer: "cus_1"))
        }
        #expect(try await subject.count(.relationships) == 0, "relationships survived the rollback")
        #expect(try await subject.count(.dap_grants) == 0, "the DAP grant survived the rollback")
        #expect(try await subject.count(.audit_log) == auditBefore, "audit entries survived the rollback")
        #expect(try await subject.scalar("SELECT use_count FROM invitations WHERE id = 'inv_1'") == "0", "the use survived the rollback")
        #expect(try await store.invitation(id: "inv_1")?.useCount == 0, "the use survived the rollback")
    }

    @Test("a repeated acceptance answers identically and creates nothing twice", arguments: StoreBackend.all)
    func repeatedAcceptance(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        try await store.addInvitation(F.invitation("inv_1", maxUses: 1))

        let first = try await store.accept(F.request("inv_1", customer: "cus_1"))
        // Later, after the link was revoked and with its one use spent, the customer retries.
        _ = try await store.revokeInvitation(id: "inv_1", resellerID: F.resellerA, at: F.t0 + 100, actor: F.actor)
        let again = try await store.accept(F.request("inv_1", customer: "cus_1", at: F.t0 + 200))

        #expect(again == first, "the repeat must return the first answer unchanged")
        // `==` compares answers, not how they came about: the flag is checked on its own
        // (it decides what `invitelink_acceptances_total` counts).
        #expect(!first.isRepeat, "a first acceptance was marked as a repeat")
        #expect(again.isRepeat, "a repeated acceptance was not marked as a repeat")
        #expect(try await subject.count(.relationships) == 2, "relationships were created twice")
        #expect(try await subject.count(.dap_grants) == 1, "the DAP grant was created twice")
        #expect(try await store.invitation(id: "inv_1")?.useCount == 1, "the repeat counted as a use")
    }

    @Test("100 customers racing for a single-use invitation: exactly one wins", arguments: StoreBackend.all)
    func singleUseRace(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        let customers = (0..<100).map { "cus_\($0)" }
        for id in customers { try await F.addCustomer(store, id) }
        try await store.addInvitation(F.invitation("inv_1", maxUses: 1))

        let outcomes = await withTaskGroup(of: Result<Acceptance, any Error>.self) { group in
            for id in customers {
                group.addTask {
                    do {
                        return .success(try await store.accept(F.request("inv_1", customer: id)))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }

        let winners = outcomes.compactMap { try? $0.get() }
        let usedUp = outcomes.filter { if case .failure(let e as StoreError) = $0 { e.code == .usedUp } else { false } }
        #expect(winners.count == 1, "exactly one acceptance must succeed, not \(winners.count)")
        #expect(usedUp.count == 99, "every other one must be used_up, got \(usedUp.count)")
        #expect(try await subject.count(.relationships) == 2, "one reseller and one provider relationship, no more")
        #expect(try await subject.count(.acceptances) == 1, "one acceptance row")
        #expect(
            try await store.customers(ofPartner: F.resellerA, page: PageRequest()).items.map(\.customer.id)
                == winners.map(\.customerID), "the reseller must list the winner and nobody else")
    }

    @Test("50 customers accepting one unlimited invitation at once: 50 acceptances, 50 uses", arguments: StoreBackend.all)
    func unlimitedRace(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        let customers = (0..<50).map { "cus_\($0)" }
        for id in customers { try await F.addCustomer(store, id) }
        try await store.addInvitation(F.invitation("inv_1", dap: true))

        let answers = try await withThrowingTaskGroup(of: Acceptance.self) { group in
            for id in customers { group.addTask { try await store.accept(F.request("inv_1", customer: id)) } }
            return try await group.reduce(into: []) { $0.append($1) }
        }

        #expect(answers.count == 50 && Set(answers.map(\.customerID)) == Set(customers), "every customer must get its own answer")
        #expect(
            answers.allSatisfy { $0.relationships.allSatisfy(\.created) && $0.delegatedAdmin && !$0.isRepeat },
            "every first acceptance must create both relationships and grant DAP")
        #expect(try await subject.count(.acceptances) == 50, "one acceptance row per customer")
        #expect(try await subject.count(.relationships) == 100, "a reseller and a provider relationship per customer")
        #expect(try await subject.count(.dap_grants) == 50, "one DAP grant per customer")
        #expect(try await store.invitation(id: "inv_1")?.useCount == 50, "the invitation must read 50 uses")
        let record = try await store.invitation(id: "inv_1", resellerID: F.resellerA)
        #expect(
            record?.invitation.useCount == 50 && record?.acceptances.count == InvitationRecord.acceptancePreview,
            "the record must read 50 uses and carry the first acceptances")
        let all = try await store.acceptances(invitationID: "inv_1", resellerID: F.resellerA, page: PageRequest(limit: 100))
        #expect(all?.items.count == 50, "the acceptances list must hold all 50")
        #expect(
            try await store.invitations(resellerID: F.resellerA, page: PageRequest()).items.first?.invitation.useCount == 50,
            "the list must read 50 uses")
    }

    @Test("acceptances racing a revocation: each succeeds whole or is revoked with nothing written", arguments: StoreBackend.all)
    func acceptanceRacingRevocation(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        let customers = (0..<30).map { "cus_\($0)" }
        for id in customers { try await F.addCustomer(store, id) }
        try await store.addInvitation(F.invitation("inv_1", dap: true))

        let accept: @Sendable (String) async throws -> (String, Result<Acceptance, StoreError>) = { id in
            do {
                return (id, .success(try await store.accept(F.request("inv_1", customer: id))))
            } catch let error as StoreError {
                return (id, .failure(error))
            }
        }
        // The first half is in flight while the link is revoked; the second half starts after.
        let (outcomes, revoked) = try await withThrowingTaskGroup(of: (String, Result<Acceptance, StoreError>).self) { group in
            for id in customers.prefix(15) { group.addTask { try await accept(id) } }
            let revoked = try await store.revokeInvitation(id: "inv_1", resellerID: F.resellerA, at: F.t0 + 60, actor: F.actor)
            for id in customers.dropFirst(15) { group.addTask { try await accept(id) } }
            return (try await group.reduce(into: []) { $0.append($1) }, revoked)
        }

        var accepted = 0
        for (id, outcome) in outcomes {
            let rows = try await subject.scalar(
                """
                SELECT (SELECT count(*) FROM acceptances WHERE customer_id = '\(id)')
                     + (SELECT count(*) FROM relationships WHERE customer_id = '\(id)')
                     + (SELECT count(*) FROM dap_grants WHERE customer_id = '\(id)')
                """)
            switch outcome {
            case .success(let acceptance):
                accepted += 1
                #expect(
                    acceptance.relationships.allSatisfy(\.created) && acceptance.relationships.count == 2 && acceptance.delegatedAdmin,
                    "\(id) succeeded without both relationships and DAP")
                #expect(
                    rows == "4",
                    "\(id) succeeded, so its acceptance, two relationships and DAP grant must be stored, not \(rows ?? "nil") rows")
            case .failure(let error):
                #expect(error.code == .revoked, "\(id) failed with \(error), not revoked")
                #expect(rows == "0", "\(id) was refused, yet \(rows ?? "nil") rows were written for it")
            }
        }
        #expect(outcomes.count == 30, "every acceptance must answer")
        let late = Set(customers.dropFirst(15))
        #expect(
            outcomes.filter { late.contains($0.0) }.allSatisfy { if case .failure = $0.1 { true } else { false } },
            "an acceptance that started after the revocation returned succeeded")
        #expect(revoked.useCount == accepted, "the revocation must report the \(accepted) uses before it, not \(revoked.useCount)")
        #expect(try await store.invitation(id: "inv_1")?.useCount == accepted, "the use count must equal the successful acceptances")
        #expect(try await subject.count(.acceptances) == accepted, "one acceptance row per success, none for a refusal")
    }

    @Test("one customer accepting 20 times at once gets 20 equal answers", arguments: StoreBackend.all)
    func sameCustomerRace(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        try await store.addInvitation(F.invitation("inv_1"))

        let answers = try await withThrowingTaskGroup(of: Acceptance.self) { group in
            for second in 0..<20 {
                group.addTask { try await store.accept(F.request("inv_1", customer: "cus_1", at: F.t0 + 60 + UnixTime(second))) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }

        #expect(
            answers.count == 20 && Set(answers.map(\.acceptedAt)).count == 1 && answers.allSatisfy { $0 == answers[0] },
            "all 20 answers must be the first one")
        #expect(try await subject.count(.relationships) == 2, "relationships were created more than once")
        #expect(try await store.invitation(id: "inv_1")?.useCount == 1, "use_count must count the customer once")
    }

    @Test("a provider disconnected before acceptance: providerNotConnected and nothing created", arguments: StoreBackend.all)
    func disconnectedBeforeAcceptance(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let store = subject.store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        try await store.addInvitation(F.invitation("inv_1", dap: true))
        try await store.disconnect(resellerID: F.resellerA, providerID: F.provider, at: F.t0 + 30, actor: F.actor)

        await expectStoreError(.providerNotConnected, "the reseller left the provider before the customer accepted") {
            try await store.accept(F.request("inv_1", customer: "cus_1"))
        }
        #expect(try await subject.count(.relationships) == 0, "a relationship was created")
        #expect(try await subject.count(.dap_grants) == 0, "a DAP grant was created")
        #expect(try await subject.count(.acceptances) == 0, "an acceptance was recorded")
        #expect(try await store.invitation(id: "inv_1")?.useCount == 0, "a use was counted")
    }

    @Test("a revoked invitation cannot be accepted", arguments: StoreBackend.all)
    func revokedInvitation(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        try await store.addInvitation(F.invitation("inv_1"))
        let revoked = try await store.revokeInvitation(id: "inv_1", resellerID: F.resellerA, at: F.t0 + 10, actor: F.actor)
        let again = try await store.revokeInvitation(id: "inv_1", resellerID: F.resellerA, at: F.t0 + 20, actor: F.actor)
        #expect(revoked.revokedAt == F.t0 + 10 && again == revoked, "revoking twice must keep the first revocation")

        await expectStoreError(.revoked, "accepting after revocation") {
            try await store.accept(F.request("inv_1", customer: "cus_1"))
        }
    }

    @Test("unknown invitation and unknown customer are refused by code", arguments: StoreBackend.all)
    func unknownInvitationOrCustomer(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await store.addInvitation(F.invitation("inv_1"))
        await expectStoreError(.unknownInvitation, "no invitation inv_missing") {
            try await store.accept(F.request("inv_missing", customer: "cus_1"))
        }
        await expectStoreError(.unknownCustomer, "no customer cus_missing") {
            try await store.accept(F.request("inv_1", customer: "cus_missing"))
        }
    }

    // MARK: Removal

    @Test("removing the reseller's relationship keeps DAP and the provider's relationship", arguments: StoreBackend.all)
    func removalKeepsDAPAndProvider(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        try await store.addInvitation(F.invitation("inv_1", dap: true))
        _ = try await store.accept(F.request("inv_1", customer: "cus_1"))

        let removal = try await store.removeRelationship(partnerID: F.resellerA, customerID: "cus_1", at: F.t0 + 100, actor: F.actor)
        #expect(removal == RelationshipRemoval(removed: true, delegatedAdminRetained: true), "the removal answer is wrong")
        #expect(
            try await store.customers(ofPartner: F.resellerA, page: PageRequest()).items.isEmpty, "the reseller still lists the customer")
        #expect(
            try await store.customers(ofPartner: F.provider, page: PageRequest()).items.count == 1, "the provider's relationship went too")
        #expect(try await store.hasDelegatedAdmin(partnerID: F.resellerA, customerID: "cus_1"), "the DAP grant was removed")
        #expect(try await store.auditLog(limit: 1).first?.action == "relationship.removed", "no relationship.removed audit entry")
        await expectStoreError(.notFound, "removing an already removed relationship") {
            try await store.removeRelationship(partnerID: F.resellerA, customerID: "cus_1", at: F.t0 + 101, actor: F.actor)
        }
    }

    // MARK: Isolation

    @Test("reseller B cannot see, revoke or remove what belongs to reseller A", arguments: StoreBackend.all)
    func tenantIsolation(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await F.addCustomer(store, "cus_1")
        try await store.addInvitation(F.invitation("inv_1"))
        _ = try await store.accept(F.request("inv_1", customer: "cus_1"))

        #expect(try await store.invitation(id: "inv_1", resellerID: F.resellerB) == nil, "B sees A's invitation by id")
        #expect(try await store.invitations(resellerID: F.resellerB, page: PageRequest()).items.isEmpty, "B's list shows A's invitation")
        #expect(try await store.customers(ofPartner: F.resellerB, page: PageRequest()).items.isEmpty, "B's customers show A's customer")
        await expectStoreError(.notFound, "B revoking A's invitation") {
            try await store.revokeInvitation(id: "inv_1", resellerID: F.resellerB, at: F.t0 + 10, actor: "cred_b")
        }
        await expectStoreError(.notFound, "B removing A's relationship") {
            try await store.removeRelationship(partnerID: F.resellerB, customerID: "cus_1", at: F.t0 + 10, actor: "cred_b")
        }
        #expect(try await store.invitation(id: "inv_1")?.revokedAt == nil, "B's refused revocation revoked it anyway")
        #expect(
            try await store.customers(ofPartner: F.resellerA, page: PageRequest()).items.count == 1,
            "B's refused removal removed A's relationship")
    }

    // MARK: Pagination

    @Test("customer pages walk every active relationship exactly once, oldest first", arguments: StoreBackend.all)
    func customerPagination(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        try await store.addInvitation(F.invitation("inv_1", provider: nil, dap: false))
        var expected: [String] = []
        for index in 0..<7 {
            let id = "cus_\(index)"
            try await F.addCustomer(store, id)
            // Pairs share a timestamp, so the tie-breaker is exercised.
            _ = try await store.accept(F.request("inv_1", customer: id, at: F.t0 + UnixTime(index / 2)))
            expected.append(id)
        }

        var seen: [String] = []
        var pages = 0
        var cursor: String?
        repeat {
            let page = try await store.customers(ofPartner: F.resellerA, page: PageRequest(limit: 3, cursor: cursor))
            seen += page.items.map(\.customer.id)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen == expected, "pages must hold every customer once, oldest first")
        #expect(pages == 3, "7 customers in pages of 3 take 3 pages, not \(pages)")
    }

    @Test("invitation pages walk every invitation exactly once, newest first", arguments: StoreBackend.all)
    func invitationPagination(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        for index in 0..<5 {
            try await store.addInvitation(F.invitation("inv_\(index)", issuedAt: F.t0 + UnixTime(index / 2)))
        }
        try await store.addInvitation(F.invitation("inv_b", reseller: F.resellerB, provider: nil))

        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            let page = try await store.invitations(resellerID: F.resellerA, page: PageRequest(limit: 2, cursor: cursor))
            seen += page.items.map(\.invitation.id)
            cursor = page.nextCursor
            pages += 1
        } while cursor != nil && pages < 10
        #expect(seen == ["inv_4", "inv_3", "inv_2", "inv_1", "inv_0"], "pages must hold A's invitations once, newest first")
    }

    @Test("a page limit out of range is clamped to 1…200, so a page is never empty before the end")
    func outOfRangeLimit() {
        #expect(PageRequest(limit: 0).limit == 1, "limit 0 must act as 1")
        #expect(PageRequest(limit: -5).limit == 1, "a negative limit must act as 1")
        #expect(PageRequest(limit: 10_000).limit == PageRequest.maximumLimit, "a huge limit must act as the maximum")
    }

    @Test("a cursor the store did not hand out is invalidCursor", arguments: StoreBackend.all)
    func garbageCursor(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        try await F.seed(store)
        for index in 0..<3 { try await store.addInvitation(F.invitation("inv_\(index)")) }
        let invitationCursor = try #require(
            try await store.invitations(resellerID: F.resellerA, page: PageRequest(limit: 1)).nextCursor,
            "three invitations in pages of one must give a next cursor"
        )
        await expectStoreError(.invalidCursor, "a cursor that is not base64url") {
            try await store.customers(ofPartner: F.resellerA, page: PageRequest(cursor: "not a cursor!"))
        }
        await expectStoreError(.invalidCursor, "an invitation cursor used for customers") {
            try await store.customers(ofPartner: F.resellerA, page: PageRequest(cursor: invitationCursor))
        }
        await expectStoreError(.invalidCursor, "an invitation cursor with a character cut off") {
            try await store.invitations(resellerID: F.resellerA, page: PageRequest(cursor: String(invitationCursor.dropLast())))
        }
    }

    // MARK: Audit

    @Test("the audit log refuses UPDATE and DELETE", arguments: StoreBackend.all)
    func auditLogIsAppendOnly(backend: StoreBackend) async throws {
        let subject = try await backend.make()
        let entry = AuditEntry(at: F.t0, actor: .cli, action: "key.rotated", subject: "k2", detail: "{}")
        try await subject.store.appendAudit(entry)

        await #expect(throws: (any Error).self, "UPDATE of audit_log succeeded") {
            try await subject.execute("UPDATE audit_log SET actor = 'mallory'")
        }
        await #expect(throws: (any Error).self, "DELETE from audit_log succeeded") {
            try await subject.execute("DELETE FROM audit_log")
        }
        var stored = try #require(try await subject.store.auditLog(limit: 10).first, "the appended entry is missing")
        #expect(stored.seq != nil, "a stored entry must carry its seq")
        stored.seq = nil
        #expect(stored == entry, "the entry changed")
    }
}
