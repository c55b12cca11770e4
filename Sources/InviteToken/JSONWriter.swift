/// Appends JSON text to a byte buffer without Foundation: the token hot path writes its few
/// members directly.
public enum JSONWriter {
    /// Appends `value` as a JSON string literal, escaping what RFC 8259 requires.
    public static func appendString(_ value: String, to output: inout [UInt8]) {
        var value = value
        value.withUTF8 { appendString(utf8: $0, to: &output) }
    }

    /// Copies the runs of bytes that need no escaping whole: ids and names have none, a draft
    /// email's body only its line breaks.
    private static func appendString(utf8 bytes: UnsafeBufferPointer<UInt8>, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "\""))
        var runStart = 0
        for index in 0..<bytes.count {
            let byte = bytes[index]
            guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart..<index]))
            appendEscaped(byte, to: &output)
            runStart = index + 1
        }
        output.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[runStart...]))
        output.append(UInt8(ascii: "\""))
    }

    private static func appendEscaped(_ byte: UInt8, to output: inout [UInt8]) {
        switch byte {
        case 0x0a: output.append(0x5c); output.append(UInt8(ascii: "n"))
        case 0x0d: output.append(0x5c); output.append(UInt8(ascii: "r"))
        case 0x09: output.append(0x5c); output.append(UInt8(ascii: "t"))
        case 0..<0x20:
            let hex = Array("0123456789abcdef".utf8)
            output.append(contentsOf: [
                0x5c, UInt8(ascii: "u"), UInt8(ascii: "0"), UInt8(ascii: "0"), hex[Int(byte >> 4)], hex[Int(byte & 0xf)],
            ])
        default: output.append(0x5c); output.append(byte)
        }
    }

    public static func appendInteger(_ value: Int64, to output: inout [UInt8]) {
        if value == 0 { output.append(UInt8(ascii: "0")); return }
        var magnitude = value.magnitude
        var digits:
            (
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8,
                UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8
            ) =
                (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var count = 0
        withUnsafeMutableBytes(of: &digits) { buffer in
            while magnitude > 0 {
                buffer[count] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
                count += 1
            }
            if value < 0 { output.append(UInt8(ascii: "-")) }
            for position in stride(from: count - 1, through: 0, by: -1) { output.append(buffer[position]) }
        }
    }

    public static func appendBool(_ value: Bool, to output: inout [UInt8]) {
        output.append(contentsOf: value ? "true".utf8 : "false".utf8)
    }
}
