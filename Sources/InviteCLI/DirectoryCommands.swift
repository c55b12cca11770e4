public import ArgumentParser
import Foundation
import InviteService
public import InviteStore
public import InviteToken

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
            abstract: "Add a customer and its global admin; prints the id, then the admin's one-time password."
        )
        @OptionGroup var options: GlobalOptions
        @Option(help: "Display name.") var name: String
        @Option(help: "The tenant's domain, e.g. contoso.example.") var domain: String
        @Option(name: .customLong("admin-email"), help: "The global admin's email (their sign-in).") var adminEmail: String
        @Option(help: "Keep this id (default: a new UUID).") var id: String?
        @Flag(help: "Print id, admin_email and one_time_password as JSON.") var json = false

        func validate() throws {
            if let id, !Identifier.isValid(id) { throw ValidationError("--id must match [A-Za-z0-9._-]{1,64}") }
            guard EmailAddress.isPlausible(adminEmail) else { throw ValidationError("--admin-email is not an email address") }
        }

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    let now = currentTime()
                    let customer = Customer(id: id ?? newIdentifier(), name: name, domain: domain, createdAt: now)
                    let password = try oneTimePassword()
                    try await store.addCustomer(customer, actor: "cli")
                    try await store.addUser(
                        User(
                            id: newIdentifier(), tenant: .customer(customer.id), email: adminEmail.lowercased(), role: .globalAdmin,
                            passwordHash: try PasswordHash.make(password: password), mustChangePassword: true, createdAt: now
                        ),
                        actor: "cli"
                    )
                    if json {
                        var out = JSONObjectWriter()
                        out.add("id", customer.id)
                        out.add("admin_email", adminEmail.lowercased())
                        out.add("one_time_password", password)
                        print(out.finish())
                    } else {
                        print(customer.id)
                        print(password)
                    }
                }
            }
        }
    }
}

struct Users: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "users", abstract: "Add people who sign in to the web pages.", subcommands: [Add.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add a person to a partner or customer; prints a one-time password.")
        @OptionGroup var options: GlobalOptions
        @Option(help: "The partner they work for.") var partner: String?
        @Option(help: "The customer tenant they belong to.") var customer: String?
        @Option(help: "Their email (their sign-in).") var email: String
        @Option(help: "global-admin, admin-agent, sales-agent (partners); global-admin, user (customers).") var role: Role

        func validate() throws {
            let tenant = try tenantOption(partner: partner, customer: customer)
            guard role.isAllowed(for: tenant) else { throw ValidationError("role \(role.rawValue) does not exist for this kind of tenant") }
            guard EmailAddress.isPlausible(email) else { throw ValidationError("--email is not an email address") }
        }

        func run() async throws {
            try await ExitStatus.run {
                try await options.withStore { store in
                    let tenant = try tenantOption(partner: partner, customer: customer)
                    try await requireTenant(tenant, in: store)
                    let password = try oneTimePassword()
                    try await store.addUser(
                        User(
                            id: newIdentifier(), tenant: tenant, email: email.lowercased(), role: role,
                            passwordHash: try PasswordHash.make(password: password), mustChangePassword: true, createdAt: currentTime()
                        ),
                        actor: "cli"
                    )
                    print(password)
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
