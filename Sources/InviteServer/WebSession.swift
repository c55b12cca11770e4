import Foundation
import Hummingbird
import InviteCrypto
import InviteToken

/// Browser sessions and CSRF tokens for the acceptance pages.
///
/// The session cookie is `USERID.EXPIRY.MAC` with an HMAC-SHA256 under a key derived from the
/// ``SessionSecret``: nothing is stored server-side. With a shared secret any instance accepts
/// the cookie; with the default per-process secret a restart signs everyone out (sessions only
/// last for one acceptance). CSRF uses a double-submit token: a random
/// `invitelink_csrf` cookie whose value every form must echo; with SameSite=Lax cookies a
/// cross-site form can neither read nor send it.
struct WebSession: Sendable {
    static let cookieName = "invitelink_session"
    static let csrfCookieName = "invitelink_csrf"
    static let lifetime: Int64 = 30 * 60

    let key: HMACSHA256Key
    let secureCookies: Bool

    init(secureCookies: Bool, secret: SessionSecret) throws {
        key = try secret.key(for: "acceptance")
        self.secureCookies = secureCookies
    }

    func cookieValue(userID: String, now: Int64) throws -> String {
        let body = "\(userID).\(now + Self.lifetime)"
        return body + "." + Base64URL.encode(try key.authenticationCode(for: Array(body.utf8)))
    }

    /// The signed-in user id, when the cookie is intact and unexpired.
    func userID(from request: Request, now: Int64) -> String? {
        guard let value = request.cookies[Self.cookieName]?.value else { return nil }
        let parts = value.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let expiry = Int64(parts[1]), expiry > now,
            let mac = Base64URL.decode(parts[2]),
            (try? key.isValidAuthenticationCode(mac, for: Array("\(parts[0]).\(parts[1])".utf8))) == true
        else { return nil }
        return String(parts[0])
    }

    func sessionCookie(_ value: String) -> Cookie {
        Cookie(
            name: Self.cookieName, value: value, maxAge: Int(Self.lifetime), path: "/", secure: secureCookies, httpOnly: true,
            sameSite: .lax)
    }

    /// The request's CSRF token, or a new one to set.
    func csrfToken(for request: Request) throws -> (token: String, isNew: Bool) {
        if let existing = request.cookies[Self.csrfCookieName]?.value, existing.utf8.count == 32 { return (existing, false) }
        return (Base64URL.encode(try SystemRandom.bytes(24)), true)
    }

    func csrfCookie(_ token: String) -> Cookie {
        Cookie(name: Self.csrfCookieName, value: token, path: "/", secure: secureCookies, httpOnly: true, sameSite: .lax)
    }

    /// Whether a form's `csrf` field matches the cookie, compared in constant time.
    func isValidCSRF(_ submitted: String?, request: Request) -> Bool {
        guard let submitted, let cookie = request.cookies[Self.csrfCookieName]?.value, cookie.utf8.count == 32 else { return false }
        return constantTimeEquals(Array(submitted.utf8), Array(cookie.utf8))
    }
}

/// `application/x-www-form-urlencoded` bodies, at most 64 KiB.
struct FormBody {
    private var fields: [String: String] = [:]

    static func read(_ request: Request, context: AppRequestContext) async throws -> FormBody {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", "send the form as application/x-www-form-urlencoded")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        var form = FormBody()
        for pair in String(decoding: buffer.readableBytesView, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            form.fields[name] = parts.count > 1 ? Self.decode(parts[1]) : ""
        }
        return form
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    subscript(name: String) -> String? { fields[name] }
}
