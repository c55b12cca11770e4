internal import Foundation
internal import NIOSSL
internal import PostgresNIO

/// How to reach PostgreSQL, read from a `postgres://` or `postgresql://` URL (DESIGN.md §4).
///
/// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?QUERY]`, user and password percent-encoded.
/// Query items, each optional:
///
/// - `pool=N` — at most N connections per process (1…1000). Without it, the environment
///   variable `INVITELINK_DB_POOL`, else 8. Every instance behind a load balancer opens its own
///   pool, so N × instances must stay under the server's `max_connections`.
/// - `sslmode=disable|prefer|require|verify-full` — libpq's meanings: `prefer` and `require`
///   encrypt without checking the certificate, `verify-full` checks it and the host name
///   against the system's trust store. Without `sslmode`, a server on another host is
///   `verify-full` (a database password never crosses a network to a server that did not
///   prove who it is) and one on loopback is `prefer`. Plain TCP to another host only when
///   the URL says `sslmode=disable`.
/// - `host=/DIR` — a Unix socket directory instead of TCP (`DIR/.s.PGSQL.PORT`), as libpq reads it.
/// - `search_path=SCHEMA`, `application_name=NAME` — sent at connection start, so several
///   deployments (or test runs) can share one database in separate schemas.
///
/// Unknown query items are refused rather than ignored, so that a misspelt `pool` or `sslmode`
/// does not silently fall back to the default.
struct PostgresConfiguration: Sendable {
    static let defaultPoolSize = 8
    static let poolSizeRange = 1...1000

    var client: PostgresClient.Configuration
    var poolSize: Int
    /// The `sslmode` in effect (the URL's, else the default for its host); nil for a socket.
    var sslMode: String?

    /// Reads `url`; `environment` supplies `INVITELINK_DB_POOL` when the URL has no `pool`.
    /// `keepingConnections` is for a process that serves for long: see below.
    init(
        url: String, environment: [String: String] = ProcessInfo.processInfo.environment, keepingConnections: Bool = false
    ) throws {
        func invalid(_ reason: String) -> StoreError {
            // The URL may hold a password: it never goes into a message.
            StoreError(.invalidInput, "invalid PostgreSQL URL: \(reason)")
        }
        guard let components = URLComponents(string: url),
            let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
        else { throw invalid("expected postgres://USER@HOST:PORT/DATABASE") }

        var poolSize: Int?
        var sslMode: String?
        var socketDirectory: String?
        var startupParameters: [(String, String)] = []
        for item in components.queryItems ?? [] {
            let value = item.value ?? ""
            switch item.name {
            case "pool":
                guard let size = Int(value), Self.poolSizeRange.contains(size) else {
                    throw invalid("pool must be a whole number from 1 to 1000")
                }
                poolSize = size
            case "sslmode":
                sslMode = value
            case "host":
                guard value.hasPrefix("/") else { throw invalid("the host query item must be a socket directory") }
                socketDirectory = value
            case "search_path", "application_name":
                guard !value.isEmpty else { throw invalid("\(item.name) is empty") }
                startupParameters.append((item.name, value))
            default:
                throw invalid("unknown query item \(item.name)")
            }
        }
        if poolSize == nil, let text = environment["INVITELINK_DB_POOL"], !text.isEmpty {
            guard let size = Int(text), Self.poolSizeRange.contains(size) else {
                throw StoreError(.invalidInput, "INVITELINK_DB_POOL must be a whole number from 1 to 1000")
            }
            poolSize = size
        }

        guard let username = components.user.flatMap({ $0.removingPercentEncoding }), !username.isEmpty else {
            throw invalid("no user name")
        }
        let password = components.password.flatMap { $0.removingPercentEncoding }
        let port = components.port ?? 5432
        var database = String(components.path.drop { $0 == "/" })
        database = database.removingPercentEncoding ?? database

        var client: PostgresClient.Configuration
        var effectiveMode: String?
        if let socketDirectory {
            client = .init(
                unixSocketPath: "\(socketDirectory)/.s.PGSQL.\(port)", username: username,
                password: password, database: database.isEmpty ? nil : database)
        } else {
            guard let host = components.host, !host.isEmpty else { throw invalid("no host") }
            // URLComponents keeps the brackets of an IPv6 literal.
            let bare = host.hasPrefix("[") && host.hasSuffix("]") ? String(host.dropFirst().dropLast()) : host
            let mode = sslMode ?? (Self.isLoopback(bare) ? "prefer" : "verify-full")
            effectiveMode = mode
            client = .init(
                host: bare, port: port, username: username, password: password,
                database: database.isEmpty ? nil : database, tls: try Self.tls(mode, invalid))
        }
        client.options.additionalStartupParameters = startupParameters
        client.options.maximumConnections = poolSize ?? Self.defaultPoolSize
        // A connection attempt to a server that is down or unreachable gives up after this; the
        // pool then retries in the background with its own backoff.
        client.options.connectTimeout = .seconds(5)
        // For a server, a fixed-size pool with no keep-alive queries: the pool otherwise starts a
        // keep-alive timer, and an idle timer for a connection above the minimum, each time a
        // connection goes back unused, and a cancelled timer holds its memory until its time
        // (30 and 60 s). Under load that parks connections often (batched issuance does),
        // heaptrack showed thousands of them at once: peak RSS 62–63 MiB against 55 without. So
        // the pool opens all its connections and keeps them; a connection that died idle is
        // found on its next use, as a busy one is (README, "Decisions where the contract is
        // silent"). A CLI command, which runs a few statements and exits, opens connections
        // as it needs them.
        if keepingConnections {
            client.options.minimumConnections = client.options.maximumConnections
            client.options.keepAliveBehavior = nil
        }
        self.client = client
        self.poolSize = client.options.maximumConnections
        self.sslMode = effectiveMode
    }

    /// `localhost`, 127.0.0.0/8 and ::1: a connection that never leaves the machine.
    static func isLoopback(_ host: String) -> Bool {
        if host == "localhost" || host == "::1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    private static func tls(_ mode: String, _ invalid: (String) -> StoreError) throws -> PostgresClient.Configuration.TLS {
        switch mode {
        case "disable":
            return .disable
        case "prefer", "require":
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.certificateVerification = .none
            return mode == "prefer" ? .prefer(configuration) : .require(configuration)
        case "verify-full":
            return .require(.makeClientConfiguration())
        default:
            throw invalid("sslmode must be disable, prefer, require or verify-full")
        }
    }
}
