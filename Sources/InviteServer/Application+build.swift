public import Foundation
public import Hummingbird
import InviteService
public import InviteStore
import InviteToken
public import Logging
import NIOCore
import ServiceLifecycle

/// Builds the whole service: routes, middleware, keyring reloads. Tests call it with a
/// temporary store and a fixed keyring; `invitelink serve` with the real ones.
public func buildApplication(
    configuration: ServerConfiguration,
    store: any RelationshipStore,
    keyring: KeyringHolder,
    reloadKeyring: Bool = true,
    logger: Logger,
    clock: @escaping @Sendable () -> Int64 = { Int64(Date.now.timeIntervalSince1970) }
) throws -> some ApplicationProtocol {
    let metrics = ServiceMetrics()
    let invitations = InvitationService(
        issuer: configuration.issuer, publicURL: configuration.publicURL, store: store, keyring: { keyring.current }
    )
    let router = Router(context: AppRequestContext.self)
    router.add(middleware: ObservabilityMiddleware(metrics: metrics))
    router.add(middleware: SecurityHeadersMiddleware())
    let allowedMethods = AllowedMethods()
    router.add(middleware: MethodNotAllowedMiddleware(allowed: allowedMethods))

    router.get("healthz") { _, _ in jsonResponse(.ok, #"{"status":"ok"}"#) }
    router.get("readyz") { _, _ -> Response in
        do {
            try await store.ping()
        } catch {
            throw APIError(.serviceUnavailable, "unavailable", CatalogText("problem.database_unreachable"))
        }
        guard !keyring.isStale(after: configuration.keyringCheckInterval) else {
            throw APIError(.serviceUnavailable, "keyring_stale", CatalogText("problem.keyring_stale"))
        }
        guard keyring.current.signingKey != nil else {
            throw APIError(.serviceUnavailable, "unavailable", CatalogText("problem.no_signing_key"))
        }
        return jsonResponse(.ok, #"{"status":"ready"}"#)
    }
    router.get("metrics") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: metrics.registry.emitToBuffer())))
    }
    router.get(".well-known/jwks.json") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/jwk-set+json", .cacheControl: "max-age=60"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: keyring.current.jwks())))
    }
    router.get("openapi.yaml") { _, _ in
        Response(
            status: .ok, headers: [.contentType: "application/yaml"], body: ResponseBody(byteBuffer: ByteBuffer(string: Assets.openAPI)))
    }

    let sessionSecret = try configuration.sessionSecret ?? SessionSecret.random()
    let webSession = try WebSession(secureCookies: configuration.secureCookies, secret: sessionSecret)
    let webhookPolicy = WebhookURLPolicy(allowInsecure: configuration.webhooksAllowInsecure)
    APIRoutes(
        store: store, invitations: invitations, metrics: metrics, clock: clock, sessionCookie: webSession.cookie,
        webhookPolicy: webhookPolicy
    ).register(on: router)
    let signIn = PasswordSignIn(store: store, configuration: configuration)
    let pages = PageRoutes(
        store: store, invitations: invitations, metrics: metrics, signIn: signIn, sessions: webSession,
        templates: try Assets.templates(), clock: clock
    )
    pages.register(on: router)
    AccountRoutes(pages: pages).register(on: router)
    LanguageRoutes(secureCookies: configuration.secureCookies).register(on: router)
    var portal = try PortalRoutes(
        store: store, invitations: invitations, signIn: signIn,
        secureCookies: configuration.secureCookies, sessionSecret: sessionSecret, templates: Assets.templates(), clock: clock
    )
    portal.webhookPolicy = webhookPolicy
    portal.register(on: router)

    allowedMethods.load(router.routes)

    var services: [any Service] = []
    if let interval = configuration.auditSealInterval {
        services.append(
            AuditSealService(
                store: store, sealer: AuditSealer(issuer: configuration.issuer, keyring: { keyring.current }), interval: interval,
                logger: logger, clock: clock))
    }
    if let interval = configuration.webhookPollInterval {
        services.append(
            WebhookDispatcher(
                store: store, policy: webhookPolicy, schedule: configuration.webhookRetrySchedule, pollInterval: interval,
                metrics: metrics, logger: logger, clock: clock))
    }
    if reloadKeyring {
        services.append(KeyringReloadService(holder: keyring, interval: configuration.keyringCheckInterval, metrics: metrics))
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "invitelink"),
        services: services,
        logger: logger
    )
}
