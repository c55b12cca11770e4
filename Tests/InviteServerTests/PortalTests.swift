import Foundation
import Hummingbird
import InviteServer
import InviteService
import InviteStore
import Testing

/// Partner portal behaviour below what the browser test sees: the sign-in cookie's revocation
/// and the draft email's post/redirect/get.
@Suite("Portal")
struct PortalTests {
    typealias W = World
    static let email = "agent@adatum.example", password = "correct horse battery staple"

    /// Adds reseller A's admin agent as a portal user.
    static func addAgent(_ world: World) async throws {
        try await world.store.addUser(
            User(
                id: "usr_agent", tenant: .partner(W.resellerA), email: email, role: .adminAgent,
                passwordHash: try PasswordHash.make(password: password), mustChangePassword: false, createdAt: W.t0),
            actor: "test"
        )
    }

    static let bossEmail = "boss@adatum.example", bossPassword = "boss passphrase 2026"

    /// Adds reseller A's global admin (`usr_boss`) as a portal user.
    static func addGlobalAdmin(_ world: World) async throws {
        try await world.store.addUser(
            User(
                id: "usr_boss", tenant: .partner(W.resellerA), email: bossEmail, role: .globalAdmin,
                passwordHash: try PasswordHash.make(password: bossPassword), mustChangePassword: false, createdAt: W.t0),
            actor: "test")
    }

    /// Signs a portal user in (the agent unless told otherwise); returns the CSRF token of its
    /// session's forms and the Cookie header carrying its cookies.
    static func signIn(_ client: Client, email: String = email, password: String = password) async throws -> (
        csrf: String, cookies: String
    ) {
        let signInPage = try await client.send(.get, "/portal/sign-in")
        let presession = try #require(signInPage.hiddenField("csrf"), "the sign-in page has no CSRF field")
        let signedIn = try await client.send(
            .post, "/portal/sign-in", form: [("email", email), ("password", password), ("csrf", presession)],
            cookie: signInPage.cookieHeader)
        #expect(signedIn.status == .seeOther, "signing in answered \(signedIn.status): \(signedIn.text.prefix(200))")
        let session = try #require(signedIn.cookie("invitelink_portal"), "signing in set no portal cookie")
        let cookies = signInPage.cookieHeader + "; invitelink_portal=\(session)"
        // The session's forms carry a token bound to the session, not the sign-in form's.
        let home = try await client.send(.get, "/portal", cookie: cookies)
        let csrf = try #require(home.hiddenField("csrf"), "the portal page has no CSRF field")
        #expect(csrf != presession, "the session's CSRF token is the pre-session one")
        return (csrf, cookies)
    }

    @Test("a password change ends the user's other sessions; the browser that changed it stays signed in")
    func passwordChangeEndsOtherSessions() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await Self.addAgent(world)
        try await world.withClient { client in
            let (csrf, mine) = try await Self.signIn(client)
            let (_, other) = try await Self.signIn(client)
            #expect(try await client.send(.get, "/portal", cookie: other).status == .ok)
            let changed = try await client.send(
                .post, "/portal/password",
                form: [("csrf", csrf), ("current_password", Self.password), ("new_password", "another long passphrase")], cookie: mine)
            #expect(changed.status == .seeOther, "the change answered \(changed.status): \(changed.text.prefix(300))")
            let renewed = try #require(changed.cookie("invitelink_portal"), "no new session cookie")
            let otherAfter = try await client.send(.get, "/portal", cookie: other)
            #expect(otherAfter.status == .seeOther, "the other session still opens the portal: \(otherAfter.status)")
            let renewedCookies =
                (mine.components(separatedBy: "; ").filter { !$0.hasPrefix("invitelink_portal=") }
                + ["invitelink_portal=\(renewed)"]).joined(separator: "; ")
            let mineAfter = try await client.send(.get, "/portal", cookie: renewedCookies)
            #expect(mineAfter.status == .ok, "the changing browser was signed out: \(mineAfter.status)")
        }
    }

    @Test("after sign-out, a copy of the portal cookie no longer opens the portal")
    func signOutRevokesTheCookie() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await Self.addAgent(world)
        try await world.withClient { client in
            let (csrf, cookies) = try await Self.signIn(client)
            let before = try await client.send(.get, "/portal", cookie: cookies)
            #expect(before.status == .ok, "the portal did not open with a fresh session: \(before.status)")

            let signedOut = try await client.send(.post, "/portal/sign-out", form: [("csrf", csrf)], cookie: cookies)
            #expect(
                signedOut.status == .seeOther && signedOut.headers[.location] == "/portal/sign-in", "sign-out answered \(signedOut.status)")

            let after = try await client.send(.get, "/portal", cookie: cookies)
            #expect(
                after.status == .seeOther && after.headers[.location]?.hasPrefix("/portal/sign-in") == true,
                "the signed-out cookie still opens the portal: \(after.status)")
        }
    }

    @Test("requesting a link redirects to its draft; reloading the draft shows the same link and issues nothing")
    func draftIsPostRedirectGet() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await Self.addAgent(world)
        let admin = world.adminA
        try await world.withClient { client in
            let (csrf, cookies) = try await Self.signIn(client)
            let issued = try await client.send(
                .post, "/portal/invitations", form: [("provider_id", W.provider), ("dap", "on"), ("customer_email", ""), ("csrf", csrf)],
                cookie: cookies)
            #expect(issued.status == .seeOther, "requesting a link answered \(issued.status): \(issued.text.prefix(200))")
            let location = try #require(issued.headers[.location], "no redirect to the draft")
            // The email's language (not stored) travels in the query: the portal's own, English here.
            #expect(location.hasPrefix("/portal/invitations/") && location.hasSuffix("/draft?lang=en"), "redirected to \(location)")

            func link(in page: Reply) -> String? {
                guard let start = page.text.range(of: "http://127.0.0.1:8080/invitations/accept?token=") else { return nil }
                return String(page.text[start.lowerBound...].prefix { !"\"<\n& ".contains($0) })
            }
            let first = try await client.send(.get, location, cookie: cookies)
            let second = try await client.send(.get, location, cookie: cookies)
            #expect(first.status == .ok && second.status == .ok, "the draft answered \(first.status), then \(second.status)")
            let url = try #require(link(in: first), "the draft holds no link")
            #expect(link(in: second) == url, "reloading the draft showed another link")

            let token = String(url.split(separator: "=", maxSplits: 1)[1])
            let check = try await client.send(.post, "/v1/invitations/verify", bearer: admin, json: #"{"token":"\#(token)"}"#).json
            #expect(check["valid"] as? Bool == true, "the draft's link does not verify: \(check)")
            let listed = try await client.send(.get, "/v1/invitations", bearer: admin).json["items"] as? [Any]
            #expect(listed?.count == 1, "\(listed?.count ?? -1) invitations recorded after one request and two reloads")

            let revoked = try await client.send(.delete, "/v1/invitations/\(location.split(separator: "/")[2])", bearer: admin)
            #expect(revoked.status == .ok, "revoking answered \(revoked.status)")
            let gone = try await client.send(.get, location, cookie: cookies)
            #expect(gone.status == .gone, "the draft of a revoked invitation answered \(gone.status)")
        }
    }
}
