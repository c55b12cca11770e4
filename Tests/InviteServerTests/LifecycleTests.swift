import Foundation
import HTTPTypes
import InviteService
import InviteStore
import InviteToken
import Testing

@testable import InviteServer

/// Both sides of a relationship over HTTP (DESIGN.md §7): the customer's API and pages, the
/// reseller's retained grants, "Add a new customer" with its setup link, "send it again", and
/// people who are disabled or reset.
@Suite("Both sides of a relationship")
struct LifecycleTests {
    typealias W = World

    /// Customer `c1` accepts reseller A's DAP link naming the provider; returns the customer's
    /// global-admin credential.
    static func accepted(_ world: World, _ client: Client) async throws -> String {
        let customer = try await world.customer("c1")
        let issued = try await client.issue(#"{"provider_id":"\#(W.provider)","dap":true}"#, bearer: world.adminA)
        let token = try #require((issued["url"] as? String)?.components(separatedBy: "token=").last)
        let accepted = try await client.send(.post, "/v1/acceptances", bearer: customer, json: #"{"token":"\#(token)"}"#)
        #expect(accepted.status == .created, "accepting answered \(accepted.status): \(accepted.text)")
        return customer
    }

    /// Signs a customer user in on /account; the Cookie header of that browser.
    static func signInOnAccount(_ client: Client, email: String, password: String) async throws -> String {
        let account = try await client.send(.get, "/account")
        let signedIn = try await client.send(
            .post, "/account/sign-in",
            form: [("csrf", try #require(account.hiddenField("csrf"))), ("email", email), ("password", password)],
            cookie: account.cookieHeader)
        #expect(signedIn.status == .seeOther, "signing in answered \(signedIn.status): \(signedIn.text.prefix(300))")
        return account.cookieHeader + "; invitelink_session=\(try #require(signedIn.cookie("invitelink_session")))"
    }

    @Test("a customer lists its partners and ends the reseller's relationship, keeping DAP, then removes DAP")
    func customerSide() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let customer = try await Self.accepted(world, client)
            let listed = try await client.send(.get, "/v1/partners", bearer: customer)
            #expect(listed.status == .ok, "GET /v1/partners answered \(listed.status): \(listed.text)")
            let items = try #require(listed.json["items"] as? [[String: Any]])
            #expect(items.compactMap { $0["partner_id"] as? String } == [W.provider, W.resellerA])
            let reseller = try #require(items.first { $0["partner_id"] as? String == W.resellerA })
            #expect((reseller["relationship"] as? [String: Any])?["since"] is String)
            #expect((reseller["delegated_admin"] as? [String: Any])?["granted_at"] is String)
            #expect(reseller["kind"] as? String == "reseller" && reseller["name"] as? String == W.resellerAName)
            let provider = try #require(items.first { $0["partner_id"] as? String == W.provider })
            #expect(provider["delegated_admin"] is NSNull, "the provider never held DAP: \(provider)")

            // Who may: a customer's `user` reads but does not end; a partner does neither here.
            let plain = try await world.credential(.customer("c1"), .user)
            #expect(try await client.send(.get, "/v1/partners", bearer: plain).status == .ok)
            expectProblem(
                try await client.send(.delete, "/v1/partners/\(W.resellerA)/relationship", bearer: plain), .forbidden, "forbidden",
                "a customer's user ends a relationship")
            expectProblem(
                try await client.send(.get, "/v1/partners", bearer: world.adminA), .forbidden, "forbidden", "a partner lists partners")
            expectProblem(try await client.send(.get, "/v1/partners"), .unauthorized, "unauthorized", "no credential")

            let ended = try await client.send(.delete, "/v1/partners/\(W.resellerA)/relationship", bearer: customer)
            #expect(
                ended.status == .ok && ended.json["removed"] as? Bool == true && ended.json["delegated_admin_retained"] as? Bool == true,
                "ending the relationship answered \(ended.status): \(ended.text)")
            expectProblem(
                try await client.send(.delete, "/v1/partners/\(W.resellerA)/relationship", bearer: customer), .notFound, "not_found",
                "ending it twice")

            // The reseller no longer lists the customer, except with include=retained.
            let active = try await client.send(.get, "/v1/customers", bearer: world.adminA)
            #expect((active.json["items"] as? [Any])?.isEmpty == true, "an ended relationship is listed: \(active.text)")
            let retained = try await client.send(.get, "/v1/customers?include=retained", bearer: world.adminA)
            let kept = try #require((retained.json["items"] as? [[String: Any]])?.first, "no retained grant: \(retained.text)")
            #expect(
                kept["id"] as? String == "c1" && kept["relationship_active"] as? Bool == false && kept["delegated_admin"] as? Bool == true)
            #expect(kept["since"] is NSNull && kept["role"] is NSNull, "a retained item has no relationship: \(kept)")
            expectProblem(
                try await client.send(.get, "/v1/customers?include=everything", bearer: world.adminA), .badRequest, "invalid_request",
                "an unknown include")

            let removed = try await client.send(.delete, "/v1/partners/\(W.resellerA)/delegated-admin", bearer: customer)
            #expect(removed.status == .ok && removed.json["removed"] as? Bool == true, "removing DAP answered \(removed.text)")
            let after = try await client.send(.get, "/v1/customers?include=retained", bearer: world.adminA)
            #expect((after.json["items"] as? [Any])?.isEmpty == true, "a removed grant is still listed: \(after.text)")
            let partners = try await client.send(.get, "/v1/partners", bearer: customer)
            #expect((partners.json["items"] as? [[String: Any]])?.compactMap { $0["partner_id"] as? String } == [W.provider])
        }
    }

    @Test("a reseller's global admin gives its DAP grant up; an admin agent may not")
    func resellerGivesDAPUp() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            _ = try await Self.accepted(world, client)
            expectProblem(
                try await client.send(.delete, "/v1/customers/c1/delegated-admin", bearer: world.adminA), .forbidden, "forbidden",
                "an admin agent gives DAP up")
            let globalAdmin = try await world.credential(.partner(W.resellerA), .globalAdmin)
            let given = try await client.send(.delete, "/v1/customers/c1/delegated-admin", bearer: globalAdmin)
            #expect(given.status == .ok && given.json["removed"] as? Bool == true, "giving DAP up answered \(given.text)")
            #expect(try await !world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "c1"))
            #expect(try await world.customerIDs(of: W.resellerA) == ["c1"], "the relationship went with the grant")
            expectProblem(
                try await client.send(.delete, "/v1/customers/c1/delegated-admin", bearer: globalAdmin), .notFound, "not_found",
                "giving it up twice")
        }
    }

    @Test("GET /v1/invitations/{id} carries the link while it can be accepted, then null")
    func sendItAgain() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let issued = try await client.issue(bearer: world.adminA)
            let id = try #require(issued["id"] as? String)
            let one = try await client.send(.get, "/v1/invitations/\(id)", bearer: world.adminA)
            #expect(one.json["url"] as? String == issued["url"] as? String, "the link sent again differs: \(one.text)")
            let list = try await client.send(.get, "/v1/invitations", bearer: world.adminA)
            #expect(list.status == .ok)
            _ = try await client.send(.delete, "/v1/invitations/\(id)", bearer: world.adminA)
            let revoked = try await client.send(.get, "/v1/invitations/\(id)", bearer: world.adminA)
            #expect(revoked.json["url"] is NSNull, "a revoked invitation still offers its link: \(revoked.text)")
        }
    }

    @Test("a reseller adds a customer whose admin follows the setup link once, signs in and sees the reseller on /account")
    func addANewCustomer() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let body = #"{"name":"Northwind","domain":"Northwind.Example","admin_email":"Admin@Northwind.example"}"#
            let added = try await client.send(.post, "/v1/customers", bearer: world.adminA, json: body)
            #expect(added.status == .created, "adding answered \(added.status): \(added.text)")
            let customerID = try #require(added.json["customer_id"] as? String)
            let admin = try #require(added.json["admin"] as? [String: Any])
            #expect(admin["email"] as? String == "admin@northwind.example")
            let setupURL = try #require(admin["setup_url"] as? String)
            #expect(setupURL.hasPrefix(world.configuration.publicURL + "/setup?token="))
            #expect(try await world.customerIDs(of: W.resellerA) == [customerID])
            #expect(try await world.store.customer(id: customerID)?.domain == "northwind.example")

            expectProblem(
                try await client.send(
                    .post, "/v1/customers", bearer: world.adminA,
                    json: #"{"name":"Other","domain":"northwind.example","admin_email":"x@other.example"}"#),
                .conflict, "conflict", "a taken domain")
            expectProblem(
                try await client.send(.post, "/v1/customers", bearer: world.salesA, json: body), .forbidden, "forbidden", "a sales agent")
            expectProblem(
                try await client.send(.post, "/v1/customers", bearer: world.providerAdmin, json: body), .forbidden, "forbidden",
                "a provider")
            expectProblem(
                try await client.send(
                    .post, "/v1/customers", bearer: world.adminA, json: #"{"name":"X","domain":"nodot","admin_email":"a@b.example"}"#),
                .badRequest, "invalid_request", "a domain without a dot")

            // The setup link: a page that changes nothing, then a password, then never again.
            let path = String(setupURL.dropFirst(world.configuration.publicURL.count))
            let page = try await client.send(.get, path)
            #expect(page.status == .ok && page.text.contains("admin@northwind.example"), "the setup page: \(page.status)")
            let csrf = try #require(page.hiddenField("csrf"))
            let token = try #require(page.hiddenField("token"))
            let short = try await client.send(
                .post, "/setup", form: [("csrf", csrf), ("token", token), ("new_password", "short")], cookie: page.cookieHeader)
            #expect(short.status == .badRequest, "a short password answered \(short.status)")
            let done = try await client.send(
                .post, "/setup", form: [("csrf", csrf), ("token", token), ("new_password", "northwind admin passphrase")],
                cookie: page.cookieHeader)
            #expect(
                done.status == .ok && done.text.contains("/account"), "completing setup answered \(done.status): \(done.text.prefix(300))")
            let twice = try await client.send(
                .post, "/setup", form: [("csrf", csrf), ("token", token), ("new_password", "another admin passphrase")],
                cookie: page.cookieHeader)
            #expect(twice.status == .conflict && twice.text.contains("used_up"), "a second use answered \(twice.status)")
            #expect(try await client.send(.get, path).status == .conflict, "the used link's page still offers the form")

            // Sign in on /account and see the reseller.
            let cookies = try await Self.signInOnAccount(client, email: "admin@northwind.example", password: "northwind admin passphrase")
            let home = try await client.send(.get, "/account", cookie: cookies)
            #expect(home.text.contains(W.resellerAName), "the account page does not name the reseller")

            // The browser session calls the customer API as its user.
            let viaCookie = try await client.send(.get, "/v1/partners", cookie: cookies)
            #expect(
                viaCookie.status == .ok && viaCookie.text.contains(W.resellerA), "the session cookie on /v1/partners: \(viaCookie.text)")
        }
    }

    @Test("a customer's global admin removes a DAP grant on /account behind a confirmation")
    func accountRemoval() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            _ = try await Self.accepted(world, client)
            try await world.user(email: "boss@c1.example", customer: "c1", password: "customer boss passphrase", mustChange: false)
            let cookies = try await Self.signInOnAccount(client, email: "boss@c1.example", password: "customer boss passphrase")
            let confirm = try await client.send(.get, "/account/partners/\(W.resellerA)/remove?what=delegated-admin", cookie: cookies)
            #expect(confirm.status == .ok, "the confirmation answered \(confirm.status)")
            #expect(try await world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "c1"), "the confirmation page removed DAP")
            let removed = try await client.send(
                .post, "/account/partners/\(W.resellerA)/remove",
                form: [("csrf", try #require(confirm.hiddenField("csrf"))), ("what", "delegated-admin")], cookie: cookies)
            #expect(removed.status == .ok, "removing answered \(removed.status)")
            #expect(try await !world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "c1"))
            #expect(try await world.customerIDs(of: W.resellerA) == ["c1"], "the relationship went with DAP")
            let missing = try await client.send(.get, "/account/partners/\(W.otherProvider)/remove?what=relationship", cookie: cookies)
            #expect(missing.status == .notFound, "a partner with nothing here answered \(missing.status)")
        }
    }

    @Test("a disabled partner user loses the portal at once and cannot sign in; a reset ends the password")
    func disablingEndsSessions() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await PortalTests.addAgent(world)
        try await world.withClient { client in
            let (_, cookies) = try await PortalTests.signIn(client)
            try await world.store.setDisabled(userID: "usr_agent", disabled: true, at: W.t0, actor: "test")
            let after = try await client.send(.get, "/portal", cookie: cookies)
            #expect(after.status == .seeOther, "a disabled user's session still opens the portal: \(after.status)")
            let page = try await client.send(.get, "/portal/sign-in")
            let refused = try await client.send(
                .post, "/portal/sign-in",
                form: [("email", PortalTests.email), ("password", PortalTests.password), ("csrf", try #require(page.hiddenField("csrf")))],
                cookie: page.cookieHeader)
            #expect(refused.status == .unauthorized, "a disabled user signed in: \(refused.status)")

            try await world.store.setDisabled(userID: "usr_agent", disabled: false, at: W.t0, actor: "test")
            let (_, again) = try await PortalTests.signIn(client)
            let setup = try InvitationService(
                issuer: world.configuration.issuer, publicURL: world.configuration.publicURL, store: world.store,
                keyring: { [keyring = world.keyring] in keyring }
            ).setupLinks.make(userID: "usr_agent", now: W.t0)
            try await world.store.resetPassword(userID: "usr_agent", setupLink: setup.link, at: W.t0, actor: "test")
            #expect(try await client.send(.get, "/portal", cookie: again).status == .seeOther, "a reset left the session working")
        }
    }

    @Test("a partner global admin adds an agent with a setup link and disables them from the Users page")
    func usersPage() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await PortalTests.addGlobalAdmin(world)
        try await world.withClient { client in
            let (_, cookies) = try await PortalTests.signIn(client, email: PortalTests.bossEmail, password: PortalTests.bossPassword)
            let users = try await client.send(.get, "/portal/users", cookie: cookies)
            #expect(users.status == .ok && users.text.contains("boss@adatum.example"))
            let csrf = try #require(users.hiddenField("csrf"))
            let added = try await client.send(
                .post, "/portal/users", form: [("csrf", csrf), ("email", "new.agent@adatum.example"), ("role", "admin-agent")],
                cookie: cookies)
            #expect(added.status == .created && added.text.contains("/setup?token="), "adding answered \(added.status)")
            let agent = try #require(try await world.store.user(email: "new.agent@adatum.example"))
            #expect(agent.role == .adminAgent && !agent.maySignIn)
            let refused = try await client.send(
                .post, "/portal/users", form: [("csrf", csrf), ("email", "x@adatum.example"), ("role", "global-admin")], cookie: cookies)
            #expect(refused.status == .badRequest, "a global admin was added from the page: \(refused.status)")
            let disabled = try await client.send(.post, "/portal/users/\(agent.id)/disable", form: [("csrf", csrf)], cookie: cookies)
            #expect(disabled.status == .ok)
            #expect(try await world.store.user(id: agent.id)?.disabledAt != nil)
            let own = try await client.send(.post, "/portal/users/usr_boss/disable", form: [("csrf", csrf)], cookie: cookies)
            #expect(own.status == .notFound, "a global admin disabled themselves: \(own.status)")
        }
    }

    @Test("the request form refuses lifetimes and use counts out of range or not numbers, and records nothing")
    func requestFormNumbers() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await PortalTests.addAgent(world)
        try await world.withClient { client in
            let (csrf, cookies) = try await PortalTests.signIn(client)
            let hostile: [(String, String)] = [
                ("0", ""), ("91", ""), ("-1", ""), ("1e3", ""), ("99999999999999999999", ""), ("14", "0"), ("14", "-5"),
                ("14", "1000001"), ("14", "99999999999999999999"), ("14", "2.5"),
            ]
            for (days, uses) in hostile {
                let reply = try await client.send(
                    .post, "/portal/invitations",
                    form: [("csrf", csrf), ("provider_id", ""), ("customer_email", ""), ("lifetime_days", days), ("max_uses", uses)],
                    cookie: cookies)
                #expect(reply.status == .badRequest, "lifetime_days=\(days) max_uses=\(uses) answered \(reply.status)")
            }
            #expect(
                try await world.store.invitations(resellerID: W.resellerA, page: PageRequest()).items.isEmpty,
                "a refused form issued a link")
            let fine = try await client.send(
                .post, "/portal/invitations",
                form: [("csrf", csrf), ("provider_id", ""), ("customer_email", ""), ("lifetime_days", "90"), ("max_uses", "1")],
                cookie: cookies)
            #expect(fine.status == .seeOther, "90 days and one use answered \(fine.status)")
            let issued = try #require(try await world.store.invitations(resellerID: W.resellerA, page: PageRequest()).items.first)
            #expect(issued.invitation.expiresAt - issued.invitation.issuedAt == 90 * W.day && issued.invitation.maxUses == 1)
        }
    }

    @Test("a portal cookie planted as the customer session opens no customer API")
    func plantedCookie() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await PortalTests.addAgent(world)
        try await world.withClient { client in
            let (_, cookies) = try await PortalTests.signIn(client)
            let portal = try #require(
                cookies.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
                    .first { $0.hasPrefix("invitelink_portal=") }?.dropFirst("invitelink_portal=".count))
            for cookie in [
                "invitelink_session=\(portal)", "invitelink_session=\(portal.dropLast(2))AA", "invitelink_session=x.0.9999999999.AA",
            ] {
                expectProblem(try await client.send(.get, "/v1/partners", cookie: cookie), .unauthorized, "unauthorized", cookie)
                expectProblem(
                    try await client.send(.delete, "/v1/partners/\(W.resellerA)/relationship", cookie: cookie), .unauthorized,
                    "unauthorized",
                    cookie)
            }
        }
    }

    @Test("a disabled customer user's browser session stops opening /account and the customer API at once")
    func disabledCustomerSession() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            _ = try await Self.accepted(world, client)
            try await world.user(email: "boss@c1.example", customer: "c1", password: "customer boss passphrase", mustChange: false)
            let cookies = try await Self.signInOnAccount(client, email: "boss@c1.example", password: "customer boss passphrase")
            #expect(try await client.send(.get, "/v1/partners", cookie: cookies).status == .ok)
            let user = try #require(try await world.store.user(email: "boss@c1.example"))
            try await world.store.setDisabled(userID: user.id, disabled: true, at: W.t0, actor: "test")
            expectProblem(
                try await client.send(.get, "/v1/partners", cookie: cookies), .unauthorized, "unauthorized", "a disabled user's cookie")
            expectProblem(
                try await client.send(.delete, "/v1/partners/\(W.resellerA)/delegated-admin", cookie: cookies), .unauthorized,
                "unauthorized",
                "a disabled user's cookie removes DAP")
            #expect(try await world.store.hasDelegatedAdmin(partnerID: W.resellerA, customerID: "c1"))
            let page = try await client.send(.get, "/account", cookie: cookies)
            #expect(page.text.contains("name=\"password\""), "a disabled user's session still shows the partners page")
        }
    }
}
