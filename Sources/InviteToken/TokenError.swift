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

        /// A sentence a customer can read on the acceptance page.
        public var explanation: String {
            switch self {
            case .malformed: "This link is damaged or incomplete. Ask your partner to send it again."
            case .unknownKey: "This link was signed with a key this service does not know. Ask your partner for a new link."
            case .keyRetired: "This link was signed with a key that has been retired. Ask your partner for a new link."
            case .keyRevoked:
                "This link was signed with a key that has been withdrawn for security reasons. Ask your partner for a new link."
            case .algorithmMismatch, .badSignature: "This link has been altered and cannot be trusted. Ask your partner to send it again."
            case .invalidClaims: "This link is not a valid invitation. Ask your partner to send it again."
            case .wrongIssuer, .wrongAudience: "This link was not issued for this service."
            case .notYetValid: "This link is not valid yet. Check your computer's clock or try again later."
            case .expired: "This link has expired. Ask your partner for a new one."
            case .revoked: "Your partner has withdrawn this invitation."
            case .usedUp: "This invitation has already been used as many times as allowed."
            case .unknownInvitation: "This invitation is not known to this service. Ask your partner for a new link."
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
