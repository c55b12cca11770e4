public import Foundation

/// Reads the published test vectors from `../shared/vectors` (relative to the package root), or
/// from `$INVITELINK_VECTORS`.
///
/// The vectors are never copied into the repository: their folders carry the upstream licences
/// and sources. A clean clone made elsewhere (`git clone -q . "$(mktemp -d)"`) finds them next
/// to the repository it was cloned from, through its `origin`. A missing folder fails the test
/// that needed it, naming the paths it tried, rather than skipping it silently.
public enum Vectors {
    public struct Missing: Error, CustomStringConvertible {
        public let description: String
    }

    public static func directory(filePath: String = #filePath) throws -> URL {
        if let override = ProcessInfo.processInfo.environment["INVITELINK_VECTORS"], !override.isEmpty {
            return URL(fileURLWithPath: override, isDirectory: true)
        }
        guard let root = packageRoot(from: filePath) else {
            throw Missing(description: "no Package.swift above \(filePath); set INVITELINK_VECTORS")
        }
        var candidates = [root]
        if let origin = localOrigin(of: root) { candidates.append(origin) }
        let tried = candidates.map { $0.deletingLastPathComponent().appendingPathComponent("shared/vectors", isDirectory: true) }
        guard let found = tried.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
            throw Missing(description: "test vectors not found at \(tried.map(\.path).joined(separator: " or ")); set INVITELINK_VECTORS")
        }
        return found
    }

    public static func packageRoot(from filePath: String) -> URL? {
        var directory = URL(fileURLWithPath: filePath).deletingLastPathComponent()
        while directory.path != "/" {
            if FileManager.default.fileExists(atPath: directory.appendingPathComponent("Package.swift").path) { return directory }
            directory = directory.deletingLastPathComponent()
        }
        return nil
    }

    /// The directory `origin` points at, when the package is a clone of a local repository.
    public static func localOrigin(of root: URL) -> URL? {
        guard let config = try? String(contentsOf: root.appendingPathComponent(".git/config"), encoding: .utf8) else { return nil }
        var inOrigin = false
        for line in config.split(separator: "\n").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            if line.hasPrefix("[") { inOrigin = line == "[remote \"origin\"]" }
            guard inOrigin, line.hasPrefix("url") else { continue }
            var url = line.drop(while: { $0 != "=" }).dropFirst().trimmingCharacters(in: .whitespaces)
            if url.hasPrefix("file://") { url.removeFirst("file://".count) }
            guard url.hasPrefix("/") else { return nil }
            return URL(fileURLWithPath: url, isDirectory: true).standardizedFileURL
        }
        return nil
    }

    /// The JSON document at `relativePath` inside the vectors folder.
    public static func json(_ relativePath: String) throws -> Any {
        let url = try directory().appendingPathComponent(relativePath)
        let data = try Data(contentsOf: url)
        return try JSONSerialization.jsonObject(with: data)
    }

    public static func object(_ relativePath: String) throws -> [String: Any] {
        guard let object = try json(relativePath) as? [String: Any] else {
            throw Missing(description: "\(relativePath) is not a JSON object")
        }
        return object
    }
}

/// Lower-case hex as used by every vector file.
public func hex(_ text: String) throws -> [UInt8] {
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

public func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}
