import Hummingbird
import InviteService

/// `GET /language?set=es&return=/path`: the switch every page shows. Sets the `lang` cookie
/// (a preference, not a secret: readable, a year long) and sends the browser back to `return`,
/// a path on this site only; any other value sends it to `/account`.
struct LanguageRoutes: Sendable {
    let secureCookies: Bool

    static let cookieLifetime = 365 * 86_400

    func register(on router: Router<AppRequestContext>) {
        router.get("language", use: choose)
    }

    @Sendable func choose(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let set = request.uri.queryParameters["set"], let language = Language(rawValue: String(set)) else {
            throw APIError.invalidRequest(
                CatalogText("problem.language_unknown", ["languages": Language.allCases.map(\.rawValue).joined(separator: ", ")]))
        }
        let back = LanguageChoice.safeReturnPath(request.uri.queryParameters["return"].map(String.init), fallback: "/account")
        var response = HTMLRenderer.redirect(to: back)
        response.setCookie(
            Cookie(
                name: LanguageChoice.cookieName, value: language.rawValue, maxAge: Self.cookieLifetime, path: "/", secure: secureCookies,
                httpOnly: false, sameSite: .lax))
        return response
    }
}
