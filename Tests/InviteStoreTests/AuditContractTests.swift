import Foundation
import InviteCrypto
import InviteService
import InviteStore
import InviteToken
import Testing

/// The audit trail (DESIGN.md §8) on every backend: one entry per change, with actor, subject
/// and scope and no secret; and a sealed log whose every alteration `verify` names.
@Suite("RelationshipStore contract: the audit trail")
struct AuditContractTests {
    typealias F = Fixtures

    /// An Ed25519 keyring with `k1` primary, and the sealer and verifier over it.
    struct Keys {
        let keyring: Keyring
        var sealer: AuditSealer { AuditSealer(issuer: "invitelink", keyring: { [keyring] in keyring }) }
        func verifier(revoked: Set<String> = []) -> AuditVerifier {
            AuditVerifier(issuer: "invitelink", keyring: keyring, revoked: revoked, now: F.t0 + 1000)
        }

        init() throws {
            var manifest = KeyManifest()
            try manifest.add(kid: "k1", algorithm: .ed25519, now: F.t0 - 10)
            try manifest.promote("k1", now: F.t0 - 10)
            keyring = Keyring(manifest: manifest, material: ["k1": .ed25519(try Ed25519PrivateKey())])
        }
    }

    static func user(_ id: String, _ tenant: Tenant, hash: String = "") -> User {
        User(
            id: id, tenant: tenant, email: "\(id)@example.test", role: .globalAdmin, passwordHash: hash, mustChangePassword: false,
            createdAt: F.t0)
    }

    @Test("every change writes exactly one entry, with its actor, subject and scope, and no secret", arguments: StoreBackend.all)
    func everyChangeIsAudited(backend: StoreBackend) async throws {
        let store = try await backend.make().store
        let hash = "scrypt$16384$8$1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaA"
        try await F.seed(store) // 4 × partner.added, partner.connected
        try await F.addCustomer(store, "c1") // customer.added
        try await store.addUser(Self.user("pu", .partner(F.resellerA), hash: hash), actor: "cli") // user.added
        try await store.addUser(Self.user("cu", .customer("c1"), hash: hash), actor: "cli") // user.added
        let secretHash = try Digest.sha256(Array("cred_abc.secret-part".utf8))
        try await store.addCredential(
            Credential(id: "cred_abc", tenant: .partner(F.resellerA), role: .adminAgent, secretHash: secretHash, createdAt: F.t0),
            actor: "cli") // credential.added
        var invitation = F.invitation("inv1")
        invitation.issuedBy = "cred_abc"
        try await store.addInvitation(invitation) // invitation.issued
        _ = try await store.accept(AcceptanceRequest(invitationID: "inv1", customerID: "c1", acceptedBy: "cu", at: F.t0 + 60))
        // invitation.accepted, 2 × relationship.created, dap.granted
        _ = try await store.removeRelationship(partnerID: F.resellerA, customerID: "c1", by: .customer, at: F.t0 + 61, actor: "cu")
        try await store.removeDelegatedAdmin(partnerID: F.resellerA, customerID: "c1", by: .customer, at: F.t0 + 62, actor: "cu")
        _ = try await store.revokeInvitation(id: "inv1", resellerID: F.resellerA, at: F.t0 + 63, actor: "pu")
        try await store.revokeCredential(id: "cred_abc", at: F.t0 + 64, actor: "pu")
        try await store.setDisabled(userID: "pu", disabled: true, at: F.t0 + 65, actor: "cli")
        try await store.setDisabled(userID: "pu", disabled: false, at: F.t0 + 66, actor: "cli")
        try await store.resetPassword(
            userID: "pu", setupLink: SetupLink(id: "s1", userID: "pu", issuedAt: F.t0 + 67, expiresAt: F.t0 + 9999), at: F.t0 + 67,
            actor: "cli")
        _ = try await store.completeSetup(linkID: "s1", userID: "pu", passwordHash: hash, at: F.t0 + 68) // user.password_set
        try await store.setPassword(userID: "cu", passwordHash: hash, at: F.t0 + 69) // user.password_set
        try await store.disconnect(resellerID: F.resellerA, providerID: F.provider, at: F.t0 + 70, actor: "cli")
        try await store.addCustomer(
            NewCustomer(
                customer: Customer(id: "c2", name: "Two", domain: "two.example", createdAt: F.t0 + 71),
                admin: Self.user("c2admin", .customer("c2")), setupLink: nil, resellerID: F.resellerA),
            actor: "pu") // customer.added, user.added, relationship.created
        let digest = try Digest.sha256(Array("cu@example.test".utf8))
        let user = try await store.user(id: "cu")
        try await store.signedIn(
            emailDigest: digest, entry: .signIn("sign_in.succeeded", user: user, emailDigest: digest, client: "127.0.0.1", at: F.t0 + 72))
        try await store.appendAudit(.signIn("sign_in.failed", user: nil, emailDigest: digest, client: nil, at: F.t0 + 73))
        let limits = SignInLimits(failures: 2, window: 900, lockout: 900)
        let lock = AuditEntry.signIn("sign_in.locked", user: user, emailDigest: digest, client: nil, at: F.t0 + 74)
        for _ in 0..<3 { _ = try await store.claimSignInAttempt(emailDigest: digest, now: F.t0 + 74, limits: limits, lockEntry: lock) }
        try await store.appendAudit(
            AuditEntry(at: F.t0 + 75, actor: .cli, action: "key.rotated", subject: "k2", detail: #"{"alg":"EdDSA"}"#))

        let entries = try await store.auditEntries(AuditQuery(), page: PageRequest(limit: 200)).items
        var counts: [String: Int] = [:]
        for entry in entries { counts[entry.action, default: 0] += 1 }
        let expected: [String: Int] = [
            "partner.added": 4, "partner.connected": 1, "partner.disconnected": 1, "customer.added": 2, "user.added": 3,
            "credential.added": 1, "credential.revoked": 1, "invitation.issued": 1, "invitation.revoked": 1, "invitation.accepted": 1,
            "relationship.created": 3, "relationship.removed": 1, "dap.granted": 1, "dap.removed": 1, "user.disabled": 1,
            "user.enabled": 1, "user.password_reset": 1, "user.password_set": 2, "sign_in.succeeded": 1, "sign_in.failed": 1,
            "sign_in.locked": 1, "key.rotated": 1,
        ]
        #expect(counts == expected, "entries per action: \(counts.sorted { $0.key < $1.key })")
        #expect(entries.compactMap(\.seq) == entries.compactMap(\.seq).sorted(), "entries out of seq order")

        for entry in entries {
            #expect(!entry.subject.isEmpty && !entry.actor.kind.isEmpty, "an entry without subject or actor: \(entry.canonicalJSON)")
            let text = entry.canonicalJSON
            for secret in [hash, Base64URL.encode(secretHash), "secret-part", "cu@example.test"] {
                #expect(!text.contains(secret), "an entry holds a secret or an email: \(text)")
            }
        }
        func only(_ action: String) -> AuditEntry? { entries.first { $0.action == action } }
        #expect(only("invitation.issued")?.actor == AuditActor(kind: "credential", id: "cred_abc"))
        #expect(only("invitation.accepted")?.actor == AuditActor(kind: "customer_user", id: "cu"))
        #expect(only("invitation.revoked")?.actor == AuditActor(kind: "partner_user", id: "pu"))
        #expect(only("key.rotated")?.actor == .cli && only("sign_in.failed")?.actor == .system)
        let removed = try #require(only("relationship.removed"))
        #expect(removed.partnerID == F.resellerA && removed.customerID == "c1" && removed.detail.contains(#""by":"customer""#))
        #expect(only("dap.granted")?.partnerID == F.resellerA && only("dap.granted")?.customerID == "c1")
        #expect(only("user.disabled")?.partnerID == F.resellerA)

        // Scoping: a partner's entries are those about it.
        let ofReseller = try await store.auditEntries(AuditQuery(partnerID: F.resellerA), page: PageRequest(limit: 200)).items
        #expect(!ofReseller.isEmpty && ofReseller.allSatisfy { $0.partnerID == F.resellerA })
        #expect(!ofReseller.contains { $0.action == "key.rotated" || $0.partnerID == F.resellerB })
        let removals = try await store.auditEntries(AuditQuery(action: "relationship.removed"), page: PageRequest()).items
        #expect(removals.count == 1)
    }

    /// A store with a few entries, sealed; the sealed entries' seqs.
    static func sealedLog(_ backend: StoreBackend, keys: Keys) async throws -> (StoreUnderTest, [Int64]) {
        let subject = try await backend.make()
        try await F.seed(subject.store)
        try await F.addCustomer(subject.store, "c1")
        try await subject.store.addInvitation(F.invitation("inv1"))
        _ = try await subject.store.accept(F.request("inv1", customer: "c1"))
        let sealed = try await keys.sealer.sealAll(subject.store, now: F.t0 + 100)
        #expect(sealed.count == 1, "one checkpoint expected, got \(sealed.count)")
        let report = try await keys.verifier().verify(subject.store)
        #expect(report.problem == nil && report.unsealed == 0, "an untouched log does not verify: \(report)")
        let seqs = try await subject.store.auditEntries(AuditQuery(), page: PageRequest(limit: 200)).items.compactMap(\.seq)
        #expect(report.entries == seqs.count)
        // Later entries are not sealed yet, and say so.
        try await subject.store.appendAudit(AuditEntry(at: F.t0 + 200, actor: .cli, action: "key.added", subject: "k9"))
        #expect(try await keys.verifier().verify(subject.store).unsealed == 1)
        return (subject, seqs)
    }

    static func dropAppendOnlyTriggers(_ subject: StoreUnderTest) async throws {
        // What someone with write access to the database can do.
        if subject.store is SQLiteStore {
            try await subject.execute("DROP TRIGGER audit_log_no_update")
            try await subject.execute("DROP TRIGGER audit_log_no_delete")
        } else {
            try await subject.execute("DROP TRIGGER audit_log_no_change ON audit_log")
            try await subject.execute("DROP TRIGGER audit_log_no_delete ON audit_log")
            try await subject.execute("DROP TRIGGER audit_log_number ON audit_log")
        }
    }

    static func expectProblem(
        _ subject: StoreUnderTest, keys: Keys, seq: Int64, _ comment: Comment, sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let report = try await keys.verifier().verify(subject.store)
        #expect(report.problem?.seq == seq, "\(comment): \(String(describing: report.problem))", sourceLocation: sourceLocation)
    }

    @Test("an entry altered after sealing is named", arguments: StoreBackend.all)
    func alteredEntry(backend: StoreBackend) async throws {
        let keys = try Keys()
        let (subject, seqs) = try await Self.sealedLog(backend, keys: keys)
        try await Self.dropAppendOnlyTriggers(subject)
        try await subject.execute("UPDATE audit_log SET subject = 'mallory' WHERE id = \(seqs[3])")
        try await Self.expectProblem(subject, keys: keys, seq: seqs[3], "an altered subject")
    }

    @Test("an entry deleted after sealing is named", arguments: StoreBackend.all)
    func deletedEntry(backend: StoreBackend) async throws {
        let keys = try Keys()
        let (subject, seqs) = try await Self.sealedLog(backend, keys: keys)
        try await Self.dropAppendOnlyTriggers(subject)
        try await subject.execute("DELETE FROM audit_log WHERE id = \(seqs[4])")
        try await Self.expectProblem(subject, keys: keys, seq: seqs[4], "a deleted entry")
    }

    @Test("an entry inserted into the sealed range is named", arguments: StoreBackend.all)
    func insertedEntry(backend: StoreBackend) async throws {
        let keys = try Keys()
        let (subject, seqs) = try await Self.sealedLog(backend, keys: keys)
        try await Self.dropAppendOnlyTriggers(subject)
        // Make room at seqs[2] by moving every later entry up one, then write the forgery there.
        let at = seqs[2]
        try await subject.execute("UPDATE audit_log SET id = id + 100000 WHERE id >= \(at)")
        try await subject.execute("UPDATE audit_log SET id = id - 99999 WHERE id >= 100000")
        try await subject.execute(
            "INSERT INTO audit_log (id, at, actor, actor_kind, action, subject, detail) VALUES (\(at), \(F.t0), 'cli', 'cli', 'dap.granted', 'c1', '')"
        )
        try await Self.expectProblem(subject, keys: keys, seq: at, "an inserted entry")
    }

    @Test("two entries swapped after sealing are named at the first", arguments: StoreBackend.all)
    func reorderedEntries(backend: StoreBackend) async throws {
        let keys = try Keys()
        let (subject, seqs) = try await Self.sealedLog(backend, keys: keys)
        try await Self.dropAppendOnlyTriggers(subject)
        let (a, b) = (seqs[1], seqs[5])
        for column in ["at", "actor", "actor_kind", "action", "subject", "detail", "partner_id", "customer_id"] {
            try await subject.execute(
                """
                UPDATE audit_log SET \(column) = CASE id WHEN \(a) THEN (SELECT \(column) FROM audit_log WHERE id = \(b))
                                                  ELSE (SELECT \(column) FROM audit_log WHERE id = \(a)) END
                WHERE id IN (\(a), \(b))
                """)
        }
        try await Self.expectProblem(subject, keys: keys, seq: a, "a reordering")
    }

    @Test("SQLite: links sealed one row each before schema v7 still verify; a block cut short is named")
    func sqliteLinkLayouts() async throws {
        let keys = try Keys()
        let (subject, seqs) = try await Self.sealedLog(.sqlite, keys: keys)
        // The layout of before v7: the checkpoint's links as audit_chain rows, no block.
        let entries = try await subject.store.auditEntries(AuditQuery(), page: PageRequest(limit: 200)).items.filter {
            ($0.seq ?? 0) <= seqs.last!
        }
        var linker = AuditChain.Linker(after: AuditChain.genesis)
        for entry in entries {
            let link = try linker.append(entry)
            let hex = link.map { String(format: "%02x", $0) }.joined()
            try await subject.execute("INSERT INTO audit_chain (seq, link) VALUES (\(entry.seq!), X'\(hex)')")
        }
        try await subject.execute("DELETE FROM audit_chain_blocks")
        let report = try await keys.verifier().verify(subject.store)
        #expect(report.problem == nil && report.entries == seqs.count, "rows of the old layout: \(report)")

        // Sealed again as a block: the rows go, the block is cut short by one entry.
        let (blocked, blockedSeqs) = try await Self.sealedLog(.sqlite, keys: keys)
        try await blocked.execute("UPDATE audit_chain_blocks SET links = substr(links, 1, length(links) - 40)")
        try await Self.expectProblem(blocked, keys: keys, seq: blockedSeqs.last!, "a block without its last link")
        try await blocked.execute("UPDATE audit_chain_blocks SET links = substr(links, 1, length(links) - 1)")
        try await Self.expectProblem(blocked, keys: keys, seq: blockedSeqs.first!, "a block that is not whole links")
    }

    @Test("checkpoints stay checkable after their key is retired, and not after it is revoked", arguments: StoreBackend.all)
    func retiredAndRevokedKeys(backend: StoreBackend) async throws {
        let keys = try Keys()
        let (subject, _) = try await Self.sealedLog(backend, keys: keys)
        var manifest = keys.keyring.manifest
        try manifest.add(kid: "k2", algorithm: .ed25519, now: F.t0 + 300)
        try manifest.promote("k2", now: F.t0 + 300)
        try manifest.retire("k1", now: F.t0 + 300, maximumLifetime: 0, force: true)
        // As KeyringDirectory.loadForCheckpoints presents a retired key: verifying.
        var checking = manifest
        checking.entries = checking.entries.map { entry in
            var entry = entry
            if entry.state == .retired { entry.state = .active }
            return entry
        }
        let material = ["k1": keys.keyring.material(for: "k1")!]
        let retired = AuditVerifier(
            issuer: "invitelink", keyring: Keyring(manifest: checking, material: material), revoked: [], now: F.t0 + 1000)
        #expect(try await retired.verify(subject.store).problem == nil, "a retired key's checkpoint no longer verifies")
        let revoked = AuditVerifier(issuer: "invitelink", keyring: Keyring(manifest: manifest, material: [:]), revoked: ["k1"], now: F.t0)
        let problem = try #require(try await revoked.verify(subject.store).problem, "a revoked key's checkpoint was trusted")
        #expect(problem.kind == .checkpoint && problem.message.contains("revoked"))
    }

    @Test("an export verifies offline, and an altered line in it is named", arguments: StoreBackend.all)
    func exportVerifies(backend: StoreBackend) async throws {
        let keys = try Keys()
        let (subject, seqs) = try await Self.sealedLog(backend, keys: keys)
        var lines: [String] = []
        let links = try await subject.store.auditChainLinks(1...(seqs.last ?? 1))
        var previous = AuditChain.genesis
        for entry in try await subject.store.auditEntries(AuditQuery(throughSeq: seqs.last), page: PageRequest(limit: 200)).items {
            lines.append(AuditExport.line(entry, link: links[entry.seq ?? 0], previous: previous))
            previous = links[entry.seq ?? 0] ?? previous
        }
        lines.append(AuditExport.line(checkpoint: try #require(try await subject.store.auditCheckpoints().first).token))
        let clean = try keys.verifier().verify(export: lines)
        #expect(clean.problem == nil && clean.entries == seqs.count && clean.checkpoints == 1, "\(clean)")
        var altered = lines
        altered[2] = altered[2].replacingOccurrences(of: "\"subject\":\"", with: "\"subject\":\"x")
        #expect(try keys.verifier().verify(export: altered).problem?.seq == seqs[2])
        var removed = lines
        removed.remove(at: 3)
        let deleted = try keys.verifier().verify(export: removed).problem
        #expect(deleted?.seq == seqs[3] && deleted?.kind == .deleted, "\(String(describing: deleted))")
        var lastRemoved = lines
        lastRemoved.remove(at: seqs.count - 1)
        let lastDeleted = try keys.verifier().verify(export: lastRemoved).problem
        #expect(lastDeleted?.seq == seqs.last && lastDeleted?.kind == .deleted, "\(String(describing: lastDeleted))")
        // The second half alone, from its own checkpoint: what a pruned log keeps.
        #expect(
            try keys.verifier().verify(export: Array(lines.dropFirst(3))).problem != nil, "a checkpoint without its first entries verified")
    }

    @Test(
        "pruning the entries of a checkpoint keeps the log verifiable from the next one, and nothing else can be deleted",
        arguments: StoreBackend.all)
    func pruning(backend: StoreBackend) async throws {
        let keys = try Keys()
        let (subject, seqs) = try await Self.sealedLog(backend, keys: keys) // one checkpoint, then one more entry
        _ = try await keys.sealer.sealAll(subject.store, now: F.t0 + 300) // a second checkpoint
        let through = try await subject.store.pruneAudit(until: F.t0 + 100, at: F.t0 + 400, actor: "cli")
        #expect(through == seqs.last, "pruned through \(through), expected \(seqs.last ?? 0)")
        #expect(try await subject.store.auditPrunedThrough() == through)
        let report = try await keys.verifier().verify(subject.store)
        #expect(report.problem == nil && report.checkpoints == 1 && report.entries == 1 && report.unsealed == 1, "\(report)")
        await #expect(throws: (any Error).self, "a sealed entry after the cut was deleted") {
            try await subject.execute("DELETE FROM audit_log WHERE id > \(through)")
        }
        #expect(try await subject.store.auditLog(limit: 1).first?.action == "audit.pruned")
    }

    @Test("a read since a time skips what was sealed before it and finds every entry at or after it", arguments: StoreBackend.all)
    func readSinceATime(backend: StoreBackend) async throws {
        let keys = try Keys()
        let subject = try await backend.make()
        let store = subject.store
        func append(_ offsets: Int64...) async throws {
            for offset in offsets {
                try await store.appendAudit(AuditEntry(at: F.t0 + offset, actor: .cli, action: "key.added", subject: "k\(offset)"))
            }
        }
        try await append(100, 200)
        _ = try await keys.sealer.sealAll(store, now: F.t0 + 1000)
        // An entry timed by a clock 100 s ahead of the sealer's.
        try await append(2000, 5100)
        _ = try await keys.sealer.sealAll(store, now: F.t0 + 5000)
        // A sealer whose clock stepped back: a later checkpoint with an earlier time.
        try await append(3900)
        _ = try await keys.sealer.sealAll(store, now: F.t0 + 4000)
        try await append(6000) // not sealed yet

        func offsets(since: Int64, limit: Int = 100) async throws -> [Int64] {
            var found: [Int64] = []
            var page = PageRequest(limit: limit)
            while true {
                let result = try await store.auditEntries(AuditQuery(since: F.t0 + since, action: "key.added"), page: page)
                found += result.items.map { $0.at - F.t0 }
                guard let next = result.nextCursor else { return found }
                page = PageRequest(limit: limit, cursor: next)
            }
        }
        #expect(try await offsets(since: 150) == [200, 2000, 5100, 3900, 6000])
        #expect(try await offsets(since: 150, limit: 2) == [200, 2000, 5100, 3900, 6000], "page by page")
        // The latest checkpoint sealed before 4500 is the one at 4000; the one at 5000 holds
        // entries after 4500 with lower seqs.
        #expect(try await offsets(since: 4500) == [5100, 6000])
        #expect(try await offsets(since: 5050) == [5100, 6000], "an entry timed after its checkpoint was missed")
        #expect(try await offsets(since: 6000) == [6000])
        #expect(try await offsets(since: 7000) == [])
    }

    /// PostgreSQL only: an entry's transaction can commit after a later entry's.
    static let postgres = StoreBackend.all.filter { $0.description == "PostgreSQL" }

    @Test("a seal never skips an entry whose transaction commits after a later one's", arguments: postgres)
    func sealWaitsForLowerSeqs(backend: StoreBackend) async throws {
        let keys = try Keys()
        let subject = try await backend.make()
        let store = subject.store
        // A transaction takes its seq, then stays open for 1.5 s before it commits.
        let slow = Task {
            try await subject.execute(
                """
                WITH entry AS (
                    INSERT INTO audit_log (at, actor, actor_kind, action, subject, detail)
                    VALUES (\(F.t0), 'cli', 'cli', 'slow.entry', 's', '') RETURNING id
                ) SELECT pg_sleep(1.5) FROM entry
                """)
        }
        try await Task.sleep(for: .milliseconds(300))
        try await store.appendAudit(AuditEntry(at: F.t0, actor: .cli, action: "fast.entry", subject: "f"))
        let sealed = try await keys.sealer.sealAll(store, now: F.t0 + 10)
        try await slow.value
        let entries = try await store.auditEntries(AuditQuery(), page: PageRequest()).items
        let slowSeq = try #require(entries.first { $0.action == "slow.entry" }?.seq)
        let fastSeq = try #require(entries.first { $0.action == "fast.entry" }?.seq)
        #expect(slowSeq < fastSeq, "the test needs the slow entry to hold the lower seq")
        #expect(sealed.last?.last == fastSeq, "the seal stopped short: \(sealed.map(\.last))")
        #expect(sealed.reduce(0) { $0 + $1.count } == 2, "the seal skipped the entry that committed late")
        let report = try await keys.verifier().verify(store)
        #expect(report.problem == nil && report.entries == 2, "\(report)")
    }
}
