public import InviteStore
import InviteToken

/// The draft email a reseller sends: names the reseller (and provider), says whether admin
/// privileges are asked, holds the link on a line of its own.
public struct DraftEmail: Sendable {
    public let subject: String
    public let body: String

    public init(reseller: Partner, provider: Partner?, delegatedAdmin: Bool, url: String, expiresAt: Int64) {
        let who = provider.map { "\(reseller.name) and \($0.name)" } ?? reseller.name
        subject = "\(who) invite\(provider == nil ? "s" : "") you to a reseller relationship"
        var lines = ["Hello,", ""]
        if let provider {
            lines.append(
                "\(reseller.name) would like to become your cloud reseller, together with its indirect provider \(provider.name). Accepting makes your organization a customer of both."
            )
        } else {
            lines.append("\(reseller.name) would like to become your cloud reseller.")
        }
        if delegatedAdmin {
            lines.append("")
            lines.append(
                "\(reseller.name) also asks for delegated administration privileges, which let it manage your tenant on your behalf. You can remove them at any time."
            )
        }
        lines += [
            "",
            "A global admin of your organization can accept with this link (sign-in required):",
            "",
            url,
            "",
            "The link is valid until \(RFC3339.format(expiresAt)). If you did not expect this message, you can ignore it.",
            "",
            "Regards,",
            reseller.name,
        ]
        body = lines.joined(separator: "\n")
    }
}
