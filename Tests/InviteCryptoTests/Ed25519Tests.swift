import Foundation
import InviteCrypto
import TestVectors
import Testing

/// Ed25519 against RFC 8032 §7.1, Wycheproof and the small-order keys of cctv-ed25519.
@Suite("Ed25519")
struct Ed25519Tests {
    struct RFC8032Case {
        let name: String
        let seed: [UInt8]
        let publicKey: [UInt8]
        let message: [UInt8]
        let signature: [UInt8]
    }

    static func rfc8032(_ name: String) throws -> RFC8032Case {
        let document = try Vectors.object("rfc/rfc8032_ed25519.json")
        let tests = try #require(document["tests"] as? [[String: Any]])
        let test = try #require(tests.first { $0["name"] as? String == name }, "\(name) is not in the vector file")
        return RFC8032Case(
            name: name,
            seed: try hex(try #require(test["secret"] as? String)),
            publicKey: try hex(try #require(test["public"] as? String)),
            message: try hex(try #require(test["message"] as? String)),
            signature: try hex(try #require(test["signature"] as? String))
        )
    }

    static let rfc8032Names = ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"]

    @Test("RFC 8032 §7.1: the seed gives the published public key", arguments: rfc8032Names)
    func rfc8032PublicKey(name: String) throws {
        let vector = try Self.rfc8032(name)
        let key = try Ed25519PrivateKey(seed: vector.seed)
        #expect(key.publicKey.rawRepresentation == vector.publicKey)
    }

    @Test("RFC 8032 §7.1: signing is deterministic and gives the published signature", arguments: rfc8032Names)
    func rfc8032Signature(name: String) throws {
        let vector = try Self.rfc8032(name)
        let key = try Ed25519PrivateKey(seed: vector.seed)
        #expect(try key.signature(for: vector.message) == vector.signature)
        #expect(try key.signature(for: vector.message) == vector.signature)
    }

    @Test("RFC 8032 §7.1: the published signature verifies under the published key, and not for another message", arguments: rfc8032Names)
    func rfc8032Verify(name: String) throws {
        let vector = try Self.rfc8032(name)
        let publicKey = try Ed25519PublicKey(rawRepresentation: vector.publicKey)
        #expect(publicKey.isValidSignature(vector.signature, for: vector.message))
        #expect(publicKey.isValidSignature(vector.signature, for: vector.message + [0]) == false)
    }

    @Test("Wycheproof ed25519_test.json: every valid case verifies, every invalid case is rejected")
    func wycheproof() throws {
        let document = try Vectors.object("wycheproof/ed25519_test.json")
        let groups = try #require(document["testGroups"] as? [[String: Any]])
        var validCount = 0, invalidCount = 0
        var wrong: [Int] = []
        for group in groups {
            let publicKeyHex = try #require((group["publicKey"] as? [String: Any])?["pk"] as? String)
            // A small-order key is refused at construction: that rejects every signature under it.
            let publicKey = try? Ed25519PublicKey(rawRepresentation: try hex(publicKeyHex))
            for test in try #require(group["tests"] as? [[String: Any]]) {
                let tcId = try #require(test["tcId"] as? Int)
                let result = try #require(test["result"] as? String)
                let message = try hex(try #require(test["msg"] as? String))
                let signature = try hex(try #require(test["sig"] as? String))
                let accepted = publicKey?.isValidSignature(signature, for: message) ?? false
                switch result {
                case "valid":
                    validCount += 1
                    if !accepted { wrong.append(tcId) }
                case "invalid":
                    invalidCount += 1
                    if accepted { wrong.append(tcId) }
                default:
                    Issue.record("tcId \(tcId) has result \(result)")
                }
            }
        }
        #expect(validCount == 88 && invalidCount == 63, "the vector file changed: \(validCount) valid, \(invalidCount) invalid")
        #expect(wrong.isEmpty, "tcIds with the wrong answer: \(wrong)")
    }

    /// The `low_order_A` keys of cctv-ed25519: OpenSSL loads them and forged signatures verify
    /// under them, so the type must refuse them itself.
    static func smallOrderKeys() throws -> [[UInt8]] {
        let cases = try #require(try Vectors.json("cctv-ed25519/ed25519vectors.json") as? [[String: Any]])
        var keys: Set<String> = []
        for test in cases where (test["flags"] as? [String])?.contains("low_order_A") == true {
            keys.insert(try #require(test["key"] as? String))
        }
        return try keys.sorted().map(hex)
    }

    @Test("cctv-ed25519: the 14 small-order public keys are refused by init(rawRepresentation:)")
    func smallOrderKeysRefused() throws {
        let keys = try Self.smallOrderKeys()
        #expect(keys.count == 14)
        for key in keys {
            #expect(Ed25519PublicKey.hasSmallOrder(key), "hasSmallOrder(\(hexString(key)))")
            let error = #expect(throws: CryptoError.self, "key \(hexString(key))") {
                try Ed25519PublicKey(rawRepresentation: key)
            }
            #expect(error?.code == .smallOrderKey, "key \(hexString(key)) threw \(String(describing: error))")
        }
    }

    @Test("cctv-ed25519: the small-order keys are refused through a SubjectPublicKeyInfo PEM too")
    func smallOrderKeysRefusedFromPEM() throws {
        let keys = try Self.smallOrderKeys()
        #expect(keys.count == 14)
        let spkiPrefix = try hex("302a300506032b6570032100")
        for key in keys {
            let pem = "-----BEGIN PUBLIC KEY-----\n\(Data(spkiPrefix + key).base64EncodedString())\n-----END PUBLIC KEY-----\n"
            let error = #expect(throws: CryptoError.self, "key \(hexString(key))") {
                try Ed25519PublicKey(pemRepresentation: pem)
            }
            #expect(error?.code == .smallOrderKey, "key \(hexString(key)) threw \(String(describing: error))")
        }
    }

    @Test("ordinary public keys do not have small order")
    func ordinaryKeysAreNotSmallOrder() throws {
        for name in Self.rfc8032Names {
            #expect(Ed25519PublicKey.hasSmallOrder(try Self.rfc8032(name).publicKey) == false, "\(name)")
        }
        #expect(Ed25519PublicKey.hasSmallOrder([UInt8](repeating: 0, count: 31)) == false)
    }

    @Test("keys and seeds of the wrong length are refused with invalidKey")
    func wrongLengths() throws {
        for length in [0, 31, 33, 64] {
            let bytes = [UInt8](repeating: 0x42, count: length)
            let seedError = #expect(throws: CryptoError.self, "seed of \(length) bytes") { try Ed25519PrivateKey(seed: bytes) }
            #expect(seedError?.code == .invalidKey)
            let keyError = #expect(throws: CryptoError.self, "public key of \(length) bytes") {
                try Ed25519PublicKey(rawRepresentation: bytes)
            }
            #expect(keyError?.code == .invalidKey)
        }
    }

    @Test("a signature of the wrong length is rejected, not trapped")
    func wrongSignatureLengths() throws {
        let key = try Ed25519PrivateKey()
        let message = Array("message".utf8)
        let signature = try key.signature(for: message)
        #expect(key.publicKey.isValidSignature(signature, for: message))
        for length in [0, 32, 63] {
            #expect(key.publicKey.isValidSignature(Array(signature.prefix(length)), for: message) == false, "length \(length)")
        }
        #expect(key.publicKey.isValidSignature(signature + [0], for: message) == false, "length 65")
    }

    @Test("a private key survives a PKCS#8 PEM round trip")
    func privateKeyPEMRoundTrip() throws {
        let key = try Ed25519PrivateKey()
        let pem = try key.pemRepresentation()
        #expect(pem.hasPrefix("-----BEGIN PRIVATE KEY-----\n"))
        #expect(pem.hasSuffix("-----END PRIVATE KEY-----\n"))
        let reloaded = try Ed25519PrivateKey(pemRepresentation: pem)
        #expect(reloaded.publicKey.rawRepresentation == key.publicKey.rawRepresentation)
        let message = Array("round trip".utf8)
        #expect(try reloaded.signature(for: message) == key.signature(for: message))
    }

    /// RFC 8410 §10.3's example private key, as `openssl genpkey -algorithm ed25519` writes keys.
    @Test("RFC 8410 §10.3 example PEM loads and gives its seed's public key")
    func rfc8410ExamplePEM() throws {
        let pem = """
            -----BEGIN PRIVATE KEY-----
            MC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
            -----END PRIVATE KEY-----

            """
        let key = try Ed25519PrivateKey(pemRepresentation: pem)
        let fromSeed = try Ed25519PrivateKey(seed: hex("d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842"))
        #expect(key.publicKey.rawRepresentation == fromSeed.publicKey.rawRepresentation)
    }

    @Test("a public key survives a SubjectPublicKeyInfo PEM round trip")
    func publicKeyPEMRoundTrip() throws {
        let key = try Ed25519PrivateKey().publicKey
        let pem = try key.pemRepresentation()
        #expect(pem.hasPrefix("-----BEGIN PUBLIC KEY-----\n"))
        #expect(try Ed25519PublicKey(pemRepresentation: pem).rawRepresentation == key.rawRepresentation)
    }

    @Test("text that is not an Ed25519 private key PEM is refused with invalidPEM")
    func invalidPrivatePEM() throws {
        let publicPEM = try Ed25519PrivateKey().publicKey.pemRepresentation()
        for text in ["", "not a key", publicPEM] {
            let error = #expect(throws: CryptoError.self) { try Ed25519PrivateKey(pemRepresentation: text) }
            #expect(error?.code == .invalidPEM, "\(text.prefix(30))")
        }
    }

    @Test("generated keys differ and sign verifiably")
    func generatedKeys() throws {
        let first = try Ed25519PrivateKey(), second = try Ed25519PrivateKey()
        #expect(first.publicKey.rawRepresentation != second.publicKey.rawRepresentation)
        let message = Array("hello".utf8)
        let signature = try first.signature(for: message)
        #expect(first.publicKey.isValidSignature(signature, for: message))
        #expect(second.publicKey.isValidSignature(signature, for: message) == false)
    }

    @Test("concurrent verifications share the key safely")
    func concurrentVerification() async throws {
        let key = try Ed25519PrivateKey()
        let message = Array("concurrent".utf8)
        let signature = try key.signature(for: message)
        let publicKey = key.publicKey
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for index in 0..<64 {
                // Every fourth one is a failing verification: a failed context must not poison
                // the pool for the next caller.
                let tampered = index % 4 == 0
                group.addTask {
                    let valid = publicKey.isValidSignature(signature, for: tampered ? message + [1] : message)
                    return valid != tampered
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.count == 64)
        #expect(outcomes.allSatisfy { $0 })
    }
}
