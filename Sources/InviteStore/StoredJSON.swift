import Foundation
import InviteToken

/// The JSON both stores keep in text columns: an acceptance's answer (so a repeat answers byte
/// for byte the same, whichever backend holds it) and an audit entry's detail.
enum StoredJSON {
    /// The members of `Acceptance`'s Codable form, sorted by name, as `JSONEncoder` with
    /// `.sortedKeys` writes them, but without it: this runs inside every acceptance's
    /// transaction, on the one writer.
    static func encode(_ acceptance: Acceptance) -> String {
        var relationships: [UInt8] = [UInt8(ascii: "[")]
        for outcome in acceptance.relationships {
            if relationships.count > 1 { relationships.append(UInt8(ascii: ",")) }
            var object = JSONObjectWriter()
            object.add("created", outcome.created)
            object.add("partnerID", outcome.partnerID)
            object.add("role", outcome.role.rawValue)
            relationships.append(contentsOf: object.finish().utf8)
        }
        relationships.append(UInt8(ascii: "]"))
        var out = JSONObjectWriter()
        out.add("acceptedAt", Int(acceptance.acceptedAt))
        out.add("acceptedBy", acceptance.acceptedBy)
        out.add("customerID", acceptance.customerID)
        out.add("delegatedAdmin", acceptance.delegatedAdmin)
        out.add("invitationID", acceptance.invitationID)
        out.addRaw("relationships", String(decoding: relationships, as: UTF8.self))
        return out.finish()
    }

    static func decodeAcceptance(_ json: String) throws -> Acceptance {
        do {
            return try JSONDecoder().decode(Acceptance.self, from: Data(json.utf8))
        } catch {
            throw StoreError(.unavailable, "unexpected value in acceptances.result")
        }
    }

    /// A flat object with its members sorted by name, written without Foundation's encoder
    /// (every write carries one).
    static func auditDetail(_ object: [String: String]) -> String {
        var out = JSONObjectWriter()
        for name in object.keys.sorted() { out.add(name, object[name]!) }
        return out.finish()
    }
}
