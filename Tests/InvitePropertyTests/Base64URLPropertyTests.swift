import Foundation
import InviteToken
import PropertyBased
import Testing

/// Base64URL against Foundation's base64 on random inputs: the hand-written tests pin the RFC
/// vectors and the known ways to re-spell bytes; these look for the spelling nobody listed.
@Suite("Base64URL properties")
struct Base64URLPropertyTests {
    /// Byte strings of every length up to 64, so each of the three tail lengths comes up often.
    static let bytes = Gen<UInt8>.value(in: 0...255).array(of: 0...64)

    /// Strings over the base64url alphabet plus `=`, `+` and `/`: mostly acceptable characters,
    /// so that canonical strings are common and a decoder that accepts too much is caught
    /// next to one that refuses too much.
    static let candidates = Gen<Character?>
        .element(of: Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_=+/"))
        .map { $0! }
        .string(of: 0...14)

    /// What a strict base64url decoder must answer, built from Foundation: no padding, no
    /// `+` or `/`; Foundation's decoder on the standard-alphabet spelling, padded as it
    /// requires; and only the one spelling that re-encodes to the same text, since Foundation
    /// ignores the trailing bits ("YR" and "YQ" both give "a").
    static func reference(_ text: String) -> [UInt8]? {
        guard !text.contains(where: { "=+/".contains($0) }) else { return nil }
        var standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        standard += String(repeating: "=", count: (4 - standard.count % 4) % 4)
        guard let data = Data(base64Encoded: standard) else { return nil }
        guard foundationBase64URL(data) == text else { return nil }
        return Array(data)
    }

    /// Foundation's base64 in the URL-safe alphabet without padding (RFC 4648 §5).
    static func foundationBase64URL(_ data: Data) -> String {
        data.base64EncodedString()
            .replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    @Test("random bytes round-trip through encode and decode")
    func roundTrip() async {
        await propertyCheck(count: 500, input: Self.bytes) { bytes in
            let encoded = Base64URL.encode(bytes)
            #expect(Base64URL.decode(encoded) == bytes, "encoded as \(encoded)")
        }
    }

    @Test("the encoding is Foundation's base64 with - and _ and no padding")
    func matchesFoundation() async {
        await propertyCheck(count: 500, input: Self.bytes) { bytes in
            #expect(Base64URL.encode(bytes) == Self.foundationBase64URL(Data(bytes)))
        }
    }

    @Test("the decoder accepts exactly the canonical strings, with Foundation's bytes")
    func acceptsExactlyCanonical() async {
        await propertyCheck(count: 2000, input: Self.candidates) { text in
            #expect(Base64URL.decode(text) == Self.reference(text), "\"\(text)\"")
        }
    }

    /// The property above proves something about both answers only if both come up often.
    @Test("the candidate strings are often canonical and often not")
    func candidatesCoverBothAnswers() async {
        var canonical = 0
        var other = 0
        await propertyCheck(count: 2000, input: Self.candidates) { text in
            if Self.reference(text) == nil { other += 1 } else { canonical += 1 }
        }
        #expect(canonical > 200, "only \(canonical) of 2000 canonical")
        #expect(other > 200, "only \(other) of 2000 not canonical")
    }
}
