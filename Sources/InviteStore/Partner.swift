public enum PartnerKind: String, Sendable, Codable, CaseIterable {
    case reseller
    case provider
}

public struct Partner: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var kind: PartnerKind
    public var createdAt: UnixTime

    public init(id: String, name: String, kind: PartnerKind, createdAt: UnixTime) {
        self.id = id
        self.name = name
        self.kind = kind
        self.createdAt = createdAt
    }
}
