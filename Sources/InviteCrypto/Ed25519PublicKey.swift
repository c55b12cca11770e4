internal import COpenSSL

/// An Ed25519 public key (RFC 8032), verified by OpenSSL.
///
/// OpenSSL 3.0 loads the small-order public-key encodings, and under those a forged signature
/// verifies; this type refuses them at construction, so no key that can be used for forgery
/// ever reaches a verifier.
public final class Ed25519PublicKey: Sendable {
    public static let byteCount = 32
    public static let signatureByteCount = 64

    /// The 32-byte encoding (RFC 8032 §5.1.2).
    public let rawRepresentation: [UInt8]
    private let key: PKey

    public init(rawRepresentation bytes: [UInt8]) throws {
        guard bytes.count == Self.byteCount else {
            throw CryptoError(code: .invalidKey, reason: "an Ed25519 public key is 32 bytes, not \(bytes.count)")
        }
        guard !Self.hasSmallOrder(bytes) else {
            throw CryptoError(code: .smallOrderKey, reason: "the Ed25519 public key has small order; signatures under it can be forged")
        }
        guard
            let pkey = bytes.withUnsafeBufferPointer({
                EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nil, $0.baseAddress, $0.count)
            })
        else {
            throw CryptoError.openSSL("EVP_PKEY_new_raw_public_key")
        }
        self.rawRepresentation = bytes
        self.key = PKey(pkey)
        self.verifiers = Self.makePool(for: self.key)
    }

    private let verifiers: ContextPool

    /// Reads a SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY", as `openssl pkey -pubout` writes).
    public convenience init(pemRepresentation pem: String) throws {
        // BIO_new_mem_buf does not copy, so the BIO lives and is read only inside the closure
        // that keeps the bytes alive.
        let pkey = Array(pem.utf8).withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PUBKEY(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let pkey else {
            throw CryptoError(code: .invalidPEM, reason: "not a PEM public key", openSSLErrors: CryptoError.drainErrorQueue())
        }
        defer { EVP_PKEY_free(pkey) }
        guard EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 else {
            throw CryptoError(code: .invalidPEM, reason: "the PEM key is not an Ed25519 key")
        }
        var raw = [UInt8](repeating: 0, count: Self.byteCount)
        var length = raw.count
        try check(EVP_PKEY_get_raw_public_key(pkey, &raw, &length), "EVP_PKEY_get_raw_public_key")
        try self.init(rawRepresentation: raw)
    }

    /// Bare contexts; each check initialises the one it borrows with this key.
    private static func makePool(for key: PKey) -> ContextPool {
        ContextPool(
            make: {
                guard let context = EVP_MD_CTX_new() else { throw CryptoError.openSSL("EVP_MD_CTX_new") }
                return context
            },
            destroy: { EVP_MD_CTX_free($0) }
        )
    }

    /// Whether `signature` is a valid Ed25519 signature of `message` under this key.
    /// Wrong lengths, S ≥ L and every other failure answer `false`.
    public func isValidSignature(_ signature: some ContiguousBytes, for message: some ContiguousBytes) -> Bool {
        signature.withUnsafeBytes { sig in
            guard sig.count == Self.signatureByteCount else { return false }
            return message.withUnsafeBytes { msg in
                let valid =
                    (try? verifiers.withContext(reusable: { $0 }) { context in
                        // Initialised for every check: OpenSSL 3.2 and later mark a context
                        // finished after one-shot EVP_DigestVerify (openssl/openssl#23075).
                        try check(EVP_DigestVerifyInit(context, nil, nil, nil, key.pointer), "EVP_DigestVerifyInit")
                        return EVP_DigestVerify(
                            context,
                            sig.baseAddress?.assumingMemoryBound(to: UInt8.self), sig.count,
                            msg.baseAddress?.assumingMemoryBound(to: UInt8.self), msg.count
                        ) == 1
                    }) ?? false
                if !valid {
                    // A failed verification leaves an entry on the queue; don't leak it to the
                    // next caller on this thread.
                    _ = CryptoError.drainErrorQueue()
                }
                return valid
            }
        }
    }

    /// The key as a SubjectPublicKeyInfo PEM (`openssl pkey -pubin` reads it).
    public func pemRepresentation() throws -> String {
        try withMemoryBIO { bio in
            try check(PEM_write_bio_PUBKEY(bio, key.pointer), "PEM_write_bio_PUBKEY")
        }
    }

    /// The encodings of the eight points of small order, with and without the sign bit set,
    /// including the non-canonical encodings of 0, 1 and −1 (y = p−1, p, p+1): fourteen
    /// distinct byte strings in all. The last byte's top bit (the x sign) is ignored.
    private static let smallOrderEncodings: [[UInt8]] = {
        func hex(_ s: String) -> [UInt8] {
            var out: [UInt8] = []
            var index = s.startIndex
            while index < s.endIndex {
                let next = s.index(index, offsetBy: 2)
                out.append(UInt8(s[index..<next], radix: 16)!)
                index = next
            }
            return out
        }
        return [
            "0000000000000000000000000000000000000000000000000000000000000000", // y = 0, order 4
            "0100000000000000000000000000000000000000000000000000000000000000", // y = 1, the identity
            "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
            "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", // order 8
            "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p−1, order 2
            "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p ≡ 0
            "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", // y = p+1 ≡ 1
        ].map(hex)
    }()

    /// Whether `bytes` encodes a point of order 1, 2, 4 or 8 (libsodium's `has_small_order`).
    public static func hasSmallOrder(_ bytes: [UInt8]) -> Bool {
        guard bytes.count == byteCount else { return false }
        var normalized = bytes
        normalized[31] &= 0x7f
        return smallOrderEncodings.contains { constantTimeEquals($0, normalized) }
    }
}

/// Owns one `EVP_PKEY`, freed in `deinit`.
final class PKey: @unchecked Sendable {
    // @unchecked: an EVP_PKEY is reference-counted and safe for concurrent read-only use;
    // every operation creates its own EVP_MD_CTX.
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }
}

/// Runs `body` with a fresh memory BIO and returns what it wrote, as text.
func withMemoryBIO(_ body: (OpaquePointer) throws -> Void) throws -> String {
    guard let bio = BIO_new(BIO_s_mem()) else { throw CryptoError.openSSL("BIO_new") }
    defer { BIO_free(bio) }
    try body(bio)
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = invitelink_bio_get_mem_data(bio, &data)
    guard length > 0, let data else { throw CryptoError.openSSL("BIO_get_mem_data") }
    return String(decoding: UnsafeRawBufferPointer(start: data, count: length), as: UTF8.self)
}
