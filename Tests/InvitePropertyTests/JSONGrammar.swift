import InviteToken
import PropertyBased

/// A JSON document from ``JSONGrammar``: the value it holds and the text that spells it.
struct JSONDocument: Sendable, CustomStringConvertible {
    var value: JSONValue
    var text: String

    /// The text, so that a failing property prints the document itself.
    var description: String { text }
}

/// A small JSON grammar for the parser properties: objects, arrays, strings, integers, `true`,
/// `false` and `null`, at most four levels deep, with random whitespace between tokens.
///
/// Strings mix printable ASCII, the characters that must be escaped (quote, backslash, control
/// characters), `/`, non-ASCII BMP characters and characters beyond the BMP; each character is
/// written raw when JSON allows it or escaped, with a short escape or `\u` in either hex case
/// (a surrogate pair beyond the BMP). Integers favour the 64-bit edges. Member names are
/// distinct as Swift compares strings (canonically equivalent spellings are the same name to
/// both parsers under test), except where a property adds a duplicate on purpose.
enum JSONGrammar {
    static let maximumDepth = 4

    /// Documents that are objects with distinct member names.
    static let objects = Generator<JSONDocument, Shrink.None<JSONDocument>> { rng in
        let value = object(depth: 0, members: 0...12, using: &rng)
        return JSONDocument(value: value, text: render(value, using: &rng))
    }

    /// Objects in which one object, at the top or nested, names a member twice. The two names
    /// are often spelled differently (escapes are chosen per character), and the top level has
    /// up to 13 members, past the parser's switch from a linear scan to a set at 8.
    static let objectsWithDuplicate = Generator<JSONDocument, Shrink.None<JSONDocument>> { rng in
        let value = withDuplicate(object(depth: 0, members: 1...12, using: &rng), using: &rng)!
        return JSONDocument(value: value, text: render(value, using: &rng))
    }

    static func object(depth: Int, members range: ClosedRange<Int>, using rng: inout some RandomNumberGenerator) -> JSONValue {
        let count = Int.random(in: range, using: &rng)
        var names: Set<String> = []
        var members: [(String, JSONValue)] = []
        while members.count < count {
            let name = string(using: &rng)
            guard names.insert(name).inserted else { continue }
            members.append((name, value(depth: depth + 1, using: &rng)))
        }
        return .object(members)
    }

    static func value(depth: Int, using rng: inout some RandomNumberGenerator) -> JSONValue {
        switch Int.random(in: 0..<(depth < maximumDepth ? 7 : 5), using: &rng) {
        case 0, 1: return .integer(integer(using: &rng))
        case 2: return .string(string(using: &rng))
        case 3: return .bool(Bool.random(using: &rng))
        case 4: return .null
        case 5: return .array((0..<Int.random(in: 0...4, using: &rng)).map { _ in value(depth: depth + 1, using: &rng) })
        default: return object(depth: depth, members: 0...4, using: &rng)
        }
    }

    static func integer(using rng: inout some RandomNumberGenerator) -> Int64 {
        switch Int.random(in: 0..<3, using: &rng) {
        case 0: return [Int64.min, .min + 1, -1, 0, 1, .max - 1, .max].randomElement(using: &rng)!
        case 1: return Int64.random(in: -1000...1000, using: &rng)
        default: return Int64.random(in: .min ... .max, using: &rng)
        }
    }

    static func string(using rng: inout some RandomNumberGenerator) -> String {
        var scalars = String.UnicodeScalarView()
        for _ in 0..<Int.random(in: 0...8, using: &rng) {
            let value: UInt32
            switch Int.random(in: 0..<6, using: &rng) {
            case 0, 1: value = UInt32.random(in: 0x20...0x7E, using: &rng)
            case 2: value = [0x00, 0x08, 0x09, 0x0A, 0x0C, 0x0D, 0x1F, 0x7F].randomElement(using: &rng)!
            case 3: value = [0x22, 0x5C, 0x2F].randomElement(using: &rng)!
            case 4:
                let range: ClosedRange<UInt32> = Bool.random(using: &rng) ? 0x80...0xD7FF : 0xE000...0xFFFF
                // Not U+FEFF: Foundation's JSONSerialization (the reference) drops it even inside
                // a string, where JSON keeps it; StrictJSON keeps it.
                value = UInt32.random(in: range, using: &rng).replacingFEFF
            default: value = UInt32.random(in: 0x1_0000...0x10_FFFF, using: &rng)
            }
            scalars.append(Unicode.Scalar(value)!)
        }
        return String(scalars)
    }

    /// `value` with one member name repeated in one of its objects, or nil if it holds no
    /// object with a member.
    static func withDuplicate(_ value: JSONValue, using rng: inout some RandomNumberGenerator) -> JSONValue? {
        switch value {
        case .object(var members):
            if Bool.random(using: &rng) {
                for index in members.indices.shuffled(using: &rng) {
                    if let changed = withDuplicate(members[index].1, using: &rng) {
                        members[index].1 = changed
                        return .object(members)
                    }
                }
            }
            guard let name = members.randomElement(using: &rng)?.0 else { return nil }
            members.insert((name, self.value(depth: maximumDepth, using: &rng)), at: Int.random(in: 0...members.count, using: &rng))
            return .object(members)
        case .array(var elements):
            for index in elements.indices.shuffled(using: &rng) {
                if let changed = withDuplicate(elements[index], using: &rng) {
                    elements[index] = changed
                    return .array(elements)
                }
            }
            return nil
        default:
            return nil
        }
    }

    static func render(_ value: JSONValue, using rng: inout some RandomNumberGenerator) -> String {
        var text = ""
        render(value, into: &text, using: &rng)
        text += whitespace(using: &rng)
        return text
    }

    static func render(_ value: JSONValue, into text: inout String, using rng: inout some RandomNumberGenerator) {
        text += whitespace(using: &rng)
        switch value {
        case .object(let members):
            text += "{"
            for (index, (name, member)) in members.enumerated() {
                if index > 0 { text += "," }
                text += whitespace(using: &rng)
                renderString(name, into: &text, using: &rng)
                text += whitespace(using: &rng) + ":"
                render(member, into: &text, using: &rng)
                text += whitespace(using: &rng)
            }
            if members.isEmpty { text += whitespace(using: &rng) }
            text += "}"
        case .array(let elements):
            text += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { text += "," }
                render(element, into: &text, using: &rng)
                text += whitespace(using: &rng)
            }
            if elements.isEmpty { text += whitespace(using: &rng) }
            text += "]"
        case .string(let string): renderString(string, into: &text, using: &rng)
        case .integer(let integer): text += String(integer)
        case .number(let number): text += number
        case .bool(let flag): text += flag ? "true" : "false"
        case .null: text += "null"
        }
    }

    static func renderString(_ string: String, into text: inout String, using rng: inout some RandomNumberGenerator) {
        text += "\""
        for scalar in string.unicodeScalars {
            let short: String? =
                switch scalar.value {
                case 0x22: #"\""#
                case 0x5C: #"\\"#
                case 0x2F: #"\/"#
                case 0x08: #"\b"#
                case 0x0C: #"\f"#
                case 0x0A: #"\n"#
                case 0x0D: #"\r"#
                case 0x09: #"\t"#
                default: nil
                }
            let mustEscape = scalar.value < 0x20 || scalar.value == 0x22 || scalar.value == 0x5C
            if !mustEscape, Int.random(in: 0..<3, using: &rng) < 2 {
                text.unicodeScalars.append(scalar)
            } else if let short, Bool.random(using: &rng) {
                text += short
            } else {
                for unit in String(scalar).utf16 { text += unicodeEscape(unit, using: &rng) }
            }
        }
        text += "\""
    }

    /// `\u` and four hex digits, in upper or lower case.
    static func unicodeEscape(_ unit: UInt16, using rng: inout some RandomNumberGenerator) -> String {
        let hex = String(unit, radix: 16, uppercase: Bool.random(using: &rng))
        return #"\u"# + String(repeating: "0", count: 4 - hex.count) + hex
    }

    static func whitespace(using rng: inout some RandomNumberGenerator) -> String {
        ["", "", "", "", " ", "\n", "\t", "\r\n", "  "].randomElement(using: &rng)!
    }
}

extension UInt32 {
    /// U+FEFF as U+FEFE, any other value as itself.
    fileprivate var replacingFEFF: UInt32 { self == 0xFEFF ? 0xFEFE : self }
}
