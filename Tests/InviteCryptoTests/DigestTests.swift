import InviteCrypto
import TestVectors
import Testing

@Suite("SHA-256 and scrypt")
struct DigestTests {
    /// FIPS 180-2 appendix B.1 and the empty string.
    @Test("SHA-256 of \"abc\" and of the empty string")
    func sha256() throws {
        #expect(try Digest.sha256(Array("abc".utf8)) == hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"))
        #expect(try Digest.sha256([UInt8]()) == hex("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"))
    }

    /// RFC 7914 §12, first vector: empty password and salt.
    @Test("RFC 7914 §12: scrypt(\"\", \"\", N=16, r=1, p=1, 64)")
    func scryptEmpty() throws {
        let derived = try Digest.scrypt(password: [UInt8](), salt: [UInt8](), n: 16, r: 1, p: 1, length: 64)
        #expect(
            derived
                == (try hex(
                    "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                        + "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906"
                )))
    }

    /// RFC 7914 §12, second vector.
    @Test("RFC 7914 §12: scrypt(\"password\", \"NaCl\", N=1024, r=8, p=16, 64)")
    func scryptPasswordNaCl() throws {
        let derived = try Digest.scrypt(
            password: Array("password".utf8), salt: Array("NaCl".utf8), n: 1024, r: 8, p: 16, length: 64
        )
        #expect(
            derived
                == (try hex(
                    "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                        + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640"
                )))
    }

    @Test("scrypt with N not a power of two fails with a CryptoError")
    func scryptInvalidParameters() throws {
        let error = #expect(throws: CryptoError.self) {
            try Digest.scrypt(password: Array("p".utf8), salt: Array("s".utf8), n: 15, r: 1, p: 1, length: 32)
        }
        #expect(error?.code == .openSSL)
    }
}

@Suite("Random bytes, constant-time comparison, secret buffers")
struct PrimitivesTests {
    @Test("SystemRandom.bytes returns the requested count and does not repeat")
    func randomBytes() throws {
        #expect(try SystemRandom.bytes(0).isEmpty)
        let first = try SystemRandom.bytes(32), second = try SystemRandom.bytes(32)
        #expect(first.count == 32 && second.count == 32)
        #expect(first != second)
    }

    @Test("constantTimeEquals: equal, one byte different, different lengths, empty")
    func constantTimeComparison() {
        let bytes: [UInt8] = Array(0..<32)
        #expect(constantTimeEquals(bytes, bytes))
        #expect(constantTimeEquals(bytes, Array(bytes)[...]))
        for index in [0, 15, 31] {
            var other = bytes
            other[index] ^= 0x80
            #expect(constantTimeEquals(bytes, other) == false, "byte \(index)")
        }
        #expect(constantTimeEquals(bytes, Array(bytes.prefix(31))) == false)
        #expect(constantTimeEquals(Array(bytes.prefix(0)), [UInt8]()))
        #expect(constantTimeEquals([UInt8](), [0]) == false)
    }

    @Test("SecureBytes holds exactly the bytes it was given")
    func secureBytesContents() {
        let secret = SecureBytes([1, 2, 3, 4, 5] as [UInt8])
        #expect(secret.count == 5)
        #expect(secret.withUnsafeBytes { Array($0) } == [1, 2, 3, 4, 5])
        let empty = SecureBytes([UInt8]())
        #expect(empty.count == 0)
        #expect(empty.withUnsafeBytes { $0.count } == 0)
    }

    @Test("SecureBytes(randomCount:) has that many bytes and differs between calls")
    func secureBytesRandom() throws {
        let first = try SecureBytes(randomCount: 32), second = try SecureBytes(randomCount: 32)
        #expect(first.count == 32)
        #expect(constantTimeEquals(first, second) == false)
    }
}
