import InviteToken
import Testing

/// The JSON reader is strict exactly where Foundation's decoders are lenient (vectors/README.md).
@Suite("StrictJSON")
struct StrictJSONTests {
    @Test("an object keeps its members in order with their types")
    func object() throws {
        let value = try StrictJSON.parse(#"{"s":"text","i":-42,"b":true,"n":null,"a":[1,"x"],"o":{"k":false}}"#)
        #expect(
            value
                == .object([
                    ("s", .string("text")), ("i", .integer(-42)), ("b", .bool(true)), ("n", .null),
                    ("a", .array([.integer(1), .string("x")])), ("o", .object([("k", .bool(false))])),
                ]))
        #expect(value["i"] == .integer(-42))
        #expect(value["missing"] == nil)
    }

    @Test("integers are told apart from 1.0, 1e3 and numbers over 64 bits")
    func integers() throws {
        #expect(try StrictJSON.parse("1800000000") == .integer(1_800_000_000))
        #expect(try StrictJSON.parse("0") == .integer(0))
        #expect(try StrictJSON.parse("-9223372036854775808") == .integer(.min))
        #expect(try StrictJSON.parse("1.0") == .number("1.0"))
        #expect(try StrictJSON.parse("1e3") == .number("1e3"))
        #expect(try StrictJSON.parse("1E+3") == .number("1E+3"))
        #expect(try StrictJSON.parse("9223372036854775808") == .number("9223372036854775808"))
    }

    @Test("duplicate member names are refused, at any depth")
    func duplicates() {
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse(#"{"a":1,"a":1}"#) }
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse(#"{"a":1,"b":2,"a":3}"#) }
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse(#"{"o":{"x":1,"x":2}}"#) }
        // The same name written with an escape is the same name.
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse(#"{"alg":1,"\u0061lg":2}"#) }
    }

    /// Past a handful of members the names go into a set: a duplicate is found wherever it is,
    /// before, at and after that switch, and thousands of distinct names still parse.
    @Test("duplicates among many members are refused wherever they are", arguments: [1, 7, 8, 9, 500, 5_499])
    func duplicatesAmongMany(position: Int) throws {
        let names = (0..<5_500).map { "m\($0)" }
        let distinct = "{" + names.map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        guard case .object(let members) = try StrictJSON.parse(distinct) else { Issue.record("not an object"); return }
        #expect(members.count == 5_500)
        let repeated = "{" + (names.prefix(position) + ["m\(position / 2)"]).map { "\"\($0)\":1" }.joined(separator: ",") + "}"
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse(repeated) }
    }

    @Test("a byte-order mark is refused")
    func byteOrderMark() {
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse([0xEF, 0xBB, 0xBF] + Array("{}".utf8)) }
    }

    @Test("UTF-16 and invalid UTF-8 are refused")
    func encodings() {
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse([0xFF, 0xFE, 0x7B, 0x00, 0x7D, 0x00]) }
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse([0x7B, 0x00, 0x7D, 0x00]) }
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse([0x22, 0xC3, 0x28, 0x22]) }
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse([0x22, 0xED, 0xA0, 0x80, 0x22]) }
    }

    @Test(
        "what RFC 8259 does not allow is refused",
        arguments: [
            "", " ", "{", "}", "[1,]", #"{"a":1,}"#, "{'a':1}", "{a:1}", "01", "-", "1.", ".5", "+1", "1e", "NaN", "Infinity",
            "tru", "nul", "[1] [2]", "{} x", "/* c */ {}", "\"\u{0001}\"", "\"tab\there\"", #""\x41""#, #""\u12""#,
            #""\ud800""#, #""\udc00""#, #""\ud800\u0041""#, "\"unterminated",
        ])
    func invalid(text: String) {
        #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse(text) }
    }

    @Test("escapes, including surrogate pairs, decode")
    func escapes() throws {
        #expect(try StrictJSON.parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{c}\n\r\t"))
        #expect(try StrictJSON.parse(#""\u00e9\ud83d\ude00""#) == .string("é😀"))
        #expect(try StrictJSON.parse("\"é😀\"") == .string("é😀"))
    }

    @Test("nesting deeper than maximumDepth is refused; at the limit it parses")
    func depth() throws {
        let limit = StrictJSON.maximumDepth
        _ = try StrictJSON.parse(String(repeating: "[", count: limit + 1) + String(repeating: "]", count: limit + 1))
        #expect(throws: StrictJSON.ParseError.self) {
            try StrictJSON.parse(String(repeating: "[", count: limit + 2) + String(repeating: "]", count: limit + 2))
        }
        #expect(throws: StrictJSON.ParseError.self) {
            try StrictJSON.parse(String(repeating: "[", count: 100_000))
        }
    }

    @Test("JSONWriter's strings read back as the same string")
    func writerRoundTrip() throws {
        for text in [
            "plain", "quote \" backslash \\", "\"at both ends\\", "\n\n", "newline\n tab\t cr\r", "nul\u{0} bell\u{7} unit\u{1f}", "é😀", "",
        ] {
            var out: [UInt8] = []
            JSONWriter.appendString(text, to: &out)
            #expect(try StrictJSON.parse(out) == .string(text), "\(text.debugDescription)")
        }
        for value: Int64 in [0, 1, -1, 1_800_000_000, .max, .min] {
            var out: [UInt8] = []
            JSONWriter.appendInteger(value, to: &out)
            #expect(try StrictJSON.parse(out) == .integer(value), "\(value)")
        }
    }
}
