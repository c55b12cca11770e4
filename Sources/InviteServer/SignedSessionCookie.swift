import Hummingbird
import InviteCrypto
import InviteStore
import InviteToken

/// Over HTTPS every cookie is named `__Host-…`: the browser then keeps it only when it is
/// `Secure`, has `Path=/` and no `Domain`, so a sibling subdomain can neither plant nor
/// overwrite it (DESIGN.md §11). Over plain HTTP (development) the bare name.
func cookieName(_ base: String, secure: Bool) -> String { secure ? "__Host-" + base : base }

/// A signed browser session: `USERID.VERSION.EXPIRY.MAC`, HMAC-SHA256 under a key derived from
/// the ``SessionSecret`` for one purpose. Nothing is stored server-side; the user's session
/// version, read on every request, ends every cookie made before a password change.
struct SignedSessionCookie: Sendable {
    struct Session {
        let userID: String
        let version: Int
        let expiry: Int64
        /// The cookie as sent, which CSRF tokens are bound to and sign-out revokes by digest.
        let value: String
    }

    let key: HMACSHA256Key
    let name: String
    let lifetime: Int64
    let secure: Bool
    let sameSite: Cookie.SameSite

    func cookie(for user: User, now: Int64) throws -> Cookie {
        let body = "\(user.id).\(user.sessionVersion).\(now + lifetime)"
        let value = body + "." + Base64URL.encode(try key.authenticationCode(for: Array(body.utf8)))
        return Cookie(name: name, value: value, maxAge: Int(lifetime), path: "/", secure: secure, httpOnly: true, sameSite: sameSite)
    }

    /// A cookie that replaces the session with nothing and expires at once.
    func removal() -> Cookie {
        Cookie(name: name, value: "", maxAge: 0, path: "/", secure: secure, httpOnly: true, sameSite: sameSite)
    }

    /// The session the request's cookie holds, when its MAC checks out and it has not expired.
    func session(_ request: Request, now: Int64) -> Session? {
        guard let value = request.cookies[name]?.value else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, !parts[0].isEmpty, let version = Int(parts[1]), let expiry = Int64(parts[2]), expiry > now,
            let mac = Base64URL.decode(parts[3]),
            (try? key.isValidAuthenticationCode(mac, for: Array("\(parts[0]).\(parts[1]).\(parts[2])".utf8))) == true
        else { return nil }
        return Session(userID: String(parts[0]), version: version, expiry: expiry, value: value)
    }

    /// The signed-in user: a valid cookie whose version is the user's current one.
    func user(_ request: Request, store: any RelationshipStore, now: Int64) async throws -> User? {
        guard let session = session(request, now: now), let user = try await store.user(id: session.userID),
            user.sessionVersion == session.version, user.disabledAt == nil
        else { return nil }
        return user
    }
}

/// CSRF tokens bound to the browser's session (DESIGN.md §11).
///
/// A form's token is an HMAC of the session cookie the browser holds, so it is good for that
/// session only: a token and cookie an attacker obtained for themselves and planted in someone
/// else's browser do not match the victim's session. Before there is a session (the sign-in
/// forms) the token is bound the same way to a random pre-session cookie.
struct CSRFTokens: Sendable {
    let key: HMACSHA256Key
    /// The session cookie tokens are bound to.
    let sessionCookie: String
    /// The random cookie tokens are bound to while there is no session.
    let presessionCookie: String
    let secure: Bool

    init(secret: SessionSecret, purpose: String, sessionCookie: String, secure: Bool) throws {
        key = try secret.key(for: "csrf " + purpose)
        self.sessionCookie = sessionCookie
        presessionCookie = cookieName("invitelink_presession", secure: secure)
        self.secure = secure
    }

    /// The token for the request's forms, and a pre-session cookie to set when it needs one.
    func token(for request: Request) throws -> (token: String, cookie: Cookie?) {
        if let bound = try expected(request) { return (bound, nil) }
        let value = Base64URL.encode(try SystemRandom.bytes(24))
        let cookie = Cookie(name: presessionCookie, value: value, path: "/", secure: secure, httpOnly: true, sameSite: .lax)
        return (try mac("presession", value), cookie)
    }

    /// Whether a form's token is the one bound to the request's session (or pre-session),
    /// compared in constant time.
    func isValid(_ submitted: String?, request: Request) -> Bool {
        guard let submitted, let expected = try? expected(request) else { return false }
        return constantTimeEquals(Array(submitted.utf8), Array(expected.utf8))
    }

    private func expected(_ request: Request) throws -> String? {
        if let session = request.cookies[sessionCookie]?.value, !session.isEmpty { return try mac("session", session) }
        if let presession = request.cookies[presessionCookie]?.value, presession.utf8.count == 32 {
            return try mac("presession", presession)
        }
        return nil
    }

    private func mac(_ kind: String, _ value: String) throws -> String {
        Base64URL.encode(try key.authenticationCode(for: Array("\(kind):\(value)".utf8)))
    }
}
