import Foundation
import Synchronization
import Testing

@testable import InviteServer

/// DESIGN.md §11's sign-in limits through the acceptance page's sign-in form: counted per
/// email address in the store, atomically, the same for unknown addresses, ending with the
/// lock; and a password-hashing pool that refuses rather than queues without bound.
@Suite("Sign-in limits")
struct SignInLimitTests {
    typealias W = World

    /// A world whose customer `cus_1` has a global admin `admin@cus1.example` who may sign in.
    static func worldWithAdmin() async throws -> World {
        let world = try await World.make()
        _ = try await world.customer("cus_1")
        try await world.user(email: "admin@cus1.example", customer: "cus_1", password: "the right password", mustChange: false)
        return world
    }

    /// A browser at the acceptance page of a fresh link: its form's CSRF field and cookies.
    static func landing(_ client: Client, _ world: World) async throws -> (token: String, csrf: String, cookies: String) {
        let token = try await world.mint(record: true).token
        let page = try await client.send(.get, "/invitations/accept?token=\(token)")
        let csrf = try #require(page.hiddenField("csrf"), "the page has no csrf field")
        return (token, csrf, page.cookieHeader)
    }

    static func signIn(
        _ client: Client, _ browser: (token: String, csrf: String, cookies: String), email: String, password: String
    ) async throws -> Reply {
        try await client.send(
            .post, "/invitations/sign-in",
            form: [("token", browser.token), ("csrf", browser.csrf), ("email", email), ("password", password)],
            cookie: browser.cookies)
    }

    @Test("20 parallel wrong passwords for one account: at most 5 are checked, the rest are 429")
    func parallelGuesses() async throws {
        let world = try await Self.worldWithAdmin()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let browser = try await Self.landing(client, world)
            let replies = try await withThrowingTaskGroup(of: Reply.self) { group in
                for attempt in 0..<20 {
                    group.addTask {
                        try await Self.signIn(client, browser, email: "admin@cus1.example", password: "guess \(attempt)")
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let checked = replies.filter { $0.status == .ok && $0.text.contains("not right") }
            let locked = replies.filter { $0.status == .tooManyRequests && $0.headers[.retryAfter] != nil }
            #expect(checked.count <= 5, "\(checked.count) guesses got a password check")
            #expect(checked.count + locked.count == 20, "other answers: \(replies.map(\.status.code))")
        }
    }

    @Test("an unknown email is refused and locked exactly like a real one")
    func unknownEmailIsLockedToo() async throws {
        let world = try await Self.worldWithAdmin()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let browser = try await Self.landing(client, world)
            for email in ["admin@cus1.example", "nobody@cus1.example"] {
                var statuses: [Int] = []
                var texts: Set<String> = []
                for attempt in 1...6 {
                    let reply = try await Self.signIn(client, browser, email: email, password: "wrong \(attempt)")
                    statuses.append(Int(reply.status.code))
                    if reply.status == .ok { texts.insert(reply.text.contains("not right") ? "not right" : reply.text) }
                }
                #expect(statuses == [200, 200, 200, 200, 200, 429], "\(email): \(statuses)")
                #expect(texts == ["not right"], "\(email): \(texts)")
            }
        }
    }

    @Test("when the lock ends the count starts over")
    func lockExpiryResetsTheCount() async throws {
        let world = try await Self.worldWithAdmin()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let browser = try await Self.landing(client, world)
            func attempt(_ password: String) async throws -> Int {
                Int(try await Self.signIn(client, browser, email: "admin@cus1.example", password: password).status.code)
            }
            for n in 1...5 { #expect(try await attempt("wrong \(n)") == 200) }
            #expect(try await attempt("the right password") == 429)
            world.clock.set(W.t0 + 16 * 60)
            // Four more failures are checked, not locked at once as a count that never resets would be.
            for n in 1...4 { #expect(try await attempt("wrong again \(n)") == 200, "failure \(n) after the lock ended") }
            #expect(try await attempt("the right password") == 303)
        }
    }

    @Test("a full hashing pool refuses at once with Busy")
    func poolRefusesWhenFull() async throws {
        let pool = PasswordHashingPool(threads: 1, queue: 1)
        let release = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        async let first: Int = pool.run {
            started.signal()
            release.wait()
            return 1
        }
        started.wait()
        async let second: Int = pool.run { 2 } // waits in the queue
        while pool.load < 2 { await Task.yield() }
        await #expect(throws: PasswordHashingPool.Busy.self) { try await pool.run { 3 } }
        release.signal()
        #expect(try await first == 1)
        #expect(try await second == 2)
        #expect(try await pool.run { 4 } == 4, "the pool takes work again once it has room")
    }

    @Test("over HTTPS every cookie is __Host-, Secure and Path=/, and a sign-in works with them")
    func hostPrefixedCookies() async throws {
        let world = try await Self.worldWithAdmin()
        defer { world.cleanUp() }
        try await world.withClient(publicURL: "https://invite.example.com") { client in
            let browser = try await Self.landing(client, world)
            #expect(browser.cookies.hasPrefix("__Host-invitelink_presession="), "\(browser.cookies)")
            let signedIn = try await Self.signIn(client, browser, email: "admin@cus1.example", password: "the right password")
            #expect(signedIn.status == .seeOther, "\(signedIn.status) \(signedIn.text.prefix(300))")
            for header in signedIn.setCookies + [browser.cookies] where !header.isEmpty {
                #expect(header.hasPrefix("__Host-"), "\(header)")
            }
            let session = try #require(signedIn.setCookies.first { $0.hasPrefix("__Host-invitelink_session=") })
            #expect(session.contains("Secure") && session.contains("Path=/"), "\(session)")
        }
    }
}
