public import Hummingbird
public import InviteService

/// Which language a request is answered in (DESIGN.md §10): a page follows the `lang` cookie
/// that the switch on every page sets, then `Accept-Language`, then English; an API problem
/// follows `Accept-Language` alone (an API client has no switch to press).
public enum LanguageChoice {
    public static let cookieName = "lang"

    public static func forPage(_ request: Request) -> Language {
        if let value = request.cookies[cookieName]?.value, let language = Language(rawValue: value) { return language }
        return forAPI(request)
    }

    public static func forAPI(_ request: Request) -> Language {
        fromAcceptLanguage(request.headers[values: .acceptLanguage].joined(separator: ",")) ?? .fallback
    }

    /// The language of ours the header prefers most (RFC 9110 §12.5.4): ranges by descending
    /// `q` (1 when absent; 0 means "not this one"), earlier first among equals. `*` and ranges
    /// we do not have never choose; nil when none of ours is acceptable.
    public static func fromAcceptLanguage(_ header: String?) -> Language? {
        guard let header, !header.isEmpty else { return nil }
        var ranked: [(language: Language, q: Double, position: Int)] = []
        for (position, item) in header.split(separator: ",").prefix(32).enumerated() {
            let parts = item.split(separator: ";").map { $0.trimmingWhitespaceAndTabs() }
            guard let tag = parts.first, let language = Language(tag: tag) else { continue }
            var q = 1.0
            for parameter in parts.dropFirst() {
                let pair = parameter.split(separator: "=", maxSplits: 1).map { $0.trimmingWhitespaceAndTabs() }
                if pair.count == 2, pair[0].lowercased() == "q" { q = Double(pair[1]).map { min(max($0, 0), 1) } ?? 0 }
            }
            if q > 0 { ranked.append((language, q, position)) }
        }
        return ranked.min { $0.q != $1.q ? $0.q > $1.q : $0.position < $1.position }?.language
    }

    /// Where the switch may send the browser back to: a path on this site only (`/…`, never
    /// `//host`, `/\host` or a URL with a scheme), else `fallback`.
    public static func safeReturnPath(_ candidate: String?, fallback: String = "/portal") -> String {
        guard let path = candidate, path.hasPrefix("/"), path.utf8.count <= 2048,
            !path.hasPrefix("//"), !path.hasPrefix("/\\"),
            !path.unicodeScalars.contains(where: { $0.value < 0x21 || $0.value == 0x7F || $0 == "\\" })
        else { return fallback }
        return path
    }
}

extension Request {
    /// The catalog a page for this request is written from.
    var pageCatalog: Catalog { Catalogs[LanguageChoice.forPage(self)] }
    /// The catalog an API answer's texts come from.
    var apiCatalog: Catalog { Catalogs[LanguageChoice.forAPI(self)] }
}

extension Substring {
    fileprivate func trimmingWhitespaceAndTabs() -> String {
        String(drop { $0 == " " || $0 == "\t" }.reversed().drop { $0 == " " || $0 == "\t" }.reversed())
    }
}
