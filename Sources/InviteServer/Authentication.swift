import Foundation
import Hummingbird
import InviteService
import InviteStore

/// Who is calling: the tenant and role a bearer credential fixes, and the partner's record for
/// a partner's credential.
struct Caller: Sendable {
    var credentialID: String
    var tenant: Tenant
    var role: Role
    var partner: Partner?

    var partnerID: String? { if case .partner(let id) = tenant { id } else { nil } }
    var customerID: String? { if case .customer(let id) = tenant { id } else { nil } }

    /// Global admins and admin agents of a partner act; sales agents only read.
    var mayActForPartner: Bool { partnerID != nil && (role == .globalAdmin || role == .adminAgent) }
}

/// Resolves `Authorization: Bearer …` to a ``Caller``; a missing, malformed, unknown or revoked
/// credential is 401, with the same answer for each so nothing is learned from it.
///
/// Customer calls also take the browser's session cookie (DESIGN.md §5, §7), so the `/account`
/// pages' users can call the API as themselves. That cookie is `SameSite=Lax`: a cross-site
/// page cannot make the browser send it with a DELETE, and a cross-site read is not allowed
/// by the browser without CORS headers, which this service never sends.
struct BearerAuthenticator: Sendable {
    let store: any RelationshipStore
    /// The customer's browser session, accepted for customer calls when no bearer is sent.
    var sessionCookie: SignedSessionCookie?
    var clock: @Sendable () -> Int64 = { Int64(Date.now.timeIntervalSince1970) }

    func caller(for request: Request) async throws -> Caller {
        guard let header = request.headers[.authorization], header.hasPrefix("Bearer ") else { throw APIError.unauthorized }
        let secret = header.dropFirst("Bearer ".count)
        guard (16...256).contains(secret.utf8.count) else { throw APIError.unauthorized }
        guard let principal = try await store.principal(secretHash: BearerSecret.hash(String(secret))),
            principal.credential.revokedAt == nil
        else { throw APIError.unauthorized }
        let credential = principal.credential
        return Caller(credentialID: credential.id, tenant: credential.tenant, role: credential.role, partner: principal.partner)
    }

    /// A partner of kind reseller whose role may act (global admin or admin agent).
    func reseller(for request: Request, actingOnly: Bool = true) async throws -> (Caller, Partner) {
        let caller = try await caller(for: request)
        guard caller.partnerID != nil else { throw APIError.forbidden(CatalogText("problem.partner_credential_needed")) }
        if actingOnly, !caller.mayActForPartner {
            throw APIError.forbidden(CatalogText("problem.role_reads_only", ["role": caller.role.rawValue]))
        }
        guard let partner = caller.partner, partner.kind == .reseller else {
            throw APIError.forbidden(CatalogText("problem.resellers_only"))
        }
        return (caller, partner)
    }

    /// A customer's caller: its credential, or without a bearer its signed-in browser user.
    /// `globalAdminOnly` refuses the `user` role (403).
    func customer(for request: Request, globalAdminOnly: Bool) async throws -> Caller {
        let caller: Caller
        if request.headers[.authorization] == nil, let sessionCookie,
            let user = try await sessionCookie.user(request, store: store, now: clock()), !user.mustChangePassword
        {
            caller = Caller(credentialID: user.id, tenant: user.tenant, role: user.role, partner: nil)
        } else {
            caller = try await self.caller(for: request)
        }
        guard caller.customerID != nil else { throw APIError.forbidden(CatalogText("problem.customer_credential_needed")) }
        if globalAdminOnly, caller.role != .globalAdmin {
            throw APIError.forbidden(CatalogText("problem.customer_global_admin_ends"))
        }
        return caller
    }

    func partner(for request: Request) async throws -> Caller {
        let caller = try await caller(for: request)
        guard caller.partnerID != nil else { throw APIError.forbidden(CatalogText("problem.partner_credential_needed")) }
        return caller
    }
}
