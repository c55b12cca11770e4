import Foundation
import InviteCrypto
import Testing

/// The suites run against the system libcrypto and, through scripts/openssl-3.5.sh, against
/// OpenSSL 3.5; that script names the version it means to load, and this checks it did.
@Suite("OpenSSL library")
struct OpenSSLLibraryTests {
    @Test func loadedLibraryIsTheExpectedOne() throws {
        let version = OpenSSLLibrary.version
        #expect(version.hasPrefix("OpenSSL 3."), "unexpected libcrypto: \(version)")
        if let expected = ProcessInfo.processInfo.environment["INVITELINK_EXPECT_OPENSSL"] {
            #expect(version.hasPrefix(expected + " "), "expected \(expected), loaded \(version)")
        }
    }

    /// Many operations in a row on the same key: OpenSSL 3.2 and later refuse a second
    /// one-shot operation on a context that was not initialised again (openssl#23075).
    @Test func pooledContextsSurviveRepeatedUse() throws {
        let key = try Ed25519PrivateKey()
        let mac = try HMACSHA256Key(secret: SecureBytes(Array(repeating: 7, count: 32)))
        for round in 0..<100 {
            let message = Array("message \(round)".utf8)
            let signature = try key.signature(for: message)
            #expect(key.publicKey.isValidSignature(signature, for: message))
            #expect(!key.publicKey.isValidSignature(signature, for: message + [0]))
            let tag = try mac.authenticationCode(for: message)
            #expect(try mac.isValidAuthenticationCode(tag, for: message))
        }
    }
}
