internal import COpenSSL

/// The libcrypto this process loaded, which need not be the one it was built against
/// (Debian 12 ships OpenSSL 3.0, Debian 13 ships 3.5, and `LD_LIBRARY_PATH` can swap them).
public enum OpenSSLLibrary {
    /// What `openssl version` prints for the loaded library, e.g. "OpenSSL 3.5.9 29 Sep 2026".
    public static var version: String {
        String(cString: OpenSSL_version(OPENSSL_VERSION))
    }
}
