/// A page of a list, and the opaque cursor for the next one (nil at the end).
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var nextCursor: String?

    public init(items: [Item], nextCursor: String?) {
        self.items = items
        self.nextCursor = nextCursor
    }
}

public struct PageRequest: Sendable, Equatable {
    public static let maximumLimit = 200
    /// Always within 1…``maximumLimit``: set only through the clamping initializer.
    public private(set) var limit: Int
    public var cursor: String?

    public init(limit: Int = 50, cursor: String? = nil) {
        self.limit = Swift.min(Swift.max(limit, 1), Self.maximumLimit)
        self.cursor = cursor
    }
}
