internal import COpenSSL

/// An error from the cryptographic layer, with a stable code and the OpenSSL error queue that
/// was pending when it was raised.
///
/// Every failing OpenSSL call is turned into one of these through ``CryptoError/openSSL(_:)``,
/// which drains `ERR_get_error()` so that no stale entry is left for the next caller on the
/// thread (the pattern of swift-nio-ssl's `BoringSSLError.buildErrorStack`).
public struct CryptoError: Error, CustomStringConvertible, Sendable, Equatable {
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public let rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// An OpenSSL call failed; `openSSLErrors` says why.
        public static let openSSL = Code(rawValue: "openssl")
        /// Key bytes of the wrong length or form.
        public static let invalidKey = Code(rawValue: "invalid_key")
        /// An Ed25519 public key of small order: signatures under it can be forged.
        public static let smallOrderKey = Code(rawValue: "small_order_key")
        /// A PEM document that is not an Ed25519 PKCS#8 private key.
        public static let invalidPEM = Code(rawValue: "invalid_pem")
        /// An HMAC secret shorter than the 32 bytes we require.
        public static let shortSecret = Code(rawValue: "short_secret")
    }

    public let code: Code
    public let reason: String
    /// OpenSSL's own messages, oldest first (`ERR_error_string_n`).
    public let openSSLErrors: [String]

    public init(code: Code, reason: String, openSSLErrors: [String] = []) {
        self.code = code
        self.reason = reason
        self.openSSLErrors = openSSLErrors
    }

    public var description: String {
        openSSLErrors.isEmpty ? reason : "\(reason) (\(openSSLErrors.joined(separator: "; ")))"
    }

    /// Builds an error for a failed OpenSSL call and empties the thread's error queue.
    static func openSSL(_ call: String) -> CryptoError {
        CryptoError(code: .openSSL, reason: "\(call) failed", openSSLErrors: drainErrorQueue())
    }

    /// Empties OpenSSL's per-thread error queue, returning its entries as text.
    static func drainErrorQueue() -> [String] {
        var messages: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            messages.append(String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return messages
    }
}

/// Throws ``CryptoError/openSSL(_:)`` unless an OpenSSL call returned 1.
@inline(__always)
func check(_ result: Int32, _ call: @autoclosure () -> String) throws {
    guard result == 1 else { throw CryptoError.openSSL(call()) }
}
