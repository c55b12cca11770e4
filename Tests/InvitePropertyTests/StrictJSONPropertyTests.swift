import Foundation
import InviteToken
import PropertyBased
import Testing

/// StrictJSON against Foundation's JSONSerialization on documents from ``JSONGrammar``: where
/// JSON is unambiguous both must read the same values, and where the strict parser is meant
/// to be stricter (a name given twice) it must refuse what Foundation accepts.
@Suite("StrictJSON properties")
struct StrictJSONPropertyTests {
    @Test("a generated object reads as Foundation reads it, and as it was written")
    func agreesWithFoundation() async {
        await propertyCheck(count: 300, input: JSONGrammar.objects) { document in
            let bytes = Array(document.text.utf8)
            let strict = try StrictJSON.parse(bytes)
            let reference = try JSONSerialization.jsonObject(with: Data(bytes))
            #expect(Self.agree(strict, reference), "strict \(strict), Foundation \(reference)")
            #expect(Self.same(strict, document.value), "read \(strict)")

            // The verifier's claims path walks the top level without building it.
            var walked: [(String, JSONValue)] = []
            try bytes.withUnsafeBytes { buffer in
                try StrictJSON.forEachMember(of: buffer) { name, value in
                    walked.append((name, value))
                    return true
                }
            }
            #expect(Self.same(.object(walked), strict), "walked \(walked)")
        }
    }

    @Test("a member name given twice is refused, though Foundation accepts it")
    func refusesDuplicates() async {
        await propertyCheck(count: 300, input: JSONGrammar.objectsWithDuplicate) { document in
            let bytes = Array(document.text.utf8)
            #expect(throws: StrictJSON.ParseError.self) { try StrictJSON.parse(bytes) }
            #expect((try? JSONSerialization.jsonObject(with: Data(bytes))) != nil, "Foundation refused it too")
        }
    }

    /// Foundation's `true` and `false` are one NSNumber subclass, integers another: a Bool
    /// cast alone would take 1 for true.
    static let foundationBooleanType = ObjectIdentifier(type(of: NSNumber(value: true)))

    /// Whether the strict value and Foundation's are the same JSON value: members by name
    /// (Foundation's objects are unordered dictionaries), strings scalar for scalar, integers
    /// digit for digit and never a boolean for an integer or the other way round.
    static func agree(_ strict: JSONValue, _ reference: Any) -> Bool {
        let isBoolean = ObjectIdentifier(type(of: reference)) == foundationBooleanType
        switch strict {
        case .object(let members):
            guard let dictionary = reference as? [String: Any], dictionary.count == members.count else { return false }
            return members.allSatisfy { name, value in dictionary[name].map { agree(value, $0) } ?? false }
        case .array(let elements):
            guard let array = reference as? [Any], array.count == elements.count else { return false }
            return zip(elements, array).allSatisfy { agree($0, $1) }
        case .string(let string):
            return (reference as? String).map { $0.unicodeScalars.elementsEqual(string.unicodeScalars) } ?? false
        case .integer(let integer):
            // By its digits: Foundation on Linux holds many negative integers as NSDecimalNumber,
            // which `as? Int64` refuses (-7175004025065956760 is nil) though the value is exact.
            return !isBoolean && (reference as? NSNumber)?.stringValue == String(integer)
        case .number:
            return false // the grammar writes no fractions or exponents
        case .bool(let flag):
            return isBoolean && (reference as? Bool) == flag
        case .null:
            return reference is NSNull
        }
    }

    /// Equality with strings compared scalar for scalar: `JSONValue.==` uses Swift's string
    /// equality, which would let a parser that normalized "é" to "e\u{301}" pass.
    static func same(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { $0.0.unicodeScalars.elementsEqual($1.0.unicodeScalars) && same($0.1, $1.1) }
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { same($0, $1) }
        case (.string(let x), .string(let y)):
            return x.unicodeScalars.elementsEqual(y.unicodeScalars)
        default:
            return a == b
        }
    }
}
