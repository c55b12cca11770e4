import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken

/// Both sides of a relationship (DESIGN.md §7): a customer's partners and what it ends, a
/// reseller's retained grants, and "Add a new customer".
extension APIRoutes {
    func registerLifecycle(on v1: RouterGroup<AppRequestContext>) {
        v1.get("partners", use: listPartners)
        v1.delete("partners/{id}/relationship", use: customerEndsRelationship)
        v1.delete("partners/{id}/delegated-admin", use: customerRemovesDelegatedAdmin)
        v1.post("customers", use: addCustomer)
        v1.delete("customers/{id}/delegated-admin", use: giveUpDelegatedAdmin)
    }

    /// The partners holding a relationship or a DAP grant on the caller's customer.
    @Sendable func listPartners(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await auth.customer(for: request, globalAdminOnly: false)
        let page = try await store.partners(ofCustomer: caller.customerID!, page: Self.pageRequest(request))
        return jsonResponse(.ok, JSONRepresentation.page(page.items.map(JSONRepresentation.partner), nextCursor: page.nextCursor))
    }

    /// The customer ends a partner's relationship; a DAP grant stays until removed on its own.
    @Sendable func customerEndsRelationship(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await auth.customer(for: request, globalAdminOnly: true)
        let removal = try await store.removeRelationship(
            partnerID: try context.parameters.require("id"), customerID: caller.customerID!, by: .customer, at: clock(),
            actor: caller.credentialID)
        var out = JSONObjectWriter()
        out.add("removed", removal.removed)
        out.add("delegated_admin_retained", removal.delegatedAdminRetained)
        return jsonResponse(.ok, out.finish())
    }

    /// The customer takes a partner's DAP grant back; the relationship stays.
    @Sendable func customerRemovesDelegatedAdmin(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await auth.customer(for: request, globalAdminOnly: true)
        try await store.removeDelegatedAdmin(
            partnerID: try context.parameters.require("id"), customerID: caller.customerID!, by: .customer, at: clock(),
            actor: caller.credentialID)
        return jsonResponse(.ok, #"{"removed":true}"#)
    }

    /// A reseller's global admin gives its DAP grant on a customer up.
    @Sendable func giveUpDelegatedAdmin(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, reseller) = try await auth.reseller(for: request)
        guard caller.role == .globalAdmin else { throw APIError.forbidden(CatalogText("problem.global_admin_gives_up")) }
        try await store.removeDelegatedAdmin(
            partnerID: reseller.id, customerID: try context.parameters.require("id"), by: .partner, at: clock(),
            actor: caller.credentialID)
        return jsonResponse(.ok, #"{"removed":true}"#)
    }

    /// "Add a new customer": the customer, its global admin (with a setup link) and the
    /// reseller's relationship, in one transaction.
    @Sendable func addCustomer(_ request: Request, context: AppRequestContext) async throws -> Response {
        let (caller, reseller) = try await auth.reseller(for: request)
        let body = try await JSONBody.read(request, context: context, allowed: ["name", "domain", "admin_email"])
        let fields = try NewCustomerFields(
            name: try body.string("name", maxLength: 200), domain: try body.string("domain", maxLength: 253),
            adminEmail: try body.string("admin_email", maxLength: 254))
        let now = clock()
        let (customer, setup) = try await fields.add(
            resellerID: reseller.id, actor: caller.credentialID, store: store, setupLinks: invitations.setupLinks, now: now)
        var admin = JSONObjectWriter()
        admin.add("email", fields.adminEmail)
        admin.add("setup_url", setup.url)
        var out = JSONObjectWriter()
        out.add("customer_id", customer.id)
        out.addRaw("admin", admin.finish())
        return jsonResponse(.created, out.finish())
    }
}

/// What "Add a new customer" asks for, checked the same way for the API and the portal.
struct NewCustomerFields {
    var name: String
    var domain: String
    var adminEmail: String

    init(name: String?, domain: String?, adminEmail: String?) throws {
        let name = (name ?? "").trimmingWhitespace()
        guard !name.isEmpty, name.count <= 200 else { throw APIError.invalidRequest(CatalogText("problem.customer_name_length")) }
        let domain = (domain ?? "").trimmingWhitespace().lowercased()
        guard Self.isDomain(domain) else { throw APIError.invalidRequest(CatalogText("problem.domain_invalid")) }
        let email = (adminEmail ?? "").trimmingWhitespace().lowercased()
        guard EmailAddress.isPlausible(email) else {
            throw APIError.invalidRequest(CatalogText("problem.member_not_email", ["member": "admin_email"]))
        }
        (self.name, self.domain, self.adminEmail) = (name, domain, email)
    }

    /// Labels of letters, digits and inner hyphens, at least two, at most 253 characters.
    static func isDomain(_ text: String) -> Bool {
        let labels = text.split(separator: ".", omittingEmptySubsequences: false)
        return text.utf8.count <= 253 && labels.count >= 2
            && labels.allSatisfy { label in
                (1...63).contains(label.utf8.count) && label.first != "-" && label.last != "-"
                    && label.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D }
            }
    }

    /// Adds the customer for `resellerID`; returns it and its admin's setup link.
    func add(
        resellerID: String, actor: String, store: any RelationshipStore, setupLinks: SetupLinks, now: Int64
    ) async throws -> (Customer, IssuedSetupLink) {
        let customer = Customer(id: UUID().uuidString.lowercased(), name: name, domain: domain, createdAt: now)
        let (admin, setup) = try setupLinks.newPerson(tenant: .customer(customer.id), email: adminEmail, role: .globalAdmin, now: now)
        try await store.addCustomer(
            NewCustomer(customer: customer, admin: admin, setupLink: setup.link, resellerID: resellerID), actor: actor)
        return (customer, setup)
    }
}
