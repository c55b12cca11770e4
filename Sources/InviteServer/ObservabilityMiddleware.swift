import Hummingbird

/// Counts every request by its route template (never the raw path, which may hold ids) and
/// logs it; the context's logger carries the request id, which the response echoes as
/// `X-Request-Id`. The query string is never logged: it carries tokens.
struct ObservabilityMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func finish(_ status: Int) {
            let route = context.endpointPath ?? "unmatched"
            metrics.recordRequest(route: route, method: request.method, status: status, duration: ContinuousClock.now - start)
            context.logger.debug(
                "request",
                metadata: [
                    "method": .string(request.method.rawValue), "route": .string(route), "status": .stringConvertible(status),
                ])
        }
        do {
            var response = try await next(request, context)
            response.headers[.init("X-Request-Id")!] = context.id
            finish(Int(response.status.code))
            return response
        } catch {
            let problem = APIError.from(error)
            if problem.status.code >= 500 {
                // The detail a client never sees: the store's diagnostic, the library's words.
                context.logger.error(
                    "request failed",
                    metadata: ["error": .string(String(describing: type(of: error))), "detail": .string(String(describing: error))])
            }
            finish(Int(problem.status.code))
            var response = try problem.response(from: request, context: context)
            response.headers[.init("X-Request-Id")!] = context.id
            return response
        }
    }
}
