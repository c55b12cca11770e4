/// A language every page, the draft email and the problem texts exist in (DESIGN.md §10).
///
/// The raw value is the BCP 47 primary subtag: what `<html lang>`, the `lang` cookie, the
/// `language` member of `POST /v1/invitations` and the catalog's file name carry.
public enum Language: String, CaseIterable, Sendable, Hashable {
    case english = "en"
    case spanish = "es"

    /// What a reader gets when nothing says otherwise.
    public static let fallback = Language.english

    /// The language a tag such as `es-MX` or `EN` names, by its primary subtag; nil when it is
    /// none we have.
    public init?(tag: some StringProtocol) {
        let primary = tag.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        guard let language = Language(rawValue: primary.lowercased()) else { return nil }
        self = language
    }
}
