import Foundation
import InviteService
import InviteStore
import Mustache

/// Files shipped in the module's resources: templates, the stylesheet, the OpenAPI document.
enum Assets {
    static func text(_ name: String, _ ext: String, subdirectory: String? = nil) -> String {
        guard let url = Bundle.module.url(forResource: name, withExtension: ext, subdirectory: subdirectory),
            let data = try? Data(contentsOf: url)
        else { fatalError("resource \(name).\(ext) is missing from the InviteServer bundle") }
        return String(decoding: data, as: UTF8.self)
    }

    static let css = text("app", "css", subdirectory: "Resources")
    static let openAPI = text("openapi", "yaml", subdirectory: "Resources")

    static func templates() throws -> MustacheLibrary {
        var templates: [String: MustacheTemplate] = [:]
        for name in [
            "layout_head", "layout_foot", "language_switch", "accept", "link_problem", "accepted",
            "portal_head", "portal_foot", "portal_sign_in", "portal_password", "portal_customers", "portal_customer",
            "portal_remove", "portal_removed", "portal_providers", "portal_request", "portal_draft", "portal_invitations",
            "portal_message", "portal_add_customer", "portal_give_up", "portal_users", "account", "account_remove", "setup",
            "portal_audit", "portal_webhooks",
        ] {
            templates[name] = try MustacheTemplate(string: text(name, "mustache", subdirectory: "Resources/templates"))
        }
        return MustacheLibrary(templates: templates)
    }

    /// A password hash nobody knows the password of, checked when an email is unknown so a
    /// failed sign-in costs the same either way.
}
