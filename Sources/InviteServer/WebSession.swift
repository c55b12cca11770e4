import Hummingbird
import InviteStore

/// The customer's browser session on the acceptance pages, and their CSRF tokens.
///
/// A ``SignedSessionCookie`` (`invitelink_session`, `__Host-` over HTTPS) under a key derived
/// from the ``SessionSecret`` for this purpose: nothing is stored server-side. With a shared
/// secret any instance accepts it; with the default per-process secret a restart signs
/// everyone out (a session only lasts for one acceptance). Forms carry ``CSRFTokens`` bound to
/// this session, or to a pre-session cookie before sign-in.
struct WebSession: Sendable {
    static let lifetime: Int64 = 30 * 60

    let cookie: SignedSessionCookie
    let csrf: CSRFTokens

    init(secureCookies: Bool, secret: SessionSecret) throws {
        cookie = SignedSessionCookie(
            key: try secret.key(for: "acceptance"), name: cookieName("invitelink_session", secure: secureCookies),
            lifetime: Self.lifetime, secure: secureCookies, sameSite: .lax)
        csrf = try CSRFTokens(secret: secret, purpose: "acceptance", sessionCookie: cookie.name, secure: secureCookies)
    }
}
