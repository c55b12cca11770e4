import InviteToken
import Testing

@testable import InviteStore

@Suite("Page cursors and base64url")
struct PageCursorTests {
    @Test(
        "RFC 4648 §10 vectors in the URL alphabet without padding",
        arguments: [
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

    @Test("a page cursor decodes to what it encoded, for its own list only")
    func cursorRoundTrip() throws {
        let cursor = PageCursor(list: .invitations, time: 1_800_000_000, key: "inv_a:b")
        #expect(try PageCursor(decoding: cursor.encoded, for: .invitations) == cursor, "the cursor did not round-trip")
        #expect(throws: StoreError(.invalidCursor, "the page cursor is not one this list handed out"), "another list accepted it") {
            try PageCursor(decoding: cursor.encoded, for: .customers)
        }
    }
}
