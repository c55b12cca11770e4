public import ArgumentParser
import InviteCrypto
import InviteStore
import InviteToken

/// A failure the CLI reports on one line.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The one place where errors become a stderr line and an exit status:
/// 0 success, 1 any failure with a reason, 64 a usage error (argument-parser's own),
/// 10… for `links verify` reasons (``linkExitCode(for:)``).
enum ExitStatus {
    static let failure: Int32 = 1

    /// Runs a command body, turning every error into `invitelink: <reason>` and exit 1.
    static func run(_ body: () async throws -> Void) async throws {
        do {
            try await body()
        } catch let exit as ExitCode {
            throw exit
        } catch let error as CleanExit {
            throw error
        } catch {
            printError("invitelink: \(describe(error))")
            throw ExitCode(failure)
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as KeyringError: error.message
        case let error as StoreError: error.message + (error.diagnostic.map { " (\($0))" } ?? "")
        case let error as TokenError: error.description
        case let error as CryptoError: error.description
        case let error as CLIError: error.description
        default: String(describing: error)
        }
    }

    /// `links verify`: 10 + the reason's position in ``TokenError/Code/allCases``, so
    /// scripts can tell `expired` (20) from `bad_signature` (15) without parsing.
    static func linkExitCode(for code: TokenError.Code) -> Int32 {
        10 + Int32(TokenError.Code.allCases.firstIndex(of: code)!)
    }
}
