import InviteStore
import Synchronization

/// The principals of bearer secrets seen lately, by their SHA-256, for the calls that have the
/// store confirm the credential in the same transaction as their write
/// (``BearerAuthenticator/withConfirmedCaller(_:cache:_:)``); no other call reads it.
///
/// Only a credential found unrevoked is remembered, so a flood of made-up secrets adds
/// nothing. Bounded: when full it starts over empty, which costs each live credential one
/// read again. One lock around a dictionary lookup of a 32-byte key, O(1) either way.
final class PrincipalCache: Sendable {
    static let capacity = 1_024
    private let entries = Mutex<[[UInt8]: Principal]>([:])

    func principal(_ secretHash: [UInt8]) -> Principal? {
        entries.withLock { $0[secretHash] }
    }

    func remember(_ principal: Principal, for secretHash: [UInt8]) {
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[secretHash] = principal
        }
    }

    func forget(_ secretHash: [UInt8]) {
        _ = entries.withLock { $0.removeValue(forKey: secretHash) }
    }
}
