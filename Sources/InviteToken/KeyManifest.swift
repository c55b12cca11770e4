import InviteCrypto

/// The lifecycle rules of DESIGN.md §3 applied to a list of entries. Pure: no files, no clock.
public struct KeyManifest: Sendable, Equatable {
    public var entries: [KeyEntry]

    public init(entries: [KeyEntry] = []) { self.entries = entries }

    public func entry(_ kid: String) -> KeyEntry? { entries.first { $0.kid == kid } }
    public var primary: KeyEntry? { entries.first { $0.state == .primary } }

    private func index(of kid: String) throws(KeyringError) -> Int {
        guard let index = entries.firstIndex(where: { $0.kid == kid }) else {
            throw KeyringError(.unknownKey, "no key with kid \(kid)")
        }
        return index
    }

    /// Adds a key in state `next`.
    public mutating func add(kid: String, algorithm: KeyAlgorithm, publicOnly: Bool = false, now: Int64) throws(KeyringError) {
        guard KeyEntry.isValidKid(kid) else { throw KeyringError(.invalidKid, "kid must match [A-Za-z0-9_-]{1,64}: \(kid)") }
        guard entry(kid) == nil else { throw KeyringError(.duplicateKid, "a key with kid \(kid) already exists") }
        entries.append(KeyEntry(kid: kid, algorithm: algorithm, state: .next, createdAt: now, publicOnly: publicOnly))
    }

    /// Makes `kid` the primary; the former primary becomes `active`.
    public mutating func promote(_ kid: String, now: Int64) throws(KeyringError) {
        let target = try index(of: kid)
        let entry = entries[target]
        guard entry.state == .next || entry.state == .active || entry.state == .primary else {
            throw KeyringError(.invalidTransition, "key \(kid) is \(entry.state.rawValue) and cannot be promoted")
        }
        guard !entry.publicOnly else {
            throw KeyringError(.invalidTransition, "key \(kid) is a public key only and cannot sign")
        }
        if entry.state == .primary { return }
        if let current = entries.firstIndex(where: { $0.state == .primary }) {
            entries[current].state = .active
            entries[current].demotedAt = now
        }
        entries[target].state = .primary
        entries[target].promotedAt = now
    }

    /// Retires `kid`. Refused while links it signed may be unexpired (it was primary less than
    /// `maximumLifetime` seconds ago, or is primary now) unless `force`.
    public mutating func retire(_ kid: String, now: Int64, maximumLifetime: Int64, force: Bool) throws(KeyringError) {
        let target = try index(of: kid)
        let entry = entries[target]
        switch entry.state {
        case .retired: return
        case .revoked: throw KeyringError(.invalidTransition, "key \(kid) is revoked; it cannot be retired")
        case .next, .primary, .active: break
        }
        if !force {
            if entry.state == .primary {
                throw KeyringError(
                    .linksMayBeUnexpired, "key \(kid) is the primary and signs new links; promote another key first, or use --force")
            }
            if let demotedAt = entry.demotedAt, demotedAt + maximumLifetime > now {
                let remaining = demotedAt + maximumLifetime - now
                throw KeyringError(
                    .linksMayBeUnexpired,
                    "links signed by key \(kid) may be valid for another \(Self.describe(seconds: remaining)); wait, or use --force to break them now"
                )
            }
        }
        if entry.state == .primary { entries[target].demotedAt = now }
        entries[target].state = .retired
        entries[target].retiredAt = now
    }

    /// Revokes `kid` at once: its links stop verifying immediately.
    public mutating func revoke(_ kid: String, now: Int64) throws(KeyringError) {
        let target = try index(of: kid)
        guard entries[target].state != .revoked else { return }
        if entries[target].state == .primary { entries[target].demotedAt = now }
        entries[target].state = .revoked
        entries[target].revokedAt = now
    }

    static func describe(seconds: Int64) -> String {
        let days = seconds / 86_400, hours = (seconds % 86_400) / 3600
        if days > 0 { return "\(days)d \(hours)h" }
        let minutes = (seconds % 3600) / 60
        return hours > 0 ? "\(hours)h \(minutes)m" : "\(max(minutes, 1))m"
    }
}
