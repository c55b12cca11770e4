import InviteCrypto
import InviteToken
import Testing

/// Base64url is strict: one spelling per byte string.
@Suite("Base64URL")
struct Base64URLTests {
    /// RFC 4648 §10, without padding (§5 alphabet; these strings use no `+` or `/`).
    @Test(
        "RFC 4648 §10 vectors encode and decode",
        arguments: [
            ("", ""), ("f", "Zg"), ("fo", "Zm8"), ("foo", "Zm9v"), ("foob", "Zm9vYg"), ("fooba", "Zm9vYmE"), ("foobar", "Zm9vYmFy"),
        ])
    func rfc4648(plain: String, encoded: String) {
        #expect(Base64URL.encode(Array(plain.utf8)) == encoded)
        #expect(Base64URL.decode(encoded) == Array(plain.utf8))
    }

    @Test("the URL-safe alphabet: 0xfb 0xff encodes with - and _")
    func urlSafeAlphabet() {
        #expect(Base64URL.encode([0xfb, 0xff]) == "-_8")
        #expect(Base64URL.decode("-_8") == [0xfb, 0xff])
        #expect(Base64URL.encode([0xff, 0xff, 0xff]) == "____")
        #expect(Base64URL.encode([0xfb, 0xef, 0xbe]) == "----")
    }

    @Test("every length from 0 to 100 round-trips random bytes")
    func roundTrip() throws {
        for length in 0...100 {
            let bytes = try SystemRandom.bytes(length)
            let encoded = Base64URL.encode(bytes)
            #expect(encoded.utf8.count == Base64URL.encodedLength(of: length))
            #expect(Base64URL.decode(encoded) == bytes, "length \(length)")
        }
    }

    @Test("padding is refused", arguments: ["Zg==", "Zg=", "Zm8=", "Zm9v====", "="])
    func padding(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("the + and / of standard base64 are refused", arguments: ["+_8", "-/8", "++++", "////"])
    func standardAlphabet(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("a length of 1 mod 4 is refused", arguments: ["A", "AAAAA", "Zm9vY"])
    func lengthOneModFour(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    /// "YR" and "YQ" both end in the bits of 0x61 for a lenient decoder; only "YQ" is canonical.
    @Test("non-zero trailing bits are refused", arguments: ["YR", "Zh", "Zm9", "Zm9vYh", "Zm9vYmF", "_-9", "-_B"])
    func trailingBits(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }

    @Test("YQ decodes to \"a\" and YR does not")
    func canonicalSpelling() {
        #expect(Base64URL.decode("YQ") == Array("a".utf8))
        #expect(Base64URL.decode("YR") == nil)
    }

    @Test("whitespace, dots, NUL and non-ASCII are refused", arguments: ["Zm 9v", "Zm9v\n", " Zm9v", "Zm.v", "Zm9\u{0}", "Zm9é"])
    func foreignCharacters(text: String) {
        #expect(Base64URL.decode(text) == nil)
    }
}

@Suite("RFC3339")
struct RFC3339Tests {
    @Test("formats in UTC with second precision")
    func format() {
        #expect(RFC3339.format(0) == "1970-01-01T00:00:00Z")
        #expect(RFC3339.format(1_800_000_000) == "2027-01-15T08:00:00Z")
    }

    @Test("parses Z, offsets and fractional seconds; Unix seconds through parseTime")
    func parse() {
        #expect(RFC3339.parse("2027-01-15T08:00:00Z") == 1_800_000_000)
        #expect(RFC3339.parse("2027-01-15T09:00:00+01:00") == 1_800_000_000)
        #expect(RFC3339.parse("2027-01-15T08:00:00.75Z") == 1_800_000_000)
        #expect(RFC3339.parseTime("1800000000") == 1_800_000_000)
        #expect(RFC3339.parseTime("2027-01-15T08:00:00Z") == 1_800_000_000)
    }

    @Test("refuses what is not a time", arguments: ["", "yesterday", "2027-01-15", "2027-13-15T08:00:00Z", "1.5e9"])
    func invalid(text: String) {
        #expect(RFC3339.parseTime(text) == nil)
    }
}
