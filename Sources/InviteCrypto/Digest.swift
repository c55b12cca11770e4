internal import COpenSSL

/// SHA-256 and scrypt through OpenSSL's EVP interfaces.
public enum Digest {
    /// SHA-256 fetched from the default provider once per process. `EVP_sha256()` is OpenSSL
    /// 1.1's handle: on 3.x every digest made with it fetches the implementation again, which
    /// takes the provider store's lock on every call (the verified-signature cache and the
    /// audit seal hash on every request). A fetched `EVP_MD` is immutable and shared safely.
    private static let sha256Method = SHA256Method()

    /// SHA-256 of `data`. Used to store bearer credentials as hashes: the credentials are 256
    /// random bits, so a fast hash is enough (no dictionary to attack).
    public static func sha256(_ data: some ContiguousBytes) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        let status = data.withUnsafeBytes { input in
            out.withUnsafeMutableBufferPointer { output in
                EVP_Digest(input.baseAddress, input.count, output.baseAddress, &length, sha256Method.pointer, nil)
            }
        }
        try check(status, "EVP_Digest(SHA256)")
        return out
    }

    /// SHA-256 of `input` as four 64-bit words, without allocating: a fixed-size key for
    /// tables that remember whole messages (``VerifiedSignatureCache``).
    public static func sha256Words(_ input: UnsafeRawBufferPointer) throws -> SIMD4<UInt64> {
        var words = SIMD4<UInt64>()
        var length: UInt32 = 0
        let status = withUnsafeMutableBytes(of: &words) { output in
            EVP_Digest(
                input.baseAddress, input.count, output.baseAddress?.assumingMemoryBound(to: UInt8.self), &length, sha256Method.pointer, nil)
        }
        try check(status, "EVP_Digest(SHA256)")
        return words
    }

    /// scrypt (RFC 7914) through `EVP_KDF`, for passwords people choose.
    public static func scrypt(
        password: some ContiguousBytes, salt: some ContiguousBytes,
        n: UInt64, r: UInt32, p: UInt32, length: Int
    ) throws -> [UInt8] {
        guard let kdf = EVP_KDF_fetch(nil, "SCRYPT", nil) else { throw CryptoError.openSSL("EVP_KDF_fetch(SCRYPT)") }
        defer { EVP_KDF_free(kdf) }
        guard let context = EVP_KDF_CTX_new(kdf) else { throw CryptoError.openSSL("EVP_KDF_CTX_new") }
        defer { EVP_KDF_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: length)
        let status = password.withUnsafeBytes { pass in
            salt.withUnsafeBytes { salt in
                out.withUnsafeMutableBufferPointer { output in
                    invitelink_scrypt_derive(
                        context,
                        pass.baseAddress?.assumingMemoryBound(to: UInt8.self), pass.count,
                        salt.baseAddress?.assumingMemoryBound(to: UInt8.self), salt.count,
                        n, r, p, output.baseAddress, length
                    )
                }
            }
        }
        try check(status, "EVP_KDF_derive(SCRYPT)")
        return out
    }
}

/// SHA-256's `EVP_MD`, fetched once and kept for the life of the process (never freed). If the
/// fetch fails the built-in handle is used: digests still work, only slower.
private struct SHA256Method: @unchecked Sendable {
    let pointer: OpaquePointer? = EVP_MD_fetch(nil, "SHA256", nil) ?? EVP_sha256()
}
