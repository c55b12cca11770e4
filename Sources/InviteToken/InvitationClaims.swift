/// The payload of an invitation token (DESIGN.md §2).
public struct InvitationClaims: Sendable, Equatable {
    public static let audience = "reseller-relationship"
    public static let defaultLifetime: Int64 = 14 * 86_400
    public static let maximumLifetime: Int64 = 90 * 86_400

    public var issuer: String
    public var audience: String
    /// The invitation id: 128 random bits, base64url (22 characters).
    public var invitationID: String
    public var resellerID: String
    public var providerID: String?
    public var delegatedAdmin: Bool
    public var issuedAt: Int64
    public var expiresAt: Int64

    public init(
        issuer: String, audience: String = InvitationClaims.audience, invitationID: String,
        resellerID: String, providerID: String?, delegatedAdmin: Bool, issuedAt: Int64, expiresAt: Int64
    ) {
        self.issuer = issuer
        self.audience = audience
        self.invitationID = invitationID
        self.resellerID = resellerID
        self.providerID = providerID
        self.delegatedAdmin = delegatedAdmin
        self.issuedAt = issuedAt
        self.expiresAt = expiresAt
    }

    /// Appends the claims as compact JSON, members in a fixed order.
    func appendJSON(to out: inout [UInt8]) {
        out.append(contentsOf: "{\"iss\":".utf8)
        JSONWriter.appendString(issuer, to: &out)
        out.append(contentsOf: ",\"aud\":".utf8)
        JSONWriter.appendString(audience, to: &out)
        out.append(contentsOf: ",\"jti\":".utf8)
        JSONWriter.appendString(invitationID, to: &out)
        out.append(contentsOf: ",\"rid\":".utf8)
        JSONWriter.appendString(resellerID, to: &out)
        if let providerID {
            out.append(contentsOf: ",\"pid\":".utf8)
            JSONWriter.appendString(providerID, to: &out)
        }
        out.append(contentsOf: ",\"dap\":".utf8)
        JSONWriter.appendBool(delegatedAdmin, to: &out)
        out.append(contentsOf: ",\"iat\":".utf8)
        JSONWriter.appendInteger(issuedAt, to: &out)
        out.append(contentsOf: ",\"exp\":".utf8)
        JSONWriter.appendInteger(expiresAt, to: &out)
        out.append(UInt8(ascii: "}"))
    }

    /// Reads claims from a verified payload: every required claim present with its type, no
    /// unknown claims.
    init(json: JSONValue) throws(TokenError) {
        guard case .object(let members) = json else { throw TokenError(.invalidClaims, "the payload is not a JSON object") }
        var iss: String?, aud: String?, jti: String?, rid: String?, pid: String?
        var dap: Bool?, iat: Int64?, exp: Int64?
        for (name, value) in members {
            switch (name, value) {
            case ("iss", .string(let text)): iss = text
            case ("aud", .string(let text)): aud = text
            case ("jti", .string(let text)): jti = text
            case ("rid", .string(let text)): rid = text
            case ("pid", .string(let text)): pid = text
            case ("dap", .bool(let flag)): dap = flag
            case ("iat", .integer(let time)): iat = time
            case ("exp", .integer(let time)): exp = time
            case ("iss", _), ("aud", _), ("jti", _), ("rid", _), ("pid", _), ("dap", _), ("iat", _), ("exp", _):
                throw TokenError(.invalidClaims, "claim \"\(name)\" has the wrong type")
            default:
                throw TokenError(.invalidClaims, "unknown claim \"\(name)\"")
            }
        }
        guard let iss, let aud, let jti, let rid, let dap, let iat, let exp else {
            throw TokenError(.invalidClaims, "a required claim is missing")
        }
        guard !jti.isEmpty, !rid.isEmpty, pid.map({ !$0.isEmpty }) ?? true else {
            throw TokenError(.invalidClaims, "an id claim is empty")
        }
        self.init(
            issuer: iss, audience: aud, invitationID: jti, resellerID: rid, providerID: pid,
            delegatedAdmin: dap, issuedAt: iat, expiresAt: exp
        )
    }
}
