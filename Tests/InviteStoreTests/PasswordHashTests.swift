import Testing
@testable import InviteStore
import InviteToken

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

    @Test("malformed or out-of-bounds encodings throw invalidInput", arguments: [
        "", "bcrypt$x", "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA",
        "scrypt$16385$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",       // N not a power of two
        "scrypt$4194304$8$1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",     // N too large
        "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA==$AAAAAAAAAAAAAAAAAAAAAA",     // padded salt
    ])
    func malformed(encoded: String) async {
        await expectStoreError(.invalidInput, "encoding \(encoded)") {
            try PasswordHash.verify("pw", against: encoded)
        }
    }
}

@Suite("Identifiers and base64url")
struct IdentifierTests {
    @Test("RFC 4648 §10 vectors in the URL alphabet without padding", arguments: [
        ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
    ])
    func vectors(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded, "encoding \(plain)")
        #expect(Base64URL.decode(encoded) == Array(plain.utf8), "decoding \(encoded)")
    }

    @Test("the URL-safe characters stand for 62 and 63")
    func urlAlphabet() {
        #expect(Base64URL.encode([0xFB, 0xFF]) == "-_8", "0xFBFF must encode with - and _")
    }

    @Test("non-canonical input is refused", arguments: ["Zg==", "Zh", "Z", "Zm+v", "Zm/v", "Zm9 v", "Zm9v\n"])
    func strictDecode(encoded: String) {
        #expect(Base64URL.decode(encoded) == nil, "\(encoded.debugDescription) was accepted")
    }

    @Test("random identifiers carry the prefix and 128 bits in 22 characters")
    func randomIdentifier() throws {
        let id = try Identifiers.random(prefix: "inv_")
        #expect(id.hasPrefix("inv_") && id.count == 26, "unexpected shape \(id)")
        #expect(Base64URL.decode(id.dropFirst(4))?.count == 16, "the suffix is not 16 random bytes")
        #expect(try Identifiers.random(prefix: "inv_") != id, "two random identifiers are equal")
    }

    @Test("a page cursor decodes to what it encoded, for its own list only")
    func cursorRoundTrip() throws {
        let cursor = PageCursor(list: .invitations, time: 1_800_000_000, key: "inv_a:b")
        #expect(try PageCursor(decoding: cursor.encoded, for: .invitations) == cursor, "the cursor did not round-trip")
        #expect(throws: StoreError(.invalidCursor, "the page cursor is not one this list handed out"), "another list accepted it") {
            try PageCursor(decoding: cursor.encoded, for: .customers)
        }
    }
}
