import Synchronization
import Testing

@testable import InviteStore

/// How ``CallBatcher`` groups concurrent calls, with a `run` the test holds until it has seen
/// the calls it expects waiting: no timing is assumed.
@Suite("CallBatcher")
struct CallBatcherTests {
    /// A `run` that doubles each item, records the batches it was given, and holds its first
    /// batch until ``open()``.
    final class Doubler: Sendable {
        let batches = Mutex<[[Int]]>([])
        let gate = AsyncStream<Void>.makeStream()
        let failing: Set<Int>

        init(failing: Set<Int> = []) { self.failing = failing }

        func run(_ items: [Int]) async throws -> [Int] {
            let first = batches.withLock { batches in
                batches.append(items)
                return batches.count == 1
            }
            if first {
                for await _ in gate.stream { break }
            }
            if !failing.isDisjoint(with: items) { throw StoreError(.unavailable, "batch \(items) failed") }
            return items.map { $0 * 2 }
        }

        func open() { gate.continuation.yield() }
    }

    /// Starts `count` calls (0, 1, …) once the first is running, waits until the others are in
    /// line, lets the first batch go and returns each call's outcome by item.
    static func submitWhileTheFirstRuns(
        _ count: Int, to batcher: CallBatcher<Int, Int>, _ doubler: Doubler,
        run: (@Sendable ([Int]) async throws -> [Int])? = nil
    ) async -> [Int: Result<Int, StoreError>] {
        let run = run ?? { try await doubler.run($0) }
        return await withTaskGroup(of: (Int, Result<Int, StoreError>).self) { group in
            for item in 0..<count {
                group.addTask {
                    do {
                        return (item, .success(try await batcher.submit(item, run: run)))
                    } catch {
                        return (item, .failure(error as? StoreError ?? StoreError(.invalidInput, "\(error)")))
                    }
                }
                // The first call must be the one running: wait until it is.
                if item == 0 { await waitUntil("the first call runs") { !doubler.batches.withLock { $0.isEmpty } } }
            }
            await waitUntil("the other calls wait") { batcher.waitingCount >= count - 1 }
            doubler.open()
            var outcomes = [Int: Result<Int, StoreError>]()
            for await (item, outcome) in group { outcomes[item] = outcome }
            return outcomes
        }
    }

    @Test("calls made while a batch runs wait in line and share the next batches, each getting its own outcome")
    func callsShareBatches() async throws {
        let batcher = CallBatcher<Int, Int>(maximumRunning: 1, maximumSize: 8)
        let doubler = Doubler()
        let outcomes = await Self.submitWhileTheFirstRuns(21, to: batcher, doubler)
        for item in 0..<21 { #expect(try outcomes[item]?.get() == item * 2, "item \(item)") }
        let batches = doubler.batches.withLock { $0 }
        #expect(batches.map(\.count) == [1, 8, 8, 4], "batches: \(batches)")
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<21), "every item runs exactly once")
        #expect(batcher.batchCount == 4)
        #expect(batcher.waitingCount == 0)
        // A lone call afterwards runs at once, alone.
        #expect(try await batcher.submit(50) { try await doubler.run($0) } == 100)
        #expect(doubler.batches.withLock { $0.last } == [50])
    }

    @Test("a batch that fails fails each of its calls and no other")
    func failureStaysInItsBatch() async throws {
        let batcher = CallBatcher<Int, Int>(maximumRunning: 1, maximumSize: 4)
        let doubler = Doubler(failing: [6])
        let outcomes = await Self.submitWhileTheFirstRuns(13, to: batcher, doubler)
        let batches = doubler.batches.withLock { $0 }
        let failed = Set(batches.first { $0.contains(6) } ?? [])
        #expect(failed.count == 4, "batches: \(batches)")
        for item in 0..<13 {
            if failed.contains(item) {
                #expect(throws: StoreError.self, "item \(item)") { try outcomes[item]?.get() }
            } else {
                #expect(try outcomes[item]?.get() == item * 2, "item \(item)")
            }
        }
    }

    @Test("a run that answers too few calls fails its batch rather than answer one with another's outcome")
    func mismatchedAnswersFail() async throws {
        let batcher = CallBatcher<Int, Int>(maximumRunning: 1, maximumSize: 8)
        let doubler = Doubler()
        let outcomes = await Self.submitWhileTheFirstRuns(5, to: batcher, doubler) { items in
            Array(try await doubler.run(items).dropLast(items.count > 1 ? 1 : 0))
        }
        #expect(try outcomes[0]?.get() == 0)
        for item in 1..<5 {
            #expect(throws: StoreError.self, "item \(item)") { try outcomes[item]?.get() }
        }
    }

    @Test("a runner whose own caller is cancelled still runs its batch to the end for the others")
    func runnerCancellationSparesTheBatch() async throws {
        let batcher = CallBatcher<Int, Int>(maximumRunning: 1, maximumSize: 8)
        let doubler = Doubler()
        let released = Mutex(false)
        let cancelledInside = Mutex<Bool?>(nil)
        let run: @Sendable ([Int]) async throws -> [Int] = { items in
            guard items.first == 1 else { return try await doubler.run(items) }
            // The second batch, run by call 1: held until call 1's task has been cancelled.
            while !released.withLock({ $0 }) { await Task.yield() }
            cancelledInside.withLock { $0 = Task.isCancelled }
            try Task.checkCancellation()
            return items.map { $0 * 2 }
        }
        let first = Task { try await batcher.submit(0, run: run) }
        await waitUntil("the first call runs") { !doubler.batches.withLock { $0.isEmpty } }
        let runner = Task { try await batcher.submit(1, run: run) }
        await waitUntil("call 1 waits") { batcher.waitingCount >= 1 }
        let others = (2..<5).map { item in Task { try await batcher.submit(item, run: run) } }
        await waitUntil("calls 1–4 wait") { batcher.waitingCount >= 4 }
        doubler.open()
        #expect(try await first.value == 0)
        await waitUntil("call 1 leads the second batch") { batcher.waitingCount == 0 }
        runner.cancel()
        released.withLock { $0 = true }
        for (index, other) in others.enumerated() { #expect(try await other.value == (index + 2) * 2) }
        #expect(try await runner.value == 2)
        #expect(cancelledInside.withLock { $0 } == false, "the batch saw its runner's cancellation")
    }

    @Test("up to maximumRunning batches run side by side")
    func batchesRunSideBySide() async throws {
        let batcher = CallBatcher<Int, Int>(maximumRunning: 3, maximumSize: 8)
        let started = Mutex(0)
        let released = Mutex(false)
        let run: @Sendable ([Int]) async throws -> [Int] = { items in
            started.withLock { $0 += 1 }
            while !released.withLock({ $0 }) { await Task.yield() }
            return items
        }
        async let a = batcher.submit(1, run: run)
        async let b = batcher.submit(2, run: run)
        async let c = batcher.submit(3, run: run)
        await waitUntil("three batches run") { started.withLock { $0 } >= 3 }
        async let d = batcher.submit(4, run: run)
        await waitUntil("a fourth call waits") { batcher.waitingCount >= 1 }
        #expect(started.withLock { $0 } == 3, "a fourth batch started while three ran")
        released.withLock { $0 = true }
        #expect(try await [a, b, c, d] == [1, 2, 3, 4])
        #expect(batcher.batchCount == 4)
    }
}

/// Yields until `condition` holds, or records an issue after 10 s and returns: a batcher that
/// breaks its promise must fail the test, not hang it.
func waitUntil(_ what: Comment, sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool) async {
    let deadline = ContinuousClock.now + .seconds(10)
    while !condition() {
        guard ContinuousClock.now < deadline else {
            Issue.record("never happened: \(what)", sourceLocation: sourceLocation)
            return
        }
        await Task.yield()
    }
}
