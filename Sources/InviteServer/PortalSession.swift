import Foundation
import Hummingbird
import InviteCrypto
import InviteToken
import Synchronization

/// The partner portal's sign-in cookie, kept apart from the customer's acceptance session.
///
/// Same shape as ``WebSession`` (`USERID.EXPIRY.MAC`, HMAC-SHA256, nothing stored server-side),
/// but under its own key made at start-up, its own name and `Path=/portal`: a customer's
/// acceptance cookie never opens the portal and a portal cookie is never sent to the
/// acceptance pages. A working day's lifetime, because agents work in the portal for hours,
/// not for one acceptance. `SameSite=Strict`: nothing outside the portal links into an
/// action of it.
///
/// Signing out also revokes the cookie on this instance: its MAC is remembered until the
/// cookie would have expired, so a copy of it (another tab, a stolen value) stops working at
/// once. A cookie only ever works on the instance whose key signed it, so this memory is the
/// only place it has to be revoked.
final class PortalSession: Sendable {
    static let cookieName = "invitelink_portal"
    static let lifetime: Int64 = 8 * 60 * 60
    static let path = "/portal"

    private let key: HMACSHA256Key
    let secureCookies: Bool
    /// Signed-out cookies' MACs and when each would have expired.
    private let revoked = Mutex<[String: Int64]>([:])

    init(secureCookies: Bool) throws {
        key = try HMACSHA256Key(secret: SecureBytes(randomCount: 32))
        self.secureCookies = secureCookies
    }

    /// A cookie that signs `userID` in until `now` + ``lifetime``.
    func signInCookie(userID: String, now: Int64) throws -> Cookie {
        let body = "\(userID).\(now + Self.lifetime)"
        let value = body + "." + Base64URL.encode(try key.authenticationCode(for: Array(body.utf8)))
        return Cookie(name: Self.cookieName, value: value, maxAge: Int(Self.lifetime), path: Self.path,
                      secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// A cookie that replaces the session with nothing and expires at once.
    func signOutCookie() -> Cookie {
        Cookie(name: Self.cookieName, value: "", maxAge: 0, path: Self.path, secure: secureCookies, httpOnly: true, sameSite: .strict)
    }

    /// The signed-in user id, when the cookie is intact, unexpired and not signed out.
    func userID(from request: Request, now: Int64) -> String? {
        guard let session = validSession(request, now: now) else { return nil }
        let mac = session.mac
        guard revoked.withLock({ $0[mac] == nil }) else { return nil }
        return session.userID
    }

    /// Revokes the request's cookie, if it is a valid one, until it would have expired.
    func revoke(_ request: Request, now: Int64) {
        guard let session = validSession(request, now: now) else { return }
        revoked.withLock { revoked in
            revoked = revoked.filter { $0.value > now }
            revoked[session.mac] = session.expiry
        }
    }

    private func validSession(_ request: Request, now: Int64) -> (userID: String, expiry: Int64, mac: String)? {
        guard let value = request.cookies[Self.cookieName]?.value else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, let expiry = Int64(parts[1]), expiry > now,
              let mac = Base64URL.decode(parts[2]),
              (try? key.isValidAuthenticationCode(mac, for: Array("\(parts[0]).\(parts[1])".utf8))) == true
        else { return nil }
        return (String(parts[0]), expiry, String(parts[2]))
    }
}
