import ArgumentParser
import Hummingbird
import InviteServer
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

    func run() async throws {
        try await ExitStatus.run {
            var logger = Logger(label: "invitelink")
            logger.logLevel = (logLevel ?? Environment.value("INVITELINK_LOG_LEVEL")).flatMap(Logger.Level.init(rawValue:)) ?? .info
            // After a graceful shutdown (or a failed start) the store's connections (PostgreSQL's
            // pool) are closed instead of being cut by the exit.
            try await options.withStore { store in
                let keyring = try KeyringHolder(directory: options.keyring, logger: logger)
                if keyring.current.signingKey == nil {
                    logger.warning("the keyring has no primary key: links cannot be issued until one is promoted (invitelink keys rotate --alg ed25519)")
                }
                let configuration = ServerConfiguration(
                    host: host, port: port, publicURL: options.publicURLOption ?? Environment.value("INVITELINK_PUBLIC_URL") ?? "http://\(host):\(port)",
                    issuer: options.issuer, keysDirectory: options.keysDir
                )
                let app = try buildApplication(configuration: configuration, store: store, keyring: keyring, logger: logger)
                try await app.runService()
            }
        }
    }
}
