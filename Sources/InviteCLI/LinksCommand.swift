import ArgumentParser
import InviteService
import InviteStore
import InviteToken

struct Links: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "links",
        abstract: "Create and check invitation links.",
        subcommands: [Create.self, Verify.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Sign a new invitation link with the primary key and record it; prints the URL."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "The reseller partner id.") var reseller: String
        @Option(help: "An indirect provider partner id the reseller is connected to.") var provider: String?
        @Flag(help: "Ask for delegated admin privileges for the reseller.") var dap = false
        @Option(help: "Lifetime: 14d, 12h, 30m or seconds (maximum 90d).") var ttl = "14d"
        @Option(name: .customLong("max-uses"), help: "How many customers may accept it (default: unlimited until expiry).") var maxUses:
            Int?
        @Flag(help: "Mint the link only; do not record it in the database.") var offline = false
        @Flag(help: "Print id, url, token, kid and expires_at as JSON.") var json = false

        func validate() throws {
            guard let lifetime = parseDuration(ttl), lifetime <= InvitationClaims.maximumLifetime else {
                throw ValidationError("--ttl must be a positive duration of at most 90d, like 14d or 12h")
            }
            if let maxUses, maxUses < 1 { throw ValidationError("--max-uses must be at least 1") }
            guard Identifier.isValid(reseller) else { throw ValidationError("--reseller must match [A-Za-z0-9._-]{1,64}") }
            if let provider, !Identifier.isValid(provider) { throw ValidationError("--provider must match [A-Za-z0-9._-]{1,64}") }
        }

        func run() async throws {
            try await ExitStatus.run {
                let keyring = try options.keyring.load()
                try await options.withStore(offline: offline) { store in
                    if let store, let provider {
                        guard try await store.isConnected(resellerID: reseller, providerID: provider) else {
                            throw StoreError(.providerNotConnected, "reseller \(reseller) is not connected to provider \(provider)")
                        }
                    }
                    let service = InvitationService(
                        issuer: options.issuer, publicURL: options.publicURL, store: store, keyring: { keyring })
                    let issued = try await service.issue(
                        resellerID: reseller, providerID: provider, delegatedAdmin: dap, lifetime: parseDuration(ttl)!,
                        maxUses: maxUses, issuedBy: "cli", customerEmail: nil, now: currentTime(), record: !offline
                    )
                    if json {
                        var out = JSONObjectWriter()
                        out.add("id", issued.invitation.id)
                        out.add("url", issued.url)
                        out.add("token", issued.token)
                        out.add("kid", issued.invitation.kid)
                        out.add("expires_at", RFC3339.format(issued.invitation.expiresAt))
                        print(out.finish())
                    } else {
                        print(issued.url)
                    }
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check a link: exit 0 when valid, else prints the reason code and exits 10 + its index.",
            discussion: "Reasons and exit codes: "
                + TokenError.Code.allCases.map { "\($0.rawValue)=\(ExitStatus.linkExitCode(for: $0))" }.joined(separator: ", ")
        )
        @OptionGroup var options: GlobalOptions
        @Argument(help: "A link or a bare token.") var link: String
        @Option(help: "Check as of this time (RFC 3339 or Unix seconds) instead of now.") var at: String?
        @Flag(help: "Check keys and claims only, not the invitation in the database.") var offline = false
        @Flag(help: "Print the outcome as JSON.") var json = false

        func validate() throws {
            if let at, RFC3339.parseTime(at) == nil {
                throw ValidationError("--at must be RFC 3339 (2026-11-26T12:00:00Z) or Unix seconds, between the years 1 and 9999")
            }
        }

        func run() async throws {
            var status: Int32 = 0
            try await ExitStatus.run {
                let keyring = try options.keyring.load()
                try await options.withStore(offline: offline) { store in
                    let service = InvitationService(
                        issuer: options.issuer, publicURL: options.publicURL, store: store, keyring: { keyring })
                    let now = at.flatMap(RFC3339.parseTime) ?? currentTime()
                    let check = try await service.check(InvitationService.token(fromLinkOrToken: link), now: now, offline: offline)
                    var out = JSONObjectWriter()
                    switch check {
                    case .valid(let verified, let invitation):
                        let claims = verified.claims
                        if json {
                            out.add("valid", true)
                            out.addNull("reason")
                            out.add("kid", verified.kid)
                            out.add("id", claims.invitationID)
                            out.add("reseller_id", claims.resellerID)
                            if let provider = claims.providerID { out.add("provider_id", provider) } else { out.addNull("provider_id") }
                            out.add("dap", claims.delegatedAdmin)
                            out.add("issued_at", RFC3339.format(claims.issuedAt))
                            out.add("expires_at", RFC3339.format(claims.expiresAt))
                            if let invitation {
                                out.add("uses", invitation.useCount)
                                if let maxUses = invitation.maxUses { out.add("max_uses", maxUses) } else { out.addNull("max_uses") }
                            }
                            print(out.finish())
                        } else {
                            var line = "valid: invitation \(claims.invitationID) from reseller \(claims.resellerID)"
                            if let provider = claims.providerID { line += " with provider \(provider)" }
                            line += claims.delegatedAdmin ? ", asks for delegated admin privileges" : ""
                            line += ", key \(verified.kid), expires \(RFC3339.format(claims.expiresAt))"
                            print(line)
                        }
                    case .invalid(let error):
                        if json {
                            out.add("valid", false)
                            out.add("reason", error.code.rawValue)
                            out.add("detail", error.detail)
                            print(out.finish())
                        } else {
                            print(error.code.rawValue)
                            printError("invitelink: link not valid: \(error.description)")
                        }
                        status = ExitStatus.linkExitCode(for: error.code)
                    }
                }
            }
            if status != 0 { throw ExitCode(status) }
        }
    }
}

/// Partner and customer ids: `[A-Za-z0-9._-]{1,64}`. Issuing refuses a link of 600 characters
/// or more, which two 64-character ids with a long public URL can reach; the default ids
/// (UUIDs) leave a link of about 510 characters with the default URL.
enum Identifier {
    static func isValid(_ id: String) -> Bool {
        let bytes = id.utf8
        return (1...64).contains(bytes.count)
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."):
                    true
                default: false
                }
            }
    }
}
