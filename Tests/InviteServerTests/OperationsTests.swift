import Foundation
import Hummingbird
import InviteServer
import InviteStore
import InviteToken
import Testing

/// /healthz, /readyz, /metrics and /.well-known/jwks.json.
@Suite("Operations endpoints")
struct OperationsTests {
    typealias W = World

    @Test("/healthz answers 200 and /readyz 200 with a primary key")
    func healthAndReadiness() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok && health.json["status"] as? String == "ok", "/healthz: \(health.status.code) \(health.text)")
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .ok && ready.json["status"] as? String == "ready", "/readyz: \(ready.status.code) \(ready.text)")
        }
    }

    @Test("/readyz answers 503 problem+json with an empty keyring; /healthz still 200")
    func notReadyWithoutKeys() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient(keyring: KeyringHolder(keyring: .empty)) { client in
            let ready = try await client.send(.get, "/readyz")
            #expect(ready.status == .serviceUnavailable, "/readyz with no keys answered \(ready.status.code)")
            #expect(
                ready.contentType.hasPrefix("application/problem+json") && ready.json["code"] as? String == "unavailable",
                "/readyz with no keys is not an unavailable problem: \(ready.text)")
            let health = try await client.send(.get, "/healthz")
            #expect(health.status == .ok, "/healthz with no keys answered \(health.status.code)")
        }
    }

    @Test("/metrics counts requests, acceptances and verification failures by reason")
    func metrics() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        try await world.withClient { client in
            let created = try await client.issue("{}", bearer: world.adminA)
            let token = token(ofURL: try #require(created["url"] as? String))
            let accept = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token))
            #expect(accept.status == .created, "the acceptance failed: \(accept.text)")
            let repeated = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token))
            #expect(repeated.status == .created, "the repeated acceptance failed: \(repeated.text)")

            world.clock.set(W.t0 + 15 * W.day)
            let expired = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token))
            expectProblem(expired, .gone, "expired", "the expired acceptance")

            let metrics = try await client.send(.get, "/metrics")
            #expect(
                metrics.status == .ok && metrics.contentType.hasPrefix("text/plain"),
                "/metrics answered \(metrics.status.code) \(metrics.contentType)")
            let lines = metrics.text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
            #expect(
                lines.contains {
                    $0.hasPrefix("invitelink_http_requests_total{") && $0.contains("route=\"/v1/acceptances\"")
                        && $0.contains("status=\"201\"")
                },
                "no invitelink_http_requests_total for POST /v1/acceptances 201:\n\(metrics.text)")
            #expect(
                lines.contains { $0.hasPrefix("invitelink_http_requests_total{") && $0.contains("status=\"410\"") },
                "no invitelink_http_requests_total for the 410:\n\(metrics.text)")
            #expect(!lines.contains { $0.contains(token) }, "a token leaked into the metrics")
            #expect(
                lines.contains { $0.hasPrefix(#"invitelink_http_request_duration_seconds_bucket{le="0.001"}"#) },
                "no latency histogram invitelink_http_request_duration_seconds:\n\(metrics.text)")
            // One acceptance and one repeat of it: the counter's help says "first acceptances only".
            let acceptances = lines.first { $0.hasPrefix("invitelink_acceptances_total ") }
            #expect(
                acceptances == "invitelink_acceptances_total 1",
                "after one acceptance and one repeat, \(acceptances ?? "no invitelink_acceptances_total") (want 1: first acceptances only)")
            let expiredFailures = lines.first { $0.hasPrefix(#"invitelink_verification_failures_total{reason="expired"}"#) }
            #expect(
                expiredFailures == #"invitelink_verification_failures_total{reason="expired"} 1"#,
                "after one expired acceptance: \(expiredFailures ?? "no invitelink_verification_failures_total{reason=\"expired\"}")")
        }
    }

    @Test("/.well-known/jwks.json publishes the Ed25519 key")
    func jwks() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let reply = try await client.send(.get, "/.well-known/jwks.json")
            #expect(reply.status == .ok, "/.well-known/jwks.json answered \(reply.status.code)")
            #expect(reply.contentType.contains("json"), "the JWK Set is served as \(reply.contentType)")
            let keys = try #require(reply.json["keys"] as? [[String: Any]], "no keys member: \(reply.text)")
            #expect(keys.count == 1, "the JWK Set has \(keys.count) keys, not 1")
            let key = try #require(keys.first)
            #expect(key["kty"] as? String == "OKP" && key["crv"] as? String == "Ed25519", "not an Ed25519 OKP key: \(key)")
            #expect(key["kid"] as? String == "k1" && key["alg"] as? String == "EdDSA", "wrong kid or alg: \(key)")
            guard case .ed25519(let privateKey)? = world.keyring.material(for: "k1") else {
                Issue.record("the fixture key is not Ed25519")
                return
            }
            #expect(key["x"] as? String == Base64URL.encode(privateKey.publicKey.rawRepresentation), "x is not the public key")
            #expect(key["d"] == nil, "the private key was published")
        }
    }
}
