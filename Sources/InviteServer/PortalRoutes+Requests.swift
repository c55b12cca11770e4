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
                    "title": request.pageCatalog.text("portal.providers"),
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
                        error: request.pageCatalog.text("request.provider_not_connected"))
                }
            }
            if !email.isEmpty, !EmailAddress.isPlausible(email) {
                return try await requestPage(
                    request, viewer: viewer, status: .badRequest,
                    error: request.pageCatalog.text("request.email_invalid"))
            }
            let days = (form["lifetime_days"] ?? "").trimmingWhitespace()
            guard let lifetimeDays = days.isEmpty ? 14 : Int64(days), (1...90).contains(lifetimeDays) else {
                return try await requestPage(
                    request, viewer: viewer, status: .badRequest, error: request.pageCatalog.text("request.lifetime_invalid"))
            }
            let uses = (form["max_uses"] ?? "").trimmingWhitespace()
            let maxUses = Int(uses)
            guard uses.isEmpty || (maxUses.map { (1...1_000_000).contains($0) } ?? false) else {
                return try await requestPage(
                    request, viewer: viewer, status: .badRequest,
                    error: request.pageCatalog.text("request.max_uses_invalid"))
            }
            let dap = form["dap"] != nil
            let issued = try await invitations.issue(
                resellerID: viewer.partner.id, providerID: provider?.id, delegatedAdmin: dap,
                lifetime: lifetimeDays * 86_400, maxUses: uses.isEmpty ? nil : maxUses, issuedBy: viewer.user.id,
                customerEmail: email.isEmpty ? nil : email, now: clock()
            )
            // Post/redirect/get: reloading the draft shows the same link instead of issuing another.
            // The email's language is not stored: the draft page is told it in the query.
            let language = form["language"].flatMap(Language.init(rawValue:)) ?? LanguageChoice.forPage(request)
            return HTMLRenderer.redirect(to: "/portal/invitations/\(issued.invitation.id)/draft?lang=\(language.rawValue)")
        }
    }

    /// The draft email of one of the partner's invitations, with its link signed again (the
    /// same link: see ``InvitationService/link(for:)``), in the language `?lang=` names (the
    /// page's own when absent); the page itself stays in the reader's language.
    @Sendable func draft(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let id = try context.parameters.require("id")
            let catalog = request.pageCatalog
            guard let invitation = try await store.invitation(id: id, resellerID: viewer.partner.id)?.invitation else {
                return try message(
                    request, viewer: viewer, status: .notFound, title: "draft.no_such_title",
                    text: CatalogText("draft.no_such", ["id": id]), code: "not_found")
            }
            let status = invitation.status(at: clock())
            if let reason = Self.unusableKey(status) {
                return try message(
                    request, viewer: viewer, status: .gone, title: "draft.unusable_title", text: CatalogText(reason), code: status.rawValue)
            }
            guard let url = invitations.link(for: invitation) else {
                return try message(
                    request, viewer: viewer, status: .gone, title: "draft.unusable_title", text: CatalogText("draft.unusable_key"),
                    code: "key_retired")
            }
            let emailLanguage =
                request.uri.queryParameters["lang"].flatMap { Language(rawValue: String($0)) } ?? catalog.language
            var provider: Partner?
            if let providerID = invitation.providerID { provider = try await store.partner(id: providerID) }
            let draft = DraftEmail(
                reseller: viewer.partner, provider: provider, delegatedAdmin: invitation.delegatedAdmin,
                url: url, expiresAt: invitation.expiresAt, catalog: Catalogs[emailLanguage])
            let email = invitation.customerEmail ?? ""
            let names = provider.map { ["provider": $0.name] } ?? [:]
            let ready =
                switch (provider != nil, invitation.delegatedAdmin) {
                case (false, false): "draft.ready"
                case (false, true): "draft.ready_dap"
                case (true, false): "draft.ready_provider"
                case (true, true): "draft.ready_provider_dap"
                }
            var values: [String: Any] = [
                "title": catalog.text("draft.title"),
                "readyText": catalog.text(ready, names),
                "emailLang": emailLanguage.rawValue,
                "emailLanguages": Language.allCases.map { language -> [String: Any] in
                    [
                        "code": language.rawValue, "name": Catalogs[language].text("language.name"), "current": language == emailLanguage,
                        "href": "/portal/invitations/\(Self.queryEncoded(id))/draft?lang=\(language.rawValue)",
                    ]
                },
                "subject": draft.subject,
                "body": draft.body,
                "url": url,
                "mailto": Self.mailto(to: email, subject: draft.subject, body: draft.body),
                "mailtoAddress": Self.mailtoAddress(email),
                "dap": invitation.delegatedAdmin,
                "expiresAt": RFC3339.format(invitation.expiresAt),
                "expiresText": catalog.dateTime(invitation.expiresAt),
                "script": true,
            ]
            if let provider { values["providerName"] = provider.name }
            if !email.isEmpty { values["to"] = email }
            return try render("portal_draft", request: request, viewer: viewer, current: "new", values)
        }
    }
}
