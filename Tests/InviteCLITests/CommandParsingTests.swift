import ArgumentParser
import InviteToken
import Testing

@testable import InviteCLI

/// The commands parse and validate their arguments before touching anything (STYLE.md §11):
/// a wrong argument is a usage error, never a half-done change.
@Suite struct CommandParsingTests {
    private func usageError(_ arguments: [String]) -> Bool {
        do {
            _ = try Invitelink.parseAsRoot(arguments)
            return false
        } catch {
            return Invitelink.exitCode(for: error) == .validationFailure
        }
    }

    @Test func keysAddNeedsAKnownAlgorithm() {
        #expect(usageError(["keys", "add", "--alg", "rsa"]))
        #expect(!usageError(["keys", "add", "--alg", "ed25519"]))
        #expect(!usageError(["keys", "add", "--alg", "hs256"]))
    }

    @Test func importTakesExactlyOneSource() {
        #expect(usageError(["keys", "import"]))
        #expect(usageError(["keys", "import", "--pem", "a.pem", "--hmac", "b.hmac"]))
        #expect(usageError(["keys", "import", "--pem", "a.pem", "--kid", "has space"]))
        #expect(!usageError(["keys", "import", "--pem", "a.pem", "--kid", "kid_1-a"]))
    }

    @Test func linkLifetimeIsBoundedBy90Days() {
        #expect(!usageError(["links", "create", "--reseller", "r1", "--ttl", "90d"]))
        #expect(usageError(["links", "create", "--reseller", "r1", "--ttl", "91d"]))
        #expect(usageError(["links", "create", "--reseller", "r1", "--ttl", "0"]))
        #expect(usageError(["links", "create", "--reseller", "r1", "--ttl", "soon"]))
        #expect(usageError(["links", "create", "--reseller", "r1", "--max-uses", "0"]))
        #expect(usageError(["links", "create", "--reseller", "a/b"]))
    }

    @Test func verifyTimeIsRFC3339OrUnixSeconds() {
        #expect(!usageError(["links", "verify", "tok", "--at", "2026-11-26T12:00:00Z"]))
        #expect(!usageError(["links", "verify", "tok", "--at", "1800000000"]))
        #expect(usageError(["links", "verify", "tok", "--at", "yesterday"]))
    }

    @Test func rolesMustExistForTheTenant() {
        #expect(usageError(["credentials", "create", "--customer", "c1", "--role", "sales-agent"]))
        #expect(usageError(["credentials", "create", "--partner", "p1", "--role", "user"]))
        #expect(usageError(["credentials", "create", "--partner", "p1", "--customer", "c1", "--role", "global-admin"]))
        #expect(!usageError(["credentials", "create", "--customer", "c1", "--role", "global-admin"]))
        #expect(usageError(["users", "add", "--partner", "p1", "--email", "not-an-email", "--role", "admin-agent"]))
    }

    @Test func verifyExitCodesAreDistinctAndStable() {
        #expect(ExitStatus.linkExitCode(for: .malformed) == 10)
        #expect(ExitStatus.linkExitCode(for: .expired) == 20)
        #expect(ExitStatus.linkExitCode(for: .unknownInvitation) == 23)
        let codes = TokenError.Code.allCases.map(ExitStatus.linkExitCode)
        #expect(Set(codes).count == codes.count)
    }

    @Test func durationsParse() {
        #expect(parseDuration("14d") == Int64(14 * 86_400))
        #expect(parseDuration("12h") == Int64(12 * 3600))
        #expect(parseDuration("30m") == 1800)
        #expect(parseDuration("90") == 90)
        #expect(parseDuration("-1d") == nil)
        #expect(parseDuration("") == nil)
    }
}
