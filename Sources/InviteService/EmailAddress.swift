/// The check on emails the CLI, the API and the portal share.
public enum EmailAddress {
    /// One `@`, something on both sides, a dot in the domain, no spaces, at most 254 bytes:
    /// enough to catch typos without pretending to validate deliverability.
    public static func isPlausible(_ text: String) -> Bool {
        let parts = text.split(separator: "@", omittingEmptySubsequences: false)
        return parts.count == 2 && !parts[0].isEmpty && parts[1].contains(".") && !text.contains(" ") && text.utf8.count <= 254
    }
}
