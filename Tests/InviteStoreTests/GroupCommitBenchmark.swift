import Foundation
import Testing
@testable import InviteStore

/// Acceptance throughput, one at a time against all at once, to show what group commit buys.
/// Off by default (it measures, it does not check): run with
/// `INVITESTORE_BENCH=1 swift test --filter GroupCommitBenchmark`.
@Suite("GroupCommitBenchmark", .enabled(if: Environment.benchmarks))
struct GroupCommitBenchmark {
    @Test("400 acceptances, sequential then concurrent", arguments: [false, true])
    func acceptances(concurrent: Bool) async throws {
        let store = try SQLiteStore.temporary()
        try await store.migrate()
        try await Fixtures.seed(store)
        let customers = (0..<400).map { "cus_\($0)" }
        for id in customers { try await Fixtures.addCustomer(store, id) }
        try await store.addInvitation(Fixtures.invitation("inv_open"))
        let transactionsBefore = store.writeTransactionCountForTesting

        let elapsed = try await ContinuousClock().measure {
            if concurrent {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for id in customers {
                        group.addTask { _ = try await store.accept(Fixtures.request("inv_open", customer: id)) }
                    }
                    try await group.waitForAll()
                }
            } else {
                for id in customers { _ = try await store.accept(Fixtures.request("inv_open", customer: id)) }
            }
        }
        let transactions = store.writeTransactionCountForTesting - transactionsBefore
        print("GroupCommitBenchmark concurrent=\(concurrent) acceptances=\(customers.count) transactions=\(transactions) elapsed=\(elapsed)")
    }
}

enum Environment {
    static var benchmarks: Bool {
        ProcessInfo.processInfo.environment["INVITESTORE_BENCH"] == "1"
    }
}
