/// Names for the ids a page shows, read in one go (``RelationshipStore/displayNames(partnerIDs:customerIDs:userIDs:)``).
/// An id with no name (a credential id, a deleted row) is shown as itself.
public struct DisplayNames: Sendable, Equatable {
    public var partners: [String: String]
    public var customers: [String: String]
    /// Users by email.
    public var users: [String: String]

    public init(partners: [String: String] = [:], customers: [String: String] = [:], users: [String: String] = [:]) {
        self.partners = partners
        self.customers = customers
        self.users = users
    }

    public func partner(_ id: String) -> String { partners[id] ?? id }
    public func customer(_ id: String) -> String { customers[id] ?? id }
    public func user(_ id: String) -> String { users[id] ?? id }
}
