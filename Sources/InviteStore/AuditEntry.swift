internal import InviteCrypto
public import InviteToken

/// Who did something (DESIGN.md §8): a partner's or a customer's user, an API credential, the
/// CLI, or the service itself. The store records the acting id as given and works its kind out
/// from it: `cli` and `system` are themselves, `cred_…` is a credential, any other id a user
/// (of a partner or a customer, by the user's tenant).
public struct AuditActor: Sendable, Equatable {
    public var kind: String
    public var id: String?

    public init(kind: String, id: String?) {
        self.kind = kind
        self.id = id
    }

    public static let cli = AuditActor(kind: "cli", id: nil)
    public static let system = AuditActor(kind: "system", id: nil)
}

/// One append-only audit row: who did what to which subject, and which partner and customer
/// it concerns (what `GET /v1/audit` scopes by).
public struct AuditEntry: Sendable, Equatable {
    /// The entry's place in the log; nil until stored.
    public var seq: Int64?
    public var at: UnixTime
    public var actor: AuditActor
    /// e.g. `invitation.issued`, `relationship.removed`, `key.rotated`, `sign_in.failed`.
    public var action: String
    public var subject: String
    /// A compact JSON object (or empty, for `{}`), never a secret, password or token.
    public var detail: String
    public var partnerID: String?
    public var customerID: String?

    public init(
        seq: Int64? = nil, at: UnixTime, actor: AuditActor, action: String, subject: String, detail: String = "",
        partnerID: String? = nil, customerID: String? = nil
    ) {
        self.seq = seq
        self.at = at
        self.actor = actor
        self.action = action
        self.subject = subject
        self.detail = detail
        self.partnerID = partnerID
        self.customerID = customerID
    }

    /// The entry as JSON, members in a fixed order, `details` as stored: what the API, the CLI
    /// and exports print, and the exact bytes the hash chain covers.
    public var canonicalJSON: String {
        var bytes: [UInt8] = []
        appendCanonicalJSON(to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``canonicalJSON``'s bytes to `out`. Written member by member with the names as
    /// literals (the hash chain hashes every entry this way, thousands a second); the bytes are
    /// those every seal so far has hashed, so they must never change (`AuditEntryTests`).
    public func appendCanonicalJSON(to out: inout [UInt8]) {
        func string(_ value: String?) {
            if let value { JSONWriter.appendString(value, to: &out) } else { out.append(contentsOf: "null".utf8) }
        }
        out.append(contentsOf: #"{"seq":"#.utf8)
        if let seq { JSONWriter.appendInteger(seq, to: &out) } else { out.append(contentsOf: "null".utf8) }
        out.append(contentsOf: #","at":""#.utf8)
        RFC3339.append(at, to: &out)
        out.append(contentsOf: #"","actor":{"kind":"#.utf8)
        string(actor.kind)
        out.append(contentsOf: #","id":"#.utf8)
        string(actor.id)
        out.append(contentsOf: #"},"action":"#.utf8)
        string(action)
        out.append(contentsOf: #","subject":"#.utf8)
        string(subject)
        out.append(contentsOf: #","details":"#.utf8)
        out.append(contentsOf: detail.isEmpty ? "{}".utf8 : detail.utf8)
        out.append(contentsOf: #","partner_id":"#.utf8)
        string(partnerID)
        out.append(contentsOf: #","customer_id":"#.utf8)
        string(customerID)
        out.append(UInt8(ascii: "}"))
    }
}

/// The audit log's hash chain (DESIGN.md §8): each entry's link is SHA-256 of the link before
/// it and the entry's canonical JSON, in `seq` order, from 32 zero bytes. A checkpoint signs
/// the link after its last entry; recomputing the chain from the rows finds any entry altered,
/// deleted, inserted or moved after it was sealed.
public enum AuditChain {
    public static let genesis = [UInt8](repeating: 0, count: 32)

    public static func link(after previous: [UInt8], _ entry: AuditEntry) throws -> [UInt8] {
        var linker = Linker(after: previous)
        return try linker.append(entry)
    }

    /// Links entries one after another in `seq` order, hashing each into one reused buffer
    /// (a seal links thousands of entries at a time).
    public struct Linker {
        /// The link after the last entry appended: the chain's head so far.
        public private(set) var head: [UInt8]
        private var buffer: [UInt8] = []

        public init(after previous: [UInt8]) {
            head = previous
            buffer.reserveCapacity(512)
        }

        /// Appends `entry` and returns its link.
        public mutating func append(_ entry: AuditEntry) throws -> [UInt8] {
            buffer.removeAll(keepingCapacity: true)
            buffer.append(contentsOf: head)
            entry.appendCanonicalJSON(to: &buffer)
            head = try Digest.sha256(buffer)
            return head
        }
    }
}

/// Which entries to read: all of them, or those at or after a time, of one action, about one
/// partner or one customer; always in `seq` order.
public struct AuditQuery: Sendable, Equatable {
    public var since: UnixTime?
    public var action: String?
    public var partnerID: String?
    public var customerID: String?
    /// Only entries with `seq` above this.
    public var afterSeq: Int64?
    /// Only entries with `seq` up to this (an export's end).
    public var throughSeq: Int64?

    public init(
        since: UnixTime? = nil, action: String? = nil, partnerID: String? = nil, customerID: String? = nil, afterSeq: Int64? = nil,
        throughSeq: Int64? = nil
    ) {
        self.since = since
        self.action = action
        self.partnerID = partnerID
        self.customerID = customerID
        self.afterSeq = afterSeq
        self.throughSeq = throughSeq
    }
}

/// A stored checkpoint: the range it seals and its signed token. The token's claims are what
/// counts; the columns beside it are for queries and are checked against them.
public struct AuditCheckpoint: Sendable, Equatable {
    public var id: Int64
    public var first: Int64
    public var last: Int64
    public var count: Int64
    public var previous: [UInt8]
    public var head: [UInt8]
    public var at: UnixTime
    public var token: String

    public init(id: Int64, first: Int64, last: Int64, count: Int64, previous: [UInt8], head: [UInt8], at: UnixTime, token: String) {
        self.id = id
        self.first = first
        self.last = last
        self.count = count
        self.previous = previous
        self.head = head
        self.at = at
        self.token = token
    }
}

/// What a seal is about to record, for the signer: the entries it covers and the chain heads.
public struct CheckpointDraft: Sendable {
    public var first: Int64
    public var last: Int64
    public var count: Int64
    public var previous: [UInt8]
    public var head: [UInt8]
    public var at: UnixTime
}
