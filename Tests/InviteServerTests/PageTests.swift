import Foundation
import HTTPTypes
import Hummingbird
import InviteServer
import InviteService
import InviteStore
import InviteToken
import Testing

/// The customer's HTML pages: the landing page never changes state; the sign-in, password and
/// accept forms are CSRF-protected; repeated wrong passwords lock the account.
@Suite("Acceptance pages")
struct PageTests {
    typealias W = World

    func expectSecurityHeaders(_ reply: Reply, _ comment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let csp = reply.headers[.contentSecurityPolicy] ?? ""
        #expect(
            csp.contains("default-src 'none'") && csp.contains("frame-ancestors 'none'"),
            "\(comment): Content-Security-Policy is \"\(csp)\"", sourceLocation: sourceLocation)
        #expect(
            reply.headers[HTTPField.Name("Referrer-Policy")!] == "no-referrer", "\(comment): Referrer-Policy is not no-referrer",
            sourceLocation: sourceLocation)
        #expect(
            reply.headers[HTTPField.Name("X-Frame-Options")!] == "DENY", "\(comment): X-Frame-Options is not DENY",
            sourceLocation: sourceLocation)
    }

    @Test("GET /invitations/accept for a valid link changes nothing: no acceptance, no relationship, 0 uses, no audit entry")
    func landingPageHasNoSideEffects() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        _ = try await world.customer("cus_1")
        try await world.user(email: "admin@cus1.example", customer: "cus_1", password: "correct horse battery", mustChange: false)
        try await world.withClient { client in
            let created = try await client.issue(#"{"provider_id":"prov_p","dap":true,"max_uses":1}"#, bearer: world.adminA)
            let id = try #require(created["id"] as? String)
            let token = token(ofURL: try #require(created["url"] as? String))
            let audit = try await world.store.auditLog(limit: 1000).count
            for _ in 0..<3 {
                let page = try await client.send(.get, "/invitations/accept?token=\(token)")
                #expect(page.status == .ok, "the landing page answered \(page.status.code)")
                expectSecurityHeaders(page, "the landing page")
            }
            // A signed-in global admin opening the page (as a mail scanner with cookies would) changes nothing either.
            let landing = try await client.send(.get, "/invitations/accept?token=\(token)")
            let csrf = try #require(landing.hiddenField("csrf"))
            let signIn = try await client.send(
                .post, "/invitations/sign-in",
                form: [
                    ("token", token), ("csrf", csrf), ("email", "admin@cus1.example"), ("password", "correct horse battery"),
                ], cookie: landing.cookieHeader)
            let session = try #require(signIn.cookie("invitelink_session"), "sign-in set no session: \(signIn.status) \(signIn.text)")
            let signedIn = try await client.send(
                .get, "/invitations/accept?token=\(token)", cookie: landing.cookieHeader + "; invitelink_session=\(session)")
            #expect(signedIn.text.contains("action=\"/invitations/accept\""), "the signed-in page has no accept form")

            let record = try #require(try await world.store.invitation(id: id, resellerID: W.resellerA))
            #expect(record.invitation.useCount == 0, "GET used the invitation")
            #expect(record.acceptances.isEmpty, "GET recorded an acceptance")
            #expect(try await world.customerIDs(of: W.resellerA).isEmpty, "GET made a reseller relationship")
            #expect(try await world.customerIDs(of: W.provider).isEmpty, "GET made a provider relationship")
            #expect(try await !world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "cus_1"), "GET granted DAP")
            // The sign-in is audited (DESIGN.md §8); the GETs add nothing.
            let entries = try await world.store.auditLog(limit: 1000)
            #expect(entries.count == audit + 1, "GET of the page wrote to the audit log: \(entries.prefix(3).map(\.action))")
            #expect(entries.first?.action == "sign_in.succeeded" && entries.first?.actor.kind == "customer_user")
        }
    }

    @Test("the landing page of an expired or tampered link is an HTML page explaining the reason, with the security headers")
    func unusableLinkPages() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let created = try await client.issue(#"{"dap":true}"#, bearer: world.adminA)
            let token = token(ofURL: try #require(created["url"] as? String))

            let tamperedPage = try await client.send(.get, "/invitations/accept?token=\(tampered(token))")
            #expect(tamperedPage.status == .badRequest, "the tampered link's page answered \(tamperedPage.status.code)")
            #expect(tamperedPage.contentType.hasPrefix("text/html"), "the tampered link's page is \(tamperedPage.contentType)")
            #expect(
                tamperedPage.text.contains(Catalogs[.english].text(TokenError.Code.badSignature.explanationKey)),
                "the tampered link's page lacks the explanation:\n\(tamperedPage.text)")
            #expect(tamperedPage.text.contains("bad_signature"), "the tampered link's page does not show its reason code")
            expectSecurityHeaders(tamperedPage, "the tampered link's page")

            let emptyPage = try await client.send(.get, "/invitations/accept")
            #expect(
                emptyPage.status == .badRequest
                    && emptyPage.text.contains(Catalogs[.english].text(TokenError.Code.malformed.explanationKey)),
                "the page without a token is not a 400 explanation: \(emptyPage.status.code)")

            world.clock.set(W.t0 + 15 * W.day)
            let expiredPage = try await client.send(.get, "/invitations/accept?token=\(token)")
            #expect(expiredPage.status == .gone, "the expired link's page answered \(expiredPage.status.code)")
            #expect(expiredPage.contentType.hasPrefix("text/html"), "the expired link's page is \(expiredPage.contentType)")
            #expect(
                expiredPage.text.contains(Catalogs[.english].text(TokenError.Code.expired.explanationKey)),
                "the expired link's page lacks the explanation:\n\(expiredPage.text)")
            expectSecurityHeaders(expiredPage, "the expired link's page")
        }
    }

    @Test("browser flow: CSRF cookie, sign-in with the one-time password, password change, accept; a wrong CSRF is 403 and accepts nothing")
    func browserFlow() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        _ = try await world.customer("cus_1")
        let oneTime = "OneTimePassword123"
        try await world.user(email: "Admin@cus1.example", customer: "cus_1", password: oneTime, mustChange: true)
        try await world.withClient { client in
            let created = try await client.issue(#"{"provider_id":"prov_p","dap":true}"#, bearer: world.adminA)
            let id = try #require(created["id"] as? String)
            let token = token(ofURL: try #require(created["url"] as? String))
            let acceptPath = "/invitations/accept?token=\(token)"

            let landing = try await client.send(.get, acceptPath)
            let presession = try #require(landing.cookie("invitelink_presession"), "no pre-session cookie: \(landing.setCookies)")
            let csrf = try #require(landing.hiddenField("csrf"), "the form has no csrf field")
            #expect(csrf != presession, "the form's token is the cookie's value: a double-submit pair, not a bound token")
            #expect(landing.hiddenField("token") == token, "the form does not carry the token")
            #expect(landing.text.contains("action=\"/invitations/sign-in\""), "the page offers no sign-in form")

            // Sign in with the one-time password (the email in another case).
            let signIn = try await client.send(
                .post, "/invitations/sign-in",
                form: [
                    ("token", token), ("csrf", csrf), ("email", "admin@CUS1.example"), ("password", oneTime),
                ], cookie: landing.cookieHeader)
            #expect(signIn.status == .seeOther, "sign-in answered \(signIn.status.code), not 303: \(signIn.text)")
            #expect(signIn.headers[.location] == acceptPath, "sign-in redirects to \(signIn.headers[.location] ?? "nowhere")")
            let session = try #require(signIn.cookie("invitelink_session"), "sign-in set no session cookie: \(signIn.setCookies)")
            let sessionHeader = signIn.setCookies.first { $0.hasPrefix("invitelink_session=") }?.lowercased() ?? ""
            #expect(sessionHeader.contains("httponly"), "the session cookie is not HttpOnly: \(sessionHeader)")
            #expect(sessionHeader.contains("samesite=lax"), "the session cookie is not SameSite=Lax: \(sessionHeader)")
            var cookies = landing.cookieHeader + "; invitelink_session=\(session)"

            // First sign-in: the page asks for a new password, and the accept form is refused.
            // The sign-in form's token no longer works: the session's forms carry their own.
            let mustChange = try await client.send(.get, acceptPath, cookie: cookies)
            let sessionCSRF = try #require(mustChange.hiddenField("csrf"))
            #expect(sessionCSRF != csrf, "the session's forms carry the pre-session token")
            let stale = try await client.send(.post, "/invitations/accept", form: [("token", token), ("csrf", csrf)], cookie: cookies)
            #expect(stale.status == .forbidden, "the pre-session token worked in the session: \(stale.status.code)")
            #expect(mustChange.text.contains("action=\"/invitations/password\""), "the page does not ask for a password change")
            #expect(!mustChange.text.contains("action=\"/invitations/accept\""), "the page offers to accept before the password change")
            let early = try await client.send(
                .post, "/invitations/accept", form: [("token", token), ("csrf", sessionCSRF)], cookie: cookies)
            #expect(
                early.text.contains("action=\"/invitations/password\""), "accepting before the password change did not ask for it again")
            #expect(try await world.store.invitation(id: id)?.useCount == 0, "an acceptance went through before the password change")

            let short = try await client.send(
                .post, "/invitations/password",
                form: [
                    ("token", token), ("csrf", sessionCSRF), ("current_password", oneTime), ("new_password", "short"),
                ], cookie: cookies)
            #expect(
                short.status == .ok && short.text.contains("at least 12"), "a too-short new password was not refused: \(short.status.code)")
            let change = try await client.send(
                .post, "/invitations/password",
                form: [
                    ("token", token), ("csrf", sessionCSRF), ("current_password", oneTime), ("new_password", "a much longer passphrase"),
                ], cookie: cookies)
            #expect(change.status == .seeOther, "the password change answered \(change.status.code), not 303: \(change.text)")
            // The change raised the session version: this browser got a new session cookie, the
            // old one (a copy elsewhere) is signed out.
            let renewed = try #require(change.cookie("invitelink_session"), "the password change set no new session cookie")
            let oldSession = try await client.send(.get, acceptPath, cookie: cookies)
            #expect(oldSession.text.contains("action=\"/invitations/sign-in\""), "the session from before the change still works")
            cookies = landing.cookieHeader + "; invitelink_session=\(renewed)"
            #expect(
                try await world.store.user(email: "admin@cus1.example")?.mustChangePassword == false, "the password change was not stored")

            let ready = try await client.send(.get, acceptPath, cookie: cookies)
            #expect(ready.text.contains("action=\"/invitations/accept\""), "the page offers no accept form after the password change")
            let readyCSRF = try #require(ready.hiddenField("csrf"))

            // A forged form: a wrong token, none, the pre-session token, and a pair an attacker
            // got for itself (a pre-session cookie and its token) planted next to the session.
            let attacker = try await client.send(.get, acceptPath)
            let planted = try #require(attacker.hiddenField("csrf"))
            for (label, form, cookie) in [
                ("a wrong csrf field", [("token", token), ("csrf", String(repeating: "A", count: 43))], cookies),
                ("no csrf field", [("token", token)], cookies),
                ("the sign-in form's token", [("token", token), ("csrf", csrf)], cookies),
                (
                    "a planted cookie and token", [("token", token), ("csrf", planted)],
                    attacker.cookieHeader + "; invitelink_session=\(renewed)"
                ),
            ] as [(String, [(String, String)], String)] {
                let forged = try await client.send(.post, "/invitations/accept", form: form, cookie: cookie)
                #expect(forged.status == .forbidden, "accept with \(label) answered \(forged.status.code), not 403")
                #expect(try await world.store.invitation(id: id)?.useCount == 0, "accept with \(label) used the invitation")
                #expect(try await world.customerIDs(of: W.resellerA).isEmpty, "accept with \(label) made a relationship")
            }

            let accepted = try await client.send(
                .post, "/invitations/accept", form: [("token", token), ("csrf", readyCSRF)], cookie: cookies)
            #expect(accepted.status == .ok, "the accept form answered \(accepted.status.code): \(accepted.text)")
            #expect(accepted.text.contains(W.resellerAName), "the confirmation does not name the reseller")
            #expect(accepted.text.contains(W.providerName), "the confirmation does not name the provider")
            expectSecurityHeaders(accepted, "the confirmation page")
        }
        #expect(try await world.customerIDs(of: W.resellerA) == ["cus_1"], "the form's acceptance made no reseller relationship")
        #expect(try await world.customerIDs(of: W.provider) == ["cus_1"], "the form's acceptance made no provider relationship")
        #expect(
            try await world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "cus_1"), "the form's acceptance granted no DAP")
    }

    @Test("five wrong passwords lock the account: the sixth attempt answers 429 even with the right password")
    func lockout() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        _ = try await world.customer("cus_1")
        try await world.user(email: "admin@cus1.example", customer: "cus_1", password: "the right password", mustChange: false)
        try await world.withClient { client in
            let token = try await world.mint(record: true).token
            let landing = try await client.send(.get, "/invitations/accept?token=\(token)")
            let csrf = try #require(landing.hiddenField("csrf"))
            func signIn(_ password: String) async throws -> Reply {
                try await client.send(
                    .post, "/invitations/sign-in",
                    form: [
                        ("token", token), ("csrf", csrf), ("email", "admin@cus1.example"), ("password", password),
                    ], cookie: landing.cookieHeader)
            }
            for attempt in 1...5 {
                let reply = try await signIn("wrong password \(attempt)")
                #expect(
                    reply.status == .ok && reply.cookie("invitelink_session") == nil,
                    "wrong password \(attempt) answered \(reply.status.code) or signed in")
                #expect(reply.text.contains("not right"), "wrong password \(attempt) did not say so")
            }
            let locked = try await signIn("the right password")
            #expect(locked.status == .tooManyRequests, "the sixth attempt with the right password answered \(locked.status.code), not 429")
            #expect(locked.cookie("invitelink_session") == nil, "the locked account was signed in")

            world.clock.set(W.t0 + 16 * 60)
            let later = try await signIn("the right password")
            #expect(
                later.status == .seeOther && later.cookie("invitelink_session") != nil,
                "the account is still locked after 16 minutes: \(later.status.code)")
        }
    }
}
