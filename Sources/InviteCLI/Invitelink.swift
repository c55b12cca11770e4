public import ArgumentParser
import Foundation
import InviteStore
import InviteToken

/// `invitelink`: the service and the tools around it (DESIGN.md §4).
public struct Invitelink: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "invitelink",
        abstract: "Personalized reseller invitation links: the service, its keys and its data.",
        subcommands: [
            Serve.self, Keys.self, Links.self, Partners.self, Customers.self, Users.self, Credentials.self, Audit.self,
        ]
    )

    public init() {}
}

/// Options every command takes. Defaults come from the environment, then from DESIGN.md §4.
struct GlobalOptions: ParsableArguments {
    @Option(name: .customLong("keys-dir"), help: "Keyring directory (env INVITELINK_KEYS_DIR, default Keys).")
    var keysDirOption: String?

    @Option(
        name: .customLong("database"),
        help: "Database URL: sqlite:PATH or postgres://… (env INVITELINK_DATABASE, default sqlite:Data/invitelink.sqlite)."
    )
    var databaseOption: String?

    @Option(name: .customLong("issuer"), help: "Token issuer name (env INVITELINK_ISSUER, default invitelink).")
    var issuerOption: String?

    @Option(
        name: .customLong("public-url"),
        help: "Base URL of links (env INVITELINK_PUBLIC_URL, default http://127.0.0.1:8080)."
    )
    var publicURLOption: String?

    var keysDir: String { keysDirOption ?? Environment.value("INVITELINK_KEYS_DIR") ?? "Keys" }
    var issuer: String { issuerOption ?? Environment.value("INVITELINK_ISSUER") ?? "invitelink" }
    var publicURL: String { publicURLOption ?? Environment.value("INVITELINK_PUBLIC_URL") ?? "http://127.0.0.1:8080" }

    /// The database URL, from the option, the environment, or a file named by
    /// INVITELINK_DATABASE_FILE (so a password stays out of `ps` and the environment).
    func databaseURL() throws -> String {
        if let option = databaseOption { return option }
        if let value = Environment.value("INVITELINK_DATABASE") { return value }
        if let file = Environment.value("INVITELINK_DATABASE_FILE") {
            guard let data = FileManager.default.contents(atPath: file) else {
                throw CLIError("cannot read INVITELINK_DATABASE_FILE \(file)")
            }
            return String(decoding: data, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        }
        return "sqlite:Data/invitelink.sqlite"
    }

    var keyring: KeyringDirectory { KeyringDirectory(path: keysDir) }

    /// Runs `body` with the migrated store, then closes the store's connections (PostgreSQL's
    /// pool) whether `body` succeeded or not, rather than leaving them to be cut by the exit.
    /// `keepingConnections` is for `serve` (``openStore(url:keepingConnections:)``).
    func withStore<T>(
        keepingConnections: Bool = false, _ body: (any RelationshipStore) async throws -> T
    ) async throws -> T {
        try await withStore(offline: false, keepingConnections: keepingConnections) { try await body($0!) }
    }

    /// The same, with no store at all when `offline`.
    func withStore<T>(
        offline: Bool, keepingConnections: Bool = false, _ body: ((any RelationshipStore)?) async throws -> T
    ) async throws -> T {
        guard !offline else { return try await body(nil) }
        let store = try openStore(url: databaseURL(), keepingConnections: keepingConnections)
        do {
            try await store.migrate()
            let result = try await body(store)
            await store.shutdown()
            return result
        } catch {
            await store.shutdown()
            throw error
        }
    }
}

enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

/// The current time in Unix seconds.
func currentTime() -> Int64 {
    Int64(Date().timeIntervalSince1970)
}

/// Parses `14d`, `12h`, `30m`, `90s` or plain seconds.
func parseDuration(_ text: String) -> Int64? {
    guard let last = text.last else { return nil }
    let multipliers: [Character: Int64] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
    if let multiplier = multipliers[last] {
        guard let count = Int64(text.dropLast()), count > 0 else { return nil }
        let (seconds, overflow) = count.multipliedReportingOverflow(by: multiplier)
        return overflow ? nil : seconds
    }
    guard let seconds = Int64(text), seconds > 0 else { return nil }
    return seconds
}

/// Prints to standard error.
func printError(_ message: String) {
    FileHandle.standardError.write(Data((message + "\n").utf8))
}

extension Invitelink {
    /// Parses `arguments` and runs the chosen command, exiting the way argument-parser does.
    /// (argument-parser's `AsyncParsableCommand.main()` is not picked from a library's
    /// executable on Linux, so the executable calls this instead.)
    public static func runAsRoot(_ arguments: some Collection<String>) async -> Never {
        do {
            var command = try parseAsRoot(Array(arguments))
            if var asyncCommand = command as? any AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                try command.run()
            }
            exit()
        } catch {
            exit(withError: error)
        }
    }
}
