public import InviteStore
public import InviteToken

/// An invitation just issued: its record, its token and the link that carries it.
public struct IssuedInvitation: Sendable {
    public var invitation: Invitation
    public var token: String
    public var url: String
}

/// A link that would be 600 characters or longer: mail systems fold long lines and break it.
/// The public URL, the issuer, the partner ids and the kid all count towards its length.
public struct LinkTooLongError: Error, CustomStringConvertible {
    public var length: Int
    public var description: String {
        "the link would be \(length) characters; links must stay under \(InvitationService.maximumLinkLength + 1) (shorten the public URL, the issuer or the partner ids)"
    }
}

/// How a link checks out: valid with its claims, or the first reason it is not.
public enum LinkCheck: Sendable, Equatable {
    case valid(VerifiedInvitation, Invitation?)
    case invalid(TokenError)

    public var reason: TokenError.Code? {
        if case .invalid(let error) = self { return error.code }
        return nil
    }
}

/// Issuing, checking and accepting invitation links: the token rules of InviteToken joined
/// with the invitation records of the store. The HTTP API, the pages and the CLI all go
/// through here.
public struct InvitationService: Sendable {
    public var issuer: String
    public var publicURL: String
    public let store: (any RelationshipStore)?
    public let keyring: @Sendable () -> Keyring

    public init(issuer: String, publicURL: String, store: (any RelationshipStore)?, keyring: @escaping @Sendable () -> Keyring) {
        self.issuer = issuer
        self.publicURL = publicURL.hasSuffix("/") ? String(publicURL.dropLast()) : publicURL
        self.store = store
        self.keyring = keyring
    }

    public var verifier: TokenVerifier { TokenVerifier(issuer: issuer) }

    /// DESIGN.md §2: a whole link stays under 600 characters.
    public static let maximumLinkLength = 599

    /// The acceptance link for `token`.
    public func link(for token: String) -> String {
        "\(publicURL)/invitations/accept?token=\(token)"
    }

    /// Mints a token with the primary key and, unless `record` is false, records the
    /// invitation in the store.
    public func issue(
        resellerID: String, providerID: String?, delegatedAdmin: Bool, lifetime: Int64,
        maxUses: Int?, issuedBy: String, customerEmail: String?, now: Int64, record: Bool = true,
        confirmingCredential: String? = nil
    ) async throws -> IssuedInvitation {
        let signer = try TokenSigner(keyring: keyring())
        let invitation = Invitation(
            id: try Identifiers.random(prefix: ""), resellerID: resellerID, providerID: providerID, delegatedAdmin: delegatedAdmin,
            kid: signer.kid, issuedAt: now, expiresAt: now + lifetime, maxUses: maxUses,
            issuedBy: issuedBy, customerEmail: customerEmail
        )
        let token = try signer.sign(claims(of: invitation))
        let url = link(for: token)
        guard url.utf8.count <= Self.maximumLinkLength else { throw LinkTooLongError(length: url.utf8.count) }
        if record, let store {
            try await store.addInvitation(invitation, confirmingCredential: confirmingCredential)
        }
        return IssuedInvitation(invitation: invitation, token: token, url: url)
    }

    /// The link of an invitation already issued, signed again with its own key. Ed25519 and
    /// HMAC-SHA256 signatures are deterministic, so this is the very link first handed out,
    /// not a new one. Nil once that key no longer verifies (retired, revoked, removed) or is
    /// only a public key here.
    public func link(for invitation: Invitation) -> String? {
        let keyring = keyring()
        guard let entry = keyring.entry(invitation.kid), entry.state.verifies,
            let material = keyring.material(for: invitation.kid),
            let signer = try? TokenSigner(kid: invitation.kid, material: material)
        else { return nil }
        return (try? signer.sign(claims(of: invitation))).map(link(for:))
    }

    /// What an invitation's token says.
    private func claims(of invitation: Invitation) -> InvitationClaims {
        InvitationClaims(
            issuer: issuer, invitationID: invitation.id, resellerID: invitation.resellerID, providerID: invitation.providerID,
            delegatedAdmin: invitation.delegatedAdmin, issuedAt: invitation.issuedAt, expiresAt: invitation.expiresAt
        )
    }

    /// Checks a token, then (unless `offline`) its invitation in the store: revoked, used up,
    /// unknown. Never changes anything.
    public func check(_ token: String, now: Int64, offline: Bool = false) async throws -> LinkCheck {
        let verified: VerifiedInvitation
        do {
            verified = try verifier.verify(token, keyring: keyring(), now: now)
        } catch {
            return .invalid(error)
        }
        guard !offline, let store else { return .valid(verified, nil) }
        guard let invitation = try await store.invitation(id: verified.claims.invitationID) else {
            return .invalid(TokenError(.unknownInvitation, "no invitation \(verified.claims.invitationID)"))
        }
        if invitation.revokedAt != nil {
            return .invalid(TokenError(.revoked, "invitation \(invitation.id) was revoked"))
        }
        if !invitation.hasUsesLeft {
            return .invalid(
                TokenError(.usedUp, "invitation \(invitation.id) has been used \(invitation.useCount) of \(invitation.maxUses ?? 0) times"))
        }
        return .valid(verified, invitation)
    }

    /// Verifies `token` and accepts it for `customerID`: every check the token needs, then one
    /// store transaction in which ``AcceptanceRules`` decide. Throws the token's ``TokenError``
    /// or the store's ``StoreError``. The API and the acceptance page both accept through here.
    public func accept(
        token: String, customerID: String, acceptedBy: String, now: Int64, confirmingCredential: String? = nil
    ) async throws -> Acceptance {
        guard let store else { throw StoreError(.unavailable, "there is no database to accept in") }
        let verified = try verifier.verify(token, keyring: keyring(), now: now)
        return try await store.accept(
            AcceptanceRequest(
                invitationID: verified.claims.invitationID, customerID: customerID, acceptedBy: acceptedBy, at: now,
                terms: InvitationTerms(
                    resellerID: verified.claims.resellerID, providerID: verified.claims.providerID,
                    delegatedAdmin: verified.claims.delegatedAdmin),
                confirmingCredential: confirmingCredential
            ))
    }

    /// Pulls a token out of a whole link (`…/invitations/accept?token=…`) or returns the
    /// input as it is.
    public static func token(fromLinkOrToken text: String) -> String {
        let trimmed = text.trimmingWhitespace()
        guard let range = trimmed.range(of: "token=") else { return trimmed }
        let rest = trimmed[range.upperBound...]
        return String(rest.prefix { $0 != "&" && $0 != "#" })
    }
}
