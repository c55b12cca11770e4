internal import Foundation
public import InviteStore
public import InviteToken

/// A setup link just made: its record (for the store, in the same transaction as the person
/// or the reset it belongs to) and the URL to hand to the person.
public struct IssuedSetupLink: Sendable {
    public var link: SetupLink
    public var url: String
}

/// Setup links (DESIGN.md §7): instead of a password to pass on by hand, a new person, or one
/// whose password was reset, gets a signed one-time link (`typ: setup+jwt`, `aud:
/// account-setup`, 72 hours) at `PUBLIC_URL/setup?token=…` where they choose a password. The
/// signature makes the link unforgeable; the store's record makes it work once, and a newer
/// link for the same person ends the older one.
public struct SetupLinks: Sendable {
    public var issuer: String
    public var publicURL: String
    public let keyring: @Sendable () -> Keyring

    public init(issuer: String, publicURL: String, keyring: @escaping @Sendable () -> Keyring) {
        self.issuer = issuer
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.keyring = keyring
    }

    /// A link for user `userID`, signed with the primary key.
    public func make(userID: String, now: Int64) throws -> IssuedSetupLink {
        let signer = try TokenSigner(keyring: keyring())
        let claims = SetupClaims(
            issuer: issuer, linkID: try Identifiers.random(prefix: ""), userID: userID, issuedAt: now,
            expiresAt: now + SetupClaims.lifetime)
        let token = try signer.sign(claims)
        return IssuedSetupLink(
            link: SetupLink(id: claims.linkID, userID: userID, issuedAt: now, expiresAt: claims.expiresAt),
            url: "\(publicURL)/setup?token=\(token)")
    }

    /// The claims of a valid setup token: every check of DESIGN.md §2 with this kind's `typ`,
    /// audience and 72-hour lifetime. Whether it was used is the store's to say.
    public func verify(_ token: String, now: Int64) throws(TokenError) -> SetupClaims {
        try TokenVerifier(issuer: issuer, maximumLifetime: SetupClaims.lifetime)
            .verify(token, as: SetupClaims.self, keyring: keyring(), now: now).claims
    }

    /// A new person who has no password yet, and the setup link by which they choose one.
    public func newPerson(tenant: Tenant, email: String, role: Role, now: Int64) throws -> (User, IssuedSetupLink) {
        let user = User(
            id: UUID().uuidString.lowercased(), tenant: tenant, email: email.lowercased(), role: role, passwordHash: "",
            mustChangePassword: false, createdAt: now)
        return (user, try make(userID: user.id, now: now))
    }
}

extension InvitationService {
    /// Setup links under the same issuer, public URL and keyring as the invitation links.
    public var setupLinks: SetupLinks { SetupLinks(issuer: issuer, publicURL: publicURL, keyring: keyring) }
}
