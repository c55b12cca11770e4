import Foundation
import Hummingbird
import InviteServer
import InviteStore
import Testing

/// The partner portal's sign-in cookie: signing out revokes it, not only the browser's copy.
@Suite("Portal sessions")
struct PortalSessionTests {
    typealias W = World

    @Test("after sign-out, a copy of the portal cookie no longer opens the portal")
    func signOutRevokesTheCookie() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        let password = "correct horse battery staple"
        try await world.store.addUser(
            User(id: "usr_agent", tenant: .partner(W.resellerA), email: "agent@adatum.example", role: .adminAgent,
                 passwordHash: try PasswordHash.make(password: password), mustChangePassword: false, createdAt: W.t0),
            actor: "test"
        )
        try await world.withClient { client in
            let signInPage = try await client.send(.get, "/portal/sign-in")
            let csrf = try #require(signInPage.cookie("invitelink_csrf"), "the sign-in page set no CSRF cookie")
            let csrfCookie = "invitelink_csrf=\(csrf)"

            let signedIn = try await client.send(
                .post, "/portal/sign-in", form: [("email", "agent@adatum.example"), ("password", password), ("csrf", csrf)], cookie: csrfCookie)
            #expect(signedIn.status == .seeOther, "signing in answered \(signedIn.status): \(signedIn.text.prefix(200))")
            let session = try #require(signedIn.cookie("invitelink_portal"), "signing in set no portal cookie")
            let cookies = "\(csrfCookie); invitelink_portal=\(session)"

            let before = try await client.send(.get, "/portal", cookie: cookies)
            #expect(before.status == .ok, "the portal did not open with a fresh session: \(before.status)")

            let signedOut = try await client.send(.post, "/portal/sign-out", form: [("csrf", csrf)], cookie: cookies)
            #expect(signedOut.status == .seeOther && signedOut.headers[.location] == "/portal/sign-in", "sign-out answered \(signedOut.status)")

            let after = try await client.send(.get, "/portal", cookie: cookies)
            #expect(after.status == .seeOther && after.headers[.location]?.hasPrefix("/portal/sign-in") == true,
                    "the signed-out cookie still opens the portal: \(after.status)")
        }
    }
}
