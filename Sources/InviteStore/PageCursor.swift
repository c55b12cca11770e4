internal import InviteToken

/// The position after the last row of a page, handed to clients as an opaque string.
///
/// Keyset pagination: the next page starts strictly after `(time, key)` in the list's order, so
/// rows added or removed between two requests never make a page repeat or skip a row that was
/// there throughout. The string is `base64url("<list>:<time>:<key>")`; clients must not build
/// or edit it, and a string that does not decode to this shape is refused with
/// ``StoreError/Code/invalidCursor`` rather than read as "start over".
struct PageCursor: Equatable {
    /// Which list the cursor belongs to, so a cursor of one list is refused by another.
    enum List: String {
        case customers = "c1"
        case invitations = "i1"
        case acceptances = "a1"
        /// Customers with retained grants: (relationship or grant time, customer id).
        case customersWithRetained = "c2"
        /// A customer's partners: (0, partner id).
        case partners = "p1"
        /// A tenant's people: (0, email).
        case users = "u1"
        /// Audit entries: (0, seq).
        case audit = "l1"
        /// Webhook deliveries, newest first: (0, id).
        case deliveries = "d1"
    }

    var list: List
    /// The ordering time of the last row (relationship creation, invitation issue).
    var time: UnixTime
    /// The tie-breaker of the last row (relationship row id, invitation id).
    var key: String

    var encoded: String {
        Base64URL.encode(Array("\(list.rawValue):\(time):\(key)".utf8))
    }

    /// Decodes a cursor of `list`; throws ``StoreError/Code/invalidCursor`` for anything else.
    init(decoding text: String, for list: List) throws {
        let invalid = StoreError(.invalidCursor, "the page cursor is not one this list handed out")
        guard text.utf8.count <= 512,
            let bytes = Base64URL.decode(text),
            let plain = String(validating: bytes, as: UTF8.self)
        else { throw invalid }
        let parts = plain.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0] == list.rawValue,
            let time = UnixTime(parts[1]), String(time) == parts[1],
            !parts[2].isEmpty
        else { throw invalid }
        self.init(list: list, time: time, key: String(parts[2]))
    }

    /// Where a customers page starts: after this relationship's creation time and row id.
    static func customersPosition(_ text: String) throws -> (time: UnixTime, id: Int64) {
        try position(text, in: .customers)
    }

    /// Where a page of a list ordered by (time, integer row id) starts.
    static func position(_ text: String, in list: List) throws -> (time: UnixTime, id: Int64) {
        let decoded = try PageCursor(decoding: text, for: list)
        guard let id = Int64(decoded.key), String(id) == decoded.key else {
            throw StoreError(.invalidCursor, "the page cursor is not one this list handed out")
        }
        return (decoded.time, id)
    }

    init(list: List, time: UnixTime, key: String) {
        self.list = list
        self.time = time
        self.key = key
    }
}
