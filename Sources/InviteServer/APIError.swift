public import Hummingbird
public import InviteService
public import InviteStore
public import InviteToken
import NIOCore

/// An error answered as RFC 9457 `application/problem+json` with a stable `code` member.
///
/// The one place where domain errors (token reasons, store codes) become HTTP statuses.
///
/// `title` and `detail` are catalog texts, written in the language `Accept-Language` asks for
/// when the response is made (DESIGN.md §10); `code` is never translated.
public struct APIError: HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let detail: CatalogText
    /// The `Allow` header of a 405.
    public let allow: String?

    public init(_ status: HTTPResponse.Status, _ code: String, _ detail: CatalogText, allow: String? = nil) {
        self.status = status
        self.code = code
        self.detail = detail
        self.allow = allow
    }

    public static func invalidRequest(_ detail: CatalogText) -> APIError { APIError(.badRequest, "invalid_request", detail) }
    public static let unauthorized = APIError(.unauthorized, "unauthorized", CatalogText("problem.unauthorized"))
    public static func forbidden(_ detail: CatalogText) -> APIError { APIError(.forbidden, "forbidden", detail) }
    public static func notFound(_ detail: CatalogText = CatalogText("problem.not_found")) -> APIError {
        APIError(.notFound, "not_found", detail)
    }

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
        self.init(Self.status(for: error.code), error.code.rawValue, CatalogText(error.code.explanationKey))
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
            self.init(
                status, error.code == .invalidInput ? "invalid_request" : error.code.rawValue, CatalogText(Self.detailKey(for: error.code)))
        }
    }

    /// What a client is told of a store refusal, by its code: the store's own sentence names
    /// ids and stays in the log, in English.
    static func detailKey(for code: StoreError.Code) -> String {
        switch code {
        case .notFound: "problem.store.not_found"
        case .conflict: "problem.store.conflict"
        case .unknownPartner: "problem.store.unknown_partner"
        case .providerNotConnected: "problem.store.provider_not_connected"
        case .unknownInvitation: "problem.store.unknown_invitation"
        case .revoked: "problem.store.revoked"
        case .usedUp: "problem.store.used_up"
        case .unknownCustomer: "problem.store.unknown_customer"
        case .invalidCursor: "problem.store.invalid_cursor"
        default: "problem.store.invalid_input"
        }
    }

    /// The problem's `title`, by status.
    static func titleKey(for status: HTTPResponse.Status) -> String? {
        switch status.code {
        case 400: "problem.title.400"
        case 401: "problem.title.401"
        case 403: "problem.title.403"
        case 404: "problem.title.404"
        case 405: "problem.title.405"
        case 409: "problem.title.409"
        case 410: "problem.title.410"
        case 413: "problem.title.413"
        case 415: "problem.title.415"
        case 422: "problem.title.422"
        case 429: "problem.title.429"
        case 500: "problem.title.500"
        case 503: "problem.title.503"
        default: nil
        }
    }

    /// What every failure of the service itself answers (DESIGN.md §11): `code: internal` and
    /// the request id, never a database's or a library's words, which go to the log.
    public static func internalFailure(_ status: HTTPResponse.Status = .internalServerError) -> APIError {
        APIError(
            status, "internal", CatalogText(status == .serviceUnavailable ? "problem.internal_unavailable" : "problem.internal"))
    }

    /// Maps any error a handler throws to a problem document; unknown errors are a 500 that
    /// says nothing about their cause.
    public static func from(_ error: any Error) -> APIError {
        switch error {
        case let error as APIError: error
        case let error as TokenError: APIError(error)
        case let error as StoreError: APIError(error)
        case is PasswordHashingPool.Busy:
            APIError(.serviceUnavailable, "internal", CatalogText("problem.sign_ins_busy"))
        case let error as LinkTooLongError:
            APIError(
                .unprocessableContent, "link_too_long",
                CatalogText(
                    "problem.link_too_long",
                    ["length": String(error.length), "limit": String(InvitationService.maximumLinkLength + 1)]))
        case is NIOTooManyBytesError: APIError(.contentTooLarge, "payload_too_large", CatalogText("problem.payload_too_large"))
        case let error as HTTPError where error.status == .contentTooLarge:
            APIError(.contentTooLarge, "payload_too_large", CatalogText("problem.payload_too_large"))
        case let error as HTTPError where error.status.code == 404:
            APIError(error.status, "not_found", CatalogText("problem.not_found"))
        case let error as HTTPError where error.status.code < 500:
            APIError(error.status, "invalid_request", CatalogText("problem.invalid_request"))
        default: .internalFailure()
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let catalog = request.apiCatalog
        var out = JSONObjectWriter()
        out.add("type", "https://invitelink.example/problems/\(code)")
        out.add("title", Self.titleKey(for: status).map { catalog.text($0) } ?? status.reasonPhrase)
        out.add("status", Int(status.code))
        out.add("detail", catalog.text(detail))
        out.add("code", code)
        out.add("request_id", context.id)
        var headers: HTTPFields = [
            .contentType: "application/problem+json", .cacheControl: "no-store", .contentLanguage: catalog.language.rawValue,
        ]
        if status == .unauthorized { headers[.wwwAuthenticate] = "Bearer" }
        if status == .serviceUnavailable { headers[.retryAfter] = "5" }
        if let allow { headers[.allow] = allow }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: out.finish())))
    }
}
