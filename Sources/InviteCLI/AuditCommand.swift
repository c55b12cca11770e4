import ArgumentParser
import Foundation
import InviteService
import InviteStore
import InviteToken

extension GlobalOptions {
    /// Records a key change in the audit log of the database this command is pointed at
    /// (DESIGN.md §8). The change has already happened when this runs, on purpose: a revocation
    /// must never wait for, or fail with, a database. When the entry cannot be written the
    /// command says so on stderr and still exits 0; the key change stands.
    func auditKeyChange(_ action: String, kid: String, detail: [String: String] = [:], at: Int64) async {
        var json = JSONObjectWriter()
        for name in detail.keys.sorted() { json.add(name, detail[name]!) }
        let entry = AuditEntry(at: at, actor: .cli, action: action, subject: kid, detail: detail.isEmpty ? "" : json.finish())
        do {
            try await withStore { store in try await store.appendAudit(entry) }
        } catch {
            printError("invitelink: warning: \(action) \(kid) was made but is not in the audit log: \(error)")
        }
    }
}

struct Audit: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "audit",
        abstract: "Read, seal, verify and export the audit log.",
        subcommands: [List.self, Seal.self, Verify.self, Export.self]
    )

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print audit entries, oldest first (--json: JSON Lines, for a SIEM).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Only entries at or after TIME (RFC 3339 or Unix seconds).") var since: String?
        @Option(help: "Only entries of this action, e.g. relationship.removed.") var action: String?
        @Option(help: "Only entries about this partner.") var partner: String?
        @Option(help: "Only entries about this customer.") var customer: String?
        @Flag(help: "One JSON object per line, as GET /v1/audit's items.") var json = false

        func validate() throws {
            if let since, RFC3339.parseTime(since) == nil { throw ValidationError("--since must be RFC 3339 or Unix seconds") }
        }

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    let query = AuditQuery(
                        since: since.flatMap(RFC3339.parseTime), action: action, partnerID: partner, customerID: customer)
                    // Streams a page at a time: an export of millions of entries never sits in memory.
                    var page = PageRequest(limit: PageRequest.maximumLimit)
                    while true {
                        let result = try await store.auditEntries(query, page: page)
                        for entry in result.items {
                            if json {
                                print(entry.canonicalJSON)
                            } else {
                                let who = entry.actor.id.map { "\(entry.actor.kind):\($0)" } ?? entry.actor.kind
                                print(
                                    "\(entry.seq ?? 0)\t\(RFC3339.format(entry.at))\t\(who)\t\(entry.action)\t\(entry.subject)\t\(entry.detail.isEmpty ? "{}" : entry.detail)"
                                )
                            }
                        }
                        guard let next = result.nextCursor else { break }
                        page.cursor = next
                    }
                }
            }
        }
    }

    struct Seal: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Seal the entries not sealed yet into signed checkpoints (the service does it every minute).")
        @OptionGroup var options: GlobalOptions

        func run() async throws {
            try await ExitStatus.run {
                let keyring = try options.keyring.load()
                try await options.withStore { store in
                    let sealed = try await AuditSealer(issuer: options.issuer, keyring: { keyring }).sealAll(store, now: currentTime())
                    if let last = sealed.last {
                        print(
                            "sealed \(sealed.reduce(0) { $0 + $1.count }) entries in \(sealed.count) checkpoint(s), through seq \(last.last)"
                        )
                    } else {
                        print("nothing to seal")
                    }
                }
            }
        }
    }

    struct Verify: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Recompute the hash chain and check every checkpoint; exit 1 naming the first entry altered, deleted, inserted or moved."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "Check an export file (`audit export`) instead of the database.") var file: String?

        func run() async throws {
            try await ExitStatus.run {
                let (keyring, revoked) = try options.keyring.loadForCheckpoints()
                let verifier = AuditVerifier(issuer: options.issuer, keyring: keyring, revoked: revoked, now: currentTime())
                let report: AuditReport
                if let file {
                    guard let data = FileManager.default.contents(atPath: file) else { throw CLIError("cannot read \(file)") }
                    report = try verifier.verify(export: String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init))
                } else {
                    report = try await options.withStore { store in try await verifier.verify(store) }
                }
                if let problem = report.problem {
                    printError("invitelink: audit log does not verify: \(problem.message)")
                    if let seq = problem.seq { print("first bad seq: \(seq) (\(problem.kind.rawValue))") }
                    throw ExitCode(1)
                }
                print(
                    "audit log verified: \(report.entries) entries in \(report.checkpoints) checkpoints; \(report.unsealed) entries not sealed yet"
                )
            }
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the sealed entries up to TIME, with their checkpoints, as JSON Lines that `audit verify --file` checks.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Export the checkpoints made at or before TIME (RFC 3339 or Unix seconds), with their entries.") var until: String

        func validate() throws {
            if RFC3339.parseTime(until) == nil { throw ValidationError("--until must be RFC 3339 or Unix seconds") }
        }

        func run() async throws {
            try await ExitStatus.run {
                let limit = RFC3339.parseTime(until)!
                try await options.withStore { store in
                    var after: Int64 = 0
                    for checkpoint in try await store.auditCheckpoints() where checkpoint.at <= limit {
                        let links = try await store.auditChainLinks((after + 1)...max(after + 1, checkpoint.last))
                        var previous = checkpoint.previous
                        var page = PageRequest(limit: PageRequest.maximumLimit)
                        while true {
                            let result = try await store.auditEntries(AuditQuery(afterSeq: after, throughSeq: checkpoint.last), page: page)
                            for entry in result.items {
                                let link = entry.seq.flatMap { links[$0] }
                                print(AuditExport.line(entry, link: link, previous: previous))
                                previous = link ?? previous
                            }
                            guard let next = result.nextCursor else { break }
                            page.cursor = next
                        }
                        print(AuditExport.line(checkpoint: checkpoint.token))
                        after = checkpoint.last
                    }
                }
            }
        }
    }
}
