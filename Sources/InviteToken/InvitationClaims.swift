/// The payload of an invitation token (DESIGN.md §2).
public struct InvitationClaims: SignedClaims, Equatable {
    public static let typ = "invitation+jwt"
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

    public func appendJSON(to out: inout [UInt8]) {
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

    public init(payload: UnsafeRawBufferPointer) throws(TokenError) {
        var iss: String?, aud: String?, jti: String?, rid: String?, pid: String?
        var dap: Bool?, iat: Int64?, exp: Int64?
        var problem: TokenError?
        do {
            try StrictJSON.forEachMember(of: payload) { name, value in
                func set<T>(_ slot: inout T?, _ newValue: T?) -> Bool {
                    guard let newValue else {
                        problem = TokenError(.invalidClaims, "claim \"\(name)\" has the wrong type")
                        return false
                    }
                    guard slot == nil else {
                        problem = TokenError(.invalidClaims, "claim \"\(name)\" appears twice")
                        return false
                    }
                    slot = newValue
                    return true
                }
                switch name {
                case "iss": return set(&iss, value.stringValue)
                case "aud": return set(&aud, value.stringValue)
                case "jti": return set(&jti, value.stringValue)
                case "rid": return set(&rid, value.stringValue)
                case "pid": return set(&pid, value.stringValue)
                case "dap": return set(&dap, value.boolValue)
                case "iat": return set(&iat, value.integerValue)
                case "exp": return set(&exp, value.integerValue)
                default:
                    problem = TokenError(.invalidClaims, "unknown claim \"\(name)\"")
                    return false
                }
            }
        } catch {
            throw TokenError(.invalidClaims, "the payload is not a strict JSON object (\(error.reason))")
        }
        if let problem { throw problem }
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
