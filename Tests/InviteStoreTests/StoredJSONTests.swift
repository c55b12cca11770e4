import Foundation
import Testing

@testable import InviteStore

/// Both stores keep an acceptance's answer as JSON so that a repeat answers the same. Rows
/// written before the hand-written encoder were Foundation's `JSONEncoder` with sorted keys.
@Suite("Stored acceptance JSON")
struct StoredJSONTests {
    static let acceptance = Acceptance(
        invitationID: "GSbKxMVr1OQpaLeQ2PrMUQ", customerID: "contoso", acceptedBy: "cred_contoso.admin",
        acceptedAt: 1_800_000_000,
        relationships: [
            RelationshipOutcome(partnerID: "reseller-1", role: .reseller, created: true),
            RelationshipOutcome(partnerID: "provider-1", role: .provider, created: false),
        ],
        delegatedAdmin: true
    )

    @Test("the encoding is byte for byte what JSONEncoder with sorted keys wrote before")
    func sameBytesAsBefore() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for acceptance in [Self.acceptance, Self.withoutRelationships] {
            #expect(StoredJSON.encode(acceptance) == String(decoding: try encoder.encode(acceptance), as: UTF8.self))
        }
    }

    @Test("an answer with quotes, backslashes and non-ASCII in its ids reads back the same")
    func roundTrip() throws {
        var acceptance = Self.acceptance
        acceptance.customerID = #"a "quoted" \ customer/é"#
        acceptance.acceptedBy = "line\nbreak"
        #expect(try StoredJSON.decodeAcceptance(StoredJSON.encode(acceptance)) == acceptance)
    }

    static var withoutRelationships: Acceptance {
        var acceptance = acceptance
        acceptance.relationships = []
        acceptance.delegatedAdmin = false
        return acceptance
    }
}
