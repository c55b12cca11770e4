internal import InviteToken

extension AuditEntry {
    /// Throws `.invalidInput` unless `detail` is empty or one strict JSON object: what the
    /// canonical JSON splices in as `details`.
    func requireValidDetail() throws {
        guard !detail.isEmpty else { return }
        guard case .object = try? StrictJSON.parse(detail) else {
            throw StoreError(.invalidInput, "an audit entry's detail must be a JSON object")
        }
    }

    /// The successful, failed or locked-out sign-in of the address with `emailDigest` (DESIGN.md
    /// §8): by the user when the address is one, else by `system`, the subject the user or the
    /// digest's first 8 bytes. Never the email or anything typed as a password.
    public static func signIn(
        _ action: String, user: User?, emailDigest: [UInt8], client: String?, at: UnixTime
    ) -> AuditEntry {
        var detail = JSONObjectWriter()
        if let client { detail.add("client", client) }
        let subject = user?.id ?? "email-sha256:" + emailDigest.prefix(8).map { String($0, radix: 16).leftPadded(to: 2) }.joined()
        return AuditEntry(
            at: at,
            actor: user.map { AuditActor(kind: $0.tenant.partnerID != nil ? "partner_user" : "customer_user", id: $0.id) } ?? .system,
            action: action, subject: subject, detail: client == nil ? "" : detail.finish(), partnerID: user?.tenant.partnerID,
            customerID: user?.tenant.customerID)
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
