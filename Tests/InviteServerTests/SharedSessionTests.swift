import Foundation
import Hummingbird
import InviteServer
import InviteStore
import Testing

/// Instances given the same session secret (`serve --session-secret-file`) accept each other's
/// browser cookies, and a portal sign-out on one closes the session on all; an instance with a
/// secret of its own accepts neither. Each `withClient` below is one instance on the same store.
@Suite("Shared browser sessions")
struct SharedSessionTests {
    typealias W = World

    @Test("with one secret, a portal session opened on one instance works on another, and signing out on either ends it on both")
    func portalAcrossInstances() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await PortalTests.addAgent(world)
        let secret = try SessionSecret(Array(repeating: 0x5A, count: 32))
        try await world.withClient(sessionSecret: secret) { first in
            let (csrf, cookies) = try await PortalTests.signIn(first)
            try await world.withClient(sessionSecret: secret) { second in
                let there = try await second.send(.get, "/portal", cookie: cookies)
                #expect(there.status == .ok, "the other instance did not open the portal: \(there.status)")
                try await world.withClient { alone in
                    let elsewhere = try await alone.send(.get, "/portal", cookie: cookies)
                    #expect(elsewhere.status == .seeOther, "an instance with its own secret opened the portal: \(elsewhere.status)")
                }

                let signedOut = try await second.send(.post, "/portal/sign-out", form: [("csrf", csrf)], cookie: cookies)
                #expect(signedOut.status == .seeOther, "sign-out answered \(signedOut.status)")
                for (name, instance) in [("the instance that signed it", first), ("the one signed out on", second)] {
                    let after = try await instance.send(.get, "/portal", cookie: cookies)
                    #expect(
                        after.status == .seeOther && after.headers[.location]?.hasPrefix("/portal/sign-in") == true,
                        "the signed-out cookie still opens the portal on \(name): \(after.status)")
                }
            }
        }
    }

    @Test("with one secret, a customer signed in on one instance's acceptance page is signed in on another")
    func acceptanceAcrossInstances() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        _ = try await world.customer("cus_1")
        try await world.user(email: "admin@cus1.example", customer: "cus_1", password: "correct horse battery", mustChange: false)
        let secret = try SessionSecret(Array("0123456789abcdef0123456789abcdef".utf8))
        try await world.withClient(sessionSecret: secret) { first in
            let created = try await first.issue(#"{"provider_id":"prov_p","dap":true}"#, bearer: world.adminA)
            let token = token(ofURL: try #require(created["url"] as? String))
            let landing = try await first.send(.get, "/invitations/accept?token=\(token)")
            let csrf = try #require(landing.hiddenField("csrf"))
            let signIn = try await first.send(
                .post, "/invitations/sign-in",
                form: [
                    ("token", token), ("csrf", csrf), ("email", "admin@cus1.example"), ("password", "correct horse battery"),
                ], cookie: landing.cookieHeader)
            let session = try #require(signIn.cookie("invitelink_session"), "sign-in set no session: \(signIn.status)")
            let cookies = landing.cookieHeader + "; invitelink_session=\(session)"
            try await world.withClient(sessionSecret: secret) { second in
                let page = try await second.send(.get, "/invitations/accept?token=\(token)", cookie: cookies)
                #expect(page.text.contains("action=\"/invitations/accept\""), "the other instance does not see the sign-in")
            }
            try await world.withClient { alone in
                let page = try await alone.send(.get, "/invitations/accept?token=\(token)", cookie: cookies)
                #expect(!page.text.contains("action=\"/invitations/accept\""), "an instance with its own secret took the session")
            }
        }
    }

    @Test("a session secret shorter than 32 bytes is refused")
    func shortSecret() {
        #expect(throws: (any Error).self) { try SessionSecret(Array(repeating: 1, count: 31)) }
    }
}
