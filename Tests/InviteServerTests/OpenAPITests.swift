import Foundation
import Hummingbird
import InviteServer
import InviteStore
import InviteToken
import Logging
import Testing

/// Resources/openapi.yaml and the router describe the same (method, path) pairs.
@Suite("OpenAPI document")
struct OpenAPITests {
    struct Route: Hashable, Comparable, CustomStringConvertible {
        var method: String
        var path: String
        var description: String { "\(method) \(path)" }
        static func < (a: Route, b: Route) -> Bool { (a.path, a.method) < (b.path, b.method) }
    }

    /// Routed on purpose but not part of the API document: static files under /assets/ (the
    /// pages' stylesheet and scripts). Add a route here only by a deliberate decision.
    /// Static assets, and the reseller portal: server-rendered browser pages (not an API for
    /// other teams), tested in a real browser by Tests/browser instead.
    static func isUndocumentedByDesign(_ route: Route) -> Bool {
        (route.method == "GET" && route.path.hasPrefix("/assets/")) || route.path == "/portal" || route.path.hasPrefix("/portal/")
    }

    /// Every (method, path) this suite exercises; kept by hand as a second check next to the
    /// router enumeration below.
    static let exercised: Set<Route> = [
        Route(method: "POST", path: "/v1/invitations"), Route(method: "GET", path: "/v1/invitations"),
        Route(method: "POST", path: "/v1/invitations/verify"),
        Route(method: "GET", path: "/v1/invitations/{id}"), Route(method: "DELETE", path: "/v1/invitations/{id}"),
        Route(method: "GET", path: "/v1/invitations/{id}/acceptances"),
        Route(method: "POST", path: "/v1/acceptances"), Route(method: "GET", path: "/v1/customers"),
        Route(method: "DELETE", path: "/v1/customers/{id}/relationship"), Route(method: "GET", path: "/v1/providers"),
        Route(method: "GET", path: "/invitations/accept"), Route(method: "POST", path: "/invitations/accept"),
        Route(method: "POST", path: "/invitations/sign-in"), Route(method: "POST", path: "/invitations/password"),
        Route(method: "GET", path: "/.well-known/jwks.json"), Route(method: "GET", path: "/healthz"),
        Route(method: "GET", path: "/readyz"), Route(method: "GET", path: "/metrics"), Route(method: "GET", path: "/openapi.yaml"),
        // DESIGN.md §7 (LifecycleTests).
        Route(method: "GET", path: "/v1/partners"), Route(method: "DELETE", path: "/v1/partners/{id}/relationship"),
        Route(method: "DELETE", path: "/v1/partners/{id}/delegated-admin"), Route(method: "POST", path: "/v1/customers"),
        Route(method: "DELETE", path: "/v1/customers/{id}/delegated-admin"),
        Route(method: "GET", path: "/account"), Route(method: "POST", path: "/account/sign-in"),
        Route(method: "POST", path: "/account/sign-out"), Route(method: "POST", path: "/account/password"),
        Route(method: "GET", path: "/account/partners/{id}/remove"), Route(method: "POST", path: "/account/partners/{id}/remove"),
        Route(method: "GET", path: "/setup"), Route(method: "POST", path: "/setup"),
        // DESIGN.md §8 (AuditTests).
        Route(method: "GET", path: "/v1/audit"),
        // DESIGN.md §9 (WebhookTests).
        Route(method: "POST", path: "/v1/webhooks"), Route(method: "GET", path: "/v1/webhooks"),
        Route(method: "DELETE", path: "/v1/webhooks/{id}"), Route(method: "POST", path: "/v1/webhooks/{id}/rotate-secret"),
        Route(method: "GET", path: "/v1/webhooks/{id}/deliveries"),
        // DESIGN.md §10 (LanguageTests).
        Route(method: "GET", path: "/language"),
    ]

    /// The `paths:` of an OpenAPI document: top-level path keys (two spaces) and their method
    /// keys (four spaces). Enough for this file's block style; `parameters:` and the like are skipped.
    static func documentedRoutes(_ yaml: String) -> Set<Route> {
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options", "trace"]
        var routes = Set<Route>()
        var inPaths = false
        var path: String?
        for line in yaml.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !line.hasPrefix(" "), !line.isEmpty {
                inPaths = line.hasPrefix("paths:")
                path = nil
                continue
            }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if let path, line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":") {
                let key = line.trimmingCharacters(in: .whitespaces).dropLast().lowercased()
                if methods.contains(key) { routes.insert(Route(method: key.uppercased(), path: path)) }
            }
        }
        return routes
    }

    /// The router's (method, path) pairs. Hummingbird keeps them in internal storage
    /// (`RouterResponder.trie.values[i].methods/path`), read here by reflection; nil when that
    /// shape changed (then the test fails and asks for an update, rather than passing).
    static func routedRoutes(_ responder: Any) -> Set<Route>? {
        guard let trie = Mirror(reflecting: responder).descendant("trie"),
            let values = Mirror(reflecting: trie).descendant("values")
        else { return nil }
        var routes = Set<Route>()
        for slot in Mirror(reflecting: values).children {
            guard let endpoint = Mirror(reflecting: slot.value).children.first?.value else { continue } // Optional.some
            let mirror = Mirror(reflecting: endpoint)
            guard let path = mirror.descendant("path"), let methods = mirror.descendant("methods") else { return nil }
            for entry in Mirror(reflecting: methods).children {
                guard let method = Mirror(reflecting: entry.value).children.first?.value as? HTTPRequest.Method else { return nil }
                routes.insert(Route(method: method.rawValue, path: String(describing: path)))
            }
        }
        return routes.isEmpty ? nil : routes
    }

    @Test("openapi.yaml documents exactly the router's routes, and each documented route is routed (not 404)")
    func documentMatchesRouter() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let app = try buildApplication(
            configuration: world.configuration, store: world.store, keyring: world.holder, reloadKeyring: false,
            logger: Logger(label: "test"), clock: { World.t0 })
        let routed = Self.routedRoutes(try await app.responder)
        let yaml = try await world.withClient { client in
            let reply = try await client.send(.get, "/openapi.yaml")
            #expect(
                reply.status == .ok && reply.contentType.hasPrefix("application/yaml"),
                "GET /openapi.yaml answered \(reply.status.code) \(reply.contentType)")
            return reply.text
        }
        let documented = Self.documentedRoutes(yaml)
        #expect(documented.count >= 18, "the parse found only \(documented.sorted())")

        if let routed {
            let undocumented = routed.subtracting(documented).filter { !Self.isUndocumentedByDesign($0) }
            #expect(undocumented.isEmpty, "routed but not in openapi.yaml: \(undocumented.sorted())")
            let unrouted = documented.subtracting(routed)
            #expect(unrouted.isEmpty, "in openapi.yaml but not routed: \(unrouted.sorted())")
        } else {
            Issue.record("could not enumerate the router's routes: Hummingbird's internal layout changed; update routedRoutes(_:)")
        }
        #expect(
            documented == Self.exercised,
            "documented ≠ exercised: only documented \((documented.subtracting(Self.exercised)).sorted()), only exercised \((Self.exercised.subtracting(documented)).sorted())"
        )

        // Without credentials, a routed path answers 401/403/415/200/400…, never the router's 404.
        try await world.withClient { client in
            for route in documented.sorted() {
                let uri = route.path.replacingOccurrences(of: "{id}", with: "x")
                let reply = try await client.send(HTTPRequest.Method(route.method)!, uri)
                #expect(reply.status != .notFound, "\(route) is documented but the router answers 404")
            }
            let unknown = try await client.send(.get, "/v1/undocumented")
            #expect(unknown.status == .notFound, "the 404 probe itself is broken: an unknown path answered \(unknown.status.code)")
        }
    }
}
