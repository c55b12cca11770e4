public import ArgumentParser
import Foundation
import InviteService
public import InviteStore
import InviteToken

extension PartnerKind: ExpressibleByArgument {}
extension Role: ExpressibleByArgument {}

/// A random password for one first sign-in: 18 random bytes as base64url (24 characters).
func oneTimePassword() throws -> String {
    try Identifiers.random(prefix: "", bytes: 18)
}

func newIdentifier() -> String { UUID().uuidString.lowercased() }

struct Partners: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "partners",
        abstract: "Add partners and connect resellers to their indirect providers.",
        subcommands: [Add.self, Connect.self, Disconnect.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a reseller or provider; prints its id.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "Display name.") var name: String
        @Option(help: "reseller or provider.") var kind: PartnerKind
        @Option(help: "Keep this id (default: a new UUID).") var id: String?

        func validate() throws {
            if let id, !Identifier.isValid(id) { throw ValidationError("--id must match [A-Za-z0-9._-]{1,64}") }
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 200 else {
                throw ValidationError("--name must be 1 to 200 characters")
            }
        }

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    let partner = Partner(id: id ?? newIdentifier(), name: name, kind: kind, createdAt: currentTime())
                    try await store.addPartner(partner, actor: "cli")
                    print(partner.id)
                }
            }
        }
    }

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Make a reseller an indirect reseller of a provider.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The reseller partner id.") var reseller: String
        @Option(help: "The provider partner id.") var provider: String

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    try await store.connect(resellerID: reseller, providerID: provider, at: currentTime(), actor: "cli")
                    print("\(reseller) is an indirect reseller of \(provider)")
                }
            }
        }
    }

    struct Disconnect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "End a reseller's connection to a provider.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The reseller partner id.") var reseller: String
        @Option(help: "The provider partner id.") var provider: String

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    try await store.disconnect(resellerID: reseller, providerID: provider, at: currentTime(), actor: "cli")
                    print("\(reseller) is no longer connected to \(provider)")
                }
            }
        }
    }
}

struct Customers: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "customers",
        abstract: "Add customer tenants.",
        subcommands: [Add.self]
    )

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a customer and its global admin; prints the id, then the admin's setup link (or one-time password)."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "Display name.") var name: String
        @Option(help: "The tenant's domain, e.g. contoso.example.") var domain: String
        @Option(name: .customLong("admin-email"), help: "The global admin's email (their sign-in).") var adminEmail: String
        @Option(help: "Keep this id (default: a new UUID).") var id: String?
        @Option(help: "Also make this reseller the customer's reseller of record (\"Add a new customer\").") var reseller: String?
        @Flag(help: "Print a one-time password to change at first sign-in instead of a setup link (for scripts).")
        var oneTimePassword = false
        @Flag(help: "Print id, admin_email and setup_url (or one_time_password) as JSON.") var json = false

        func validate() throws {
            if let id, !Identifier.isValid(id) { throw ValidationError("--id must match [A-Za-z0-9._-]{1,64}") }
            guard EmailAddress.isPlausible(adminEmail) else { throw ValidationError("--admin-email is not an email address") }
            guard !name.trimmingCharacters(in: .whitespaces).isEmpty, name.count <= 200 else {
                throw ValidationError("--name must be 1 to 200 characters")
            }
        }

        func run() async throws {
            try await ExitStatus.run {
                let credentials = try PersonCredentials(options: options, oneTimePassword: oneTimePassword)
                try await options.withStore { store in
                    let now = currentTime()
                    let customer = Customer(id: id ?? newIdentifier(), name: name, domain: domain.lowercased(), createdAt: now)
                    let (admin, secret, link) = try credentials.make(
                        tenant: .customer(customer.id), email: adminEmail, role: .globalAdmin, now: now)
                    try await store.addCustomer(
                        NewCustomer(customer: customer, admin: admin, setupLink: link, resellerID: reseller), actor: "cli")
                    if json {
                        var out = JSONObjectWriter()
                        out.add("id", customer.id)
                        out.add("admin_email", admin.email)
                        out.add(oneTimePassword ? "one_time_password" : "setup_url", secret)
                        print(out.finish())
                    } else {
                        print(customer.id)
                        print(secret)
                    }
                }
            }
        }
    }
}

/// How a new person gets in: a setup link (the default, DESIGN.md §7), or a one-time password
/// to change at first sign-in, for scripts that sign in themselves.
struct PersonCredentials {
    let setupLinks: SetupLinks?

    init(options: GlobalOptions, oneTimePassword: Bool) throws {
        guard !oneTimePassword else {
            setupLinks = nil
            return
        }
        setupLinks = try Self.setupLinks(options)
    }

    /// Setup links signed with the keyring's primary key, under the options' issuer and URL.
    static func setupLinks(_ options: GlobalOptions) throws -> SetupLinks {
        let keyring = try options.keyring.load()
        return SetupLinks(issuer: options.issuer, publicURL: options.publicURL, keyring: { keyring })
    }

    /// The person, what to print (setup URL or password) and the link's record, if any.
    func make(tenant: Tenant, email: String, role: Role, now: Int64) throws -> (User, String, SetupLink?) {
        if let setupLinks {
            let (user, setup) = try setupLinks.newPerson(tenant: tenant, email: email, role: role, now: now)
            return (user, setup.url, setup.link)
        }
        let password = try oneTimePassword()
        let user = User(
            id: newIdentifier(), tenant: tenant, email: email.lowercased(), role: role,
            passwordHash: try PasswordHash.make(password: password), mustChangePassword: true, createdAt: now)
        return (user, password, nil)
    }
}

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "The people who sign in to the web pages.",
        subcommands: [Add.self, List.self, Disable.self, Enable.self, ResetPassword.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a person to a partner or customer; prints their setup link (or a one-time password).")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The partner they work for.") var partner: String?
        @Option(help: "The customer tenant they belong to.") var customer: String?
        @Option(help: "Their email (their sign-in).") var email: String
        @Option(help: "global-admin, admin-agent, sales-agent (partners); global-admin, user (customers).") var role: Role
        @Flag(help: "Print a one-time password to change at first sign-in instead of a setup link (for scripts).")
        var oneTimePassword = false

        func validate() throws {
            let tenant = try tenantOption(partner: partner, customer: customer)
            guard role.isAllowed(for: tenant) else { throw ValidationError("role \(role.rawValue) does not exist for this kind of tenant") }
            guard EmailAddress.isPlausible(email) else { throw ValidationError("--email is not an email address") }
        }

        func run() async throws {
            try await ExitStatus.run {
                let credentials = try PersonCredentials(options: options, oneTimePassword: oneTimePassword)
                try await options.withStore { store in
                    let tenant = try tenantOption(partner: partner, customer: customer)
                    try await requireTenant(tenant, in: store)
                    let (user, secret, link) = try credentials.make(tenant: tenant, email: email, role: role, now: currentTime())
                    try await store.addUser(user, setupLink: link, actor: "cli")
                    print(secret)
                }
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the people of a partner or customer, by email.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The partner.") var partner: String?
        @Option(help: "The customer tenant.") var customer: String?
        @Flag(help: "One JSON object per line: id, email, role, status, created_at.") var json = false

        func validate() throws { _ = try tenantOption(partner: partner, customer: customer) }

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    let tenant = try tenantOption(partner: partner, customer: customer)
                    try await requireTenant(tenant, in: store)
                    var page = PageRequest(limit: PageRequest.maximumLimit)
                    while true {
                        let users = try await store.users(of: tenant, page: page)
                        for user in users.items {
                            let status = user.disabledAt != nil ? "disabled" : (user.passwordHash.isEmpty ? "setup_pending" : "active")
                            if json {
                                var out = JSONObjectWriter()
                                out.add("id", user.id)
                                out.add("email", user.email)
                                out.add("role", user.role.rawValue)
                                out.add("status", status)
                                out.add("created_at", RFC3339.format(user.createdAt))
                                print(out.finish())
                            } else {
                                print("\(user.id)\t\(user.email)\t\(user.role.rawValue)\t\(status)")
                            }
                        }
                        guard let next = users.nextCursor else { break }
                        page.cursor = next
                    }
                }
            }
        }
    }

    struct Disable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Disable a person: no sign-in, and every session ends at once.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The user id (see `users list`).") var userID: String

        func run() async throws { try await Users.setDisabled(true, userID: userID, options: options) }
    }

    struct Enable: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Let a disabled person sign in again.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The user id (see `users list`).") var userID: String

        func run() async throws { try await Users.setDisabled(false, userID: userID, options: options) }
    }

    /// `users disable` and `users enable`: idempotent, and says where the person stands.
    static func setDisabled(_ disabled: Bool, userID: String, options: GlobalOptions) async throws {
        try await ExitStatus.run {
            try await options.withStore { store in
                let user = try await store.setDisabled(userID: userID, disabled: disabled, at: currentTime(), actor: "cli")
                print("\(user.email) is \(disabled ? "disabled" : "enabled")")
            }
        }
    }

    struct ResetPassword: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "reset-password",
            abstract: "End a person's password and sessions; prints a setup link to choose a new one.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The user id (see `users list`).") var userID: String

        func run() async throws {
            try await ExitStatus.run {
                let setupLinks = try PersonCredentials.setupLinks(options)
                try await options.withStore { store in
                    let now = currentTime()
                    let setup = try setupLinks.make(userID: userID, now: now)
                    try await store.resetPassword(userID: userID, setupLink: setup.link, at: now, actor: "cli")
                    print(setup.url)
                }
            }
        }
    }
}

struct Credentials: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "credentials",
        abstract: "Create and revoke API bearer credentials.",
        subcommands: [Create.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create a bearer credential; prints the secret once (only its hash is stored)."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "The partner it acts for.") var partner: String?
        @Option(help: "The customer tenant it acts for.") var customer: String?
        @Option(help: "global-admin, admin-agent, sales-agent (partners); global-admin, user (customers).") var role: Role
        @Flag(help: "Print id and secret as JSON.") var json = false

        func validate() throws {
            let tenant = try tenantOption(partner: partner, customer: customer)
            guard role.isAllowed(for: tenant) else { throw ValidationError("role \(role.rawValue) does not exist for this kind of tenant") }
        }

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    let tenant = try tenantOption(partner: partner, customer: customer)
                    try await requireTenant(tenant, in: store)
                    let issued = try BearerSecret.make()
                    try await store.addCredential(
                        Credential(id: issued.id, tenant: tenant, role: role, secretHash: issued.hash, createdAt: currentTime()),
                        actor: "cli"
                    )
                    if json {
                        var out = JSONObjectWriter()
                        out.add("id", issued.id)
                        out.add("secret", issued.secret)
                        print(out.finish())
                    } else {
                        print(issued.secret)
                        printError("credential \(issued.id) created; the secret above is shown only once")
                    }
                }
            }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke a credential at once.")
        @OptionGroup var options: GlobalOptions
        @Argument(help: "The credential id (printed at creation; also the part of the secret before the dot).") var credentialID: String

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    try await store.revokeCredential(id: credentialID, at: currentTime(), actor: "cli")
                    print("\(credentialID) is revoked")
                }
            }
        }
    }
}

func tenantOption(partner: String?, customer: String?) throws -> Tenant {
    switch (partner, customer) {
    case (let partner?, nil): return .partner(partner)
    case (nil, let customer?): return .customer(customer)
    default: throw ValidationError("give exactly one of --partner ID or --customer ID")
    }
}

func requireTenant(_ tenant: Tenant, in store: any RelationshipStore) async throws {
    switch tenant {
    case .partner(let id):
        guard try await store.partner(id: id) != nil else { throw StoreError(.unknownPartner, "no partner \(id)") }
    case .customer(let id):
        guard try await store.customer(id: id) != nil else { throw StoreError(.unknownCustomer, "no customer \(id)") }
    }
}
