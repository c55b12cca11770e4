internal import Synchronization

/// Gathers calls made at once into batches, so that concurrent callers share one statement
/// instead of paying for one each. Nothing runs in the background and nothing waits for a
/// timer: a call that finds fewer than ``maximumRunning`` batches running runs its own at once
/// (alone, when nothing else is waiting: a lone caller pays nothing for batching); a call that
/// finds them all running waits in line. When a batch ends, its runner answers the batch's
/// other callers, then hands the next batch (the first ``maximumSize`` callers in line) to the
/// first of them, which runs it. So batches grow only while the running ones are busy: as
/// large as the load makes them, no larger.
///
/// A batch's callers share its fate: if `run` throws, every one of them gets that error. The
/// runner's cancellation is not part of it: a batch runs to its end for the others.
final class CallBatcher<Item: Sendable, Outcome: Sendable>: Sendable {
    /// What a waiting caller is resumed with: its answer, or a batch to run (its own item, then
    /// those of `others`).
    private enum Turn: Sendable {
        case answered(Result<Outcome, any Error>)
        case lead(others: [Waiter])
    }

    private struct Waiter: Sendable {
        let item: Item
        let continuation: CheckedContinuation<Turn, Never>
    }

    private struct State {
        var waiting: [Waiter] = []
        var running = 0
        /// Batches run so far, to show (in tests) that concurrent calls share them.
        var batches = 0
    }

    let maximumRunning: Int
    let maximumSize: Int
    private let state = Mutex(State())

    init(maximumRunning: Int, maximumSize: Int) {
        precondition(maximumRunning >= 1 && maximumSize >= 1)
        self.maximumRunning = maximumRunning
        self.maximumSize = maximumSize
    }

    /// How many batches have been run, and how many calls wait for one (for tests).
    var batchCount: Int { state.withLock { $0.batches } }
    var waitingCount: Int { state.withLock { $0.waiting.count } }

    /// Returns `item`'s outcome, computed by `run` together with the items of the calls made
    /// at the same time. `run` gets one or more items and must return one outcome per item,
    /// in their order; every call to one batcher must pass the same `run`.
    func submit(_ item: Item, run: @escaping @Sendable ([Item]) async throws -> [Outcome]) async throws -> Outcome {
        let turn = await withCheckedContinuation { (continuation: CheckedContinuation<Turn, Never>) in
            let leads = state.withLock { state in
                guard state.running < maximumRunning else {
                    state.waiting.append(Waiter(item: item, continuation: continuation))
                    return false
                }
                state.running += 1
                state.batches += 1
                return true
            }
            if leads { continuation.resume(returning: .lead(others: [])) }
        }
        switch turn {
        case .answered(let result):
            return try result.get()
        case .lead(let others):
            return try await lead(item, others, run: run)
        }
    }

    /// Runs one batch, answers its other callers, and hands the next batch on (or frees the slot).
    private func lead(
        _ item: Item, _ others: [Waiter], run: @escaping @Sendable ([Item]) async throws -> [Outcome]
    ) async throws -> Outcome {
        let outcomes: Result<[Outcome], any Error>
        do {
            // In a task of its own, so that the runner's cancellation (its own caller gone) does
            // not fail the batch it runs for the others.
            let items = [item] + others.map(\.item)
            let values = try await Task { try await run(items) }.value
            outcomes =
                values.count == others.count + 1
                ? .success(values) : .failure(StoreError(.unavailable, "a batch of \(others.count + 1) calls got \(values.count) answers"))
        } catch {
            outcomes = .failure(error)
        }
        for (index, waiter) in others.enumerated() {
            waiter.continuation.resume(returning: .answered(outcomes.map { $0[index + 1] }))
        }
        let next = state.withLock { state -> [Waiter]? in
            guard !state.waiting.isEmpty else {
                state.running -= 1
                return nil
            }
            state.batches += 1
            let size = min(maximumSize, state.waiting.count)
            defer { state.waiting.removeFirst(size) }
            return Array(state.waiting.prefix(size))
        }
        if let next, let first = next.first {
            first.continuation.resume(returning: .lead(others: Array(next.dropFirst())))
        }
        return try outcomes.get()[0]
    }
}
