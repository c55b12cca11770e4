import Foundation
import InviteToken
import Testing

/// The hand-written RFC 3339 formatter agrees with Foundation's everywhere it matters.
@Suite struct RFC3339FormatTests {
    @Test(
        arguments: [0, 1, 59, 86_399, 86_400, 951_782_400, 1_709_164_800, 1_800_000_000, 4_102_444_799, 253_402_300_799, -1, -86_401]
            as [Int64])
    func formatMatchesFoundation(seconds: Int64) {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        formatter.timeZone = TimeZone(identifier: "UTC")
        #expect(RFC3339.format(seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    @Test func formatRoundTripsThroughParse() {
        for seconds in stride(from: Int64(0), to: 4_000_000_000, by: 7_777_777) {
            #expect(RFC3339.parse(RFC3339.format(seconds)) == seconds, "\(seconds)")
        }
    }
}
