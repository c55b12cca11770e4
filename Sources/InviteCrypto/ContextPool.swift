import Synchronization

/// A small free-list of OpenSSL contexts (pre-keyed HMAC copies, Ed25519 `EVP_MD_CTX`s).
///
/// OpenSSL contexts are not safe to share between threads, but preparing one (fetching the
/// algorithm, absorbing the key) costs more than the operation itself for HMAC. The borrower
/// re-initialises the context before its operation (`EVP_MAC_init` with the kept key,
/// `EVP_DigestSignInit`/`EVP_DigestVerifyInit`): OpenSSL 3.2 and later refuse a second one-shot
/// operation on a context that was not initialised again (openssl/openssl#23075). Each caller
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
        let kept =
            reusable(result)
            && free.withLock { contexts -> Bool in
                guard contexts.count < limit else { return false }
                contexts.append(context)
                return true
            }
        if !kept { destroy(context.pointer) }
        return result
    }
}
