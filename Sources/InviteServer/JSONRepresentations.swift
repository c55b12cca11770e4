import InviteStore
import InviteToken

/// The JSON shapes of the API (openapi.yaml), written without Foundation's encoder.
enum JSONRepresentation {
    /// An invitation; with `url` (a `String??`) given, the `url` member too: the link while
    /// it can be accepted, else null.
    static func invitation(_ record: InvitationRecord, now: Int64, url: String?? = .none) -> String {
        let invitation = record.invitation
        var out = JSONObjectWriter()
        out.add("id", invitation.id)
        if case .some(let url) = url { out.add("url", url) }
        out.add("reseller_id", invitation.resellerID)
        out.add("provider_id", invitation.providerID)
        out.add("dap", invitation.delegatedAdmin)
        out.add("kid", invitation.kid)
        out.add("issued_at", RFC3339.format(invitation.issuedAt))
        out.add("expires_at", RFC3339.format(invitation.expiresAt))
        out.add("max_uses", invitation.maxUses)
        out.add("uses", invitation.useCount)
        out.add("status", invitation.status(at: now).rawValue)
        out.add("customer_email", invitation.customerEmail)
        out.add("revoked_at", invitation.revokedAt.map(RFC3339.format))
        // The first few; `uses` counts them all, and /v1/invitations/{id}/acceptances pages them.
        out.addRaw("acceptances", "[" + record.acceptances.map(acceptanceSummary).joined(separator: ",") + "]")
        return out.finish()
    }

    /// One acceptance as invitation lists show it.
    static func acceptanceSummary(_ acceptance: Acceptance) -> String {
        var item = JSONObjectWriter()
        item.add("customer_id", acceptance.customerID)
        item.add("accepted_by", acceptance.acceptedBy)
        item.add("accepted_at", RFC3339.format(acceptance.acceptedAt))
        return item.finish()
    }

    static func acceptance(_ acceptance: Acceptance) -> String {
        var out = JSONObjectWriter()
        out.add("customer_id", acceptance.customerID)
        out.add("invitation_id", acceptance.invitationID)
        let relationships = acceptance.relationships.map { relationship -> String in
            var item = JSONObjectWriter()
            item.add("partner_id", relationship.partnerID)
            item.add("role", relationship.role.rawValue)
            item.add("created", relationship.created)
            return item.finish()
        }
        out.addRaw("relationships", "[" + relationships.joined(separator: ",") + "]")
        out.add("delegated_admin", acceptance.delegatedAdmin)
        out.add("accepted_at", RFC3339.format(acceptance.acceptedAt))
        return out.finish()
    }

    static func customer(_ item: PartnerCustomer) -> String {
        var out = JSONObjectWriter()
        out.add("id", item.customer.id)
        out.add("name", item.customer.name)
        out.add("domain", item.customer.domain)
        out.add("role", item.role?.rawValue)
        out.add("since", item.since.map(RFC3339.format))
        out.add("relationship_active", item.relationshipActive)
        out.add("delegated_admin", item.delegatedAdminSince != nil)
        out.add("delegated_admin_since", item.delegatedAdminSince.map(RFC3339.format))
        return out.finish()
    }

    /// A partner as a customer sees it (DESIGN.md §7).
    static func partner(_ item: CustomerPartner) -> String {
        var out = JSONObjectWriter()
        out.add("partner_id", item.partner.id)
        out.add("name", item.partner.name)
        out.add("kind", item.partner.kind.rawValue)
        if let since = item.relationshipSince {
            var relationship = JSONObjectWriter()
            relationship.add("since", RFC3339.format(since))
            out.addRaw("relationship", relationship.finish())
        } else {
            out.addNull("relationship")
        }
        if let granted = item.delegatedAdminSince {
            var grant = JSONObjectWriter()
            grant.add("granted_at", RFC3339.format(granted))
            out.addRaw("delegated_admin", grant.finish())
        } else {
            out.addNull("delegated_admin")
        }
        return out.finish()
    }

    static func page(_ items: [String], nextCursor: String?) -> String {
        var out = JSONObjectWriter()
        out.addRaw("items", "[" + items.joined(separator: ",") + "]")
        out.add("next_cursor", nextCursor)
        return out.finish()
    }
}
