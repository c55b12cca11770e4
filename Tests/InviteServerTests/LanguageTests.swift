import Foundation
import HTTPTypes
import Hummingbird
import InviteServer
import InviteService
import InviteToken
import Testing

/// DESIGN.md §10: every page, the draft email and the problem texts in English and Spanish,
/// from one catalog per language; the choice by cookie, then `Accept-Language`, then English.
@Suite("Languages")
struct LanguageTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()

    /// The text of every file under Sources/ whose name ends in one of `extensions`.
    static func sources(_ extensions: Set<String>) throws -> [(path: String, text: String)] {
        let base = root.appending(path: "Sources")
        let walker = try #require(FileManager.default.enumerator(at: base, includingPropertiesForKeys: nil))
        var files: [(String, String)] = []
        for case let url as URL in walker where extensions.contains(url.pathExtension) {
            files.append((url.path.replacingOccurrences(of: root.path + "/", with: ""), try String(contentsOf: url, encoding: .utf8)))
        }
        return files.sorted { $0.0 < $1.0 }
    }

    static func tags(_ form: String) -> [String] {
        form.matches(of: /<\/?([a-z]+)/).map { String($0.output.1) }.sorted()
    }

    // MARK: The catalogs

    @Test("en.json and es.json have the same keys, and per key the same placeholders, markup and plural kind")
    func catalogsMatch() throws {
        let english = Catalogs[.english].entries, spanish = Catalogs[.spanish].entries
        #expect(english.count > 300, "the English catalog has only \(english.count) keys")
        let onlyEnglish = Set(english.keys).subtracting(spanish.keys).sorted()
        let onlySpanish = Set(spanish.keys).subtracting(english.keys).sorted()
        #expect(onlyEnglish.isEmpty, "keys missing from es.json: \(onlyEnglish)")
        #expect(onlySpanish.isEmpty, "keys missing from en.json: \(onlySpanish)")
        for (key, entry) in english {
            guard let other = spanish[key] else { continue }
            #expect(entry.forms.count == other.forms.count, "\(key): plural in one language only")
            let placeholders = Set(entry.forms.flatMap(Catalog.placeholders(in:)))
            let otherPlaceholders = Set(other.forms.flatMap(Catalog.placeholders(in:)))
            #expect(placeholders == otherPlaceholders, "\(key): placeholders \(placeholders.sorted()) vs \(otherPlaceholders.sorted())")
            #expect(
                entry.forms.map(Self.tags) == other.forms.map(Self.tags), "\(key): markup differs: \(entry.forms) vs \(other.forms)")
        }
    }

    @Test("every catalog key is used in Sources (a \"key\" in Swift or {{#t}}key{{/t}} in a template)")
    func everyKeyUsed() throws {
        let files = try Self.sources(["swift", "mustache"])
        var used = Set<String>()
        for (_, text) in files {
            for match in text.matches(of: /"([a-z_]+(?:\.[a-z0-9_]+)+)"/) { used.insert(String(match.output.1)) }
            for match in text.matches(of: /\{\{#t\}\}([^{]+)\{\{\/t\}\}/) { used.insert(String(match.output.1)) }
        }
        let unused = Set(Catalogs[.english].entries.keys).subtracting(used).sorted()
        #expect(unused.isEmpty, "catalog keys no source file uses: \(unused)")
        // And the other way: a key a template asks for is in the catalog.
        let templateKeys = files.filter { $0.path.hasSuffix(".mustache") }.flatMap { file in
            file.text.matches(of: /\{\{#t\}\}([^{]+)\{\{\/t\}\}/).map { String($0.output.1) }
        }
        let missing = Set(templateKeys).subtracting(Catalogs[.english].entries.keys).sorted()
        #expect(missing.isEmpty, "templates ask for keys no catalog has: \(missing)")
    }

    @Test("templates hold no user-facing words of their own: every text and label comes through {{#t}}")
    func templatesHaveNoLiterals() throws {
        // Names that are not words of a language.
        let allowed: Set<String> = ["InviteLink"]
        for (path, template) in try Self.sources(["mustache"]) {
            var text = template.replacing(/\{\{#t\}\}[^{]*\{\{\/t\}\}/, with: "")
            text = text.replacing(/\{\{[^}]*\}\}/, with: "")
            for attribute in text.matches(of: /(?:aria-label|placeholder|title|alt)="([^"]*)"/)
            where attribute.output.1.contains(where: \.isLetter) {
                Issue.record("\(path): attribute \(attribute.output.0) is a literal")
            }
            text = text.replacing(/<[^>]*>/, with: " ")
            let words = text.split(whereSeparator: { !$0.isLetter }).map(String.init).filter { !allowed.contains($0) }
            #expect(words.isEmpty, "\(path) has words outside the catalog: \(words)")
        }
    }

    /// The Swift files that put words in front of a reader: the routes, the problem mapping,
    /// the renderer, the draft email and the link reasons.
    static let wordyFiles: Set<String> = [
        "APIError.swift", "APIRoutes.swift", "APIRoutes+Audit.swift", "APIRoutes+Lifecycle.swift", "APIRoutes+Webhooks.swift",
        "AccountRoutes.swift",
        "Authentication.swift",
        "FormBody.swift", "HTMLRenderer.swift", "LanguageRoutes.swift", "MethodNotAllowed.swift", "PageRoutes.swift",
        "PasswordSignIn.swift", "PortalRoutes.swift", "PortalRoutes+Audit.swift", "PortalRoutes+Customers.swift",
        "PortalRoutes+Invitations.swift",
        "PortalRoutes+People.swift", "PortalRoutes+Rendering.swift", "PortalRoutes+Requests.swift", "PortalRoutes+Session.swift",
        "PortalRoutes+Webhooks.swift",
        "RequestBody.swift", "Application+build.swift", "DraftEmail.swift", "TokenError.swift",
    ]

    @Test("the Swift that writes pages, the draft email and problems holds no sentences: they are catalog keys")
    func swiftHasNoSentences() throws {
        let scanned = try Self.sources(["swift"]).filter { Self.wordyFiles.contains(URL(fileURLWithPath: $0.path).lastPathComponent) }
        #expect(scanned.count == Self.wordyFiles.count, "scanned \(scanned.map(\.path)), not every file named")
        for (path, text) in scanned {
            for line in text.split(separator: "\n") {
                let code = line.trimmingCharacters(in: .whitespaces)
                // Not for readers: comments, the log and the operator's diagnostics (in English),
                // a TokenError's own detail (for the log and the CLI).
                if code.hasPrefix("//") || code.contains("logger.") || code.contains("fatalError(") || code.contains("TokenError(")
                    || code.contains("var description")
                {
                    continue
                }
                for literal in code.matches(of: /"((?:[^"\\]|\\.)*)"/) {
                    // Interpolated values (`\(user.email)`) are data, not words.
                    let text = literal.output.1.replacing(/\\\([^)]*\)/, with: "")
                    // Header values and markup attributes (`text/html; charset=utf-8`) are not words.
                    if text.contains(";") || text.contains("=") { continue }
                    let sentence = text.contains(" ") && text.split(whereSeparator: { !$0.isLetter }).filter { $0.count > 1 }.count >= 2
                    #expect(!sentence, "\(path): a literal a reader would see: \(literal.output.0)")
                }
            }
        }
    }

    // MARK: Choosing the language

    @Test("Accept-Language: the highest q of ours wins, earlier first among equals; q=0, * and others never choose")
    func acceptLanguage() {
        let cases: [(String?, Language?)] = [
            (nil, nil), ("", nil), ("es", .spanish), ("es-MX,en;q=0.5", .spanish), ("en;q=0.4, es;q=0.8", .spanish),
            ("fr, es;q=0.1", .spanish), ("fr, de", nil), ("*", nil), ("es;q=0", nil), ("EN-us", .english),
            ("es;q=0.5, en;q=0.5", .spanish), ("en;q=0.5,es;q=0.5", .english), ("es;q=abc, en", .english),
            ("es ; q=0.9 , en;q=0.8", .spanish),
        ]
        for (header, expected) in cases {
            #expect(LanguageChoice.fromAcceptLanguage(header) == expected, "Accept-Language \(header ?? "absent")")
        }
    }

    @Test("a page follows the lang cookie, then Accept-Language, then English, and <html lang> says which")
    func pageLanguage() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let cases: [(cookie: String?, accept: String?, expected: String)] = [
                (nil, nil, "en"), (nil, "es-ES,es;q=0.9", "es"), ("lang=en", "es", "en"), ("lang=es", "en", "es"),
                ("lang=xx", "es", "es"), (nil, "fr, en;q=0.1", "en"),
            ]
            for (cookie, accept, expected) in cases {
                var headers: HTTPFields = [:]
                if let accept { headers[.acceptLanguage] = accept }
                let page = try await client.send(.get, "/account", cookie: cookie, headers: headers)
                #expect(
                    page.text.contains("<html lang=\"\(expected)\">"), "cookie \(cookie ?? "none"), Accept-Language \(accept ?? "none")")
                #expect(page.headers[.contentLanguage] == expected, "Content-Language: \(page.headers[.contentLanguage] ?? "-")")
                let signIn = Catalogs[Language(rawValue: expected)!].text("common.sign_in")
                #expect(page.text.contains(">\(signIn)</button>"), "the \(expected) page lacks \(signIn)")
            }
            let spanish = try await client.send(.get, "/portal/sign-in", headers: [.acceptLanguage: "es"])
            #expect(spanish.text.contains("Iniciar sesión en el portal para partners"), "the portal sign-in page is not in Spanish")
            #expect(
                spanish.text.contains("href=\"/language?set=en&amp;return=%2Fportal%2Fsign-in\""),
                "the page has no switch back to English that returns to it")
        }
    }

    @Test("the switch sets the lang cookie and sends the browser back only to a path on this site")
    func languageSwitch() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let set = try await client.send(.get, "/language?set=es&return=%2Fportal%2Fsign-in%3Fx%3D1")
            #expect(set.status == .seeOther && set.headers[.location] == "/portal/sign-in?x=1", "\(set.status) \(set.headers)")
            #expect(set.cookie("lang") == "es", "no lang cookie: \(set.setCookies)")
            for hostile in ["https://evil.example/", "//evil.example/", "/%5Cevil.example", "evil", "%2F%2Fevil.example", "/a%0D%0Ab"] {
                let reply = try await client.send(.get, "/language?set=en&return=\(hostile)")
                #expect(reply.headers[.location] == "/account", "return=\(hostile) sent the browser to \(reply.headers[.location] ?? "-")")
            }
            // After a POST the switch goes back to the page of the form, not to the POST's path.
            let created = try await client.issue(bearer: world.adminA)
            let token = token(ofURL: try #require(created["url"] as? String))
            let landing = try await client.send(.get, "/invitations/accept?token=\(token)")
            let refused = try await client.send(
                .post, "/invitations/sign-in",
                form: [
                    ("token", token), ("csrf", try #require(landing.hiddenField("csrf"))), ("email", "x@y.example"), ("password", "no"),
                ],
                cookie: landing.cookieHeader)
            #expect(refused.text.contains(Catalogs[.english].text("common.not_right")), "the sign-in was not refused: \(refused.status)")
            #expect(
                refused.text.contains("href=\"/language?set=es&amp;return=%2Finvitations%2Faccept%3Ftoken%3D\(token)\""),
                "the switch after a refused sign-in does not return to the invitation")
            let unknown = try await client.send(.get, "/language?set=fr&return=/account")
            expectProblem(unknown, .badRequest, "invalid_request", "an unknown language")
            #expect(unknown.cookie("lang") == nil, "an unknown language set a cookie")
        }
    }

    // MARK: Problems, dates, the email

    @Test("a problem answered to Accept-Language: es has a Spanish title and detail, and the same code")
    func spanishProblem() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let english = try await client.send(.get, "/v1/invitations")
            let spanish = try await client.send(.get, "/v1/invitations", headers: [.acceptLanguage: "es-ES,es;q=0.9,en;q=0.5"])
            expectProblem(english, .unauthorized, "unauthorized", "no credential, English")
            expectProblem(spanish, .unauthorized, "unauthorized", "no credential, Spanish")
            #expect(english.json["title"] as? String == "Unauthorized", "English title: \(english.text)")
            #expect(spanish.json["title"] as? String == "No autorizado", "Spanish title: \(spanish.text)")
            #expect(spanish.json["detail"] as? String == Catalogs[.spanish].text("problem.unauthorized"), "Spanish detail: \(spanish.text)")
            #expect(spanish.json["type"] as? String == english.json["type"] as? String, "the type changed with the language")
            #expect(spanish.headers[.contentLanguage] == "es", "Content-Language: \(spanish.headers[.contentLanguage] ?? "-")")

            // A validation problem, with its placeholders filled in Spanish.
            let bad = try await client.send(
                .post, "/v1/invitations", bearer: world.adminA, json: #"{"dap":"yes"}"#, headers: [.acceptLanguage: "es"])
            expectProblem(bad, .badRequest, "invalid_request", "a non-boolean dap")
            #expect(bad.json["detail"] as? String == "\"dap\" debe ser true o false", "detail: \(bad.text)")
            #expect(bad.json["title"] as? String == "Solicitud incorrecta", "title: \(bad.text)")

            // A link's reason explained in Spanish by verify; the reason code is unchanged.
            let verify = try await client.send(
                .post, "/v1/invitations/verify", bearer: world.adminA, json: #"{"token":"x.y.z"}"#, headers: [.acceptLanguage: "es"])
            #expect(verify.json["reason"] as? String == "malformed", "reason: \(verify.text)")
            #expect(verify.json["detail"] as? String == Catalogs[.spanish].text("token.malformed"), "detail: \(verify.text)")
        }
    }

    @Test("dates read in the reader's language, in UTC with the zone named")
    func dates() {
        let moment: Int64 = 1_746_091_800 // 2025-05-01T09:30:00Z
        #expect(Catalogs[.english].dateTime(moment) == "May 1, 2025, 09:30 UTC")
        #expect(Catalogs[.spanish].dateTime(moment) == "1 de mayo de 2025, 09:30 UTC")
        #expect(Catalogs[.spanish].dateTime(1_767_225_599) == "31 de diciembre de 2025, 23:59 UTC")
        #expect(Catalogs[.english].dateTime(951_825_540) == "February 29, 2000, 11:59 UTC")
        #expect(Catalogs[.english].dateTime(-1) == "December 31, 1969, 23:59 UTC")
    }

    @Test("placeholders are filled in one pass: every occurrence, values taken as they are, unknown names kept")
    func placeholderFilling() {
        let filled = Catalog.fill(
            "{a} and {a}, {b}{count} {unknown} {", arguments: ["a": "{b}", "b": "é{"], count: 7)
        #expect(filled == "{b} and {b}, é{7 {unknown} {")
        #expect(Catalog.fill("{count}", arguments: ["count": "x"], count: 2) == "x")
        #expect(Catalog.fill("no braces", arguments: ["a": "b"], count: nil) == "no braces")
        #expect(Catalog.fill("{count} left", arguments: [:], count: nil) == "{count} left")
    }

    @Test("plural forms: one for 1, other otherwise, with {count} filled")
    func plurals() {
        #expect(Catalogs[.english].text("common.locked", count: 1) == "Too many failed sign-ins. Try again in a minute.")
        #expect(Catalogs[.spanish].text("common.locked", count: 3).hasSuffix("dentro de 3 minutos."))
    }

    @Test("POST /v1/invitations writes the email in `language`, else in the Accept-Language one, else English")
    func emailLanguage() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let named = try await client.issue(#"{"language":"es","dap":true}"#, bearer: world.adminA)
            let email = try #require(named["email"] as? [String: Any])
            #expect(email["language"] as? String == "es")
            #expect((email["subject"] as? String)?.hasSuffix("le invita a una relación de revendedor") == true, "\(email)")
            #expect((email["body"] as? String)?.contains("privilegios de administrador delegado") == true, "\(email)")
            #expect((email["body"] as? String)?.contains(" UTC.") == true, "the email's date names no zone: \(email)")

            let byHeader = try await client.send(
                .post, "/v1/invitations", bearer: world.adminA, json: "{}", headers: [.acceptLanguage: "es"])
            #expect((byHeader.json["email"] as? [String: Any])?["language"] as? String == "es", "\(byHeader.text)")
            let overridden = try await client.send(
                .post, "/v1/invitations", bearer: world.adminA, json: #"{"language":"en"}"#, headers: [.acceptLanguage: "es"])
            #expect((overridden.json["email"] as? [String: Any])?["language"] as? String == "en", "\(overridden.text)")
            let plain = try await client.issue(bearer: world.adminA)
            #expect((plain["email"] as? [String: Any])?["subject"] as? String == "Adatum Reseller invites you to a reseller relationship")

            let unknown = try await client.send(.post, "/v1/invitations", bearer: world.adminA, json: #"{"language":"fr"}"#)
            expectProblem(unknown, .badRequest, "invalid_request", "language fr")
        }
    }

    @Test("the acceptance page in Spanish: words, <html lang>, the date with its zone and <time datetime>")
    func spanishAcceptancePage() async throws {
        let world = try await World.make()
        defer { world.cleanUp() }
        try await world.withClient { client in
            let created = try await client.issue(#"{"provider_id":"prov_p","dap":true}"#, bearer: world.adminA)
            let token = token(ofURL: try #require(created["url"] as? String))
            let page = try await client.send(.get, "/invitations/accept?token=\(token)", headers: [.acceptLanguage: "es"])
            #expect(page.status == .ok)
            for expected in [
                "<html lang=\"es\">", "Quién lo solicita", "Proveedor indirecto", "Privilegios de administrador delegado",
                "como administrador global", " UTC</time>", "<time datetime=\"\(created["expires_at"] as? String ?? "?")\">",
            ] {
                #expect(page.text.contains(expected), "the Spanish acceptance page lacks \(expected)")
            }
            let broken = try await client.send(.get, "/invitations/accept?token=\(tampered(token))", headers: [.acceptLanguage: "es"])
            #expect(broken.text.contains(Catalogs[.spanish].text("token.altered")), "the Spanish problem page lacks its explanation")
            #expect(broken.text.contains("<code>bad_signature</code>"), "the reason code changed with the language")
        }
    }
}
