import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken

/// Webhook endpoints (DESIGN.md §9). A partner's global admin registers, removes and rotates;
/// anyone of the partner may list endpoints and deliveries. A secret is shown once: when the
/// endpoint is made and when it is rotated.
extension APIRoutes {
    func registerWebhooks(on v1: RouterGroup<AppRequestContext>) {
        v1.post("webhooks", use: addWebhook)
        v1.get("webhooks", use: listWebhooks)
        v1.delete("webhooks/{id}", use: removeWebhook)
        v1.post("webhooks/{id}/rotate-secret", use: rotateWebhookSecret)
        v1.get("webhooks/{id}/deliveries", use: listWebhookDeliveries)
    }

    func globalAdmin(_ request: Request) async throws -> Caller {
        let caller = try await auth.partner(for: request)
        guard caller.role == .globalAdmin else { throw APIError.forbidden(CatalogText("problem.webhooks_global_admin")) }
        return caller
    }

    @Sendable func addWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await globalAdmin(request)
        let body = try await JSONBody.read(request, context: context, allowed: ["url", "events"])
        guard let url = try body.string("url", maxLength: 2048) else {
            throw APIError.invalidRequest(CatalogText("problem.member_required", ["member": "url"]))
        }
        let events = try body.stringArray("events")
        var types = WebhookEventType.allCases
        if let events {
            guard !events.isEmpty else { throw APIError.invalidRequest(CatalogText("problem.events_empty")) }
            types = try events.map { name in
                guard let type = WebhookEventType(rawValue: name) else {
                    throw APIError.invalidRequest(
                        CatalogText(
                            "problem.event_unknown",
                            ["event": name, "events": WebhookEventType.allCases.map(\.rawValue).joined(separator: ", ")]))
                }
                return type
            }
        }
        do {
            try webhookPolicy.check(url)
        } catch let refusal as WebhookURLPolicy.Refusal {
            throw APIError(
                .unprocessableContent, "webhook_url_refused", CatalogText("problem.webhook_url_refused", ["reason": refusal.description]))
        }
        let endpoint = WebhookEndpoint(
            id: try Identifiers.random(prefix: "wh_", bytes: 12), partnerID: caller.partnerID!, url: url, events: types,
            secret: try StandardWebhooks.newSecret(), createdAt: clock())
        try await store.addWebhook(endpoint, actor: caller.credentialID)
        var response = jsonResponse(.created, Self.webhookJSON(endpoint, secret: endpoint.secret))
        response.headers[.location] = "/v1/webhooks/\(endpoint.id)"
        return response
    }

    @Sendable func listWebhooks(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await auth.partner(for: request)
        let endpoints = try await store.webhooks(partnerID: caller.partnerID!)
        return jsonResponse(.ok, JSONRepresentation.page(endpoints.map { Self.webhookJSON($0, secret: nil) }, nextCursor: nil))
    }

    @Sendable func removeWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await globalAdmin(request)
        try await store.removeWebhook(
            id: try context.parameters.require("id"), partnerID: caller.partnerID!, at: clock(), actor: caller.credentialID)
        return jsonResponse(.ok, #"{"removed":true}"#)
    }

    @Sendable func rotateWebhookSecret(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await globalAdmin(request)
        let now = clock()
        let endpoint = try await store.rotateWebhookSecret(
            id: try context.parameters.require("id"), partnerID: caller.partnerID!, newSecret: try StandardWebhooks.newSecret(),
            keepPreviousUntil: now + 24 * 3600, at: now, actor: caller.credentialID)
        return jsonResponse(.ok, Self.webhookJSON(endpoint, secret: endpoint.secret))
    }

    @Sendable func listWebhookDeliveries(_ request: Request, context: AppRequestContext) async throws -> Response {
        let caller = try await auth.partner(for: request)
        let id = try context.parameters.require("id")
        guard let page = try await store.webhookDeliveries(endpointID: id, partnerID: caller.partnerID!, page: Self.pageRequest(request))
        else { throw APIError.notFound(CatalogText("problem.no_webhook", ["id": id])) }
        let items = page.items.map { delivery -> String in
            var out = JSONObjectWriter()
            out.add("id", Int(delivery.id))
            out.add("webhook_id", delivery.messageID)
            out.add("event", delivery.eventType.rawValue)
            out.add("status", delivery.status.rawValue)
            out.add("attempts", delivery.attempts)
            out.add("http_status", delivery.lastStatusCode)
            out.add("error", delivery.lastError)
            out.add(
                "next_attempt_at", delivery.status == .pending ? delivery.nextAttemptMilliseconds.map { RFC3339.format($0 / 1000) } : nil)
            out.add("created_at", RFC3339.format(delivery.createdAt))
            out.add("updated_at", RFC3339.format(delivery.updatedAt))
            return out.finish()
        }
        return jsonResponse(.ok, JSONRepresentation.page(items, nextCursor: page.nextCursor))
    }

    /// An endpoint as the API shows it: the secret only when just made or rotated.
    static func webhookJSON(_ endpoint: WebhookEndpoint, secret: String?) -> String {
        var out = JSONObjectWriter()
        out.add("id", endpoint.id)
        out.add("url", endpoint.url)
        out.addRaw("events", "[" + endpoint.events.map { "\"\($0.rawValue)\"" }.joined(separator: ",") + "]")
        if let secret { out.add("secret", secret) }
        out.add("created_at", RFC3339.format(endpoint.createdAt))
        out.add("previous_secret_expires_at", endpoint.previousSecretUntil.map(RFC3339.format))
        return out.finish()
    }
}
