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
        var values: [String: Any] = ["title": request.pageCatalog.text("sign_in.title"), "email": email]
        if let error { values["error"] = error }
        return try render("portal_sign_in", status: status, request: request, viewer: nil, current: nil, values)
    }

    func passwordPage(_ request: Request, viewer: Viewer, status: HTTPResponse.Status, error: String?) throws -> Response {
        var values: [String: Any] = [
            "title": request.pageCatalog.text(viewer.user.mustChangePassword ? "common.choose_password" : "password.change_title"),
            "oneTime": viewer.user.mustChangePassword,
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
            "title": request.pageCatalog.text("portal.request"),
            "providers": providers.map { ["id": $0.id, "name": $0.name] },
        ]
        if let error { values["error"] = error }
        return try render("portal_request", status: status, request: request, viewer: viewer, current: "new", values)
    }

    /// A page that says why something cannot be done; `title` and `text` are catalog keys
    /// and texts, written in the page's language.
    func message(
        _ request: Request, viewer: Viewer?, status: HTTPResponse.Status, title: String, text: CatalogText, code: String
    ) throws -> Response {
        let catalog = request.pageCatalog
        return try render(
            "portal_message", status: status, request: request, viewer: viewer, current: nil,
            [
                "title": catalog.text(title), "text": catalog.text(text), "code": code,
            ])
    }

    func csrfFailure(_ request: Request) throws -> Response {
        try message(request, viewer: nil, status: .forbidden, title: "csrf.title", text: CatalogText("csrf.portal"), code: "csrf")
    }

    func render(
        _ template: String, status: HTTPResponse.Status = .ok, request: Request, viewer: Viewer?, current: String?,
        _ values: [String: Any]
    ) throws -> Response {
        var values = values
        if let viewer {
            values["viewer"] = [
                "email": viewer.user.email,
                "role": request.pageCatalog.text(Self.roleKey(viewer.user.role)),
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

    static func statusKey(_ status: InvitationStatus) -> String {
        switch status {
        case .pending: "status.pending"
        case .accepted: "status.accepted"
        case .expired: "status.expired"
        case .revoked: "status.revoked"
        case .usedUp: "status.used_up"
        }
    }

    /// Why a link of each unusable status cannot be sent again; nil while it can.
    static func unusableKey(_ status: InvitationStatus) -> String? {
        switch status {
        case .revoked: "draft.unusable_revoked"
        case .usedUp: "draft.unusable_used_up"
        case .expired: "draft.unusable_expired"
        case .pending, .accepted: nil
        }
    }

    static func roleKey(_ role: Role) -> String {
        switch role {
        case .globalAdmin: "role.global_admin"
        case .adminAgent: "role.admin_agent"
        case .salesAgent: "role.sales_agent"
        case .user: "role.user"
        }
    }

    static func customerValues(_ item: PartnerCustomer, catalog: Catalog) -> [String: Any] {
        var values: [String: Any] = [
            "id": item.customer.id,
            "path": "/portal/customers/" + queryEncoded(item.customer.id),
            "name": item.customer.name,
            "domain": item.customer.domain,
            "dap": item.delegatedAdminSince != nil,
            "active": item.relationshipActive,
        ]
        if let role = item.role { values["role"] = catalog.text(role == .reseller ? "customer.role_reseller" : "customer.role_provider") }
        if let since = item.since {
            values["since"] = RFC3339.format(since)
            values["sinceText"] = catalog.dateTime(since)
        }
        if let dapSince = item.delegatedAdminSince {
            values["dapSince"] = RFC3339.format(dapSince)
            values["dapSinceText"] = catalog.dateTime(dapSince)
        }
        return values
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
