public import InviteStore
import InviteToken

/// The draft email a reseller sends: names the reseller (and provider), says whether admin
/// privileges are asked, holds the link on a line of its own. Written in the catalog's
/// language, which the reseller chooses for the customer.
public struct DraftEmail: Sendable {
    public let subject: String
    public let body: String
    public let language: Language

    public init(reseller: Partner, provider: Partner?, delegatedAdmin: Bool, url: String, expiresAt: Int64, catalog: Catalog) {
        language = catalog.language
        var names = ["reseller": reseller.name]
        if let provider { names["provider"] = provider.name }
        subject = catalog.text(provider == nil ? "email.subject" : "email.subject_with_provider", names)
        var lines = [catalog.text("email.greeting"), ""]
        lines.append(catalog.text(provider == nil ? "email.intro" : "email.intro_with_provider", names))
        if delegatedAdmin {
            lines.append("")
            lines.append(catalog.text("email.dap", names))
        }
        lines += [
            "",
            catalog.text("email.how_to_accept"),
            "",
            url,
            "",
            catalog.text("email.valid_until", ["date": catalog.dateTime(expiresAt)]),
            "",
            catalog.text("email.regards"),
            reseller.name,
        ]
        body = lines.joined(separator: "\n")
    }
}
