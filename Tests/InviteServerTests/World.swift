import Foundation
import Hummingbird
import HummingbirdTesting
import InviteCrypto
import InviteServer
import InviteService
import InviteStore
import InviteToken
import Logging
import NIOCore
import Synchronization
import Testing

/// A clock the tests move: the application reads it on every request.
final class TestClock: Sendable {
    private let value: Mutex<Int64>
    init(_ start: Int64) { value = Mutex(start) }
    var now: Int64 { value.withLock { $0 } }
    func set(_ time: Int64) { value.withLock { $0 = time } }
}

/// One service in a temporary directory: a migrated SQLite store, an in-memory Ed25519
/// keyring, and a small world of partners:
///
/// - reseller A (`res_a`, "Adatum Reseller") connected to provider P (`prov_p`, "Contoso Distribution");
/// - reseller B (`res_b`, "Bellows Reseller") connected to provider Q (`prov_q`, "Quarry Distribution");
/// - credentials for A (admin agent, sales agent), B (global admin) and P (global admin).
///
/// Customers are made on demand with ``customer(_:role:)``.
struct World: Sendable {
    static let t0: Int64 = 1_800_000_000
    static let day: Int64 = 86_400
    static let resellerA = "res_a", resellerAName = "Adatum Reseller"
    static let resellerB = "res_b", resellerBName = "Bellows Reseller"
    static let provider = "prov_p", providerName = "Contoso Distribution"
    static let otherProvider = "prov_q", otherProviderName = "Quarry Distribution"
    static let partnerIDs = [resellerA, resellerB, provider, otherProvider]

    let directory: URL
    let store: SQLiteStore
    let keyring: Keyring
    let holder: KeyringHolder
    let clock: TestClock
    var configuration = ServerConfiguration()

    /// Bearer secrets.
    let adminA: String, salesA: String, adminB: String, providerAdmin: String

    static func make() async throws -> World {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("invitelink-server-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let store = try SQLiteStore(path: directory.appendingPathComponent("db.sqlite").path)
        try await store.migrate()

        var manifest = KeyManifest()
        try manifest.add(kid: "k1", algorithm: .ed25519, now: t0 - day)
        try manifest.promote("k1", now: t0 - day)
        let keyring = Keyring(manifest: manifest, material: ["k1": .ed25519(try Ed25519PrivateKey())])

        try await store.addPartner(Partner(id: resellerA, name: resellerAName, kind: .reseller, createdAt: t0), actor: "test")
        try await store.addPartner(Partner(id: resellerB, name: resellerBName, kind: .reseller, createdAt: t0), actor: "test")
        try await store.addPartner(Partner(id: provider, name: providerName, kind: .provider, createdAt: t0), actor: "test")
        try await store.addPartner(Partner(id: otherProvider, name: otherProviderName, kind: .provider, createdAt: t0), actor: "test")
        try await store.connect(resellerID: resellerA, providerID: provider, at: t0, actor: "test")
        try await store.connect(resellerID: resellerB, providerID: otherProvider, at: t0, actor: "test")

        return World(
            directory: directory, store: store, keyring: keyring, holder: KeyringHolder(keyring: keyring), clock: TestClock(t0),
            adminA: try await credential(store, .partner(resellerA), .adminAgent),
            salesA: try await credential(store, .partner(resellerA), .salesAgent),
            adminB: try await credential(store, .partner(resellerB), .globalAdmin),
            providerAdmin: try await credential(store, .partner(provider), .globalAdmin)
        )
    }

    /// A new bearer credential; returns its secret.
    static func credential(_ store: some RelationshipStore, _ tenant: Tenant, _ role: Role) async throws -> String {
        let issued = try BearerSecret.make()
        try await store.addCredential(
            Credential(id: issued.id, tenant: tenant, role: role, secretHash: issued.hash, createdAt: t0), actor: "test")
        return issued.secret
    }

    func credential(_ tenant: Tenant, _ role: Role) async throws -> String {
        try await Self.credential(store, tenant, role)
    }

    /// Adds customer `id` (domain `id.example`) and returns a credential for it with `role`.
    func customer(_ id: String, role: Role = .globalAdmin) async throws -> String {
        if try await store.customer(id: id) == nil {
            try await store.addCustomer(
                Customer(id: id, name: "Customer \(id)", domain: "\(id).example", createdAt: Self.t0), actor: "test")
        }
        return try await credential(.customer(id), role)
    }

    /// `count` customers `prefix1…prefixN`, made concurrently (the store group-commits), each
    /// with a global-admin credential: `[(customerID, secret)]` in order.
    func customers(_ count: Int, prefix: String) async throws -> [(id: String, secret: String)] {
        try await withThrowingTaskGroup(of: (Int, String).self) { group in
            for index in 1...count {
                group.addTask { (index, try await customer("\(prefix)\(index)")) }
            }
            var secrets: [Int: String] = [:]
            for try await (index, secret) in group { secrets[index] = secret }
            return (1...count).map { ("\(prefix)\($0)", secrets[$0]!) }
        }
    }

    /// A person who signs in to the pages.
    func user(email: String, customer: String, role: Role = .globalAdmin, password: String, mustChange: Bool) async throws {
        try await store.addUser(
            User(
                id: "user_\(UUID().uuidString.prefix(8))", tenant: .customer(customer), email: email, role: role,
                passwordHash: try PasswordHash.make(password: password), mustChangePassword: mustChange, createdAt: Self.t0
            ), actor: "test")
    }

    /// Issues through the service's own code path, optionally without recording the invitation.
    func mint(reseller: String = resellerA, provider: String? = nil, dap: Bool = false, lifetime: Int64 = 14 * day, record: Bool)
        async throws -> IssuedInvitation
    {
        let keyring = self.keyring
        let service = InvitationService(
            issuer: configuration.issuer, publicURL: configuration.publicURL, store: store, keyring: { keyring })
        return try await service.issue(
            resellerID: reseller, providerID: provider, delegatedAdmin: dap, lifetime: lifetime, maxUses: nil,
            issuedBy: "test", customerEmail: nil, now: clock.now, record: record
        )
    }

    /// Every partner's active customers: `partnerID → [customerID]`.
    func relationships() async throws -> [String: [String]] {
        var out: [String: [String]] = [:]
        for partner in Self.partnerIDs {
            out[partner] = try await store.customers(ofPartner: partner, page: PageRequest(limit: 200)).items.map(\.customer.id)
        }
        return out
    }

    func customerIDs(of partner: String) async throws -> [String] {
        try await store.customers(ofPartner: partner, page: PageRequest(limit: 200)).items.map(\.customer.id)
    }

    /// Runs `body` against the application through Hummingbird's router test client.
    /// Several calls, nested, are several instances on one store; they share browser sessions
    /// when given the same `sessionSecret`.
    func withClient<T: Sendable>(
        keyring: KeyringHolder? = nil, sessionSecret: SessionSecret? = nil, publicURL: String? = nil,
        _ body: @Sendable (Client) async throws -> T
    ) async throws -> T {
        let clock = self.clock
        var configuration = self.configuration
        configuration.sessionSecret = sessionSecret
        if let publicURL { configuration.publicURL = publicURL }
        let app = try buildApplication(
            configuration: configuration, store: store, keyring: keyring ?? holder, reloadKeyring: false,
            logger: Logger(label: "test"), clock: { clock.now }
        )
        return try await app.test(.router) { client in try await body(Client(client: client)) }
    }

    func cleanUp() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// A thin wrapper over the router test client: requests in one line, replies as text/JSON.
struct Client: Sendable {
    let client: any TestClientProtocol

    func send(
        _ method: HTTPRequest.Method, _ uri: String, bearer: String? = nil, json: String? = nil,
        form: [(String, String)]? = nil, cookie: String? = nil,
        contentType: String? = nil, body: ByteBuffer? = nil, headers extra: HTTPFields = [:]
    ) async throws -> Reply {
        var headers = extra
        if let bearer { headers[.authorization] = "Bearer \(bearer)" }
        if let cookie { headers[.cookie] = cookie }
        var payload = body
        if let json {
            headers[.contentType] = "application/json"
            payload = ByteBuffer(string: json)
        }
        if let form {
            headers[.contentType] = "application/x-www-form-urlencoded"
            payload = ByteBuffer(string: form.map { "\(Client.formEncode($0.0))=\(Client.formEncode($0.1))" }.joined(separator: "&"))
        }
        if let contentType { headers[.contentType] = contentType }
        return try await client.execute(uri: uri, method: method, headers: headers, body: payload) { response in
            Reply(status: response.status, headers: response.headers, text: String(buffer: response.body))
        }
    }

    static func formEncode(_ text: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-_.*")
        return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
    }

    /// POST /v1/invitations as reseller A's admin agent; returns the created JSON.
    func issue(_ body: String = "{}", bearer: String) async throws -> [String: Any] {
        let reply = try await send(.post, "/v1/invitations", bearer: bearer, json: body)
        #expect(reply.status == .created, "issuing \(body) did not answer 201: \(reply.status) \(reply.text)")
        return reply.json
    }
}

struct Reply: Sendable {
    let status: HTTPResponse.Status
    let headers: HTTPFields
    let text: String

    var json: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] ?? [:]
    }

    var contentType: String { headers[.contentType] ?? "" }

    /// Values of every `Set-Cookie` header.
    var setCookies: [String] { headers[values: .setCookie] }

    /// The value of cookie `name` set by this reply.
    func cookie(_ name: String) -> String? {
        for header in setCookies where header.hasPrefix(name + "=") {
            return String(header.dropFirst(name.count + 1).prefix { $0 != ";" })
        }
        return nil
    }

    /// Every cookie this reply set, as a `Cookie` request header (`a=1; b=2`), for the next
    /// request of the same browser.
    var cookieHeader: String {
        setCookies.map { String($0.prefix { $0 != ";" }) }.filter { !$0.hasSuffix("=") }.joined(separator: "; ")
    }

    /// The `value` of the hidden form field `name` in an HTML reply.
    func hiddenField(_ name: String) -> String? {
        guard let range = text.range(of: "name=\"\(name)\" value=\"") else { return nil }
        return String(text[range.upperBound...].prefix { $0 != "\"" })
    }
}

/// Expects `reply` to be an RFC 9457 problem with `status` and `code`, never a 5xx.
func expectProblem(
    _ reply: Reply, _ status: HTTPResponse.Status, _ code: String, _ comment: String,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    #expect(reply.status.code < 500, "\(comment): answered \(reply.status) (5xx): \(reply.text)", sourceLocation: sourceLocation)
    #expect(
        reply.status == status, "\(comment): status \(reply.status.code), wanted \(status.code): \(reply.text)",
        sourceLocation: sourceLocation)
    #expect(
        reply.contentType.hasPrefix("application/problem+json"),
        "\(comment): Content-Type is \"\(reply.contentType)\", not application/problem+json", sourceLocation: sourceLocation)
    #expect(
        reply.json["code"] as? String == code, "\(comment): code is \(reply.json["code"] ?? "missing"), wanted \(code)",
        sourceLocation: sourceLocation)
}

/// The token of an invitation link.
func token(ofURL url: String) -> String {
    InvitationService.token(fromLinkOrToken: url)
}

/// The same token with one character of its signature changed (kept canonical base64url).
func tampered(_ token: String) -> String {
    var characters = Array(token)
    let index = token.lastIndex(of: ".")!.utf16Offset(in: token) + 10
    characters[index] = characters[index] == "A" ? "B" : "A"
    return String(characters)
}

func acceptBody(_ token: String) -> String { #"{"token":"\#(token)"}"# }
