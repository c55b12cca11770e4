import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken

/// The JSON API of DESIGN.md §5 under `/v1`.
struct APIRoutes: Sendable {
    let store: any RelationshipStore
    let invitations: InvitationService
    let metrics: ServiceMetrics
    let clock: @Sendable () -> Int64
    /// The customer's browser session, which customer calls accept instead of a bearer.
    var sessionCookie: SignedSessionCookie?
    /// Where webhooks may be sent.
    var webhookPolicy = WebhookURLPolicy(allowInsecure: false)
    /// The principals issuance and acceptance authenticate from (their writes confirm them).
    let principals = PrincipalCache()

    var auth: BearerAuthenticator { BearerAuthenticator(store: store, sessionCookie: sessionCookie, clock: clock) }

    func register(on router: Router<AppRequestContext>) {
        let v1 = router.group("v1")
        v1.post("invitations", use: issue)
        v1.get("invitations", use: listInvitations)
        v1.post("invitations/verify", use: verify)
        v1.get("invitations/{id}", use: getInvitation)
        v1.get("invitations/{id}/acceptances", use: listAcceptances)
        v1.delete("invitations/{id}", use: revokeInvitation)
        v1.post("acceptances", use: accept)
        v1.get("customers", use: listCustomers)
        v1.delete("customers/{id}/relationship", use: removeRelationship)
        v1.get("providers", use: listProviders)
        registerLifecycle(on: v1)
        v1.get("audit", use: listAudit)
        registerWebhooks(on: v1)
    }

    @Sendable func issue(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await auth.withConfirmedCaller(request, cache: principals) { caller in
            try await issue(request, context: context, by: caller)
        }
    }

    /// Issuance for `caller`, whose credential the store confirms as it records the link.
    func issue(_ request: Request, context: AppRequestContext, by caller: Caller) async throws -> Response {
        let (caller, reseller) = try auth.reseller(caller)
        let body = try await JSONBody.read(
            request, context: context, allowed: ["provider_id", "dap", "expires_in", "max_uses", "customer_email", "language"])
        let providerID = try body.string("provider_id", maxLength: 64)
        let dap = try body.bool("dap") ?? false
        let lifetime = try body.integer("expires_in", in: 60...InvitationClaims.maximumLifetime) ?? InvitationClaims.defaultLifetime
        let maxUses = try body.integer("max_uses", in: 1...1_000_000).map(Int.init)
        let email = try body.string("customer_email", maxLength: 254)
        if let email, !EmailAddress.isPlausible(email) {
            throw APIError.invalidRequest(CatalogText("problem.member_not_email", ["member": "customer_email"]))
        }
        // The draft email is for the customer: in the language the body names, else in the
        // one the caller's Accept-Language prefers, else English.
        let language: Language
        if let tag = try body.string("language", maxLength: 8) {
            guard let named = Language(rawValue: tag) else {
                throw APIError.invalidRequest(
                    CatalogText("problem.language_unknown", ["languages": Language.allCases.map(\.rawValue).joined(separator: ", ")]))
            }
            language = named
        } else {
            language = LanguageChoice.forAPI(request)
        }
        // The provider's record is needed for the draft email; whether the reseller is still
        // connected to it is checked by the store, in the transaction that records the link.
        var provider: Partner?
        if let providerID {
            provider = try await store.partner(id: providerID)
            guard provider?.kind == .provider else {
                throw APIError(.conflict, "provider_not_connected", CatalogText("problem.provider_not_connected", ["provider": providerID]))
            }
        }
        let issued = try await invitations.issue(
            resellerID: reseller.id, providerID: providerID, delegatedAdmin: dap, lifetime: lifetime,
            maxUses: maxUses, issuedBy: caller.credentialID, customerEmail: email, now: clock(),
            confirmingCredential: caller.credentialID
        )
        let draft = DraftEmail(
            reseller: reseller, provider: provider, delegatedAdmin: dap, url: issued.url, expiresAt: issued.invitation.expiresAt,
            catalog: Catalogs[language])
        var out = JSONObjectWriter()
        out.add("id", issued.invitation.id)
        out.add("url", issued.url)
        out.add("token", issued.token)
        out.add("kid", issued.invitation.kid)
        out.add("reseller_id", reseller.id)
        out.add("provider_id", providerID)
        out.add("dap", dap)
        out.add("issued_at", RFC3339.format(issued.invitation.issuedAt))
        out.add("expires_at", RFC3339.format(issued.invitation.expiresAt))
        out.add("max_uses", maxUses)
        var mail = JSONObjectWriter()
        mail.add("to", email)
        mail.add("subject", draft.subject)
        mail.add("body", draft.body)
        mail.add("language", draft.language.rawValue)
        out.addRaw("email", mail.finish())
        var response = jsonResponse(.created, out.finish())
        response.headers[.location] = "/v1/invitations/\(issued.invitation.id)"
        return response
    }

    @Sendable func listInvitations(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, reseller) = try await auth.reseller(for: request, actingOnly: false)
        let page = try await store.invitations(resellerID: reseller.id, page: Self.pageRequest(request))
        let now = clock()
        return jsonResponse(
            .ok, JSONRepresentation.page(page.items.map { JSONRepresentation.invitation($0, now: now) }, nextCursor: page.nextCursor))
    }

    @Sendable func getInvitation(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, reseller) = try await auth.reseller(for: request, actingOnly: false)
        let id = try context.parameters.require("id")
        guard let record = try await store.invitation(id: id, resellerID: reseller.id) else {
            throw APIError.notFound(CatalogText("problem.no_invitation", ["id": id]))
        }
        // "Send it again" (DESIGN.md §7): the same claims signed again while it can be accepted.
        let now = clock()
        let url = record.invitation.status(at: now).canBeAccepted ? invitations.link(for: record.invitation) : nil
        return jsonResponse(.ok, JSONRepresentation.invitation(record, now: now, url: .some(url)))
    }

    /// Every acceptance of one of the reseller's invitations, oldest first, a page at a time
    /// (the invitation itself carries only the first few).
    @Sendable func listAcceptances(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, reseller) = try await auth.reseller(for: request, actingOnly: false)
        let id = try context.parameters.require("id")
        guard let page = try await store.acceptances(invitationID: id, resellerID: reseller.id, page: Self.pageRequest(request)) else {
            throw APIError.notFound(CatalogText("problem.no_invitation", ["id": id]))
        }
        return jsonResponse(.ok, JSONRepresentation.page(page.items.map(JSONRepresentation.acceptanceSummary), nextCursor: page.nextCursor))
    }

    @Sendable func revokeInvitation(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, reseller) = try await auth.reseller(for: request)
        let id = try context.parameters.require("id")
        _ = try await store.revokeInvitation(id: id, resellerID: reseller.id, at: clock(), actor: caller.credentialID)
        guard let record = try await store.invitation(id: id, resellerID: reseller.id) else {
            throw APIError.notFound(CatalogText("problem.no_invitation", ["id": id]))
        }
        return jsonResponse(.ok, JSONRepresentation.invitation(record, now: clock()))
    }

    @Sendable func verify(_ request: Request, context: AppRequestContext) async throws -> Response {
        _ = try await auth.partner(for: request)
        let body = try await JSONBody.read(request, context: context, allowed: ["token"])
        guard let token = try body.string("token", maxLength: 8192) else {
            throw APIError.invalidRequest(CatalogText("problem.member_required", ["member": "token"]))
        }
        let check = try await invitations.check(token, now: clock())
        var out = JSONObjectWriter()
        switch check {
        case .valid(let verified, _):
            out.add("valid", true)
            out.addNull("reason")
            out.addNull("detail")
            let claims = verified.claims
            var invitation = JSONObjectWriter()
            invitation.add("id", claims.invitationID)
            invitation.add("reseller_id", claims.resellerID)
            invitation.add("provider_id", claims.providerID)
            invitation.add("dap", claims.delegatedAdmin)
            invitation.add("kid", verified.kid)
            invitation.add("issued_at", RFC3339.format(claims.issuedAt))
            invitation.add("expires_at", RFC3339.format(claims.expiresAt))
            out.addRaw("invitation", invitation.finish())
        case .invalid(let error):
            out.add("valid", false)
            out.add("reason", error.code.rawValue)
            out.add("detail", request.apiCatalog.text(error.code.explanationKey))
            out.addNull("invitation")
        }
        return jsonResponse(.ok, out.finish())
    }

    @Sendable func accept(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await auth.withConfirmedCaller(request, cache: principals) { caller in
            try await accept(request, context: context, by: caller)
        }
    }

    /// Acceptance for `caller`, whose credential the store confirms as it accepts.
    func accept(_ request: Request, context: AppRequestContext, by caller: Caller) async throws -> Response {
        guard let customerID = caller.customerID, caller.role == .globalAdmin else {
            throw APIError.forbidden(CatalogText("problem.customer_global_admin_accepts"))
        }
        let body = try await JSONBody.read(request, context: context, allowed: ["token"])
        guard let token = try body.string("token", maxLength: 8192) else {
            throw APIError.invalidRequest(CatalogText("problem.member_required", ["member": "token"]))
        }
        let acceptance = try await metrics.observeAcceptance {
            try await invitations.accept(
                token: token, customerID: customerID, acceptedBy: caller.credentialID, now: clock(),
                confirmingCredential: caller.credentialID)
        }
        return jsonResponse(.created, JSONRepresentation.acceptance(acceptance))
    }

    @Sendable func listCustomers(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await auth.partner(for: request)
        let includeRetained: Bool
        switch request.uri.queryParameters["include"] {
        case nil: includeRetained = false
        case "retained": includeRetained = true
        default: throw APIError.invalidRequest(CatalogText("problem.include_retained"))
        }
        let page = try await store.customers(
            ofPartner: caller.partnerID!, includeRetained: includeRetained, page: Self.pageRequest(request))
        return jsonResponse(.ok, JSONRepresentation.page(page.items.map(JSONRepresentation.customer), nextCursor: page.nextCursor))
    }

    @Sendable func removeRelationship(_ request: Request, context: AppRequestContext) async throws -> Response {
        // A reseller's global admin or admin agent removes its own relationship (DESIGN.md §5);
        // a provider's relationship is not the provider's to end this way.
        let (caller, reseller) = try await auth.reseller(for: request)
        let id = try context.parameters.require("id")
        let removal = try await store.removeRelationship(
            partnerID: reseller.id, customerID: id, at: clock(), actor: caller.credentialID)
        var out = JSONObjectWriter()
        out.add("removed", removal.removed)
        out.add("delegated_admin_retained", removal.delegatedAdminRetained)
        return jsonResponse(.ok, out.finish())
    }

    @Sendable func listProviders(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (_, reseller) = try await auth.reseller(for: request, actingOnly: false)
        let providers = try await store.providers(ofReseller: reseller.id)
        let items = providers.map { provider -> String in
            var item = JSONObjectWriter()
            item.add("id", provider.id)
            item.add("name", provider.name)
            return item.finish()
        }
        return jsonResponse(.ok, JSONRepresentation.page(items, nextCursor: nil))
    }

    static func pageRequest(_ request: Request) throws -> PageRequest {
        var limit = 50
        if let text = request.uri.queryParameters["limit"] {
            guard let value = Int(String(text)), (1...PageRequest.maximumLimit).contains(value) else {
                throw APIError.invalidRequest(CatalogText("problem.limit_range", ["highest": String(PageRequest.maximumLimit)]))
            }
            limit = value
        }
        return PageRequest(limit: limit, cursor: request.uri.queryParameters["cursor"].map(String.init))
    }
}
