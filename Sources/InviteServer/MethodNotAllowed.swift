import Hummingbird
import InviteService
import Synchronization

/// Answers `405 method_not_allowed` with an `Allow` header, instead of 404, when a request's
/// path is routed but not for its method (`PUT /v1/invitations`): RFC 9110 §15.5.6, and a
/// client learns it used the wrong method rather than a wrong address.
///
/// The route table is read from the router once every route is registered (``load(_:)``);
/// the middleware has to be added before the routes, so it holds the table by reference.
final class AllowedMethods: Sendable {
    private let table = Mutex<[(template: [Substring], methods: [HTTPRequest.Method])]>([])

    func load(_ routes: [Router<AppRequestContext>.RouteDescription]) {
        var byPath: [String: [HTTPRequest.Method]] = [:]
        for route in routes { byPath[String(describing: route.path), default: []].append(route.method) }
        // Literal segments before parameters, as the router's trie prefers them: the methods of
        // `/v1/invitations/verify` are POST's, not those of `/v1/invitations/{id}`.
        let entries = byPath.map { path, methods in
            (template: Self.segments(path), methods: methods.sorted { $0.rawValue < $1.rawValue })
        }.sorted { $0.template.filter(Self.isWildcard).count < $1.template.filter(Self.isWildcard).count }
        table.withLock { $0 = entries }
    }

    /// The methods routed for `path`, empty when no route has that shape.
    func methods(for path: String) -> [HTTPRequest.Method] {
        let segments = Self.segments(path)
        return table.withLock { table in
            table.first { Self.matches($0.template, segments) }?.methods ?? []
        }
    }

    private static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    private static func isWildcard(_ part: Substring) -> Bool {
        part == "*" || part == "**" || part.hasPrefix(":") || (part.hasPrefix("{") && part.hasSuffix("}"))
    }

    /// A template segment `{name}`, `:name` or `*` matches any one segment; `**` the rest.
    private static func matches(_ template: [Substring], _ segments: [Substring]) -> Bool {
        for (index, part) in template.enumerated() {
            if part == "**" { return true }
            guard index < segments.count else { return false }
            guard isWildcard(part) || part == segments[index] else { return false }
        }
        return template.count == segments.count
    }
}

struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let allowed: AllowedMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            // The router's own 404; a handler's 404 for an unknown id comes from a route that
            // does take this method, and stays.
            let methods = allowed.methods(for: request.uri.path)
            guard !methods.isEmpty, !methods.contains(request.method) else { throw error }
            let list = methods.map(\.rawValue).joined(separator: ", ")
            throw APIError(
                .methodNotAllowed, "method_not_allowed",
                CatalogText("problem.method_not_allowed", ["method": request.method.rawValue, "allowed": list]),
                allow: list)
        }
    }
}
