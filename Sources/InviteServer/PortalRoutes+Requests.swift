import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken
import Mustache
import NIOCore

/// Indirect providers and requesting a reseller relationship: the link and its draft email.
extension PortalRoutes {
    // MARK: Providers and new links

    @Sendable func providers(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request, resellerOnly: true)
            let providers = try await store.providers(ofReseller: viewer.partner.id)
            return try render(
                "portal_providers", request: request, viewer: viewer, current: "providers",
                [
                    "title": "Indirect providers",
                    "providers": providers.map { ["id": $0.id, "name": $0.name] },
                    "empty": providers.isEmpty,
                ])
        }
    }

    @Sendable func newInvitation(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            return try await requestPage(request, viewer: viewer, status: .ok, error: nil)
        }
    }

    @Sendable func issue(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let providerID = (form["provider_id"] ?? "").trimmingWhitespace()
            let email = (form["customer_email"] ?? "").trimmingWhitespace()
            var provider: Partner?
            if !providerID.isEmpty {
                provider = try await store.partner(id: providerID)
                guard provider?.kind == .provider, try await store.isConnected(resellerID: viewer.partner.id, providerID: providerID) else {
                    return try await requestPage(
                        request, viewer: viewer, status: .conflict,
                        error: "You are not an indirect reseller of that provider (any more). Choose another or none.")
                }
            }
            if !email.isEmpty, !EmailAddress.isPlausible(email) {
                return try await requestPage(
                    request, viewer: viewer, status: .badRequest,
                    error: "The customer's email is not an email address. Leave it empty to address the email yourself.")
            }
            let days = (form["lifetime_days"] ?? "").trimmingWhitespace()
            guard let lifetimeDays = days.isEmpty ? 14 : Int64(days), (1...90).contains(lifetimeDays) else {
                return try await requestPage(
                    request, viewer: viewer, status: .badRequest, error: "The link's lifetime must be a whole number of days from 1 to 90.")
            }
            let uses = (form["max_uses"] ?? "").trimmingWhitespace()
            let maxUses = Int(uses)
            guard uses.isEmpty || (maxUses.map { (1...1_000_000).contains($0) } ?? false) else {
                return try await requestPage(
                    request, viewer: viewer, status: .badRequest,
                    error: "The maximum number of uses must be a whole number from 1 to 1,000,000, or empty for no limit.")
            }
            let dap = form["dap"] != nil
            let issued = try await invitations.issue(
                resellerID: viewer.partner.id, providerID: provider?.id, delegatedAdmin: dap,
                lifetime: lifetimeDays * 86_400, maxUses: uses.isEmpty ? nil : maxUses, issuedBy: viewer.user.id,
                customerEmail: email.isEmpty ? nil : email, now: clock()
            )
            // Post/redirect/get: reloading the draft shows the same link instead of issuing another.
            return HTMLRenderer.redirect(to: "/portal/invitations/\(issued.invitation.id)/draft")
        }
    }

    /// The draft email of one of the partner's invitations, with its link signed again (the
    /// same link: see ``InvitationService/link(for:)``).
    @Sendable func draft(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let id = try context.parameters.require("id")
            guard let invitation = try await store.invitation(id: id, resellerID: viewer.partner.id)?.invitation else {
                return try message(
                    request, viewer: viewer, status: .notFound, title: "No such invitation",
                    text: "There is no invitation \(id) among yours.", code: "not_found")
            }
            let status = invitation.status(at: clock())
            if let reason = Self.unusableText[status] {
                return try message(
                    request, viewer: viewer, status: .gone, title: "This link can no longer be sent",
                    text: reason + " Request a new reseller relationship instead.", code: status.rawValue)
            }
            guard let url = invitations.link(for: invitation) else {
                return try message(
                    request, viewer: viewer, status: .gone, title: "This link can no longer be sent",
                    text: "The key that signed it has been retired or revoked. Request a new reseller relationship instead.",
                    code: "key_retired")
            }
            var provider: Partner?
            if let providerID = invitation.providerID { provider = try await store.partner(id: providerID) }
            let draft = DraftEmail(
                reseller: viewer.partner, provider: provider, delegatedAdmin: invitation.delegatedAdmin,
                url: url, expiresAt: invitation.expiresAt)
            let email = invitation.customerEmail ?? ""
            var values: [String: Any] = [
                "title": "Draft email",
                "subject": draft.subject,
                "body": draft.body,
                "url": url,
                "mailto": Self.mailto(to: email, subject: draft.subject, body: draft.body),
                "mailtoAddress": Self.mailtoAddress(email),
                "dap": invitation.delegatedAdmin,
                "expiresAt": RFC3339.format(invitation.expiresAt),
                "expiresText": Self.displayTime(invitation.expiresAt),
                "script": true,
            ]
            if let provider { values["providerName"] = provider.name }
            if !email.isEmpty { values["to"] = email }
            return try render("portal_draft", request: request, viewer: viewer, current: "new", values)
        }
    }
}
