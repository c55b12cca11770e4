public import InviteStore
public import InviteToken

/// Sealing the audit log into signed checkpoints (DESIGN.md §8): the service does it every
/// minute, `invitelink audit seal` on demand. A checkpoint is a JWS (`typ:
/// audit-checkpoint+jwt`) by the primary key, which must be an Ed25519 key: anyone holding
/// the published public key can check it, and nobody can forge one without the private key.
public struct AuditSealer: Sendable {
    public var issuer: String
    public let keyring: @Sendable () -> Keyring
    /// Entries per checkpoint: each seal's write (the links and the checkpoint) holds SQLite's
    /// one writer for a few milliseconds at most, so acceptances waiting behind it do not stall.
    public static let batch = 2_000

    public init(issuer: String, keyring: @escaping @Sendable () -> Keyring) {
        self.issuer = issuer
        self.keyring = keyring
    }

    /// The checkpoint token for `draft`.
    public func sign(_ draft: CheckpointDraft) throws -> String {
        guard let (kid, material) = keyring().signingKey, material.algorithm == .ed25519 else {
            throw KeyringError(
                .noPrimaryKey, "sealing the audit log needs a primary Ed25519 key; run `invitelink keys rotate --alg ed25519`")
        }
        let claims = CheckpointClaims(
            issuer: issuer, checkpointID: try Identifiers.random(prefix: "ckpt_"), first: draft.first, last: draft.last,
            count: draft.count, previous: Base64URL.encode(draft.previous), head: Base64URL.encode(draft.head), issuedAt: draft.at)
        return try TokenSigner(kid: kid, material: material).sign(claims)
    }

    /// Seals everything not sealed yet, a batch per checkpoint; the checkpoints written.
    @discardableResult
    public func sealAll(_ store: any RelationshipStore, now: Int64) async throws -> [AuditCheckpoint] {
        var sealed: [AuditCheckpoint] = []
        while let checkpoint = try await store.sealAudit(at: now, limit: Self.batch, sign: { try sign($0) }) {
            sealed.append(checkpoint)
        }
        return sealed
    }
}

/// What `audit verify` found: counts, and the first problem if there is one.
public struct AuditReport: Sendable, Equatable {
    public var entries = 0
    public var checkpoints = 0
    /// Entries after the last checkpoint: not sealed yet, so not checked.
    public var unsealed = 0
    public var problem: AuditProblem?

    public init() {}
}

/// The first thing wrong with a sealed log: an entry altered (or moved: a reordering alters
/// the first entry it moves), deleted or inserted after sealing, or a checkpoint that cannot
/// be trusted.
public struct AuditProblem: Sendable, Equatable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case altered, deleted, inserted
        /// A checkpoint whose signature, claims or chain from the one before do not hold.
        case checkpoint
    }

    public var kind: Kind
    /// The first entry concerned, when one can be named.
    public var seq: Int64?
    public var message: String

    public var description: String { message }
}

/// Recomputes the audit log's hash chain and checks every checkpoint (DESIGN.md §8), from the
/// database or from an export, and names the first entry altered, deleted, inserted or moved
/// after it was sealed.
///
/// Checkpoints are checked with every key of the keyring that is not revoked, retired keys
/// included (``KeyringDirectory/loadForCheckpoints()``): rotating a key out keeps its old
/// checkpoints checkable. A checkpoint signed by a key that was later revoked is reported as
/// a problem: whoever had the key could have signed a false one.
public struct AuditVerifier: Sendable {
    public var issuer: String
    public var keyring: Keyring
    public var revoked: Set<String>
    public var now: Int64

    public init(issuer: String, keyring: Keyring, revoked: Set<String>, now: Int64) {
        self.issuer = issuer
        self.keyring = keyring
        self.revoked = revoked
        self.now = now
    }

    /// Checks the store's log, a checkpoint's range at a time.
    public func verify(_ store: any RelationshipStore) async throws -> AuditReport {
        var report = AuditReport()
        var previous: CheckpointClaims?
        // A pruned log starts after the cut; the first checkpoint left carries the head there.
        let pruned = try await store.auditPrunedThrough()
        let checkpoints = try await store.auditCheckpoints()
        // Unless the log was pruned, the first checkpoint starts the chain: one that chains from
        // elsewhere means earlier entries and their checkpoints are gone.
        if pruned == 0, let first = checkpoints.first, first.previous != AuditChain.genesis {
            report.problem = AuditProblem(
                kind: .deleted, seq: 1, message: "the first checkpoint does not start the chain: earlier entries and checkpoints are gone")
            return report
        }
        for checkpoint in checkpoints {
            let lower = previous?.last ?? pruned
            var entries: [AuditEntry] = []
            var page = PageRequest(limit: PageRequest.maximumLimit)
            while true {
                let result = try await store.auditEntries(AuditQuery(afterSeq: lower, throughSeq: checkpoint.last), page: page)
                entries += result.items
                guard let next = result.nextCursor else { break }
                page.cursor = next
            }
            let links = try await store.auditChainLinks((lower + 1)...max(lower + 1, checkpoint.last))
            if let problem = check(checkpoint.token, stored: checkpoint, after: previous, entries: entries, links: links) {
                report.problem = problem
                return report
            }
            previous = try claims(of: checkpoint.token)
            report.checkpoints += 1
            report.entries += entries.count
        }
        var page = PageRequest(limit: PageRequest.maximumLimit)
        while true {
            let result = try await store.auditEntries(AuditQuery(afterSeq: previous?.last ?? pruned), page: page)
            report.unsealed += result.items.count
            guard let next = result.nextCursor else { break }
            page.cursor = next
        }
        return report
    }

    /// Checks an export (``AuditExport``): its checkpoints, each with the entries before it.
    public func verify(export lines: [String]) throws -> AuditReport {
        var report = AuditReport()
        var previous: CheckpointClaims?
        var pending: [AuditEntry] = []
        var links: [Int64: [UInt8]] = [:], previousLinks: [Int64: [UInt8]] = [:]
        for (number, line) in lines.enumerated() where !line.isEmpty {
            switch try AuditExport.parse(line) {
            case .entry(let entry, let link, let previousLink):
                pending.append(entry)
                if let seq = entry.seq, let link { links[seq] = link }
                if let seq = entry.seq, let previousLink { previousLinks[seq] = previousLink }
            case .checkpoint(let token):
                let lower = previous?.last ?? ((try? claims(of: token))?.first ?? 1) - 1
                let covered = pending.filter { ($0.seq ?? 0) > lower }
                let coveredLinks = links.filter { $0.key > lower }
                if let problem = check(
                    token, stored: nil, after: previous, entries: covered, links: coveredLinks, previousLinks: previousLinks)
                {
                    report.problem = problem
                    return report
                }
                if let stray = pending.first(where: { ($0.seq ?? 0) <= lower }) {
                    report.problem = AuditProblem(
                        kind: .inserted, seq: stray.seq,
                        message: "entry \(stray.seq ?? 0) (line \(number)) lies before the checkpoint it precedes")
                    return report
                }
                previous = try claims(of: token)
                report.checkpoints += 1
                report.entries += covered.count
                pending = []
                links = [:]
                previousLinks = [:]
            }
        }
        report.unsealed = pending.count
        return report
    }

    /// The claims of a checkpoint token whose signature and claims check out; throws the
    /// token's reason otherwise.
    func claims(of token: String) throws -> CheckpointClaims {
        try TokenVerifier(issuer: issuer, maximumLifetime: CheckpointClaims.lifetime)
            .verify(token, as: CheckpointClaims.self, keyring: keyring, now: now).claims
    }

    /// The first problem of one checkpoint and the entries of its range, or nil.
    func check(
        _ token: String, stored: AuditCheckpoint?, after previous: CheckpointClaims?, entries: [AuditEntry], links: [Int64: [UInt8]]?,
        previousLinks: [Int64: [UInt8]]? = nil
    ) -> AuditProblem? {
        if let kid = Self.kid(of: token), revoked.contains(kid) {
            return AuditProblem(
                kind: .checkpoint, seq: stored?.first,
                message: "a checkpoint is signed by key \(kid), which is revoked: it cannot be trusted (key_revoked)")
        }
        let claims: CheckpointClaims
        do {
            claims = try self.claims(of: token)
        } catch {
            return AuditProblem(kind: .checkpoint, seq: stored?.first, message: "a checkpoint's signature does not hold: \(error)")
        }
        if let stored,
            stored.first != claims.first || stored.last != claims.last || stored.count != claims.count
                || Base64URL.encode(stored.head) != claims.head || Base64URL.encode(stored.previous) != claims.previous
        {
            return AuditProblem(
                kind: .checkpoint, seq: claims.first, message: "checkpoint \(claims.checkpointID)'s row differs from what it signed")
        }
        if let previous, claims.previous != previous.head {
            return AuditProblem(
                kind: .checkpoint, seq: claims.first,
                message: "checkpoint \(claims.checkpointID) does not follow the one before it: a checkpoint is missing")
        }
        guard var head = Base64URL.decode(claims.previous), head.count == 32 else {
            return AuditProblem(
                kind: .checkpoint, seq: claims.first, message: "checkpoint \(claims.checkpointID) has a malformed chain head")
        }
        // Walk the entries and the stored links together, in seq order: the first seq where they
        // part is the first entry touched.
        let linkSeqs = links.map { $0.keys.sorted() } ?? []
        var nextLink = 0
        // In an export, each entry also names the link before it: a line removed shows as an
        // entry whose named predecessor is not the entry before it in the file.
        var lastSeq = (previous?.last ?? claims.first - 1)
        for entry in entries {
            let seq = entry.seq ?? 0
            if let named = previousLinks?[seq], named != head {
                return AuditProblem(kind: .deleted, seq: lastSeq + 1, message: "an entry after \(lastSeq) was sealed and is gone: deleted")
            }
            defer { lastSeq = seq }
            while nextLink < linkSeqs.count, linkSeqs[nextLink] < seq {
                return AuditProblem(
                    kind: .deleted, seq: linkSeqs[nextLink], message: "entry \(linkSeqs[nextLink]) was sealed and is gone: deleted")
            }
            guard let link = try? AuditChain.link(after: head, entry) else {
                return AuditProblem(kind: .altered, seq: seq, message: "entry \(seq) cannot be hashed")
            }
            if let links {
                guard let stored = links[seq] else {
                    return AuditProblem(
                        kind: .inserted, seq: seq, message: "entry \(seq) was not there when its range was sealed: inserted")
                }
                nextLink += 1
                if stored != link {
                    return AuditProblem(kind: .altered, seq: seq, message: "entry \(seq) differs from what was sealed: altered or moved")
                }
            }
            head = link
        }
        if nextLink < linkSeqs.count {
            return AuditProblem(
                kind: .deleted, seq: linkSeqs[nextLink], message: "entry \(linkSeqs[nextLink]) was sealed and is gone: deleted")
        }
        if previousLinks != nil, lastSeq < claims.last, Base64URL.encode(head) != claims.head {
            return AuditProblem(kind: .deleted, seq: lastSeq + 1, message: "an entry after \(lastSeq) was sealed and is gone: deleted")
        }
        guard Base64URL.encode(head) == claims.head, Int64(entries.count) == claims.count else {
            let first = entries.first?.seq ?? claims.first
            return AuditProblem(
                kind: .altered, seq: first,
                message:
                    "the entries from \(first) to \(claims.last) do not hash to what checkpoint \(claims.checkpointID) signed: altered, deleted, inserted or moved"
            )
        }
        return nil
    }

    /// The `kid` of a token's header, read without checking anything else.
    static func kid(of token: String) -> String? {
        guard let header = token.split(separator: ".").first, let bytes = Base64URL.decode(header),
            case .object(let members) = try? StrictJSON.parse(bytes)
        else { return nil }
        for (name, value) in members where name == "kid" {
            if case .string(let kid) = value { return kid }
        }
        return nil
    }
}

/// The export format (`invitelink audit export`): JSON Lines, each entry as its canonical
/// JSON with `"type":"entry"` first and its sealed chain `link` (base64url) last, each
/// checkpoint as `{"type":"checkpoint","token":…}` after the entries it seals, in `seq` order.
/// What `audit verify --file` reads back; the links let it name the first entry touched.
public enum AuditExport {
    public enum Line {
        case entry(AuditEntry, link: [UInt8]?, previous: [UInt8]?)
        case checkpoint(String)
    }

    /// An entry's line: its canonical JSON, its sealed `link` and the `prev` link it chains from.
    public static func line(_ entry: AuditEntry, link: [UInt8]?, previous: [UInt8]?) -> String {
        var line = "{\"type\":\"entry\"," + entry.canonicalJSON.dropFirst().dropLast()
        if let previous { line += ",\"prev\":\"\(Base64URL.encode(previous))\"" }
        if let link { line += ",\"link\":\"\(Base64URL.encode(link))\"" }
        return line + "}"
    }

    public static func line(checkpoint token: String) -> String {
        var out = JSONObjectWriter()
        out.add("type", "checkpoint")
        out.add("token", token)
        return out.finish()
    }

    /// Reads a line back; entries must carry every member of the canonical form.
    public static func parse(_ line: String) throws -> Line {
        let invalid = StoreError(.invalidInput, "not an audit export line")
        guard case .object(let members) = try StrictJSON.parse(line) else { throw invalid }
        var values: [String: JSONValue] = [:]
        for (name, value) in members { values[name] = value }
        switch values["type"] {
        case .string("checkpoint")?:
            guard case .string(let token)? = values["token"] else { throw invalid }
            return .checkpoint(token)
        case .string("entry")?:
            guard case .integer(let seq)? = values["seq"], case .string(let at)? = values["at"], let time = RFC3339.parse(at),
                case .object(let actorMembers)? = values["actor"], case .string(let action)? = values["action"],
                case .string(let subject)? = values["subject"], case .object? = values["details"]
            else { throw invalid }
            var actor = AuditActor(kind: "", id: nil)
            for (name, value) in actorMembers {
                if name == "kind", case .string(let kind) = value { actor.kind = kind }
                if name == "id", case .string(let id) = value { actor.id = id }
            }
            // `details` as it appears in the line: re-serialised bytes would not be the sealed ones.
            guard let details = Self.rawMember("details", of: line) else { throw invalid }
            func optional(_ name: String) -> String? { if case .string(let text)? = values[name] { text } else { nil } }
            return .entry(
                AuditEntry(
                    seq: seq, at: time, actor: actor, action: action, subject: subject, detail: details == "{}" ? "" : details,
                    partnerID: optional("partner_id"), customerID: optional("customer_id")),
                link: optional("link").flatMap { Base64URL.decode($0) }, previous: optional("prev").flatMap { Base64URL.decode($0) })
        default:
            throw invalid
        }
    }

    /// The raw text of object member `name` in a line this exporter wrote (objects nest only
    /// in `actor` and `details`, and strings are escaped by the writer).
    static func rawMember(_ name: String, of line: String) -> String? {
        guard let start = line.range(of: "\"\(name)\":{") else { return nil }
        var depth = 0
        var inString = false, escaped = false
        var index = line.index(before: start.upperBound)
        let begin = index
        while index < line.endIndex {
            let character = line[index]
            if inString {
                if escaped { escaped = false } else if character == "\\" { escaped = true } else if character == "\"" { inString = false }
            } else if character == "\"" {
                inString = true
            } else if character == "{" {
                depth += 1
            } else if character == "}" {
                depth -= 1
                if depth == 0 { return String(line[begin...index]) }
            }
            index = line.index(after: index)
        }
        return nil
    }
}
