import Hummingbird
import Mustache

/// Renders every HTML page the server sends, the acceptance pages and the portal alike, from
/// the Mustache templates: each page carries the CSRF token its forms post back (setting the
/// cookie when the token is new), is `text/html` and is never cached.
struct HTMLRenderer: Sendable {
    let templates: MustacheLibrary
    let csrf: CSRFTokens

    func page(_ template: String, status: HTTPResponse.Status = .ok, request: Request, _ values: [String: Any]) throws -> Response {
        let (token, cookie) = try csrf.token(for: request)
        var values = values
        values["csrf"] = token
        guard let html = templates.render(values, withTemplate: template) else {
            throw TemplateMissing(name: template)
        }
        var response = Response(
            status: status, headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: html)))
        if let cookie { response.setCookie(cookie) }
        return response
    }

    /// 503 with `Retry-After` for a sign-in while the password-hashing pool is full: one fixed
    /// page, so the refusals a flood of sign-ins gets cost no template, no token, no look-up.
    static func busy() -> Response {
        Response(
            status: .serviceUnavailable,
            headers: [.contentType: "text/html; charset=utf-8", .cacheControl: "no-store", .retryAfter: "2"],
            body: ResponseBody(byteBuffer: busyPage))
    }

    private static let busyPage = ByteBuffer(
        string: """
            <!doctype html>
            <html lang="en">
            <head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
            <title>Too many sign-ins right now · InviteLink</title><link rel="stylesheet" href="/assets/app.css"></head>
            <body><main><h1>Too many sign-ins right now</h1>
            <p>The service is checking many passwords at once. Go back and try again in a few seconds.</p>
            <p class="code">internal</p></main></body>
            </html>

            """)

    /// A 303 to `location`, so a form's POST is followed by a GET.
    static func redirect(to location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location, .cacheControl: "no-store"])
    }
}

/// A page whose template is not in the bundle: a packaging fault, answered as `internal`.
struct TemplateMissing: Error, CustomStringConvertible {
    let name: String
    var description: String { "template \(name) is missing" }
}
