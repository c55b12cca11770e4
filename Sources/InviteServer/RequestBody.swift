import Hummingbird
import InviteService
import InviteToken
import NIOCore

/// A JSON request body read strictly: `application/json`, at most 64 KiB, a UTF-8 object
/// without duplicate members, only the members a route names, each of the right type.
/// Anything else is a 4xx problem before the handler does any work.
struct JSONBody {
    private let members: [(String, JSONValue)]

    static func read(_ request: Request, context: AppRequestContext, allowed: Set<String>) async throws -> JSONBody {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", CatalogText("problem.send_json"))
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        let json: JSONValue
        do {
            json = try StrictJSON.parse(Array(buffer.readableBytesView))
        } catch {
            throw APIError.invalidRequest(
                CatalogText("problem.json_invalid", ["reason": "\(error.reason)", "offset": String(error.offset)]))
        }
        guard case .object(let members) = json else { throw APIError.invalidRequest(CatalogText("problem.json_not_object")) }
        if let unknown = members.first(where: { !allowed.contains($0.0) }) {
            throw APIError.invalidRequest(
                CatalogText("problem.member_unknown", ["member": unknown.0, "allowed": allowed.sorted().joined(separator: ", ")]))
        }
        return JSONBody(members: members)
    }

    private func value(_ name: String) -> JSONValue? {
        guard let value = members.first(where: { $0.0 == name })?.1 else { return nil }
        if case .null = value { return nil }
        return value
    }

    func string(_ name: String, maxLength: Int = 256) throws -> String? {
        guard let value = value(name) else { return nil }
        guard case .string(let text) = value else {
            throw APIError.invalidRequest(CatalogText("problem.member_not_string", ["member": name]))
        }
        guard text.utf8.count <= maxLength else {
            throw APIError.invalidRequest(CatalogText("problem.member_too_long", ["member": name, "maximum": String(maxLength)]))
        }
        return text
    }

    func bool(_ name: String) throws -> Bool? {
        guard let value = value(name) else { return nil }
        guard case .bool(let flag) = value else { throw APIError.invalidRequest(CatalogText("problem.member_not_bool", ["member": name])) }
        return flag
    }

    /// An array of strings, each named at most once.
    func stringArray(_ name: String, maxCount: Int = 16) throws -> [String]? {
        guard let value = value(name) else { return nil }
        guard case .array(let items) = value, items.count <= maxCount else {
            throw APIError.invalidRequest(CatalogText("problem.member_not_string_array", ["member": name, "maximum": String(maxCount)]))
        }
        let strings = try items.map { item -> String in
            guard case .string(let text) = item else {
                throw APIError.invalidRequest(CatalogText("problem.member_not_strings", ["member": name]))
            }
            return text
        }
        guard Set(strings).count == strings.count else {
            throw APIError.invalidRequest(CatalogText("problem.member_repeats", ["member": name]))
        }
        return strings
    }

    func integer(_ name: String, in range: ClosedRange<Int64>) throws -> Int64? {
        guard let value = value(name) else { return nil }
        guard case .integer(let number) = value, range.contains(number) else {
            throw APIError.invalidRequest(
                CatalogText(
                    "problem.member_not_in_range",
                    ["member": name, "lowest": String(range.lowerBound), "highest": String(range.upperBound)]))
        }
        return number
    }
}

/// A JSON response with the given status.
func jsonResponse(_ status: HTTPResponse.Status = .ok, _ body: String) -> Response {
    Response(
        status: status,
        headers: [.contentType: "application/json", .cacheControl: "no-store"],
        body: ResponseBody(byteBuffer: ByteBuffer(string: body))
    )
}
