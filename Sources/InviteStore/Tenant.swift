/// Who a credential or a signed-in person acts for: a partner or a customer tenant.
public enum Tenant: Sendable, Equatable, Hashable {
    case partner(String)
    case customer(String)

    public var id: String {
        switch self {
        case .partner(let id), .customer(let id): id
        }
    }
}

/// Roles of DESIGN.md §4. Partners: global-admin, admin-agent, sales-agent. Customers:
/// global-admin, user.
public enum Role: String, Sendable, Codable, CaseIterable {
    case globalAdmin = "global-admin"
    case adminAgent = "admin-agent"
    case salesAgent = "sales-agent"
    case user = "user"

    /// Whether a holder of this role may exist for `tenant`.
    public func isAllowed(for tenant: Tenant) -> Bool {
        switch (tenant, self) {
        case (.partner, .globalAdmin), (.partner, .adminAgent), (.partner, .salesAgent): true
        case (.customer, .globalAdmin), (.customer, .user): true
        default: false
        }
    }
}

extension Tenant {
    var partnerID: String? {
        if case .partner(let id) = self { id } else { nil }
    }

    var customerID: String? {
        if case .customer(let id) = self { id } else { nil }
    }

    /// `partner:ID` or `customer:ID`, for audit details and messages.
    var auditName: String {
        switch self {
        case .partner(let id): "partner:\(id)"
        case .customer(let id): "customer:\(id)"
        }
    }
}
