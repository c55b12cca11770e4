import ArgumentParser
import Hummingbird
import InviteCrypto
import InviteServer
import InviteService
import InviteToken
import Logging

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the HTTP service. SIGHUP reloads the keyring; SIGTERM shuts down gracefully."
    )
    @OptionGroup var options: GlobalOptions
    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "Port to listen on.") var port = 8080
    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical (env INVITELINK_LOG_LEVEL).")
    var logLevel: String?
    @Option(
        name: .customLong("session-secret-file"),
        help:
            "A file (mode 600) of at least 32 bytes (openssl rand -hex 32) that every instance shares, so browser sessions work on any instance and survive restarts (env INVITELINK_SESSION_SECRET_FILE). Without it each process signs its own."
    )
    var sessionSecretFile: String?
    @Option(
        name: .customLong("trusted-proxy-header"),
        help:
            "A header your proxy sets to the client's address (X-Forwarded-For; its last entry is used) for the sign-in throttle (env INVITELINK_TRUSTED_PROXY_HEADER). Without it the connection's peer is the client and no header is believed."
    )
    var trustedProxyHeader: String?
    @Option(
        name: .customLong("password-hashing-threads"),
        help: "Threads that hash passwords, apart from the request threads (default 1).")
    var passwordHashingThreads = 1
    @Option(
        name: .customLong("password-hashing-queue"),
        help: "Sign-ins that may wait for a hashing thread; beyond, 503 with Retry-After (default 8).")
    var passwordHashingQueue = 8
    @Option(
        name: .customLong("audit-seal-interval"),
        help: "Seconds between seals of new audit entries into a signed checkpoint (default 60; DESIGN.md §8 asks for 2 minutes at most).")
    var auditSealInterval = 60
    @Flag(
        name: .customLong("webhooks-allow-insecure"),
        help: "Allow http webhook URLs and private or loopback addresses (development and tests only).")
    var webhooksAllowInsecure = false
    @Option(
        name: .customLong("webhook-retry-schedule"),
        help: "Seconds between webhook attempts, comma-separated; the last repeats (default 5,30,120,600,3600).")
    var webhookRetrySchedule = "5,30,120,600,3600"
    @Option(
        name: .customLong("webhook-retry-window"),
        help: "Seconds after an event during which its delivery is retried; then it has failed (default 86400).")
    var webhookRetryWindow: Int64 = 86_400

    /// The retry schedule the options give.
    var retrySchedule: WebhookRetrySchedule? {
        let delays = webhookRetrySchedule.split(separator: ",").compactMap { Int64($0.trimmingCharacters(in: .whitespaces)) }
        guard !delays.isEmpty, delays.allSatisfy({ (1...86_400).contains($0) }),
            delays.count == webhookRetrySchedule.split(separator: ",").count, (1...7 * 86_400).contains(webhookRetryWindow)
        else { return nil }
        return WebhookRetrySchedule(delays: delays, window: webhookRetryWindow)
    }

    func validate() throws {
        guard retrySchedule != nil else {
            throw ValidationError(
                "--webhook-retry-schedule takes seconds from 1 to 86400, comma-separated; --webhook-retry-window 1 to 604800")
        }
        guard (1...120).contains(auditSealInterval) else { throw ValidationError("--audit-seal-interval must be 1 to 120 seconds") }
        guard (1...64).contains(passwordHashingThreads) else { throw ValidationError("--password-hashing-threads must be 1 to 64") }
        guard (0...10_000).contains(passwordHashingQueue) else { throw ValidationError("--password-hashing-queue must be 0 to 10000") }
        if let header = trustedProxyHeader ?? Environment.value("INVITELINK_TRUSTED_PROXY_HEADER") {
            guard !header.isEmpty, header.utf8.allSatisfy({ $0 > 32 && $0 < 127 && $0 != UInt8(ascii: ":") }) else {
                throw ValidationError("--trusted-proxy-header must be a header name, like X-Forwarded-For")
            }
        }
    }

    /// `M_ARENA_MAX` of glibc's malloc.h.
    static let mallocArenaMax: Int32 = -8

    func run() async throws {
        // glibc gives each thread that allocates its own malloc arena (up to 8 per core), and
        // a server's many short-lived request tasks spread their memory over all of them: the
        // resident size grows with the arenas, not with the work. Two arenas hold the
        // service's allocations with little contention on a few cores (issue 17's memory
        // target); `MALLOC_ARENA_MAX` in the environment still wins.
        #if canImport(Glibc)
            if Environment.value("MALLOC_ARENA_MAX") == nil { _ = glibcMallopt(Self.mallocArenaMax, 2) }
        #endif
        try await ExitStatus.run {
            var logger = Logger(label: "invitelink")
            logger.logLevel = (logLevel ?? Environment.value("INVITELINK_LOG_LEVEL")).flatMap(Logger.Level.init(rawValue:)) ?? .info
            let sessionSecret = try readSessionSecret()
            logger.info("starting", metadata: ["openssl": "\(OpenSSLLibrary.version)"])
            try await options.withStore(keepingConnections: true) { store in
                let keyring = try KeyringHolder(directory: options.keyring, logger: logger)
                if keyring.current.signingKey == nil {
                    logger.warning(
                        "the keyring has no primary key: links cannot be issued until one is promoted (invitelink keys rotate --alg ed25519)"
                    )
                }
                var configuration = ServerConfiguration(
                    host: host, port: port,
                    publicURL: options.publicURLOption ?? Environment.value("INVITELINK_PUBLIC_URL") ?? "http://\(host):\(port)",
                    issuer: options.issuer, keysDirectory: options.keysDir, sessionSecret: sessionSecret,
                    passwordHashingThreads: passwordHashingThreads, passwordHashingQueue: passwordHashingQueue,
                    trustedProxyHeader: trustedProxyHeader ?? Environment.value("INVITELINK_TRUSTED_PROXY_HEADER")
                )
                configuration.auditSealInterval = .seconds(auditSealInterval)
                configuration.webhooksAllowInsecure = webhooksAllowInsecure
                configuration.webhookRetrySchedule = retrySchedule ?? .standard
                if webhooksAllowInsecure {
                    logger.warning("webhooks may go to http URLs and private addresses (--webhooks-allow-insecure): for development only")
                }
                let app = try buildApplication(configuration: configuration, store: store, keyring: keyring, logger: logger)
                try await app.runService()
            }
        }
    }

    /// The shared session secret, when a file names one: its bytes without surrounding
    /// whitespace, so `openssl rand -hex 32 > FILE` makes a good one.
    private func readSessionSecret() throws -> SessionSecret? {
        guard let path = sessionSecretFile ?? Environment.value("INVITELINK_SESSION_SECRET_FILE") else { return nil }
        // Held to the key files' rule: readable by its owner alone.
        let isSpace = { (byte: UInt8) in byte == 0x20 || byte == 0x0a || byte == 0x0d || byte == 0x09 }
        let bytes = Array(try KeyringDirectory.readSecretFile(path).drop(while: isSpace).reversed().drop(while: isSpace).reversed())
        guard bytes.count >= SessionSecret.minimumLength else {
            throw CLIError(
                "the session secret file \(path) holds \(bytes.count) bytes; it needs at least \(SessionSecret.minimumLength) (openssl rand -hex 32 > \(path))"
            )
        }
        return try SessionSecret(bytes)
    }
}

#if canImport(Glibc)
    /// glibc's `mallopt(3)`, which the Glibc module does not bring in (it lives in malloc.h).
    @_silgen_name("mallopt")
    private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
#endif
