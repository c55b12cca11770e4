import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken
import Mustache
import NIOCore

/// The links a reseller issued: their status, their acceptances, revoking one.
extension PortalRoutes {
    // MARK: Issued links

    @Sendable func invitationList(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request, resellerOnly: true)
            let cursor = request.uri.queryParameters["cursor"].map(String.init)
            let page = try await store.invitations(resellerID: viewer.partner.id, page: PageRequest(limit: Self.pageSize, cursor: cursor))
            let now = clock()
            let catalog = request.pageCatalog
            // Every name the page shows, in three queries whatever the number of rows.
            let names = try await store.displayNames(
                partnerIDs: Set(page.items.compactMap(\.invitation.providerID)),
                customerIDs: Set(page.items.flatMap { $0.acceptances.map(\.customerID) }),
                userIDs: Set(page.items.flatMap { [$0.invitation.issuedBy] + $0.acceptances.map(\.acceptedBy) }))
            var rows: [[String: Any]] = []
            for record in page.items {
                let invitation = record.invitation
                let status = invitation.status(at: now)
                var acceptances: [[String: Any]] = []
                for acceptance in record.acceptances {
                    acceptances.append([
                        "customer": names.customer(acceptance.customerID),
                        "person": names.user(acceptance.acceptedBy),
                        "at": RFC3339.format(acceptance.acceptedAt),
                        "atText": catalog.dateTime(acceptance.acceptedAt),
                    ])
                }
                var row: [String: Any] = [
                    "id": invitation.id,
                    "status": status.rawValue,
                    "statusText": catalog.text(Self.statusKey(status)),
                    "issuedAt": RFC3339.format(invitation.issuedAt),
                    "issuedText": catalog.dateTime(invitation.issuedAt),
                    "expiresAt": RFC3339.format(invitation.expiresAt),
                    "expiresText": catalog.dateTime(invitation.expiresAt),
                    "issuedBy": names.user(invitation.issuedBy),
                    "dap": invitation.delegatedAdmin,
                    "acceptances": acceptances,
                    "uses": invitation.useCount,
                    "moreAcceptances": invitation.useCount > record.acceptances.count,
                    "moreText": catalog.text("invitations.more", count: invitation.useCount),
                    "revocable": invitation.revokedAt == nil && invitation.expiresAt > now,
                    "sendable": status.canBeAccepted,
                ]
                if let providerID = invitation.providerID { row["providerName"] = names.partner(providerID) }
                if let email = invitation.customerEmail { row["customerEmail"] = email }
                if let revokedAt = invitation.revokedAt {
                    row["revokedAt"] = RFC3339.format(revokedAt)
                    row["revokedText"] = catalog.dateTime(revokedAt)
                }
                rows.append(row)
            }
            var values: [String: Any] = ["title": catalog.text("portal.invitations"), "invitations": rows, "empty": rows.isEmpty]
            if request.uri.queryParameters["revoked"] != nil { values["revokedNotice"] = true }
            if let next = page.nextCursor { values["nextPage"] = "/portal/invitations?cursor=" + Self.queryEncoded(next) }
            return try render("portal_invitations", request: request, viewer: viewer, current: "invitations", values)
        }
    }

    @Sendable func revoke(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, acting: true, resellerOnly: true)
            let id = try context.parameters.require("id")
            _ = try await store.revokeInvitation(id: id, resellerID: viewer.partner.id, at: clock(), actor: viewer.user.id)
            return HTMLRenderer.redirect(to: "/portal/invitations?revoked=1")
        }
    }
}
