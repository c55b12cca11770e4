import Foundation
import Testing

@testable import InviteStore

/// What only the SQLite backend can show: its durability settings, rollback of a half-done
/// acceptance (forced with a trigger), and the database URLs the factory reads.
@Suite("SQLiteStore")
struct SQLiteStoreTests {
    typealias F = Fixtures

    @Test("WAL, synchronous=FULL, foreign keys and a busy timeout are in effect on the writer")
    func durabilitySettings() async throws {
        let store = try SQLiteStore.temporary()
        try await store.migrate()
        #expect(try await store.scalarForTesting("PRAGMA journal_mode") == "wal", "journal_mode is not WAL")
        #expect(try await store.scalarForTesting("PRAGMA synchronous") == "2", "synchronous is not FULL (2)")
        #expect(try await store.scalarForTesting("PRAGMA foreign_keys") == "1", "foreign keys are off")
        #expect(try await store.scalarForTesting("PRAGMA busy_timeout") == "5000", "busy timeout is not 5 s")
    }

    @Test("the database and its -wal and -shm files are readable by their owner alone")
    func filesAreOwnerOnly() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("invitestore-mode-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let path = directory.appendingPathComponent("db.sqlite").path
        let store = try SQLiteStore(path: path)
        try await store.migrate()
        try await F.seed(store)
        for file in [path, path + "-wal", path + "-shm"] {
            let mode = try #require(try FileManager.default.attributesOfItem(atPath: file)[.posixPermissions] as? Int)
            #expect(mode & 0o077 == 0, "\(file) has mode \(String(mode, radix: 8))")
        }
    }

    @Test("an acknowledged acceptance is there after the store is reopened")
    func acceptanceSurvivesReopen() async throws {
        let subject = try await StoreBackend.sqlite.make()
        try await F.seed(subject.store)
        try await F.addCustomer(subject.store, "cus_1")
        try await subject.store.addInvitation(F.invitation("inv_1"))
        let acceptance = try await subject.store.accept(F.request("inv_1", customer: "cus_1"))

        let reopened = try await subject.reopen()
        #expect(
            try await reopened.invitation(id: "inv_1", resellerID: F.resellerA)?.acceptances == [acceptance],
            "the reopened file lacks the acknowledged acceptance")
    }

    // MARK: Database URLs

    @Test("sqlite: with a relative path opens a file under the working directory")
    func relativeSQLiteURL() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("invitestore-url-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let depth = FileManager.default.currentDirectoryPath.split(separator: "/").count
        let relative = String(repeating: "../", count: depth) + directory.path.drop { $0 == "/" } + "/nested/db.sqlite"

        let store = try openStore(url: "sqlite:\(relative)")
        try await store.migrate()
        #expect(
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("nested/db.sqlite").path),
            "the file was not created at the relative path, with its parent directories")
    }

    @Test("sqlite:///absolute and sqlite::memory: open working stores")
    func absoluteAndMemoryURLs() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("invitestore-url-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let absolute = try openStore(url: "sqlite://\(directory.path)/db.sqlite")
        try await absolute.migrate()
        #expect(
            FileManager.default.fileExists(atPath: directory.appendingPathComponent("db.sqlite").path),
            "sqlite:/// did not use the absolute path")

        let memory = try openStore(url: "sqlite::memory:")
        try await memory.migrate()
        try await memory.ping()
    }

    @Test("unknown schemes and malformed URLs are refused")
    func unsupportedURLs() async throws {
        await expectStoreError(.invalidInput, "a postgres:// URL with a misspelt query item") {
            try openStore(url: "postgres://user:secret@localhost/invitelink?pol=4")
        }
        await expectStoreError(.invalidInput, "mysql is no scheme of ours") {
            try openStore(url: "mysql://localhost/x")
        }
        await expectStoreError(.invalidInput, "sqlite: without a path") {
            try openStore(url: "sqlite:")
        }
    }
}

/// The group-commit writer under concurrent load.
@Suite("SQLiteStore group commit")
struct GroupCommitTests {
    typealias F = Fixtures

    @Test("concurrent acceptances share write transactions, and each gets its own answer")
    func concurrentAcceptancesShareCommits() async throws {
        let store = try SQLiteStore.temporary()
        try await store.migrate()
        try await F.seed(store)
        let customers = (0..<100).map { "cus_\($0)" }
        for id in customers { try await F.addCustomer(store, id) }
        try await store.addInvitation(F.invitation("inv_open"))
        try await store.addInvitation(F.invitation("inv_single", maxUses: 1))
        let before = store.writeTransactionCountForTesting

        // Half accept an unlimited invitation, half race for a single-use one: failures and
        // successes end up in the same shared transactions.
        let accepted: [String] = await withTaskGroup(of: String?.self) { group in
            for (index, id) in customers.enumerated() {
                let invitation = index.isMultiple(of: 2) ? "inv_open" : "inv_single"
                group.addTask {
                    (try? await store.accept(F.request(invitation, customer: id)))?.invitationID
                }
            }
            var accepted: [String] = []
            for await invitationID in group {
                if let invitationID { accepted.append(invitationID) }
            }
            return accepted
        }
        let transactions = store.writeTransactionCountForTesting - before
        let outcomes = Dictionary(grouping: accepted, by: { $0 }).mapValues(\.count)

        #expect(outcomes == ["inv_open": 50, "inv_single": 1], "each job must get its own answer in a shared transaction")
        #expect(transactions < 100, "100 concurrent acceptances took \(transactions) transactions: nothing was grouped")
        #expect(
            try await store.customers(ofPartner: F.resellerA, page: PageRequest(limit: 200)).items.count == 51,
            "the reseller must list exactly the 51 accepting customers")
    }
}
