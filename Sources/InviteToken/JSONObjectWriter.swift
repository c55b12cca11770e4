/// Writes a flat JSON object for `--json` output, members in the order added.
public struct JSONObjectWriter: Sendable {
    private var bytes: [UInt8] = [UInt8(ascii: "{")]

    public init() {}

    private mutating func key(_ name: String) {
        if bytes.count > 1 { bytes.append(UInt8(ascii: ",")) }
        JSONWriter.appendString(name, to: &bytes)
        bytes.append(UInt8(ascii: ":"))
    }

    public mutating func add(_ name: String, _ value: String) { key(name); JSONWriter.appendString(value, to: &bytes) }
    public mutating func add(_ name: String, _ value: Bool) { key(name); JSONWriter.appendBool(value, to: &bytes) }
    public mutating func add(_ name: String, _ value: Int) { key(name); JSONWriter.appendInteger(Int64(value), to: &bytes) }
    public mutating func add(_ name: String, _ value: String?) {
        if let value { add(name, value) } else { addNull(name) }
    }
    public mutating func add(_ name: String, _ value: Int?) {
        if let value { add(name, value) } else { addNull(name) }
    }
    public mutating func addNull(_ name: String) { key(name); bytes.append(contentsOf: "null".utf8) }
    /// Adds already-encoded JSON.
    public mutating func addRaw(_ name: String, _ json: String) { key(name); bytes.append(contentsOf: json.utf8) }

    public func finish() -> String { String(decoding: bytes + [UInt8(ascii: "}")], as: UTF8.self) }

    /// Appends the finished object's bytes to `out`.
    public func finish(appendingTo out: inout [UInt8]) {
        out.append(contentsOf: bytes)
        out.append(UInt8(ascii: "}"))
    }
}
