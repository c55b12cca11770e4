import InviteCrypto
import TestVectors
import Testing

/// HMAC-SHA256 against RFC 4231 and Wycheproof, and the rule that only full 32-byte tags verify.
@Suite("HMAC-SHA256")
struct HMACSHA256KeyTests {
    struct RFC4231Case {
        let id: Int
        let key: [UInt8]
        let data: [UInt8]
        let mac: [UInt8]
        let truncatedTo: Int?
    }

    static func rfc4231(_ id: Int) throws -> RFC4231Case {
        let document = try Vectors.object("rfc/rfc4231_hmac_sha256.json")
        let tests = try #require(document["tests"] as? [[String: Any]])
        let test = try #require(tests.first { $0["id"] as? Int == id }, "RFC 4231 case \(id) is not in the vector file")
        return RFC4231Case(
            id: id,
            key: try hex(try #require(test["key"] as? String)),
            data: try hex(try #require(test["data"] as? String)),
            mac: try hex(try #require(test["hmac_sha256"] as? String)),
            truncatedTo: test["truncate_to_bytes"] as? Int
        )
    }

    /// RFC 4231 §4.2–4.8 except 4.6 (case 5, truncated), which has its own test.
    @Test("RFC 4231 full-length MAC", arguments: [1, 2, 3, 4, 6, 7])
    func rfc4231FullLength(id: Int) throws {
        let vector = try Self.rfc4231(id)
        #expect(vector.truncatedTo == nil)
        let key = try HMACSHA256Key(secret: SecureBytes(vector.key))
        #expect(try key.authenticationCode(for: vector.data) == vector.mac)
        #expect(try key.isValidAuthenticationCode(vector.mac, for: vector.data))
    }

    /// RFC 4231 §4.6 publishes only the first 128 bits: our full MAC must start with them, and
    /// the truncated tag itself must not verify.
    @Test("RFC 4231 case 5: the full MAC's prefix matches, the truncated tag is rejected")
    func rfc4231TruncatedCase() throws {
        let vector = try Self.rfc4231(5)
        #expect(vector.truncatedTo == 16)
        #expect(vector.mac.count == 16)
        let key = try HMACSHA256Key(secret: SecureBytes(vector.key))
        let full = try key.authenticationCode(for: vector.data)
        #expect(full.count == 32)
        #expect(Array(full.prefix(16)) == vector.mac)
        #expect(try key.isValidAuthenticationCode(vector.mac, for: vector.data) == false)
        #expect(try key.isValidAuthenticationCode(full, for: vector.data))
    }

    struct WycheproofCase {
        let tcId: Int
        let key: [UInt8]
        let message: [UInt8]
        let tag: [UInt8]
        let valid: Bool
        let tagSize: Int
    }

    static func wycheproofCases() throws -> [WycheproofCase] {
        let document = try Vectors.object("wycheproof/hmac_sha256_test.json")
        let groups = try #require(document["testGroups"] as? [[String: Any]])
        var cases: [WycheproofCase] = []
        for group in groups {
            let tagSize = try #require(group["tagSize"] as? Int)
            for test in try #require(group["tests"] as? [[String: Any]]) {
                let result = try #require(test["result"] as? String)
                #expect(result == "valid" || result == "invalid", "unexpected result \(result)")
                cases.append(
                    WycheproofCase(
                        tcId: try #require(test["tcId"] as? Int),
                        key: try hex(try #require(test["key"] as? String)),
                        message: try hex(try #require(test["msg"] as? String)),
                        tag: try hex(try #require(test["tag"] as? String)),
                        valid: result == "valid",
                        tagSize: tagSize
                    ))
            }
        }
        return cases
    }

    @Test("Wycheproof hmac_sha256_test.json, 256-bit tags: valid accepted, invalid rejected")
    func wycheproofFullTags() throws {
        let cases = try Self.wycheproofCases().filter { $0.tagSize == 256 }
        #expect(cases.count == 87, "the vector file changed: \(cases.count) full-size cases")
        var wrong: [Int] = []
        for test in cases {
            let key = try HMACSHA256Key(secret: SecureBytes(test.key))
            if try key.isValidAuthenticationCode(test.tag, for: test.message) != test.valid { wrong.append(test.tcId) }
            if test.valid, try key.authenticationCode(for: test.message) != test.tag { wrong.append(test.tcId) }
        }
        #expect(wrong.isEmpty, "tcIds with the wrong answer: \(wrong)")
    }

    /// The 128-bit groups: the valid ones really are prefixes of our MAC, and no truncated
    /// tag verifies, whatever its label.
    @Test("Wycheproof hmac_sha256_test.json, 128-bit tags: always rejected")
    func wycheproofTruncatedTags() throws {
        let cases = try Self.wycheproofCases().filter { $0.tagSize == 128 }
        #expect(cases.count == 87, "the vector file changed: \(cases.count) truncated cases")
        var accepted: [Int] = [], notPrefix: [Int] = []
        for test in cases {
            let key = try HMACSHA256Key(secret: SecureBytes(test.key))
            if try key.isValidAuthenticationCode(test.tag, for: test.message) { accepted.append(test.tcId) }
            if test.valid, try Array(key.authenticationCode(for: test.message).prefix(16)) != test.tag { notPrefix.append(test.tcId) }
        }
        #expect(accepted.isEmpty, "truncated tags accepted: tcIds \(accepted)")
        #expect(notPrefix.isEmpty, "valid truncated tags that are not a prefix of our MAC: tcIds \(notPrefix)")
    }

    @Test("a tag of any length other than 32 bytes is rejected")
    func wrongLengthTags() throws {
        let key = try HMACSHA256Key(secret: SecureBytes([UInt8](repeating: 7, count: 32)))
        let message = Array("message".utf8)
        let tag = try key.authenticationCode(for: message)
        for length in [0, 1, 16, 31] {
            #expect(try key.isValidAuthenticationCode(Array(tag.prefix(length)), for: message) == false, "length \(length)")
        }
        #expect(try key.isValidAuthenticationCode(tag + [0], for: message) == false, "length 33")
    }

    @Test("flipping any one bit of the tag is rejected")
    func everyBitOfTheTagCounts() throws {
        let key = try HMACSHA256Key(secret: SecureBytes([UInt8](repeating: 9, count: 32)))
        let message = Array("invitation".utf8)
        let tag = try key.authenticationCode(for: message)
        var accepted: [Int] = []
        for bit in 0..<(tag.count * 8) {
            var tampered = tag
            tampered[bit / 8] ^= 1 << UInt8(bit % 8)
            if try key.isValidAuthenticationCode(tampered, for: message) { accepted.append(bit) }
        }
        #expect(accepted.isEmpty, "bits whose flip was accepted: \(accepted)")
    }

    /// The pooled contexts are re-initialised per call: a second MAC must not depend on the first.
    @Test("repeated and interleaved MACs are independent")
    func pooledContextsDoNotCarryState() async throws {
        let key = try HMACSHA256Key(secret: SecureBytes(Array("Jefe".utf8)))
        let message = Array("what do ya want for nothing?".utf8)
        let expected = try hex("5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        _ = try key.authenticationCode(for: Array("something else".utf8))
        #expect(try key.authenticationCode(for: message) == expected)
        let results = try await withThrowingTaskGroup(of: [UInt8].self) { group in
            for _ in 0..<64 { group.addTask { try key.authenticationCode(for: message) } }
            return try await group.reduce(into: [[UInt8]]()) { $0.append($1) }
        }
        #expect(results.count == 64)
        #expect(results.allSatisfy { $0 == expected })
    }

    @Test("an empty key is a key (RFC 2104 pads it), not the previous key")
    func emptyKey() throws {
        let key = try HMACSHA256Key(secret: SecureBytes([UInt8]()))
        // HMAC-SHA256("", ""), from Python: hmac.new(b"", b"", hashlib.sha256).hexdigest()
        #expect(try key.authenticationCode(for: [UInt8]()) == hex("b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad"))
    }
}
