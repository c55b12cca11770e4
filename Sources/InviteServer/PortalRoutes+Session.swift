import Foundation
import Hummingbird
import InviteService
import InviteStore
import InviteToken
import Mustache
import NIOCore

/// Signing in and out of the portal, and choosing a new password.
extension PortalRoutes {
    // MARK: Signing in and out

    @Sendable func showSignIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            if try await currentViewer(request) != nil { return HTMLRenderer.redirect(to: "/portal") }
            return try signInPage(request, status: .ok, email: "", error: nil)
        }
    }

    @Sendable func signIn(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard signIn.pool.hasRoom else { return HTMLRenderer.busy(request) }
        return try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let email = (form["email"] ?? "").trimmingWhitespace().lowercased()
            let now = clock()
            let user: User
            switch try await signIn.check(email: email, password: form["password"] ?? "", request: request, context: context, now: now) {
            case .signedIn(let signedIn):
                user = signedIn
            case .refused:
                return try signInPage(request, status: .unauthorized, email: email, error: request.pageCatalog.text("common.not_right"))
            case .locked(let retryAfter):
                return PasswordSignIn.locked(
                    try signInPage(
                        request, status: .tooManyRequests, email: email,
                        error: PasswordSignIn.retryText(retryAfter, catalog: request.pageCatalog)),
                    retryAfter: retryAfter)
            }
            guard case .partner(let partnerID) = user.tenant, try await store.partner(id: partnerID) != nil else {
                return try signInPage(
                    request, status: .forbidden, email: email,
                    error: request.pageCatalog.text("sign_in.customer_account"))
            }
            var response = HTMLRenderer.redirect(to: user.mustChangePassword ? "/portal/password" : "/portal")
            response.setCookie(try sessions.cookie.cookie(for: user, now: now))
            return response
        }
    }

    @Sendable func signOut(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            try await sessions.revoke(request, now: clock())
            var response = HTMLRenderer.redirect(to: "/portal/sign-in")
            response.setCookie(sessions.cookie.removal())
            return response
        }
    }

    @Sendable func showPassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let viewer = try await requireViewer(request, allowPasswordChange: true)
            return try passwordPage(request, viewer: viewer, status: .ok, error: nil)
        }
    }

    @Sendable func changePassword(_ request: Request, context: AppRequestContext) async throws -> Response {
        try await guarded(request, context) {
            let form = try await FormBody.read(request, context: context)
            guard csrf.isValid(form["csrf"], request: request) else { return try csrfFailure(request) }
            let viewer = try await requireViewer(request, allowPasswordChange: true)
            let current = form["current_password"] ?? ""
            let new = form["new_password"] ?? ""
            // The current password goes through the sign-in limits too: a stolen session must
            // not become a way to guess the password.
            switch try await signIn.check(email: viewer.user.email, password: current, request: request, context: context, now: clock()) {
            case .signedIn:
                break
            case .refused:
                return try passwordPage(
                    request, viewer: viewer, status: .unauthorized, error: request.pageCatalog.text("password.current_not_right"))
            case .locked(let retryAfter):
                return PasswordSignIn.locked(
                    try passwordPage(
                        request, viewer: viewer, status: .tooManyRequests,
                        error: PasswordSignIn.retryText(retryAfter, catalog: request.pageCatalog)),
                    retryAfter: retryAfter)
            }
            guard new.count >= PageRoutes.minimumPasswordLength, new != current else {
                return try passwordPage(
                    request, viewer: viewer, status: .badRequest,
                    error: request.pageCatalog.text(
                        "password.too_short_current", ["minimum": String(PageRoutes.minimumPasswordLength)]))
            }
            // A new session version ends every other session of this user, on every instance;
            // this browser gets a cookie of the new version.
            let changed = try await store.setPassword(userID: viewer.user.id, passwordHash: try await signIn.hash(new), at: clock())
            var response = HTMLRenderer.redirect(to: "/portal")
            response.setCookie(try sessions.cookie.cookie(for: changed, now: clock()))
            return response
        }
    }
}
