internal import COpenSSL

/// Secret bytes that are wiped with `OPENSSL_cleanse` when the last reference goes away.
///
/// Immutable after creation. The storage is never copied: callers borrow it through
/// ``withUnsafeBytes(_:)``. (The shape of swift-crypto's `SecureBytes`, without copy-on-write
/// because nothing here mutates a secret.)
public final class SecureBytes: @unchecked Sendable {
    // @unchecked: the buffer is written once in init and only read afterwards.
    private let storage: UnsafeMutableRawBufferPointer
    public let count: Int

    /// Copies `bytes` into fresh storage. The caller should wipe its own copy if it has one.
    public init<Bytes: Collection>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        count = bytes.count
        // One spare byte so that an empty secret still owns a real allocation.
        storage = .allocate(byteCount: bytes.count + 1, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        var index = 0
        for byte in bytes {
            storage[index] = byte
            index += 1
        }
    }

    /// `count` random bytes from `RAND_bytes`.
    public init(randomCount: Int) throws {
        precondition(randomCount > 0)
        count = randomCount
        storage = .allocate(byteCount: randomCount + 1, alignment: 16)
        storage.initializeMemory(as: UInt8.self, repeating: 0)
        guard RAND_bytes(storage.baseAddress!.assumingMemoryBound(to: UInt8.self), Int32(randomCount)) == 1 else {
            OPENSSL_cleanse(storage.baseAddress, storage.count)
            storage.deallocate()
            throw CryptoError.openSSL("RAND_bytes")
        }
    }

    deinit {
        OPENSSL_cleanse(storage.baseAddress, storage.count)
        storage.deallocate()
    }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try body(UnsafeRawBufferPointer(rebasing: storage[0..<count]))
    }
}

extension SecureBytes: ContiguousBytes {}
