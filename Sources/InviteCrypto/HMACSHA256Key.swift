internal import COpenSSL

/// An HMAC-SHA256 key held by OpenSSL's `EVP_MAC`, pre-keyed once and reused.
///
/// The key is absorbed into a template context at creation; each operation borrows a context
/// from a small pool and re-initialises it with `EVP_MAC_init(ctx, NULL, 0, NULL)`, which
/// restores the keyed state without hashing the key again. That keeps HS256 signing free of
/// per-call key setup, which is most of the cost of a MAC over a short token.
public final class HMACSHA256Key: Sendable {
    /// The tag length in bytes. Shorter (truncated) tags are never accepted.
    public static let tagLength = 32
    /// The shortest secret the keyring accepts (RFC 7518 §3.2: at least the hash size).
    public static let minimumSecretLength = 32

    private let secret: SecureBytes
    private let pool: ContextPool

    /// Creates a key from `secret`. Any length is accepted here so that published test
    /// vectors with short keys can run; the keyring enforces ``minimumSecretLength``.
    public init(secret: SecureBytes) throws {
        self.secret = secret
        let template = try Self.makeKeyedContext(secret)
        let shared = TemplateBox(pointer: template)
        self.pool = ContextPool(
            make: {
                guard let copy = EVP_MAC_CTX_dup(shared.pointer) else { throw CryptoError.openSSL("EVP_MAC_CTX_dup") }
                return copy
            },
            destroy: { EVP_MAC_CTX_free($0) }
        )
        self.template = shared
    }

    private let template: TemplateBox

    /// Owns the keyed template context; every pooled context is a copy of it.
    private final class TemplateBox: @unchecked Sendable {
        // @unchecked: the template is only read (EVP_MAC_CTX_dup) after init, never used
        // for an operation, so concurrent dups are safe.
        let pointer: OpaquePointer
        init(pointer: OpaquePointer) { self.pointer = pointer }
        deinit { EVP_MAC_CTX_free(pointer) }
    }

    private static func makeKeyedContext(_ secret: SecureBytes) throws -> OpaquePointer {
        guard let mac = EVP_MAC_fetch(nil, "HMAC", nil) else { throw CryptoError.openSSL("EVP_MAC_fetch(HMAC)") }
        defer { EVP_MAC_free(mac) }
        guard let context = EVP_MAC_CTX_new(mac) else { throw CryptoError.openSSL("EVP_MAC_CTX_new") }
        let status = secret.withUnsafeBytes { key in
            invitelink_hmac_sha256_init(context, key.baseAddress?.assumingMemoryBound(to: UInt8.self), key.count)
        }
        guard status == 1 else {
            EVP_MAC_CTX_free(context)
            throw CryptoError.openSSL("EVP_MAC_init")
        }
        return context
    }

    /// The raw secret, for writing the key file. Handle with care.
    public func withSecretBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try secret.withUnsafeBytes(body)
    }

    /// HMAC-SHA256 of `message`, written into `tag` (32 bytes).
    public func authenticate(_ message: UnsafeRawBufferPointer, into tag: UnsafeMutableRawBufferPointer) throws {
        precondition(tag.count >= Self.tagLength)
        try pool.withContext { context in
            try check(EVP_MAC_init(context, nil, 0, nil), "EVP_MAC_init")
            try check(EVP_MAC_update(context, message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count), "EVP_MAC_update")
            var length = 0
            try check(
                EVP_MAC_final(context, tag.baseAddress!.assumingMemoryBound(to: UInt8.self), &length, Self.tagLength),
                "EVP_MAC_final"
            )
            guard length == Self.tagLength else { throw CryptoError(code: .openSSL, reason: "EVP_MAC_final returned \(length) bytes") }
        }
    }

    /// HMAC-SHA256 of `message` as a new array.
    public func authenticationCode(for message: some ContiguousBytes) throws -> [UInt8] {
        var tag = [UInt8](repeating: 0, count: Self.tagLength)
        try message.withUnsafeBytes { input in
            try tag.withUnsafeMutableBytes { output in try authenticate(input, into: output) }
        }
        return tag
    }

    /// Whether `tag` is the full 32-byte MAC of `message`, compared in constant time.
    /// A truncated tag is never valid.
    public func isValidAuthenticationCode(_ tag: some ContiguousBytes, for message: some ContiguousBytes) throws -> Bool {
        try tag.withUnsafeBytes { tag in
            try message.withUnsafeBytes { message in try isValidAuthenticationCode(tag, for: message) }
        }
    }

    /// The non-generic form, so the token hot path needs no generic dispatch.
    public func isValidAuthenticationCode(_ tag: UnsafeRawBufferPointer, for message: UnsafeRawBufferPointer) throws -> Bool {
        guard tag.count == Self.tagLength else { return false }
        var expected: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return try withUnsafeMutableBytes(of: &expected) { buffer in
            try authenticate(message, into: buffer)
            return CRYPTO_memcmp(buffer.baseAddress, tag.baseAddress, Self.tagLength) == 0
        }
    }
}
