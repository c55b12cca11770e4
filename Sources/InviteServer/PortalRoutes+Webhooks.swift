import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken

/// The partner's webhook endpoints, for its global admins (DESIGN.md §9): add, rotate the
/// secret, remove, and the recent deliveries of each with their status.
extension PortalRoutes {
    @Sendable func webhooksPage(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            try await webhooksPage(request, viewer: try await requireWebhookAdmin(request))
        }
    }

    private func requireWebhookAdmin(_ request: Request) async throws -> Viewer {
        try await requireGlobalAdmin(request, refusal: "webhooks.global_admin_only")
    }

    private func webhooksPage(
        _ request: Request, viewer: Viewer, status: HTTPResponse.Status = .ok, error: String? = nil, notice: String? = nil,
        secret: (url: String, secret: String, rotated: Bool)? = nil
    ) async throws -> Response {
        let catalog = request.pageCatalog
        var endpoints: [[String: Any]] = []
        for endpoint in try await store.webhooks(partnerID: viewer.partner.id) {
            let recent =
                try await store.webhookDeliveries(endpointID: endpoint.id, partnerID: viewer.partner.id, page: PageRequest(limit: 10))?
                .items ?? []
            var values: [String: Any] = [
                "id": endpoint.id, "url": endpoint.url, "events": endpoint.events.map(\.rawValue).joined(separator: ", "),
                "hasDeliveries": !recent.isEmpty,
                "deliveries": recent.map { delivery -> [String: Any] in
                    [
                        "event": delivery.eventType.rawValue, "messageID": delivery.messageID, "status": delivery.status.rawValue,
                        "attempts": String(delivery.attempts),
                        "answer": delivery.lastStatusCode.map { "HTTP \($0)" } ?? delivery.lastError ?? "",
                        "next": delivery.status == .pending
                            ? delivery.nextAttemptMilliseconds.map { catalog.dateTime($0 / 1000) } ?? "" : "",
                    ]
                },
            ]
            if let until = endpoint.previousSecretUntil, until > clock() {
                values["rotatedUntil"] = RFC3339.format(until)
                values["rotatedUntilText"] = catalog.dateTime(until)
            }
            endpoints.append(values)
        }
        var values: [String: Any] = [
            "title": catalog.text("portal.webhooks"), "partnerName": viewer.partner.name, "endpoints": endpoints,
            "empty": endpoints.isEmpty,
            "eventChoices": WebhookEventType.allCases.map { ["name": $0.rawValue] },
        ]
        if let error { values["error"] = error }
        if let notice { values["notice"] = notice }
        if let secret {
            values["secret"] = secret.secret
            values["secretURL"] = secret.url
            values["rotated"] = secret.rotated
            values["script"] = true
        }
        return try render("portal_webhooks", status: status, request: request, viewer: viewer, current: "webhooks", values)
    }

    @Sendable func addWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireWebhookAdmin(request)
            let url = (form["url"] ?? "").trimmingWhitespace()
            let events = form.values("events").compactMap(WebhookEventType.init(rawValue:))
            guard !events.isEmpty else {
                return try await webhooksPage(
                    request, viewer: viewer, status: .badRequest, error: request.pageCatalog.text("webhooks.choose_event"))
            }
            do {
                try webhookPolicy.check(url)
            } catch let refusal as WebhookURLPolicy.Refusal {
                return try await webhooksPage(
                    request, viewer: viewer, status: .unprocessableContent,
                    error: request.pageCatalog.text("webhooks.url_refused", ["reason": refusal.description]))
            }
            let endpoint = WebhookEndpoint(
                id: try Identifiers.random(prefix: "wh_", bytes: 12), partnerID: viewer.partner.id, url: url, events: events,
                secret: try StandardWebhooks.newSecret(), createdAt: clock())
            try await store.addWebhook(endpoint, actor: viewer.user.id)
            return try await webhooksPage(
                request, viewer: viewer, status: .created, notice: request.pageCatalog.text("webhooks.added"),
                secret: (url, endpoint.secret, false))
        }
    }

    @Sendable func rotateWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireWebhookAdmin(request)
            let now = clock()
            let endpoint = try await store.rotateWebhookSecret(
                id: try context.parameters.require("id"), partnerID: viewer.partner.id, newSecret: try StandardWebhooks.newSecret(),
                keepPreviousUntil: now + 24 * 3600, at: now, actor: viewer.user.id)
            return try await webhooksPage(
                request, viewer: viewer, notice: request.pageCatalog.text("webhooks.rotated"), secret: (endpoint.url, endpoint.secret, true)
            )
        }
    }

    @Sendable func removeWebhook(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireWebhookAdmin(request)
            try await store.removeWebhook(
                id: try context.parameters.require("id"), partnerID: viewer.partner.id, at: clock(), actor: viewer.user.id)
            return try await webhooksPage(request, viewer: viewer, notice: request.pageCatalog.text("webhooks.removed"))
        }
    }
}
