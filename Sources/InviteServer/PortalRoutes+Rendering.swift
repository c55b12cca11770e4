import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken
import Mustache
import NIOCore

/// The portal's pages and messages, and how they write names, roles and times.
extension PortalRoutes {
    // MARK: Pages

    func signInPage(_ request: Request, status: HTTPResponse.Status, email: String, error: String?) throws -> Response {
        var values: [String: Any] = ["title": "Sign in to the partner portal", "email": email]
        if let error { values["error"] = error }
        return try render("portal_sign_in", status: status, request: request, viewer: nil, current: nil, values)
    }

    func passwordPage(_ request: Request, viewer: Viewer, status: HTTPResponse.Status, error: String?) throws -> Response {
        var values: [String: Any] = [
            "title": viewer.user.mustChangePassword ? "Choose your password" : "Change your password",
            "oneTime": viewer.user.mustChangePassword,
            "minimum": String(PageRoutes.minimumPasswordLength),
        ]
        if let error { values["error"] = error }
        // Until the one-time password is changed there is nowhere else to go: no navigation.
        return try render(
            "portal_password", status: status, request: request,
            viewer: viewer.user.mustChangePassword ? nil : viewer, current: nil, values)
    }

    func requestPage(_ request: Request, viewer: Viewer, status: HTTPResponse.Status, error: String?) async throws -> Response {
        let providers = try await store.providers(ofReseller: viewer.partner.id)
        var values: [String: Any] = [
            "title": "Request a reseller relationship",
            "providers": providers.map { ["id": $0.id, "name": $0.name] },
        ]
        if let error { values["error"] = error }
        return try render("portal_request", status: status, request: request, viewer: viewer, current: "new", values)
    }

    func message(
        _ request: Request, viewer: Viewer?, status: HTTPResponse.Status, title: String, text: String, code: String
    ) throws -> Response {
        try render(
            "portal_message", status: status, request: request, viewer: viewer, current: nil,
            [
                "title": title, "text": text, "code": code,
            ])
    }

    func csrfFailure(_ request: Request) throws -> Response {
        try message(
            request, viewer: nil, status: .forbidden, title: "Please try again",
            text: "The form expired or did not come from this site. Go back, reload the page and send it again.", code: "csrf")
    }

    func render(
        _ template: String, status: HTTPResponse.Status = .ok, request: Request, viewer: Viewer?, current: String?,
        _ values: [String: Any]
    ) throws -> Response {
        var values = values
        if let viewer {
            values["viewer"] = [
                "email": viewer.user.email,
                "role": Self.roleText(viewer.user.role),
                "partnerName": viewer.partner.name,
            ]
            values["isReseller"] = viewer.partner.kind == .reseller
            values["mayAct"] = viewer.mayAct
            values["isGlobalAdmin"] = viewer.user.role == .globalAdmin
        }
        if let current { values["at_" + current] = true }
        return try renderer.page(template, status: status, request: request, values)
    }

    // MARK: Formatting

    static let statusText: [InvitationStatus: String] = [
        .pending: "Pending", .accepted: "Accepted", .expired: "Expired", .revoked: "Revoked", .usedUp: "Used up",
    ]

    /// Why a link of each unusable status cannot be sent again.
    static let unusableText: [InvitationStatus: String] = [
        .revoked: "The invitation was revoked.", .usedUp: "The invitation has no uses left.", .expired: "The invitation has expired.",
    ]

    static func roleText(_ role: Role) -> String {
        switch role {
        case .globalAdmin: "global admin"
        case .adminAgent: "admin agent"
        case .salesAgent: "sales agent"
        case .user: "user"
        }
    }

    static func customerValues(_ item: PartnerCustomer) -> [String: Any] {
        var values: [String: Any] = [
            "id": item.customer.id,
            "path": "/portal/customers/" + queryEncoded(item.customer.id),
            "name": item.customer.name,
            "domain": item.customer.domain,
            "dap": item.delegatedAdminSince != nil,
            "active": item.relationshipActive,
        ]
        if let role = item.role { values["role"] = role == .reseller ? "Reseller" : "Indirect provider" }
        if let since = item.since {
            values["since"] = RFC3339.format(since)
            values["sinceText"] = displayTime(since)
        }
        if let dapSince = item.delegatedAdminSince {
            values["dapSince"] = RFC3339.format(dapSince)
            values["dapSinceText"] = displayTime(dapSince)
        }
        return values
    }

    /// `2025-05-01 09:30 UTC`: what people read; the RFC 3339 form goes in `<time datetime>`.
    static func displayTime(_ seconds: Int64) -> String {
        let text = RFC3339.format(seconds)
        guard text.count == 20 else { return text }
        return text.prefix(10) + " " + text.dropFirst(11).prefix(5) + " UTC"
    }

    /// Only RFC 3986 unreserved characters stay as they are (ASCII only).
    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func queryEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    /// A `mailto:` URI (RFC 6068): every reserved character percent-encoded, line breaks as CRLF.
    static func mailto(to address: String, subject: String, body: String) -> String {
        let crlf = body.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\n", with: "\r\n")
        return "mailto:\(mailtoAddress(address))?subject=\(queryEncoded(subject))&body=\(queryEncoded(crlf))"
    }

    /// The address part of a `mailto:` link, percent-encoded (empty when there is none).
    static func mailtoAddress(_ address: String) -> String {
        address.isEmpty
            ? "" : (address.addingPercentEncoding(withAllowedCharacters: unreserved.union(CharacterSet(charactersIn: "@"))) ?? "")
    }
}
