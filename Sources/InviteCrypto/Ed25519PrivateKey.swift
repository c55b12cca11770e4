internal import COpenSSL

/// An Ed25519 signing key (RFC 8032) held by OpenSSL; signing is one-shot `EVP_DigestSign` on
/// a context initialised for that one signature.
public final class Ed25519PrivateKey: Sendable {
    public let publicKey: Ed25519PublicKey
    private let key: PKey
    private let signers: ContextPool

    /// A new random key from OpenSSL's generator.
    public convenience init() throws {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nil) else { throw CryptoError.openSSL("EVP_PKEY_CTX_new_id") }
        defer { EVP_PKEY_CTX_free(context) }
        try check(EVP_PKEY_keygen_init(context), "EVP_PKEY_keygen_init")
        var pkey: OpaquePointer? = nil
        try check(EVP_PKEY_keygen(context, &pkey), "EVP_PKEY_keygen")
        try self.init(owning: pkey!)
    }

    /// The key whose 32-byte seed is `seed` (RFC 8032 §5.1.5).
    public convenience init(seed: some ContiguousBytes) throws {
        let pkey = try seed.withUnsafeBytes { bytes -> OpaquePointer in
            guard bytes.count == 32 else {
                throw CryptoError(code: .invalidKey, reason: "an Ed25519 seed is 32 bytes, not \(bytes.count)")
            }
            guard
                let pkey = EVP_PKEY_new_raw_private_key(
                    EVP_PKEY_ED25519, nil, bytes.baseAddress!.assumingMemoryBound(to: UInt8.self), bytes.count
                )
            else {
                throw CryptoError.openSSL("EVP_PKEY_new_raw_private_key")
            }
            return pkey
        }
        try self.init(owning: pkey)
    }

    /// Reads a PKCS#8 PEM private key (`openssl genpkey -algorithm ed25519` writes one).
    public convenience init(pemRepresentation pem: String) throws {
        // BIO_new_mem_buf does not copy, so the BIO lives and is read only inside the closure
        // that keeps the bytes alive. With no callback OpenSSL asks for a passphrase on the
        // terminal, which would block an import or a server's keyring reload; a callback that
        // supplies none refuses an encrypted key at once.
        let pkey = Array(pem.utf8).withUnsafeBufferPointer { buffer -> OpaquePointer? in
            guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, { _, _, _, _ in 0 }, nil)
        }
        guard let pkey else {
            throw CryptoError(code: .invalidPEM, reason: "not a PKCS#8 PEM private key", openSSLErrors: CryptoError.drainErrorQueue())
        }
        guard EVP_PKEY_get_id(pkey) == EVP_PKEY_ED25519 else {
            EVP_PKEY_free(pkey)
            throw CryptoError(code: .invalidPEM, reason: "the PEM key is not an Ed25519 key")
        }
        try self.init(owning: pkey)
    }

    private init(owning pkey: OpaquePointer) throws {
        let owned = PKey(pkey)
        var raw = [UInt8](repeating: 0, count: 32)
        var length = raw.count
        try check(EVP_PKEY_get_raw_public_key(pkey, &raw, &length), "EVP_PKEY_get_raw_public_key")
        self.key = owned
        self.publicKey = try Ed25519PublicKey(rawRepresentation: raw)
        self.signers = ContextPool(
            make: {
                guard let context = EVP_MD_CTX_new() else { throw CryptoError.openSSL("EVP_MD_CTX_new") }
                return context
            },
            destroy: { EVP_MD_CTX_free($0) }
        )
    }

    /// The 64-byte signature of `message`, written into `signature`.
    public func sign(_ message: UnsafeRawBufferPointer, into signature: UnsafeMutableRawBufferPointer) throws {
        precondition(signature.count >= Ed25519PublicKey.signatureByteCount)
        try signers.withContext { context in
            // Initialised for every signature: since OpenSSL 3.2 a one-shot EVP_DigestSign
            // marks its context finished (openssl/openssl#23075), so a context is reused only
            // after EVP_DigestSignInit has made it new again. That works on 3.0 as well.
            try check(EVP_DigestSignInit(context, nil, nil, nil, key.pointer), "EVP_DigestSignInit")
            var length = Ed25519PublicKey.signatureByteCount
            try check(
                EVP_DigestSign(
                    context,
                    signature.baseAddress!.assumingMemoryBound(to: UInt8.self), &length,
                    message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count
                ),
                "EVP_DigestSign"
            )
        }
    }

    /// The 64-byte signature of `message`.
    public func signature(for message: some ContiguousBytes) throws -> [UInt8] {
        var signature = [UInt8](repeating: 0, count: Ed25519PublicKey.signatureByteCount)
        try message.withUnsafeBytes { input in
            try signature.withUnsafeMutableBytes { output in try sign(input, into: output) }
        }
        return signature
    }

    /// The key as PKCS#8 PEM ("BEGIN PRIVATE KEY"), as `openssl pkey` reads and writes it.
    public func pemRepresentation() throws -> String {
        try withMemoryBIO { bio in
            try check(PEM_write_bio_PrivateKey(bio, key.pointer, nil, nil, 0, nil, nil), "PEM_write_bio_PrivateKey")
        }
    }
}
