import Foundation
import Hummingbird
import InviteServer
import InviteService
import InviteStore
import InviteToken
import NIOCore
import Testing

/// DESIGN.md §5: every route answers through the router, and every failure is a 4xx
/// `application/problem+json` with a stable `code`, never a 5xx, and creates nothing.
@Suite("Error responses")
struct ErrorResponseTests {
    typealias W = World

    /// Fails when a failing request left a relationship (or took one away) in any partner's list.
    func expectNoNewRelationships(
        _ world: World, since before: [String: [String]], _ comment: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async throws {
        let after = try await world.relationships()
        #expect(after == before, "\(comment): the relationships changed: \(before) → \(after)", sourceLocation: sourceLocation)
    }

    @Test("every API route answers a good request with 2xx through the router")
    func everyRouteAnswers() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        try await world.withClient { client in
            let created = try await client.issue(
                #"{"provider_id":"prov_p","dap":true,"max_uses":5,"customer_email":"admin@cus1.example"}"#, bearer: world.adminA)
            let id = try #require(created["id"] as? String, "POST /v1/invitations gave no id")
            let token = try #require(created["token"] as? String, "POST /v1/invitations gave no token")
            let checks: [(HTTPRequest.Method, String, String?, String?, HTTPResponse.Status)] = [
                (.get, "/v1/invitations", world.adminA, nil, .ok),
                (.get, "/v1/invitations?limit=1", world.salesA, nil, .ok),
                (.get, "/v1/invitations/\(id)", world.adminA, nil, .ok),
                (.post, "/v1/invitations/verify", world.providerAdmin, acceptBody(token), .ok),
                (.get, "/v1/providers", world.salesA, nil, .ok),
                (.post, "/v1/acceptances", customer, acceptBody(token), .created),
                (.get, "/v1/customers", world.providerAdmin, nil, .ok),
                (.delete, "/v1/customers/cus_1/relationship", world.adminA, nil, .ok),
                (.delete, "/v1/invitations/\(id)", world.adminA, nil, .ok),
                (.get, "/invitations/accept?token=\(token)", nil, nil, .gone), // revoked just above: an HTML 410
                (.get, "/healthz", nil, nil, .ok),
                (.get, "/readyz", nil, nil, .ok),
                (.get, "/metrics", nil, nil, .ok),
                (.get, "/.well-known/jwks.json", nil, nil, .ok),
                (.get, "/openapi.yaml", nil, nil, .ok),
                (.get, "/assets/app.css", nil, nil, .ok),
            ]
            for (method, uri, bearer, json, status) in checks {
                let reply = try await client.send(method, uri, bearer: bearer, json: json)
                #expect(reply.status == status, "\(method) \(uri) answered \(reply.status.code), wanted \(status.code): \(reply.text)")
            }
            let verify = try await client.send(.post, "/v1/invitations/verify", bearer: world.adminA, json: acceptBody(token))
            #expect(
                verify.json["valid"] as? Bool == false && verify.json["reason"] as? String == "revoked",
                "verify of a revoked link did not say revoked: \(verify.text)")
        }
    }

    @Test("401 unauthorized without a credential, with a malformed, unknown or revoked one, on every protected route")
    func unauthorized() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let revoked = try await world.credential(.partner(W.resellerA), .globalAdmin)
        try await world.store.revokeCredential(id: String(revoked.prefix { $0 != "." }), at: W.t0, actor: "test")
        let unknown = try BearerSecret.make().secret
        let token = try await world.mint(record: true).token
        let routes: [(HTTPRequest.Method, String, String?)] = [
            (.post, "/v1/invitations", "{}"), (.get, "/v1/invitations", nil), (.get, "/v1/invitations/x", nil),
            (.delete, "/v1/invitations/x", nil), (.post, "/v1/invitations/verify", acceptBody(token)),
            (.post, "/v1/acceptances", acceptBody(token)), (.get, "/v1/customers", nil),
            (.delete, "/v1/customers/x/relationship", nil), (.get, "/v1/providers", nil),
        ]
        let before = try await world.relationships()
        try await world.withClient { client in
            for (method, uri, json) in routes {
                for (label, header) in [
                    ("no credential", nil), ("a malformed credential", "short"),
                    ("an unknown credential", unknown), ("a revoked credential", revoked),
                ] as [(String, String?)] {
                    let reply = try await client.send(method, uri, bearer: header, json: json)
                    expectProblem(reply, .unauthorized, "unauthorized", "\(method) \(uri) with \(label)")
                }
                var basic = HTTPFields()
                basic[.authorization] = "Basic \(Data("a:b".utf8).base64EncodedString())"
                let reply = try await client.client.execute(uri: uri, method: method, headers: basic) {
                    Reply(status: $0.status, headers: $0.headers, text: String(buffer: $0.body))
                }
                expectProblem(reply, .unauthorized, "unauthorized", "\(method) \(uri) with Basic authorization")
            }
        }
        try await expectNoNewRelationships(world, since: before, "401 requests")
    }

    @Test("a credential revoked while the service runs gets 401 at once from issuance and acceptance, which remember principals")
    func revokedWhileRemembered() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        @Sendable func revoke(_ secret: String) async throws {
            try await world.store.revokeCredential(id: String(secret.prefix { $0 != "." }), at: W.t0, actor: "test")
        }
        try await world.withClient { client in
            // Each credential makes one call that succeeds, so the service remembers it.
            let issuers = [
                try await world.credential(.partner(W.resellerA), .globalAdmin),
                try await world.credential(.partner(W.resellerA), .adminAgent),
                try await world.credential(.partner(W.resellerA), .adminAgent),
            ]
            var tokens: [String] = []
            for issuer in issuers + issuers { tokens.append(token(ofURL: try await client.issue(bearer: issuer)["url"] as! String)) }
            let customers = [try await world.customer("cus_1"), try await world.customer("cus_2"), try await world.customer("cus_3")]
            for (customer, token) in zip(customers, tokens) {
                let reply = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token))
                #expect(reply.status == .created, "a first acceptance: \(reply.text)")
            }
            for secret in issuers + customers { try await revoke(secret) }
            let before = try await world.relationships()
            let calls: [(String, String, String)] = [
                // The write refuses the credential.
                ("issuance", issuers[0], "{}"),
                ("acceptance of a new link", customers[0], acceptBody(tokens[3])),
                // A repeat writes nothing, and is refused all the same.
                ("a repeated acceptance", customers[1], acceptBody(tokens[1])),
                // Refused before the request's own fault (a 400) is answered.
                ("issuance with a bad body", issuers[1], #"{"dap":"yes"}"#),
                ("acceptance of a tampered link", customers[2], acceptBody(tampered(tokens[2]))),
            ]
            for (label, bearer, json) in calls {
                let uri = label.hasPrefix("issuance") ? "/v1/invitations" : "/v1/acceptances"
                expectProblem(try await client.send(.post, uri, bearer: bearer, json: json), .unauthorized, "unauthorized", label)
                // And again, now that the service has forgotten it.
                expectProblem(
                    try await client.send(.post, uri, bearer: bearer, json: json), .unauthorized, "unauthorized", "\(label), again")
            }
            // Many at once, on one remembered credential: every one refused, none recorded.
            let invitationsBefore = try await world.store.invitations(resellerID: W.resellerA, page: PageRequest(limit: 100)).items.count
            let statuses = try await withThrowingTaskGroup(of: HTTPResponse.Status.self) { group in
                for index in 0..<24 {
                    group.addTask {
                        try await client.send(.post, "/v1/invitations", bearer: issuers[2], json: index.isMultiple(of: 2) ? "{}" : "[]")
                            .status
                    }
                }
                return try await group.reduce(into: [HTTPResponse.Status]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == .unauthorized }, "parallel calls by a revoked credential: \(statuses.map(\.code))")
            #expect(
                try await world.store.invitations(resellerID: W.resellerA, page: PageRequest(limit: 100)).items.count == invitationsBefore,
                "an invitation recorded for a revoked credential")
            try await expectNoNewRelationships(world, since: before, "calls by revoked credentials")
        }
    }

    @Test("403 forbidden for a sales agent acting, a customer user accepting, customers on partner routes and partners accepting")
    func forbidden() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let user = try await world.customer("cus_1", role: .user)
        let customerAdmin = try await world.customer("cus_2")
        let issued = try await world.mint(provider: W.provider, dap: true, record: true)
        let token = issued.token
        let before = try await world.relationships()
        try await world.withClient { client in
            let cases: [(String, HTTPRequest.Method, String, String, String?)] = [
                ("a sales agent issuing", .post, "/v1/invitations", world.salesA, "{}"),
                ("a sales agent revoking", .delete, "/v1/invitations/\(issued.invitation.id)", world.salesA, nil),
                ("a sales agent removing a relationship", .delete, "/v1/customers/cus_2/relationship", world.salesA, nil),
                ("a provider issuing", .post, "/v1/invitations", world.providerAdmin, "{}"),
                ("a provider listing invitations", .get, "/v1/invitations", world.providerAdmin, nil),
                ("a provider listing providers", .get, "/v1/providers", world.providerAdmin, nil),
                ("a customer user accepting", .post, "/v1/acceptances", user, acceptBody(token)),
                ("a partner accepting", .post, "/v1/acceptances", world.adminA, acceptBody(token)),
                ("a customer issuing", .post, "/v1/invitations", customerAdmin, "{}"),
                ("a customer listing invitations", .get, "/v1/invitations", customerAdmin, nil),
                ("a customer reading an invitation", .get, "/v1/invitations/\(issued.invitation.id)", customerAdmin, nil),
                ("a customer revoking", .delete, "/v1/invitations/\(issued.invitation.id)", customerAdmin, nil),
                ("a customer verifying", .post, "/v1/invitations/verify", customerAdmin, acceptBody(token)),
                ("a customer listing customers", .get, "/v1/customers", customerAdmin, nil),
                ("a customer removing a relationship", .delete, "/v1/customers/cus_2/relationship", customerAdmin, nil),
                ("a customer listing providers", .get, "/v1/providers", customerAdmin, nil),
            ]
            for (label, method, uri, bearer, json) in cases {
                let reply = try await client.send(method, uri, bearer: bearer, json: json)
                expectProblem(reply, .forbidden, "forbidden", label)
                try await expectNoNewRelationships(world, since: before, label)
            }
        }
        #expect(try await world.store.invitation(id: issued.invitation.id)?.revokedAt == nil, "a forbidden DELETE revoked the invitation")
        #expect(try await world.store.invitation(id: issued.invitation.id)?.useCount == 0, "a forbidden acceptance used the invitation")
    }

    @Test("404 not_found for unknown invitation, customer and route")
    func notFound() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let cases: [(HTTPRequest.Method, String, String?)] = [
                (.get, "/v1/invitations/AAAAAAAAAAAAAAAAAAAAAA", world.adminA),
                (.delete, "/v1/invitations/AAAAAAAAAAAAAAAAAAAAAA", world.adminA),
                (.delete, "/v1/customers/nobody/relationship", world.adminA),
                (.get, "/v1/nothing-here", world.adminA),
                (.get, "/nothing-here", nil),
            ]
            for (method, uri, bearer) in cases {
                let reply = try await client.send(method, uri, bearer: bearer)
                expectProblem(reply, .notFound, "not_found", "\(method) \(uri)")
            }
        }
    }

    @Test("405 method_not_allowed with an Allow header for a routed path and a method it does not take")
    func methodNotAllowed() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let cases: [(HTTPRequest.Method, String, String)] = [
                (.put, "/v1/invitations", "GET, POST"),
                (.patch, "/v1/invitations/AAAAAAAAAAAAAAAAAAAAAA", "DELETE, GET"),
                (.delete, "/v1/providers", "GET"),
                (.get, "/v1/customers/cus_1/relationship", "DELETE"),
                (.post, "/healthz", "GET"),
                (.get, "/v1/invitations/verify", "POST"),
            ]
            for (method, uri, allow) in cases {
                let reply = try await client.send(method, uri, bearer: world.adminA)
                expectProblem(reply, .methodNotAllowed, "method_not_allowed", "\(method) \(uri)")
                #expect(
                    reply.headers[.allow] == allow, "\(method) \(uri): Allow is \(reply.headers[.allow] ?? "missing"), expected \(allow)")
            }
        }
    }

    @Test("422 link_too_long when the public URL would make a link of 600 characters or more; nothing is recorded")
    func linkTooLong() async throws {
        var world = try await World.make()
        defer { world.cleanUp() }
        let admin = world.adminA
        try await world.withClient { client in
            let url = try #require(try await client.issue(#"{"provider_id":"prov_p","dap":true}"#, bearer: admin)["url"] as? String)
            #expect(url.utf8.count < 600, "the default link is \(url.utf8.count) characters")
        }
        world.configuration.publicURL = "https://" + String(repeating: "a", count: 200) + ".example/" + String(repeating: "b", count: 100)
        try await world.withClient { client in
            let before = try await client.send(.get, "/v1/invitations", bearer: admin).json["items"] as? [Any]
            let reply = try await client.send(.post, "/v1/invitations", bearer: admin, json: #"{"provider_id":"prov_p","dap":true}"#)
            expectProblem(reply, .unprocessableContent, "link_too_long", "a 300-character public URL")
            let after = try await client.send(.get, "/v1/invitations", bearer: admin).json["items"] as? [Any]
            #expect(before?.count == 1 && after?.count == 1, "a refused link was recorded: \(before?.count ?? -1) → \(after?.count ?? -1)")
        }
    }

    @Test("400 invalid_request for malformed JSON, wrong types, unknown members, non-objects and bad values")
    func invalidRequest() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        let before = try await world.relationships()
        try await world.withClient { client in
            let issueBodies = [
                "{", "", "not json", #"{"dap": "yes"}"#, #"{"dap": 1}"#, #"{"provider_id": 5}"#, #"{"max_uses": "1"}"#,
                #"{"max_uses": 1.5}"#, #"{"max_uses": 0}"#, #"{"expires_in": 10}"#, #"{"expires_in": 99999999}"#,
                #"{"customer_email": "not an email"}"#, #"{"reseller_id": "res_b"}"#, #"{"dap": true, "dap": false}"#,
                "[]", #"[{"dap": true}]"#, "\"text\"", "null", "\u{FEFF}{}",
            ]
            for body in issueBodies {
                let reply = try await client.send(.post, "/v1/invitations", bearer: world.adminA, json: body)
                expectProblem(reply, .badRequest, "invalid_request", "POST /v1/invitations with \(body.debugDescription)")
            }
            for body in ["{}", #"{"token": 5}"#, #"{"token": null}"#, "[]", #"["token"]"#, #"{"token": "x", "extra": 1}"#, "{"] {
                let accept = try await client.send(.post, "/v1/acceptances", bearer: customer, json: body)
                expectProblem(accept, .badRequest, "invalid_request", "POST /v1/acceptances with \(body.debugDescription)")
                let verify = try await client.send(.post, "/v1/invitations/verify", bearer: world.adminA, json: body)
                expectProblem(verify, .badRequest, "invalid_request", "POST /v1/invitations/verify with \(body.debugDescription)")
                try await expectNoNewRelationships(world, since: before, "acceptance with \(body.debugDescription)")
            }
            for query in ["limit=0", "limit=201", "limit=abc"] {
                let reply = try await client.send(.get, "/v1/customers?\(query)", bearer: world.adminA)
                expectProblem(reply, .badRequest, "invalid_request", "GET /v1/customers?\(query)")
            }
            let cursor = try await client.send(.get, "/v1/invitations?cursor=tampered", bearer: world.adminA)
            #expect(
                cursor.status == .badRequest && cursor.contentType.hasPrefix("application/problem+json"),
                "a tampered cursor did not answer a 400 problem: \(cursor.status) \(cursor.text)")
        }
        #expect(
            try await world.store.invitations(resellerID: W.resellerA, page: PageRequest()).items.isEmpty,
            "a refused POST /v1/invitations recorded an invitation")
    }

    @Test("415 unsupported_media_type for a body that is not application/json")
    func unsupportedMediaType() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        let token = try await world.mint(record: true).token
        let before = try await world.relationships()
        try await world.withClient { client in
            for contentType in ["text/plain", "application/x-www-form-urlencoded", "application/xml", "multipart/form-data; boundary=x"] {
                let issue = try await client.send(
                    .post, "/v1/invitations", bearer: world.adminA, contentType: contentType, body: ByteBuffer(string: "{}"))
                expectProblem(issue, .unsupportedMediaType, "unsupported_media_type", "POST /v1/invitations as \(contentType)")
                let accept = try await client.send(
                    .post, "/v1/acceptances", bearer: customer, contentType: contentType, body: ByteBuffer(string: acceptBody(token)))
                expectProblem(accept, .unsupportedMediaType, "unsupported_media_type", "POST /v1/acceptances as \(contentType)")
                try await expectNoNewRelationships(world, since: before, "acceptance as \(contentType)")
            }
            let none = try await client.send(.post, "/v1/acceptances", bearer: customer, body: ByteBuffer(string: acceptBody(token)))
            expectProblem(none, .unsupportedMediaType, "unsupported_media_type", "POST /v1/acceptances without a Content-Type")
        }
        try await expectNoNewRelationships(world, since: before, "415 requests")
    }

    @Test("413 payload_too_large for a 70 KiB body")
    func payloadTooLarge() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        let token = try await world.mint(record: true).token
        let before = try await world.relationships()
        // Valid JSON that is only too long: the size is the one reason to refuse it.
        let padding = String(repeating: " ", count: 70 * 1024)
        try await world.withClient { client in
            let issue = try await client.send(.post, "/v1/invitations", bearer: world.adminA, json: "{" + padding + "}")
            expectProblem(issue, .contentTooLarge, "payload_too_large", "POST /v1/invitations with 70 KiB")
            let accept = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token) + padding)
            expectProblem(accept, .contentTooLarge, "payload_too_large", "POST /v1/acceptances with 70 KiB")
            let verify = try await client.send(.post, "/v1/invitations/verify", bearer: world.adminA, json: acceptBody(token) + padding)
            expectProblem(verify, .contentTooLarge, "payload_too_large", "POST /v1/invitations/verify with 70 KiB")
            let form = try await client.send(
                .post, "/invitations/sign-in", contentType: "application/x-www-form-urlencoded",
                body: ByteBuffer(string: "token=\(token)&csrf=x" + String(repeating: "&a=b", count: 70 * 256)))
            #expect(form.status == .contentTooLarge, "a 70 KiB sign-in form answered \(form.status.code), not 413")
        }
        try await expectNoNewRelationships(world, since: before, "413 requests")
    }

    enum TokenFailure: String, CaseIterable, Sendable, CustomTestStringConvertible {
        case malformed, badSignature = "bad_signature", expired, revoked, usedUp = "used_up", unknownInvitation = "unknown_invitation"

        var testDescription: String { rawValue }

        var status: HTTPResponse.Status {
            switch self {
            case .malformed, .badSignature: .badRequest
            case .expired, .revoked: .gone
            case .usedUp: .conflict
            case .unknownInvitation: .notFound
            }
        }
    }

    @Test(
        "a refused token on POST /v1/acceptances answers its reason code, 4xx problem+json, and creates nothing",
        arguments: TokenFailure.allCases)
    func tokenFailure(_ failure: TokenFailure) async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let customer = try await world.customer("cus_1")
        try await world.withClient { client in
            let created = try await client.issue(#"{"provider_id":"prov_p","dap":true,"max_uses":1}"#, bearer: world.adminA)
            let id = try #require(created["id"] as? String)
            let good = token(ofURL: try #require(created["url"] as? String))
            let token: String
            switch failure {
            case .malformed:
                token = "not.a.token"
            case .badSignature:
                token = tampered(good)
            case .expired:
                world.clock.set(W.t0 + 15 * W.day)
                token = good
            case .revoked:
                let revoke = try await client.send(.delete, "/v1/invitations/\(id)", bearer: world.adminA)
                #expect(revoke.status == .ok && revoke.json["status"] as? String == "revoked", "DELETE did not revoke: \(revoke.text)")
                token = good
            case .usedUp:
                let first = try await client.send(
                    .post, "/v1/acceptances", bearer: try await world.customer("cus_first"), json: acceptBody(good))
                #expect(first.status == .created, "the one allowed acceptance failed: \(first.text)")
                token = good
            case .unknownInvitation:
                token = try await world.mint(provider: W.provider, dap: true, record: false).token
            }
            let before = try await world.relationships()
            let reply = try await client.send(.post, "/v1/acceptances", bearer: customer, json: acceptBody(token))
            expectProblem(reply, failure.status, failure.rawValue, "acceptance of a \(failure.rawValue) token")
            try await expectNoNewRelationships(world, since: before, "acceptance of a \(failure.rawValue) token")
            #expect(
                try await !world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "cus_1"),
                "a refused \(failure.rawValue) acceptance granted DAP")
            #expect(
                try await world.store.invitation(id: id, resellerID: W.resellerA)?.acceptances.contains { $0.customerID == "cus_1" }
                    == false,
                "a refused \(failure.rawValue) acceptance was recorded")
        }
    }
}
