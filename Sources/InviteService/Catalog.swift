public import Foundation
internal import InviteToken

/// The strings of one language, read from a JSON catalog (`Resources/i18n/<lang>.json` of the
/// server): an object whose members map a key to a string, or to `{"one": …, "other": …}` for a
/// text with plural forms. Placeholders are named in braces (`{name}`) and filled from
/// ``CatalogText/arguments``; a plural form is chosen by the count, which also fills `{count}`.
///
/// A key missing from the catalog reads as the key itself, so a gap shows on the page instead of
/// failing the request; the catalog tests keep both languages' keys and placeholders equal.
public struct Catalog: Sendable {
    public enum Entry: Sendable, Equatable {
        case text(String)
        case plural(one: String, other: String)

        /// Every form, to compare placeholders across languages.
        public var forms: [String] {
            switch self {
            case .text(let text): [text]
            case .plural(let one, let other): [one, other]
            }
        }
    }

    public struct Malformed: Error, CustomStringConvertible {
        public let description: String
    }

    public let language: Language
    public let entries: [String: Entry]

    public init(language: Language, entries: [String: Entry]) {
        self.language = language
        self.entries = entries
    }

    /// Reads a catalog file's bytes; throws on anything but an object of strings and
    /// `{"one", "other"}` objects of strings.
    public init(language: Language, json: Data) throws {
        guard let object = try JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw Malformed(description: "the \(language.rawValue) catalog is not a JSON object")
        }
        var entries: [String: Entry] = [:]
        for (key, value) in object {
            if let text = value as? String {
                entries[key] = .text(text)
            } else if let forms = value as? [String: Any], Set(forms.keys) == ["one", "other"],
                let one = forms["one"] as? String, let other = forms["other"] as? String
            {
                entries[key] = .plural(one: one, other: other)
            } else {
                throw Malformed(description: "\(language.rawValue) catalog: \(key) is neither a string nor {\"one\", \"other\"}")
            }
        }
        self.init(language: language, entries: entries)
    }

    /// The text of `key` with its placeholders filled.
    public func text(_ key: String, _ arguments: [String: String] = [:], count: Int? = nil) -> String {
        Self.fill(form(key, count: count), arguments: arguments, count: count)
    }

    public func text(_ text: CatalogText) -> String {
        self.text(text.key, text.arguments, count: text.count)
    }

    /// The raw form of `key` (placeholders unfilled) for the count, or the key when missing.
    public func form(_ key: String, count: Int? = nil) -> String {
        switch entries[key] {
        case .text(let text): text
        // Both languages have the same rule: one for exactly 1, other otherwise.
        case .plural(let one, let other): count == 1 ? one : other
        case nil: key
        }
    }

    /// The names between braces in `form`, in order of appearance.
    public static func placeholders(in form: String) -> [String] {
        var names: [String] = []
        var rest = Substring(form)
        while let open = rest.firstIndex(of: "{") {
            let after = rest[rest.index(after: open)...]
            guard let close = after.firstIndex(of: "}") else { break }
            let name = after[..<close]
            if !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) { names.append(String(name)) }
            rest = after[after.index(after: close)...]
        }
        return names
    }

    /// `form` with each `{name}` of `arguments` (and `{count}`, when counted) replaced by its
    /// value, in one pass: a value is never searched for placeholders itself, and a name
    /// without an argument stays as written.
    public static func fill(_ form: String, arguments: [String: String], count: Int?) -> String {
        // Scanned as UTF-8 (braces are ASCII, so each one is a character boundary): searching
        // by Character, or with Foundation's `contains`, cost more than the rest of an email.
        let bytes = form.utf8
        var out = ""
        var copied = bytes.startIndex
        var searchFrom = bytes.startIndex
        while let open = bytes[searchFrom...].firstIndex(of: UInt8(ascii: "{")) {
            let nameStart = bytes.index(after: open)
            searchFrom = nameStart
            guard let close = bytes[nameStart...].firstIndex(of: UInt8(ascii: "}")) else { break }
            let name = String(form[nameStart..<close])
            guard let value = arguments[name] ?? (name == "count" ? count.map { String($0) } : nil) else { continue }
            out += form[copied..<open]
            out += value
            copied = bytes.index(after: close)
            searchFrom = copied
        }
        guard copied != bytes.startIndex else { return form }
        out += form[copied...]
        return out
    }

    // MARK: Dates

    /// A moment as its reader writes it, in UTC with the zone named: `May 1, 2025, 09:30 UTC`,
    /// `1 de mayo de 2025, 09:30 UTC`. The catalog holds the month names and the pattern.
    public func dateTime(_ seconds: Int64) -> String {
        let (year, month, day, secondOfDay) = RFC3339.civil(seconds)
        let (hour, minute) = (secondOfDay / 3600, secondOfDay / 60 % 60)
        let time = (hour < 10 ? "0" : "") + String(hour) + (minute < 10 ? ":0" : ":") + String(minute)
        return text("date.format", ["month": text(Self.monthKeys[Int(month) - 1]), "day": String(day), "year": String(year), "time": time])
    }

    static let monthKeys = [
        "date.month.1", "date.month.2", "date.month.3", "date.month.4", "date.month.5", "date.month.6",
        "date.month.7", "date.month.8", "date.month.9", "date.month.10", "date.month.11", "date.month.12",
    ]
}
