import Foundation

/// Reads and writes `keyring.json`:
///
/// ```json
/// {"version": 1, "keys": [{"kid": "…", "alg": "EdDSA", "state": "primary",
///   "created_at": "2026-11-26T13:00:00Z", "promoted_at": "…", …}]}
/// ```
///
/// Reading goes through ``StrictJSON`` so a hand-edited manifest with duplicate members or
/// fractional times is refused rather than half-understood.
extension KeyManifest {
    /// The manifest as `keyring.json` holds it (and `keys list --json` prints it).
    public func jsonRepresentation() -> String {
        String(decoding: ManifestCoding.encode(self), as: UTF8.self)
    }
}

enum ManifestCoding {
    static let version: Int64 = 1

    static func encode(_ manifest: KeyManifest) -> [UInt8] {
        var out: [UInt8] = []
        out.append(contentsOf: "{\n  \"version\": 1,\n  \"keys\": [".utf8)
        for (index, entry) in manifest.entries.enumerated() {
            out.append(contentsOf: (index == 0 ? "\n    {" : ",\n    {").utf8)
            var members: [(String, String)] = [
                ("kid", quoted(entry.kid)),
                ("alg", quoted(entry.algorithm.jwsName)),
                ("state", quoted(entry.state.rawValue)),
                ("created_at", quoted(RFC3339.format(entry.createdAt))),
            ]
            if let time = entry.promotedAt { members.append(("promoted_at", quoted(RFC3339.format(time)))) }
            if let time = entry.demotedAt { members.append(("demoted_at", quoted(RFC3339.format(time)))) }
            if let time = entry.retiredAt { members.append(("retired_at", quoted(RFC3339.format(time)))) }
            if let time = entry.revokedAt { members.append(("revoked_at", quoted(RFC3339.format(time)))) }
            if entry.publicOnly { members.append(("public_only", "true")) }
            out.append(contentsOf: members.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ").utf8)
            out.append(UInt8(ascii: "}"))
        }
        out.append(contentsOf: "\n  ]\n}\n".utf8)
        return out
    }

    private static func quoted(_ text: String) -> String {
        var out: [UInt8] = []
        JSONWriter.appendString(text, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func decode(_ bytes: [UInt8], path: String) throws(KeyringError) -> KeyManifest {
        func corrupt(_ why: String) -> KeyringError { KeyringError(.corrupt, "\(path) is not a valid keyring: \(why)") }
        let document: JSONValue
        do {
            document = try StrictJSON.parse(bytes)
        } catch {
            throw corrupt("\(error.reason) at byte \(error.offset)")
        }
        guard case .integer(let version)? = document["version"], version == Self.version else {
            throw corrupt("\"version\" must be \(Self.version)")
        }
        guard case .array(let keys)? = document["keys"] else { throw corrupt("\"keys\" must be an array") }
        var manifest = KeyManifest()
        for key in keys {
            guard case .string(let kid)? = key["kid"], KeyEntry.isValidKid(kid) else {
                throw corrupt("a key has a missing or invalid \"kid\"")
            }
            guard case .string(let alg)? = key["alg"], let algorithm = KeyAlgorithm(manifestName: alg) else {
                throw corrupt("key \(kid) has an unknown \"alg\"")
            }
            guard case .string(let stateName)? = key["state"], let state = KeyState(rawValue: stateName) else {
                throw corrupt("key \(kid) has an unknown \"state\"")
            }
            func time(_ name: String) throws(KeyringError) -> Int64? {
                switch key[name] {
                case nil, .null?: return nil
                case .string(let text)?:
                    guard let value = RFC3339.parse(text) else { throw corrupt("key \(kid) has an invalid \"\(name)\"") }
                    return value
                case .integer(let value)?: return value
                default: throw corrupt("key \(kid) has an invalid \"\(name)\"")
                }
            }
            guard let created = try time("created_at") else { throw corrupt("key \(kid) has no \"created_at\"") }
            var publicOnly = false
            if case .bool(let flag)? = key["public_only"] { publicOnly = flag }
            guard manifest.entry(kid) == nil else { throw corrupt("kid \(kid) appears twice") }
            manifest.entries.append(
                KeyEntry(
                    kid: kid, algorithm: algorithm, state: state, createdAt: created,
                    promotedAt: try time("promoted_at"), demotedAt: try time("demoted_at"),
                    retiredAt: try time("retired_at"), revokedAt: try time("revoked_at"), publicOnly: publicOnly
                ))
        }
        guard manifest.entries.filter({ $0.state == .primary }).count <= 1 else { throw corrupt("more than one primary key") }
        return manifest
    }
}
