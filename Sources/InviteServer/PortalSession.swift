import Foundation
import Hummingbird
import InviteCrypto
import InviteStore
import InviteToken

/// The partner portal's sign-in cookie, kept apart from the customer's acceptance session.
///
/// A ``SignedSessionCookie`` like ``WebSession``'s, but under its own key (derived from the
/// ``SessionSecret`` for this purpose) and its own name (`invitelink_portal`, `__Host-` over
/// HTTPS): a customer's acceptance cookie never opens the portal, nor the other way round. A
/// working day's lifetime, because agents work in the portal for hours, not for one
/// acceptance. `SameSite=Strict`: nothing outside the portal links into an action of it. Its
/// forms carry ``CSRFTokens`` bound to this session.
///
/// Signing out also revokes the cookie: a digest of it is kept in the store until the cookie
/// would have expired, so a copy of it (another tab, a stolen value) stops working at once, on
/// every instance that shares the secret.
final class PortalSession: Sendable {
    static let lifetime: Int64 = 8 * 60 * 60

    let cookie: SignedSessionCookie
    let csrf: CSRFTokens
    /// Where signed-out cookies are remembered.
    private let store: any RelationshipStore

    init(secureCookies: Bool, secret: SessionSecret, store: any RelationshipStore) throws {
        cookie = SignedSessionCookie(
            key: try secret.key(for: "portal"), name: cookieName("invitelink_portal", secure: secureCookies),
            lifetime: Self.lifetime, secure: secureCookies, sameSite: .strict)
        csrf = try CSRFTokens(secret: secret, purpose: "portal", sessionCookie: cookie.name, secure: secureCookies)
        self.store = store
    }

    /// The signed-in user: a valid cookie, not signed out, of the user's current session version.
    func user(from request: Request, now: Int64) async throws -> User? {
        guard let session = cookie.session(request, now: now),
            try await !store.isSessionRevoked(digest: try Digest.sha256(Array(session.value.utf8))),
            let user = try await store.user(id: session.userID), user.sessionVersion == session.version,
            user.disabledAt == nil
        else { return nil }
        return user
    }

    /// Revokes the request's cookie, if it is a valid one, until it would have expired.
    func revoke(_ request: Request, now: Int64) async throws {
        guard let session = cookie.session(request, now: now) else { return }
        try await store.revokeSession(digest: try Digest.sha256(Array(session.value.utf8)), expiresAt: session.expiry, now: now)
    }
}
