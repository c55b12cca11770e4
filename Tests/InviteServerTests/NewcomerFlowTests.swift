import Foundation
import Hummingbird
import InviteServer
import InviteStore
import InviteToken
import Testing

/// DESIGN.md §1 and §5, the "invite new customers" flow end to end through the router.
@Suite("Newcomer flow")
struct NewcomerFlowTests {
    typealias W = World

    @Test("reseller issues a two-tier DAP link, the customer accepts, the reseller removes its relationship, the provider keeps its own")
    func twoTierLinkWithDAP() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_fabrikam")
        try await world.withClient { client in
            // 1. Issue.
            let issue = try await client.send(
                .post, "/v1/invitations", bearer: world.adminA,
                json: #"{"provider_id":"prov_p","dap":true,"customer_email":"admin@fabrikam.example"}"#)
            #expect(issue.status == .created, "issuing answered \(issue.status.code): \(issue.text)")
            let created = issue.json
            let id = try #require(created["id"] as? String, "no id in \(issue.text)")
            let url = try #require(created["url"] as? String, "no url in \(issue.text)")
            #expect(url.hasPrefix(world.configuration.publicURL + "/invitations/accept?token="), "url \(url) is not an acceptance link")
            #expect(url.count < 600, "the link is \(url.count) characters, not under 600")
            let expiresAt = try #require(created["expires_at"] as? String, "no expires_at in \(issue.text)")
            #expect(expiresAt == RFC3339.format(W.t0 + 14 * W.day), "expires_at \(expiresAt) is not 14 days after issue")
            #expect(created["reseller_id"] as? String == W.resellerA, "the reseller is not the caller's partner")
            let email = try #require(created["email"] as? [String: Any], "no email in \(issue.text)")
            let subject = try #require(email["subject"] as? String)
            let body = try #require(email["body"] as? String)
            #expect(
                subject.contains(W.resellerAName) && subject.contains(W.providerName),
                "the subject \"\(subject)\" does not name both partners")
            #expect(body.contains(W.resellerAName) && body.contains(W.providerName), "the email body does not name both partners:\n\(body)")
            #expect(
                body.split(separator: "\n").contains { $0 == url }, "the email body does not hold the url on a line of its own:\n\(body)")
            #expect(body.contains("delegated"), "the email body does not mention the DAP request:\n\(body)")
            let token = token(ofURL: url)

            // 2. The landing page.
            let page = try await client.send(.get, "/invitations/accept?token=\(token)")
            #expect(page.status == .ok, "the landing page answered \(page.status.code)")
            #expect(page.contentType.hasPrefix("text/html"), "the landing page is \(page.contentType), not HTML")
            #expect(page.text.contains(W.resellerAName), "the landing page does not name the reseller")
            #expect(page.text.contains(W.providerName), "the landing page does not name the provider")
            #expect(page.text.contains("Requested"), "the landing page does not say DAP is requested")

            // 3. Acceptance by the customer's global admin.
            let accept = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token))
            #expect(accept.status == .created, "acceptance answered \(accept.status.code): \(accept.text)")
            #expect(accept.json["customer_id"] as? String == "cus_fabrikam", "customer_id is wrong: \(accept.text)")
            #expect(accept.json["delegated_admin"] as? Bool == true, "delegated_admin is not true: \(accept.text)")
            let relationships = try #require(accept.json["relationships"] as? [[String: Any]], "no relationships in \(accept.text)")
            let outcomes = Set(relationships.map { "\($0["partner_id"] ?? "")/\($0["role"] ?? "")/\($0["created"] as? Bool == true)" })
            #expect(
                outcomes == ["res_a/reseller/true", "prov_p/provider/true"],
                "the relationships are not the two created ones: \(accept.text)")

            // 4. The reseller's list.
            let list = try await client.send(.get, "/v1/customers", bearer: world.adminA)
            let items = try #require(list.json["items"] as? [[String: Any]], "no items in \(list.text)")
            #expect(
                items.count == 1 && items.first?["id"] as? String == "cus_fabrikam",
                "the reseller's list is not [cus_fabrikam]: \(list.text)")
            #expect(items.first?["delegated_admin"] as? Bool == true, "the reseller's list does not show DAP: \(list.text)")
            let invitation = try await client.send(.get, "/v1/invitations/\(id)", bearer: world.adminA)
            #expect(
                invitation.json["uses"] as? Int == 1 && invitation.json["status"] as? String == "accepted",
                "the invitation does not show one use: \(invitation.text)")

            // 5. Removal by the reseller: DAP stays, no provider change.
            let removal = try await client.send(.delete, "/v1/customers/cus_fabrikam/relationship", bearer: world.adminA)
            #expect(removal.status == .ok, "removal answered \(removal.status.code): \(removal.text)")
            #expect(removal.json["removed"] as? Bool == true, "removed is not true: \(removal.text)")
            #expect(removal.json["delegated_admin_retained"] as? Bool == true, "delegated_admin_retained is not true: \(removal.text)")

            let after = try await client.send(.get, "/v1/customers", bearer: world.adminA)
            #expect((after.json["items"] as? [Any])?.isEmpty == true, "the customer is still in the reseller's list: \(after.text)")
            let providerList = try await client.send(.get, "/v1/customers", bearer: world.providerAdmin)
            let providerItems = providerList.json["items"] as? [[String: Any]] ?? []
            #expect(providerItems.map { $0["id"] as? String } == ["cus_fabrikam"], "the provider lost the customer: \(providerList.text)")
            #expect(
                providerItems.first?["role"] as? String == "provider",
                "the provider's relationship has the wrong role: \(providerList.text)")
        }
        #expect(
            try await world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "cus_fabrikam"), "removal took the DAP grant away")
    }
}
