import Synchronization

/// A small free-list of prepared OpenSSL contexts (pre-keyed HMAC, initialised sign/verify).
///
/// OpenSSL contexts are not safe to share between threads, but preparing one (fetching the
/// algorithm, absorbing the key) costs more than the operation itself for HMAC. Each caller
/// borrows a context for one operation; a context whose operation failed is freed rather than
/// returned, so a half-used context is never reused.
final class ContextPool: Sendable {
    /// An owned context pointer. Sendable because only one borrower holds it at a time.
    struct Context: @unchecked Sendable { let pointer: OpaquePointer }

    private let free: Mutex<[Context]>
    private let limit: Int
    private let make: @Sendable () throws -> OpaquePointer
    private let destroy: @Sendable (OpaquePointer) -> Void

    init(
        limit: Int = 32,
        make: @escaping @Sendable () throws -> OpaquePointer,
        destroy: @escaping @Sendable (OpaquePointer) -> Void
    ) {
        self.free = Mutex([])
        self.limit = limit
        self.make = make
        self.destroy = destroy
    }

    deinit {
        free.withLock { contexts in
            for context in contexts { destroy(context.pointer) }
            contexts.removeAll()
        }
    }

    /// Runs `body` with a context of its own. The context goes back to the pool only when
    /// `body` returned normally and `reusable(result)` holds.
    func withContext<R>(
        reusable: (R) -> Bool = { _ in true },
        _ body: (OpaquePointer) throws -> R
    ) throws -> R {
        let context: Context
        if let pooled = free.withLock({ $0.popLast() }) {
            context = pooled
        } else {
            context = Context(pointer: try make())
        }
        let result: R
        do {
            result = try body(context.pointer)
        } catch {
            destroy(context.pointer)
            throw error
        }
        let kept = reusable(result) && free.withLock { contexts -> Bool in
            guard contexts.count < limit else { return false }
            contexts.append(context)
            return true
        }
        if !kept { destroy(context.pointer) }
        return result
    }
}
