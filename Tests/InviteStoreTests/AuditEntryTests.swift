import InviteStore
import Testing

/// The bytes an entry hashes into the audit chain. Every checkpoint ever sealed covers them, so
/// they are pinned here, byte for byte: a change to them would make every old seal fail.
@Suite("Audit entries' canonical JSON")
struct AuditEntryTests {
    @Test("every member, in order, with escapes, nulls and the details as stored")
    func canonicalBytes() {
        let full = AuditEntry(
            seq: 42, at: 1_764_633_600, actor: AuditActor(kind: "customer_user", id: "usr_1"), action: "relationship.created",
            subject: "cus_\"q\"\\\n\u{1}é", detail: #"{"role":"reseller"}"#, partnerID: "r1", customerID: nil)
        #expect(
            full.canonicalJSON
                == #"{"seq":42,"at":"2025-12-02T00:00:00Z","actor":{"kind":"customer_user","id":"usr_1"},"action":"relationship.created","subject":"cus_\"q\"\\\n\u0001é","details":{"role":"reseller"},"partner_id":"r1","customer_id":null}"#
        )
        let bare = AuditEntry(at: -62_135_596_800, actor: .cli, action: "key.rotated", subject: "k1")
        #expect(
            bare.canonicalJSON
                == #"{"seq":null,"at":"0001-01-01T00:00:00Z","actor":{"kind":"cli","id":null},"action":"key.rotated","subject":"k1","details":{},"partner_id":null,"customer_id":null}"#
        )
        var appended: [UInt8] = [0x7a]
        bare.appendCanonicalJSON(to: &appended)
        #expect(appended == [0x7a] + Array(bare.canonicalJSON.utf8))
    }

    @Test("each link is SHA-256 of the link before and the canonical bytes, from 32 zero bytes")
    func linksOfTheBytes() throws {
        // The expected links are computed outside Swift: Python's hashlib over the same bytes.
        let entry = AuditEntry(seq: 1, at: 0, actor: .system, action: "sign_in.failed", subject: "x")
        func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }
        var linker = AuditChain.Linker(after: AuditChain.genesis)
        let first = try linker.append(entry)
        #expect(hex(first) == "440440afa9e4df37a9ec3ebb49e86b0a6265b7f89314cc33fe1fe0e932874f0d")
        #expect(hex(try linker.append(entry)) == "d41dab701abe4a7a2a2768604034ce44cc2867691fa755c60e5fa22f2aded51b")
        #expect(hex(linker.head) == "d41dab701abe4a7a2a2768604034ce44cc2867691fa755c60e5fa22f2aded51b")
        #expect(try AuditChain.link(after: AuditChain.genesis, entry) == first)
    }
}
