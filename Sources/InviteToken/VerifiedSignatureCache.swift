import Synchronization

/// The Ed25519-signed tokens a keyring has already verified, so that the same link checked
/// again (the acceptance page, then the acceptance; one link shared by many customers) costs a
/// look-up instead of a public-key verification, about 150 µs of CPU here.
///
/// It holds whole tokens, header, payload and signature, byte for byte: a hit means exactly
/// this signature over exactly this signing input was valid under this keyring's material.
/// Everything else is checked again on every call: the key's state (a revoked or retired key
/// fails before the cache is asked), the algorithm, the claims and the clock. Each loaded
/// keyring has its own cache, so changed key material starts empty. Only tokens that verified
/// are added, so a flood of forged tokens cannot fill it; it is bounded all the same.
///
/// HMAC tokens are not cached: their check costs about as much as the look-up, and their MAC
/// stays compared in constant time on every call.
final class VerifiedSignatureCache: Sendable {
    static let capacity = 4096
    private let tokens = Mutex(Set<[UInt8]>())

    func contains(_ token: UnsafeRawBufferPointer) -> Bool {
        let key = Array(token)
        return tokens.withLock { $0.contains(key) }
    }

    func insert(_ token: UnsafeRawBufferPointer) {
        let key = Array(token)
        tokens.withLock { tokens in
            if tokens.count >= Self.capacity { tokens.remove(at: tokens.startIndex) }
            tokens.insert(key)
        }
    }

    var count: Int { tokens.withLock { $0.count } }
}
