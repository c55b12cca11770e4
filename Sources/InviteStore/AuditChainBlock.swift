internal import Foundation

/// The links one seal recorded, stored as one value (SQLite's `audit_chain_blocks.links`):
/// for each sealed entry in `seq` order, its `seq` as 8 bytes big-endian, then its 32-byte link.
enum AuditChainBlock {
    static let recordSize = 8 + 32

    static func encode(_ links: [(seq: Int64, link: [UInt8])]) -> Data {
        var data = Data(capacity: links.count * recordSize)
        for (seq, link) in links {
            withUnsafeBytes(of: seq.bigEndian) { data.append(contentsOf: $0) }
            data.append(contentsOf: link)
        }
        return data
    }

    /// Adds the links of `data` whose `seq` lies in `range` to `links`. A block whose length is
    /// not whole records (altered by hand) contributes none, so the entries it sealed then
    /// read as not sealed and `audit verify` reports them.
    static func decode(_ data: Data, in range: ClosedRange<Int64>, into links: inout [Int64: [UInt8]]) {
        guard data.count % recordSize == 0 else { return }
        data.withUnsafeBytes { bytes in
            for offset in stride(from: 0, to: bytes.count, by: recordSize) {
                let seq = Int64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: Int64.self))
                guard range.contains(seq) else { continue }
                links[seq] = Array(bytes[(offset + 8)..<(offset + recordSize)])
            }
        }
    }
}
