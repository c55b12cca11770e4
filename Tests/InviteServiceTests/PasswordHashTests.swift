import InviteToken
import Testing

@testable import InviteService

@Suite("PasswordHash")
struct PasswordHashTests {
    @Test("a hash verifies its own password and no other")
    func roundTrip() throws {
        let encoded = try PasswordHash.make(password: "correct horse battery staple")
        #expect(try PasswordHash.verify("correct horse battery staple", against: encoded), "the right password was refused")
        #expect(try !PasswordHash.verify("correct horse battery stapler", against: encoded), "a wrong password was accepted")
    }

    @Test("the encoding names scrypt, N=16384, r=8, p=1, a 16-byte salt and a 32-byte hash")
    func encoding() throws {
        let fields = try PasswordHash.make(password: "pw").split(separator: "$").map(String.init)
        #expect(fields.count == 6 && Array(fields.prefix(4)) == ["scrypt", "16384", "8", "1"], "wrong prefix: \(fields)")
        #expect(Base64URL.decode(fields[4])?.count == 16, "the salt is not 16 bytes")
        #expect(Base64URL.decode(fields[5])?.count == 32, "the hash is not 32 bytes")
    }

    @Test("two hashes of one password differ by their salt")
    func freshSalt() throws {
        #expect(try PasswordHash.make(password: "pw") != PasswordHash.make(password: "pw"), "the salt repeated")
    }

    @Test("a password typed with a combining accent matches the precomposed one")
    func unicodeNormalization() throws {
        let encoded = try PasswordHash.make(password: "caf\u{E9}")
        #expect(try PasswordHash.verify("cafe\u{301}", against: encoded), "NFD input did not match the NFC password")
    }

    @Test(
        "malformed or out-of-bounds encodings throw InvalidHash",
        arguments: [
            "", "bcrypt$x", "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA",
            "scrypt$16385$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", // N not a power of two
            "scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA", // N too large
            "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA", // padded salt
        ])
    func malformed(encoded: String) {
        #expect(throws: PasswordHash.InvalidHash.self, "encoding \(encoded)") {
            try PasswordHash.verify("pw", against: encoded)
        }
    }
}

@Suite("Identifiers")
struct IdentifiersTests {
    @Test("random identifiers carry the prefix and 128 bits in 22 characters")
    func randomIdentifier() throws {
        let id = try Identifiers.random(prefix: "inv_")
        #expect(id.hasPrefix("inv_") && id.count == 26, "unexpected shape \(id)")
        #expect(Base64URL.decode(id.dropFirst(4))?.count == 16, "the suffix is not 16 random bytes")
        #expect(try Identifiers.random(prefix: "inv_") != id, "two random identifiers are equal")
    }
}
