import Foundation
import InviteToken

/// The JSON both stores keep in text columns: an acceptance's answer (so a repeat answers byte
/// for byte the same, whichever backend holds it) and an audit entry's detail.
enum StoredJSON {
    static func encode(_ acceptance: Acceptance) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(acceptance), as: UTF8.self)
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
