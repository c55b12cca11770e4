import InviteStore

/// Names for the ids on the invitations page, each looked up once per page.
struct NameCache {
    let store: any RelationshipStore
    var names: [String: String] = [:]

    init(store: any RelationshipStore) { self.store = store }

    mutating func customer(_ id: String) async throws -> String {
        let store = self.store
        return try await lookup("c:" + id) { try await store.customer(id: id)?.name ?? id }
    }

    mutating func partner(_ id: String) async throws -> String {
        let store = self.store
        return try await lookup("p:" + id) { try await store.partner(id: id)?.name ?? id }
    }

    /// A person's email; the id itself for an issuer that was an API credential.
    mutating func user(_ id: String) async throws -> String {
        let store = self.store
        return try await lookup("u:" + id) { try await store.user(id: id)?.email ?? id }
    }

    mutating func lookup(_ key: String, _ load: () async throws -> String) async throws -> String {
        if let name = names[key] { return name }
        let name = try await load()
        names[key] = name
        return name
    }
}
