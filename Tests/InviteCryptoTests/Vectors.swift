import Foundation
import Testing

/// Reads the published test vectors from `../shared/vectors` (relative to the package root), or
/// from `$INVITELINK_VECTORS` when the package was cloned somewhere else.
///
/// The vectors are never copied into the repository: their folders carry the upstream licences
/// and sources. A missing folder fails the test that needed it, with the path it looked at,
/// rather than skipping it silently.
enum Vectors {
    struct Missing: Error, CustomStringConvertible {
        let description: String
    }

    static func directory(filePath: String = #filePath) throws -> URL {
        if let override = ProcessInfo.processInfo.environment["INVITELINK_VECTORS"], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) {
                let vectors = directory.deletingLastPathComponent().appendingPathComponent("shared/vectors", isDirectory: true)
                guard FileManager.default.fileExists(atPath: vectors.path) else {
                    throw Missing(description: "test vectors not found at \(vectors.path); set INVITELINK_VECTORS")
                }
                return vectors
            }
            directory = directory.deletingLastPathComponent()
        }
        throw Missing(description: "no Package.swift above \(filePath); set INVITELINK_VECTORS")
    }

    /// The JSON document at `relativePath` inside the vectors folder.
    static func json(_ relativePath: String) throws -> Any {
        let url = try directory().appendingPathComponent(relativePath)
        let data = try Data(contentsOf: url)
        return try JSONSerialization.jsonObject(with: data)
    }

    static func object(_ relativePath: String) throws -> [String: Any] {
        try #require(try json(relativePath) as? [String: Any], "\(relativePath) is not a JSON object")
    }
}

/// Lower-case hex as used by every vector file.
func hex(_ text: String) throws -> [UInt8] {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { throw Vectors.Missing(description: "odd-length hex: \(text)") }
    var out: [UInt8] = []
    out.reserveCapacity(digits.count / 2)
    func value(_ digit: UInt8) throws -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: throw Vectors.Missing(description: "not hex: \(text)")
        }
    }
    var index = 0
    while index < digits.count {
        out.append(try value(digits[index]) << 4 | value(digits[index + 1]))
        index += 2
    }
    return out
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
