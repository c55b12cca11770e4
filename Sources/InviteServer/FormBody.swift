import Foundation
import Hummingbird
import InviteService

/// `application/x-www-form-urlencoded` bodies, at most 64 KiB.
struct FormBody {
    private var fields: [String: String] = [:]
    /// Every value of each name, in order: for checkboxes that share a name.
    private var all: [String: [String]] = [:]

    static func read(_ request: Request, context: AppRequestContext) async throws -> FormBody {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/x-www-form-urlencoded") else {
            throw APIError(.unsupportedMediaType, "unsupported_media_type", CatalogText("problem.send_form"))
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        var form = FormBody()
        for pair in String(decoding: buffer.readableBytesView, as: UTF8.self).split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = Self.decode(parts[0]) else { continue }
            let value = parts.count > 1 ? Self.decode(parts[1]) : ""
            form.fields[name] = value
            if let value { form.all[name, default: []].append(value) }
        }
        return form
    }

    private static func decode(_ text: Substring) -> String? {
        text.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
    }

    subscript(name: String) -> String? { fields[name] }

    func values(_ name: String) -> [String] { all[name] ?? [] }
}
