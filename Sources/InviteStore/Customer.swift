public struct Customer: Sendable, Equatable, Codable {
    public var id: String
    public var name: String
    public var domain: String
    public var createdAt: UnixTime

    public init(id: String, name: String, domain: String, createdAt: UnixTime) {
        self.id = id
        self.name = name
        self.domain = domain
        self.createdAt = createdAt
    }
}
