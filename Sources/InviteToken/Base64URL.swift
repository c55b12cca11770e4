/// Base64url without padding (RFC 4648 §5), with a decoder that accepts exactly one spelling
/// of each byte string.
///
/// Foundation's decoder maps several strings to the same bytes ("YR==" and "YQ==") and accepts
/// padding; a token whose bytes can be re-spelled is malleable, so the decoder here refuses
/// padding, the `+` and `/` alphabet, a length of 1 mod 4 and non-zero trailing bits.
public enum Base64URL {
    private static let alphabet: [UInt8] = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_".utf8)

    /// 255 marks a byte outside the alphabet.
    private static let decodeTable: [UInt8] = {
        var table = [UInt8](repeating: 255, count: 256)
        for (index, byte) in alphabet.enumerated() { table[Int(byte)] = UInt8(index) }
        return table
    }()

    public static func encodedLength(of byteCount: Int) -> Int {
        (byteCount * 4 + 2) / 3
    }

    /// Appends the encoding of `bytes` to `output`, writing in place (the token hot path).
    public static func encode(_ bytes: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) {
        let count = bytes.count
        let start = output.count
        let length = encodedLength(of: count)
        output.append(contentsOf: repeatElement(0, count: length))
        alphabet.withUnsafeBufferPointer { table in
            output.withUnsafeMutableBufferPointer { buffer in
                var out = start
                var index = 0
                while index + 3 <= count {
                    let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8 | UInt32(bytes[index + 2])
                    buffer[out] = table[Int(chunk >> 18 & 63)]
                    buffer[out + 1] = table[Int(chunk >> 12 & 63)]
                    buffer[out + 2] = table[Int(chunk >> 6 & 63)]
                    buffer[out + 3] = table[Int(chunk & 63)]
                    index += 3
                    out += 4
                }
                switch count - index {
                case 1:
                    let chunk = UInt32(bytes[index]) << 16
                    buffer[out] = table[Int(chunk >> 18 & 63)]
                    buffer[out + 1] = table[Int(chunk >> 12 & 63)]
                case 2:
                    let chunk = UInt32(bytes[index]) << 16 | UInt32(bytes[index + 1]) << 8
                    buffer[out] = table[Int(chunk >> 18 & 63)]
                    buffer[out + 1] = table[Int(chunk >> 12 & 63)]
                    buffer[out + 2] = table[Int(chunk >> 6 & 63)]
                default:
                    break
                }
            }
        }
    }

    public static func encode<Bytes: Collection>(_ bytes: Bytes) -> String where Bytes.Element == UInt8 {
        var output: [UInt8] = []
        output.reserveCapacity(encodedLength(of: bytes.count))
        let contiguous = Array(bytes)
        contiguous.withUnsafeBytes { encode($0, appendingTo: &output) }
        return String(decoding: output, as: UTF8.self)
    }

    /// Decodes canonical base64url, or returns nil.
    public static func decode(_ text: some StringProtocol) -> [UInt8]? {
        var copy = String(text)
        return copy.withUTF8 { decode(UnsafeRawBufferPointer($0)) }
    }

    /// Decodes canonical base64url, or returns nil.
    public static func decode(_ encoded: UnsafeRawBufferPointer) -> [UInt8]? {
        var output: [UInt8] = []
        guard decode(encoded, appendingTo: &output) else { return nil }
        return output
    }

    /// The most bytes `count` characters of base64url can decode to.
    public static func decodedCapacity(of count: Int) -> Int {
        count * 3 / 4
    }

    /// Decodes canonical base64url into `output`; false (and `output` unspecified) otherwise.
    public static func decode(_ encoded: UnsafeRawBufferPointer, appendingTo output: inout [UInt8]) -> Bool {
        let start = output.count
        output.append(contentsOf: repeatElement(0, count: decodedCapacity(of: encoded.count)))
        let written = output.withUnsafeMutableBytes { buffer in
            decode(encoded, into: UnsafeMutableRawBufferPointer(rebasing: buffer[start...]))
        }
        guard let written else { return false }
        output.removeLast(output.count - start - written)
        return true
    }

    /// Decodes canonical base64url into the front of `output`, which holds at least
    /// ``decodedCapacity(of:)`` bytes, and returns how many it wrote; nil (and `output`
    /// unspecified) when the text is not canonical. The verifier decodes into stack memory
    /// through this, so checking a token allocates nothing for its parts.
    public static func decode(_ encoded: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) -> Int? {
        let count = encoded.count
        guard count % 4 != 1, output.count >= decodedCapacity(of: count) else { return nil }
        return decodeTable.withUnsafeBufferPointer { table -> Int? in
            var out = 0
            var index = 0
            while index + 4 <= count {
                let a = table[Int(encoded[index])], b = table[Int(encoded[index + 1])]
                let c = table[Int(encoded[index + 2])], d = table[Int(encoded[index + 3])]
                guard a | b | c | d < 64 else { return nil }
                let chunk = UInt32(a) << 18 | UInt32(b) << 12 | UInt32(c) << 6 | UInt32(d)
                output[out] = UInt8(truncatingIfNeeded: chunk >> 16)
                output[out + 1] = UInt8(truncatingIfNeeded: chunk >> 8)
                output[out + 2] = UInt8(truncatingIfNeeded: chunk)
                index += 4
                out += 3
            }
            switch count - index {
            case 2:
                let a = table[Int(encoded[index])], b = table[Int(encoded[index + 1])]
                // Four of b's bits fall past the end: they must be zero.
                guard a | b < 64, b & 0x0f == 0 else { return nil }
                output[out] = a << 2 | b >> 4
                out += 1
            case 3:
                let a = table[Int(encoded[index])], b = table[Int(encoded[index + 1])], c = table[Int(encoded[index + 2])]
                guard a | b | c < 64, c & 0x03 == 0 else { return nil }
                output[out] = a << 2 | b >> 4
                output[out + 1] = (b & 0x0f) << 4 | c >> 2
                out += 2
            default:
                break
            }
            return out
        }
    }
}
