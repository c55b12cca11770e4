internal import Foundation

/// RFC 3339 times in UTC with second precision, and Unix seconds.
public enum RFC3339 {
    /// `YYYY-MM-DDTHH:MM:SSZ`. Written by hand (from ``civil(_:)``) because it is on every API
    /// answer, and a Foundation formatter per call costs more than the rest of a request.
    public static func format(_ seconds: Int64) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(20)
        append(seconds, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends ``format(_:)``'s text to `out` as UTF-8 (the audit chain writes thousands a
    /// second; interpolating the fields cost more than hashing the entry).
    public static func append(_ seconds: Int64, to out: inout [UInt8]) {
        let (year, month, day, secondOfDay) = civil(seconds)
        func digits(_ value: Int64, _ count: Int) {
            var divisor: Int64 = 1
            for _ in 1..<count { divisor *= 10 }
            while divisor > 0 {
                out.append(UInt8(ascii: "0") + UInt8(value / divisor % 10))
                divisor /= 10
            }
        }
        // Years 0–9999 in four digits; any other as its number, sign and all.
        if year >= 0 && year < 10_000 { digits(year, 4) } else { JSONWriter.appendInteger(year, to: &out) }
        out.append(UInt8(ascii: "-"))
        digits(month, 2)
        out.append(UInt8(ascii: "-"))
        digits(day, 2)
        out.append(UInt8(ascii: "T"))
        digits(secondOfDay / 3600, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondOfDay / 60 % 60, 2)
        out.append(UInt8(ascii: ":"))
        digits(secondOfDay % 60, 2)
        out.append(UInt8(ascii: "Z"))
    }

    /// The UTC date of a Unix time (proleptic Gregorian, Howard Hinnant's days-to-civil) and
    /// the second of its day: what the formats here, and the pages' dates, are written from.
    /// Total over Int64: floor division and a non-negative remainder, so no step can overflow.
    public static func civil(_ seconds: Int64) -> (year: Int64, month: Int64, day: Int64, secondOfDay: Int64) {
        var days = seconds / 86_400
        var secondOfDay = seconds % 86_400
        if secondOfDay < 0 {
            days -= 1
            secondOfDay += 86_400
        }
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day, secondOfDay)
    }

    /// Parses an RFC 3339 time (with or without fractional seconds, which are dropped).
    public static func parse(_ text: String) -> Int64? {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970.rounded(.down)) }
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = formatter.date(from: text) { return Int64(date.timeIntervalSince1970.rounded(.down)) }
        return nil
    }

    /// The times this service reads from people: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59Z,
    /// what RFC 3339 can write. Anything outside is refused as input rather than carried into
    /// arithmetic with token claims.
    public static let representable: ClosedRange<Int64> = -62_135_596_800...253_402_300_799

    /// Parses `--at` values: RFC 3339 or whole Unix seconds, within ``representable``.
    public static func parseTime(_ text: String) -> Int64? {
        guard let seconds = Int64(text) ?? parse(text), representable.contains(seconds) else { return nil }
        return seconds
    }
}
