/// A user-facing text not yet put into words: a catalog key and the values of its named
/// placeholders, resolved in the reader's language only when the answer is written.
///
/// Errors carry one instead of a sentence so that the same failure reads in English or in
/// Spanish, whichever the request asked for, while its `code` stays the same.
public struct CatalogText: Sendable, Equatable {
    public var key: String
    public var arguments: [String: String]
    /// The number that picks a plural form (`one`/`other`), also the `{count}` placeholder.
    public var count: Int?

    public init(_ key: String, _ arguments: [String: String] = [:], count: Int? = nil) {
        self.key = key
        self.arguments = arguments
        self.count = count
    }
}
