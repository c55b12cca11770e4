import Foundation
import HTTPTypes
import InviteService
import InviteStore
import Testing

@testable import InviteServer

/// Webhook endpoints over the API (DESIGN.md §9); deliveries themselves are tested from
/// outside, with a real receiver (Tests/scripts/webhooks.sh).
@Suite("Webhooks")
struct WebhookTests {
    typealias W = World

    @Test("a global admin registers, lists, rotates and removes an endpoint; others may not; private URLs are refused")
    func endpoints() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let admin = world.adminB // reseller B's global admin
            let created = try await client.send(
                .post, "/v1/webhooks", bearer: admin, json: #"{"url":"https://1.1.1.1/hooks","events":["relationship.created"]}"#)
            #expect(created.status == .created, "registering answered \(created.status): \(created.text)")
            let id = try #require(created.json["id"] as? String)
            let secret = try #require(created.json["secret"] as? String)
            #expect(secret.hasPrefix("whsec_") && created.json["events"] as? [String] == ["relationship.created"])

            let listed = try await client.send(.get, "/v1/webhooks", bearer: admin)
            #expect(listed.status == .ok && listed.text.contains(id) && !listed.text.contains(secret), "a list shows the secret")

            let rotated = try await client.send(.post, "/v1/webhooks/\(id)/rotate-secret", bearer: admin)
            #expect(rotated.status == .ok && (rotated.json["secret"] as? String).map { $0 != secret } == true)
            #expect(rotated.json["previous_secret_expires_at"] is String)

            let deliveries = try await client.send(.get, "/v1/webhooks/\(id)/deliveries", bearer: admin)
            #expect(deliveries.status == .ok && (deliveries.json["items"] as? [Any])?.isEmpty == true)
            expectProblem(
                try await client.send(.get, "/v1/webhooks/\(id)/deliveries", bearer: world.adminA), .notFound, "not_found",
                "another partner's deliveries")

            for url in ["http://127.0.0.1:9/x", "https://10.0.0.1/x", "https://localhost/x"] {
                expectProblem(
                    try await client.send(.post, "/v1/webhooks", bearer: admin, json: #"{"url":"\#(url)"}"#), .unprocessableContent,
                    "webhook_url_refused", url)
            }
            expectProblem(
                try await client.send(.post, "/v1/webhooks", bearer: admin, json: #"{"url":"https://1.1.1.1/","events":["nope"]}"#),
                .badRequest, "invalid_request", "an unknown event")
            expectProblem(
                try await client.send(.post, "/v1/webhooks", bearer: world.adminA, json: #"{"url":"https://1.1.1.1/"}"#), .forbidden,
                "forbidden", "an admin agent")
            expectProblem(
                try await client.send(.delete, "/v1/webhooks/\(id)", bearer: world.adminA), .forbidden, "forbidden",
                "an admin agent removes")

            let removed = try await client.send(.delete, "/v1/webhooks/\(id)", bearer: admin)
            #expect(removed.status == .ok && removed.json["removed"] as? Bool == true)
            expectProblem(try await client.send(.delete, "/v1/webhooks/\(id)", bearer: admin), .notFound, "not_found", "removing twice")
            let actions = try await world.store.auditLog(limit: 20).map(\.action)
            #expect(actions.contains("webhook.added") && actions.contains("webhook.secret_rotated") && actions.contains("webhook.removed"))
        }
    }

    @Test("the portal's Webhooks page adds an endpoint (secret shown once), rotates and removes it")
    func portalPage() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await PortalTests.addGlobalAdmin(world)
        try await world.withClient { client in
            let (_, cookies) = try await PortalTests.signIn(client, email: PortalTests.bossEmail, password: PortalTests.bossPassword)
            let page = try await client.send(.get, "/portal/webhooks", cookie: cookies)
            #expect(page.status == .ok)
            let csrf = try #require(page.hiddenField("csrf"))
            let refused = try await client.send(
                .post, "/portal/webhooks", form: [("csrf", csrf), ("url", "https://10.0.0.1/x"), ("events", "relationship.created")],
                cookie: cookies)
            #expect(refused.status == .unprocessableContent)
            let added = try await client.send(
                .post, "/portal/webhooks",
                form: [
                    ("csrf", csrf), ("url", "https://1.1.1.1/hooks"), ("events", "relationship.created"), ("events", "invitation.revoked"),
                ],
                cookie: cookies)
            #expect(added.status == .created && added.text.contains("whsec_"), "adding answered \(added.status)")
            let endpoint = try #require(try await world.store.webhooks(partnerID: W.resellerA).first)
            #expect(endpoint.events == [.relationshipCreated, .invitationRevoked])
            let again = try await client.send(.get, "/portal/webhooks", cookie: cookies)
            #expect(!again.text.contains(endpoint.secret), "the secret is shown twice")
            let rotated = try await client.send(.post, "/portal/webhooks/\(endpoint.id)/rotate", form: [("csrf", csrf)], cookie: cookies)
            #expect(rotated.status == .ok && rotated.text.contains("whsec_") && !rotated.text.contains(endpoint.secret))
            let removed = try await client.send(.post, "/portal/webhooks/\(endpoint.id)/remove", form: [("csrf", csrf)], cookie: cookies)
            #expect(removed.status == .ok)
            #expect(try await world.store.webhooks(partnerID: W.resellerA).isEmpty)
        }
    }
}
