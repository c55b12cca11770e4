public import Hummingbird
import InviteService
public import InviteStore
public import InviteToken
import NIOCore

/// An error answered as RFC 9457 `application/problem+json` with a stable `code` member.
///
/// The one place where domain errors (token reasons, store codes) become HTTP statuses.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let detail: String
    /// The `Allow` header of a 405.
    public let allow: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ detail: String, allow: String? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.allow = allow
    }

    public static func invalidRequest(_ detail: String) -> APIError { APIError(.badRequest, "invalid_request", detail) }
    public static let unauthorized = APIError(.unauthorized, "unauthorized", "a valid bearer credential is required")
    public static func forbidden(_ detail: String) -> APIError { APIError(.forbidden, "forbidden", detail) }
    public static func notFound(_ detail: String = "no such resource") -> APIError { APIError(.notFound, "not_found", detail) }

    public static func status(for reason: TokenError.Code) -> HTTPResponse.Status {
        switch reason {
        case .malformed, .unknownKey, .algorithmMismatch, .badSignature, .invalidClaims,
            .wrongIssuer, .wrongAudience, .notYetValid:
            .badRequest
        case .expired, .revoked, .keyRetired, .keyRevoked: .gone
        case .usedUp: .conflict
        case .unknownInvitation: .notFound
        }
    }

    public init(_ error: TokenError) {
        self.init(Self.status(for: error.code), error.code.rawValue, error.code.explanation)
    }

    public init(_ error: StoreError) {
        let status: HTTPResponse.Status =
            switch error.code {
            case .notFound, .unknownCustomer: .notFound
            case .conflict, .providerNotConnected, .usedUp, .unknownPartner: .conflict
            case .revoked: .gone
            case .unknownInvitation: .notFound
            case .unavailable: .serviceUnavailable
            case .invalidInput, .invalidCursor: .badRequest
            default: .internalServerError
            }
        if status.code >= 500 {
            self = .internalFailure(status)
        } else {
            self.init(status, error.code == .invalidInput ? "invalid_request" : error.code.rawValue, error.message)
        }
    }

    /// What every failure of the service itself answers (DESIGN.md §11): `code: internal` and
    /// the request id, never a database's or a library's words, which go to the log.
    public static func internalFailure(_ status: HTTPResponse.Status = .internalServerError) -> APIError {
        APIError(
            status, "internal",
            status == .serviceUnavailable
                ? "the service cannot serve this request now; nothing was changed; retry later"
                : "the service failed; nothing was changed")
    }

    /// Maps any error a handler throws to a problem document; unknown errors are a 500 that
    /// says nothing about their cause.
    public static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: error
        case let error as TokenError: APIError(error)
        case let error as StoreError: APIError(error)
        case is PasswordHashingPool.Busy:
            APIError(.serviceUnavailable, "internal", "too many sign-ins are being checked at once; retry in a few seconds")
        case let error as LinkTooLongError: APIError(.unprocessableContent, "link_too_long", error.description)
        case is NIOTooManyBytesError: APIError(.contentTooLarge, "payload_too_large", "the request body is over 64 KiB")
        case let error as HTTPError where error.status == .contentTooLarge:
            APIError(.contentTooLarge, "payload_too_large", "the request body is over 64 KiB")
        case let error as HTTPError where error.status.code < 500:
            APIError(error.status, error.status.code == 404 ? "not_found" : "invalid_request", error.body ?? error.status.reasonPhrase)
        default: .internalFailure()
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var out = JSONObjectWriter()
        out.add("type", "https://invitelink.example/problems/\(code)")
        out.add("title", status.reasonPhrase)
        out.add("status", Int(status.code))
        out.add("detail", detail)
        out.add("code", code)
        out.add("request_id", context.id)
        var headers: HTTPFields = [.contentType: "application/problem+json", .cacheControl: "no-store"]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if status == .serviceUnavailable { headers[.retryAfter] = "5" }
        if let allow { headers[.allow] = allow }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: out.finish())))
    }
}
