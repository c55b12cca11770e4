/// The claims of one kind of token the service signs: invitation links (DESIGN.md §2), setup
/// links (§7) and audit checkpoints (§8). Each kind has its own header `typ` and its own
/// audience, so a token of one kind is never accepted as another: the verifier checks both.
public protocol SignedClaims: Sendable {
    /// The header's `typ`, e.g. `invitation+jwt`.
    static var typ: String { get }
    /// The `aud` every token of this kind carries.
    static var audience: String { get }

    var issuer: String { get }
    var audience: String { get }
    var issuedAt: Int64 { get }
    var expiresAt: Int64 { get }

    /// Appends the claims as compact JSON, members in a fixed order.
    func appendJSON(to out: inout [UInt8])
    /// Reads claims from a verified payload: a strict JSON object with every required claim
    /// present once with its type, and no unknown claims (`invalid_claims` otherwise).
    init(payload: UnsafeRawBufferPointer) throws(TokenError)
}

/// Reads the members of a claims object once each, refusing duplicates, wrong types and
/// unknown names with `invalid_claims`: the shared half of every ``SignedClaims`` parser.
struct ClaimsReader {
    private(set) var strings: [String: String] = [:]
    private(set) var integers: [String: Int64] = [:]
    private(set) var bools: [String: Bool] = [:]

    enum Kind { case string, integer, bool }

    init(payload: UnsafeRawBufferPointer, schema: [String: Kind]) throws(TokenError) {
        var problem: TokenError?
        var seen = Set<String>()
        var strings: [String: String] = [:], integers: [String: Int64] = [:], bools: [String: Bool] = [:]
        do {
            try StrictJSON.forEachMember(of: payload) { name, value in
                guard let kind = schema[name] else {
                    problem = TokenError(.invalidClaims, "unknown claim \"\(name)\"")
                    return false
                }
                guard seen.insert(name).inserted else {
                    problem = TokenError(.invalidClaims, "claim \"\(name)\" appears twice")
                    return false
                }
                let stored: Bool
                switch kind {
                case .string: stored = value.stringValue.map { strings[name] = $0 } != nil
                case .integer: stored = value.integerValue.map { integers[name] = $0 } != nil
                case .bool: stored = value.boolValue.map { bools[name] = $0 } != nil
                }
                if !stored { problem = TokenError(.invalidClaims, "claim \"\(name)\" has the wrong type") }
                return stored
            }
        } catch {
            throw TokenError(.invalidClaims, "the payload is not a strict JSON object (\(error.reason))")
        }
        if let problem { throw problem }
        (self.strings, self.integers, self.bools) = (strings, integers, bools)
    }

    func string(_ name: String) throws(TokenError) -> String {
        guard let value = strings[name] else { throw TokenError(.invalidClaims, "a required claim is missing") }
        return value
    }

    func nonEmptyString(_ name: String) throws(TokenError) -> String {
        let value = try string(name)
        guard !value.isEmpty else { throw TokenError(.invalidClaims, "an id claim is empty") }
        return value
    }

    func integer(_ name: String) throws(TokenError) -> Int64 {
        guard let value = integers[name] else { throw TokenError(.invalidClaims, "a required claim is missing") }
        return value
    }
}
