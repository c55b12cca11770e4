import InviteCrypto

/// One key's manifest entry: its id, algorithm, state and the times it changed state.
public struct KeyEntry: Sendable, Equatable {
    public var kid: String
    public var algorithm: KeyAlgorithm
    public var state: KeyState
    public var createdAt: Int64
    /// When it last became primary.
    public var promotedAt: Int64?
    /// When it last stopped being primary: links it signed expire by this plus the maximum
    /// lifetime.
    public var demotedAt: Int64?
    public var retiredAt: Int64?
    public var revokedAt: Int64?
    /// An imported public key: it verifies but can never sign.
    public var publicOnly: Bool

    public init(
        kid: String, algorithm: KeyAlgorithm, state: KeyState, createdAt: Int64,
        promotedAt: Int64? = nil, demotedAt: Int64? = nil, retiredAt: Int64? = nil, revokedAt: Int64? = nil,
        publicOnly: Bool = false
    ) {
        self.kid = kid
        self.algorithm = algorithm
        self.state = state
        self.createdAt = createdAt
        self.promotedAt = promotedAt
        self.demotedAt = demotedAt
        self.retiredAt = retiredAt
        self.revokedAt = revokedAt
        self.publicOnly = publicOnly
    }

    /// `[A-Za-z0-9_-]{1,64}` (DESIGN.md §2).
    public static func isValidKid(_ kid: some StringProtocol) -> Bool {
        let bytes = kid.utf8
        return (1...64).contains(bytes.count)
            && bytes.allSatisfy { byte in
                switch byte {
                case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                    UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"):
                    true
                default: false
                }
            }
    }
}
