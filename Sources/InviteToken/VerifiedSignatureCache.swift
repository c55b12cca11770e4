import InviteCrypto
import Synchronization

/// The Ed25519-signed tokens a keyring has already verified, so that the same link checked
/// again (the acceptance page, then the acceptance; one link shared by many customers) costs a
/// look-up instead of a public-key verification, about 130 µs of CPU here.
///
/// It pays for itself when it does not help (every link new, as with personalized links):
/// a token is remembered by its SHA-256 (one digest of a few hundred bytes, about a
/// microsecond, no allocation) in a direct-mapped table of fixed size, split in 16 stripes
/// with a lock each, so a look-up or an insert is O(1) work under a lock held for a few
/// nanoseconds, and threads checking different tokens rarely meet on one lock. An insert
/// overwrites whatever its slot held; nothing is ever scanned or evicted in order.
///
/// A hit means exactly this token, byte for byte (SHA-256 does not collide in practice), had a
/// valid signature under this keyring's material. Everything else is checked again on every
/// call: the key's state (a revoked or retired key fails before the cache is asked), the
/// algorithm, the claims and the clock. Each loaded keyring has its own cache, so changed key
/// material starts empty. Only tokens that verified are added, so forged tokens cannot fill it.
///
/// HMAC tokens are not cached: their check costs about as much as the look-up, and their MAC
/// stays compared in constant time on every call.
final class VerifiedSignatureCache: Sendable {
    static let stripeCount = 16
    static let slotsPerStripe = 256
    static var capacity: Int { stripeCount * slotsPerStripe }

    private final class Stripe: Sendable {
        let slots = Mutex([SIMD4<UInt64>](repeating: .zero, count: VerifiedSignatureCache.slotsPerStripe))
    }

    private let stripes = (0..<VerifiedSignatureCache.stripeCount).map { _ in Stripe() }

    /// Where a digest lives: a stripe and a slot in it, from bits of its first word.
    private func place(_ digest: SIMD4<UInt64>) -> (stripe: Stripe, slot: Int) {
        let word = Int(truncatingIfNeeded: digest.x)
        return (stripes[word & (Self.stripeCount - 1)], (word >> 4) & (Self.slotsPerStripe - 1))
    }

    func contains(_ token: UnsafeRawBufferPointer) -> Bool {
        guard let digest = try? Digest.sha256Words(token) else { return false }
        let (stripe, slot) = place(digest)
        return stripe.slots.withLock { $0[slot] == digest }
    }

    func insert(_ token: UnsafeRawBufferPointer) {
        guard let digest = try? Digest.sha256Words(token) else { return }
        let (stripe, slot) = place(digest)
        stripe.slots.withLock { $0[slot] = digest }
    }

    /// Slots in use: for tests.
    var count: Int {
        stripes.reduce(0) { total, stripe in total + stripe.slots.withLock { $0.filter { $0 != .zero }.count } }
    }
}
