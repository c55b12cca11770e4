import Foundation
import Hummingbird
import InviteService
import Mustache

/// Renders every HTML page the server sends, the acceptance pages and the portal alike, from
/// the Mustache templates: each page carries the CSRF token its forms post back (setting the
/// cookie when the token is new), is `text/html` and is never cached.
///
/// Each page is written in the request's language (``LanguageChoice/forPage(_:)``): templates
/// take every word from the catalog through the `t` lambda (`{{#t}}accept.who{{/t}}`, whose
/// `{name}` placeholders are filled from the page's values, escaped), `<html lang>` from
/// `lang`, and the language switch from `languages`.
struct HTMLRenderer: Sendable {
    let templates: MustacheLibrary
    let csrf: CSRFTokens

    func page(_ template: String, status: HTTPResponse.Status = .ok, request: Request, _ values: [String: Any]) throws -> Response {
        let (token, cookie) = try csrf.token(for: request)
        var values = values
        values["csrf"] = token
        let catalog = request.pageCatalog
        values["lang"] = catalog.language.rawValue
        values["minimum"] = String(PageRoutes.minimumPasswordLength)
        values["t"] = MustacheLambda { key in catalog.mustacheForm(key.trimmingCharacters(in: .whitespacesAndNewlines)) }
        let back = Self.queryEncoded(Self.returnPath(request, token: values["token"] as? String))
        values["languages"] = Language.allCases.map { language -> [String: Any] in
            [
                "code": language.rawValue, "name": Catalogs[language].text("language.name"), "current": language == catalog.language,
                "href": "/language?set=\(language.rawValue)&return=\(back)",
            ]
        }
        guard let html = templates.render(values, withTemplate: template) else {
            throw TemplateMissing(name: template)
        }
        var response = Response(
            status: status,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .contentLanguage: catalog.language.rawValue],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// Where the language switch returns to: this page itself when it was a GET; after a POST
    /// (whose path a GET cannot repeat) the page its form is on. The pages send no `Referer`
    /// (`Referrer-Policy: no-referrer`), so that page is told by the path, and by the link's
    /// `token` for the acceptance and setup pages.
    static func returnPath(_ request: Request, token: String?) -> String {
        let path = request.uri.path
        if request.method == .get { return path + (request.uri.query.map { "?" + $0 } ?? "") }
        let withToken = { (page: String) in page + (token.map { "?token=" + queryEncoded($0) } ?? "") }
        switch path {
        case _ where path.hasPrefix("/invitations/"): return withToken("/invitations/accept")
        case "/setup": return withToken("/setup")
        case "/portal/sign-in", "/portal/password": return path
        case "/portal/invitations": return "/portal/invitations/new"
        case "/portal/customers": return "/portal/customers/new"
        case _ where path.hasPrefix("/portal/users"): return "/portal/users"
        case _ where path.hasPrefix("/portal"): return "/portal"
        default: return "/account"
        }
    }

    static func queryEncoded(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: PortalRoutes.unreserved) ?? ""
    }

    /// 503 with `Retry-After` for a sign-in while the password-hashing pool is full: one fixed
    /// page per language, so the refusals a flood of sign-ins gets cost no template, no token,
    /// no look-up.
    static func busy(_ request: Request) -> Response {
        Response(
            status: .serviceUnavailable,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .retryAfter: "2"],
            body: ResponseBody(byteBuffer: busyPages[LanguageChoice.forPage(request)]!))
    }

    private static let busyPages: [Language: ByteBuffer] = Dictionary(
        uniqueKeysWithValues: Language.allCases.map { language in
            let catalog = Catalogs[language]
            return (
                language,
                ByteBuffer(
                    string: """
                        <!doctype html>
                        <html lang="\(language.rawValue)">
                        <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
                        <title>\(catalog.text("busy.title")) · InviteLink</title><link rel="stylesheet" href="/assets/app.css"></head>
                        <body><main><h1>\(catalog.text("busy.title"))</h1>
                        <p>\(catalog.text("busy.text"))</p>
                        <p class="code">internal</p></main></body>
                        </html>

                        """)
            )
        })

    /// A 303 to `location`, so a form's POST is followed by a GET.
    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

extension Catalog {
    /// The form of `key` as a Mustache template: `{name}` becomes `{{name}}`, so the page's own
    /// values fill it, HTML-escaped. The catalog's words themselves are trusted markup.
    func mustacheForm(_ key: String) -> String {
        var form = self.form(key)
        for name in Set(Self.placeholders(in: form)) { form = form.replacingOccurrences(of: "{\(name)}", with: "{{\(name)}}") }
        return form
    }
}

/// A page whose template is not in the bundle: a packaging fault, answered as `internal`.
struct TemplateMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "template \(name) is missing" }
}
