import Foundation
import Hummingbird
import InviteCrypto
import InviteStore
import InviteToken

/// The partner portal's sign-in cookie, kept apart from the customer's acceptance session.
///
/// Same shape as ``WebSession`` (`USERID.EXPIRY.MAC`, HMAC-SHA256), but under its own key
/// (derived from the ``SessionSecret`` for this purpose), its own name and `Path=/portal`: a
/// customer's acceptance cookie never opens the portal and a portal cookie is never sent to the
/// acceptance pages. A working day's lifetime, because agents work in the portal for hours,
/// not for one acceptance. `SameSite=Strict`: nothing outside the portal links into an
/// action of it.
///
/// Signing out also revokes the cookie: a digest of it is kept in the store until the cookie
/// would have expired, so a copy of it (another tab, a stolen value) stops working at once, on
/// every instance that shares the secret.
final class PortalSession: Sendable {
    static let cookieName = "invitelink_portal"
    static let lifetime: Int64 = 8 * 60 * 60
    static let path = "/portal"

    private let key: HMACSHA256Key
    let secureCookies: Bool
    /// Where signed-out cookies are remembered.
    private let store: any RelationshipStore

    init(secureCookies: Bool, secret: SessionSecret, store: any RelationshipStore) throws {
        key = try secret.key(for: "portal")
        self.secureCookies = secureCookies
        self.store = store
    }

    /// A cookie that signs `userID` in until `now` + ``lifetime``.
    func signInCookie(userID: String, now: Int64) throws -> Cookie {
        let body = "\(userID).\(now + Self.lifetime)"
        let value = body + "." + Base64URL.encode(try key.authenticationCode(for: Array(body.utf8)))
        return Cookie(
            name: Self.cookieName, value: value, maxAge: Int(Self.lifetime), path: Self.path,
            secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// A cookie that replaces the session with nothing and expires at once.
    func signOutCookie() -> Cookie {
        Cookie(name: Self.cookieName, value: "", maxAge: 0, path: Self.path, secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// The signed-in user id, when the cookie is intact, unexpired and not signed out.
    func userID(from request: Request, now: Int64) async throws -> String? {
        guard let session = try validSession(request, now: now),
            try await !store.isSessionRevoked(digest: session.digest)
        else { return nil }
        return session.userID
    }

    /// Revokes the request's cookie, if it is a valid one, until it would have expired.
    func revoke(_ request: Request, now: Int64) async throws {
        guard let session = try validSession(request, now: now) else { return }
        try await store.revokeSession(digest: session.digest, expiresAt: session.expiry, now: now)
    }

    /// The cookie's user and expiry when its MAC checks out, and the digest it is revoked by.
    private func validSession(_ request: Request, now: Int64) throws -> (userID: String, expiry: Int64, digest: [UInt8])? {
        guard let value = request.cookies[Self.cookieName]?.value else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let expiry = Int64(parts[1]), expiry > now,
            let mac = Base64URL.decode(parts[2]),
            (try? key.isValidAuthenticationCode(mac, for: Array("\(parts[0]).\(parts[1])".utf8))) == true
        else { return nil }
        return (String(parts[0]), expiry, try Digest.sha256(Array(value.utf8)))
    }
}
