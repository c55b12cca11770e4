/// Why an invitation link does not work, with the stable reason codes of DESIGN.md §2.
///
/// The codes are part of the contract: the HTTP API returns them in problem documents, the CLI
/// prints them, and the acceptance page explains each one.
public struct TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable, CaseIterable, Codable {
        /// Over 4096 bytes, not three canonical base64url parts, or a header that is not
        /// exactly `{alg, kid, typ}` with `typ: invitation+jwt`.
        case malformed
        case unknownKey = "unknown_key"
        case keyRetired = "key_retired"
        case keyRevoked = "key_revoked"
        /// The header's `alg` is not the algorithm the key was created with.
        case algorithmMismatch = "algorithm_mismatch"
        case badSignature = "bad_signature"
        /// Claims missing, of the wrong type, unknown, or a lifetime over the maximum.
        case invalidClaims = "invalid_claims"
        case wrongIssuer = "wrong_issuer"
        case wrongAudience = "wrong_audience"
        /// Issued more than 60 s in the future.
        case notYetValid = "not_yet_valid"
        case expired
        // Database checks, made only after every check above passed.
        case revoked
        case usedUp = "used_up"
        case unknownInvitation = "unknown_invitation"

        /// The catalog key of the sentence a customer reads on the acceptance page and an API
        /// client in `detail` (the server's `Resources/i18n/*.json`).
        public var explanationKey: String {
            switch self {
            case .malformed: "token.malformed"
            case .unknownKey: "token.unknown_key"
            case .keyRetired: "token.key_retired"
            case .keyRevoked: "token.key_revoked"
            case .algorithmMismatch, .badSignature: "token.altered"
            case .invalidClaims: "token.invalid_claims"
            case .wrongIssuer, .wrongAudience: "token.wrong_service"
            case .notYetValid: "token.not_yet_valid"
            case .expired: "token.expired"
            case .revoked: "token.revoked"
            case .usedUp: "token.used_up"
            case .unknownInvitation: "token.unknown_invitation"
            }
        }
    }

    public let code: Code
    public let detail: String

    public init(_ code: Code, _ detail: String = "") {
        self.code = code
        self.detail = detail
    }

    public var description: String { detail.isEmpty ? code.rawValue : "\(code.rawValue): \(detail)" }
}
