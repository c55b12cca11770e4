internal import Foundation
internal import InviteCrypto
public import InviteStore
public import InviteToken

/// Standard Webhooks 1.0 (DESIGN.md §9): secrets, signatures and the event body. Any receiver
/// verifies deliveries with an off-the-shelf library; the HMAC is OpenSSL's, through
/// InviteCrypto, as for links.
public enum StandardWebhooks {
    /// A new secret: `whsec_` and the standard base64 of 32 random bytes.
    public static func newSecret() throws -> String {
        "whsec_" + Data(try SystemRandom.bytes(32)).base64EncodedString()
    }

    /// The key bytes of a `whsec_` secret.
    static func key(of secret: String) throws -> HMACSHA256Key {
        let encoded = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let bytes = Data(base64Encoded: encoded) else { throw StoreError(.invalidInput, "a webhook secret is not base64") }
        return try HMACSHA256Key(secret: SecureBytes(Array(bytes)))
    }

    /// The `webhook-signature` header: `v1,BASE64(HMAC-SHA256(key, id.timestamp.body))` for each
    /// secret, separated by spaces.
    public static func signature(id: String, timestamp: Int64, body: [UInt8], secrets: [String]) throws -> String {
        let signed = Array("\(id).\(timestamp).".utf8) + body
        return try secrets.map { secret in
            "v1," + Data(try key(of: secret).authenticationCode(for: signed)).base64EncodedString()
        }.joined(separator: " ")
    }

    /// The body of the event an audit entry reports: `{type, timestamp, data}`, the same bytes
    /// on every attempt.
    public static func body(type: WebhookEventType, event: AuditEntry) -> [UInt8] {
        var data = JSONObjectWriter()
        var details: [String: String] = [:]
        if !event.detail.isEmpty, case .object(let members)? = try? StrictJSON.parse(event.detail) {
            for (name, value) in members { if case .string(let text) = value { details[name] = text } }
        }
        switch type {
        case .invitationRevoked:
            data.add("invitation_id", event.subject)
            data.add("reseller_id", event.partnerID)
        case .relationshipCreated, .relationshipRemoved, .delegatedAdminGranted, .delegatedAdminRemoved:
            data.add("partner_id", event.partnerID)
            data.add("customer_id", event.customerID)
            if type == .relationshipCreated {
                data.add("role", details["role"])
                data.add("invitation_id", details["invitation_id"])
            }
            if type == .relationshipRemoved || type == .delegatedAdminRemoved { data.add("removed_by", details["by"]) }
            if type == .relationshipRemoved { data.add("delegated_admin_retained", details["delegated_admin_retained"] == "true") }
        }
        var out = JSONObjectWriter()
        out.add("type", type.rawValue)
        out.add("timestamp", RFC3339.format(event.at))
        out.addRaw("data", data.finish())
        return Array(out.finish().utf8)
    }
}

/// When a failed delivery is tried again (DESIGN.md §9): about 5 s, 30 s, 2 min, 10 min, 1 h,
/// then hourly, for 24 h from the event; then the delivery has failed.
public struct WebhookRetrySchedule: Sendable, Equatable {
    public var delays: [Int64]
    /// How long after the delivery was made attempts go on.
    public var window: Int64

    public static let standard = WebhookRetrySchedule(delays: [5, 30, 120, 600, 3600], window: 24 * 3600)

    public init(delays: [Int64], window: Int64) {
        self.delays = delays
        self.window = window
    }

    /// When attempt `attempts + 1` is due after attempt `attempts` (1-based) failed at `now`,
    /// or nil when that would be past the window of a delivery made at `createdAt`.
    public func nextAttempt(after attempts: Int, now: Int64, createdAt: Int64) -> Int64? {
        let delay = attempts - 1 < delays.count ? delays[max(attempts - 1, 0)] : (delays.last ?? 3600)
        let next = now + delay
        return next <= createdAt + window ? next : nil
    }
}

/// Where webhooks may go (DESIGN.md §9): `https` URLs whose host resolves only to public
/// addresses, checked at registration and again before each delivery (after DNS resolution, so
/// a name that later points inside is caught then). `allowInsecure` (`serve
/// --webhooks-allow-insecure`, for development and tests) allows `http` and any address.
public struct WebhookURLPolicy: Sendable {
    public var allowInsecure: Bool

    public init(allowInsecure: Bool) {
        self.allowInsecure = allowInsecure
    }

    public struct Refusal: Error, CustomStringConvertible {
        public var description: String
    }

    /// Throws a ``Refusal`` saying why `text` may not receive webhooks.
    public func check(_ text: String) throws {
        guard text.utf8.count <= 2048, let url = URL(string: text), let scheme = url.scheme?.lowercased(), let host = url.host,
            !host.isEmpty
        else { throw Refusal(description: "not an absolute URL") }
        guard url.user == nil, url.password == nil else { throw Refusal(description: "a URL with credentials in it") }
        guard scheme == "https" || (allowInsecure && scheme == "http") else {
            throw Refusal(description: "only https URLs may receive webhooks")
        }
        if allowInsecure { return }
        let addresses = try Self.resolve(host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host)
        guard !addresses.isEmpty else { throw Refusal(description: "\(host) does not resolve") }
        if let inside = addresses.first(where: { !Self.isPublic($0) }) {
            throw Refusal(description: "\(host) resolves to \(Self.text(inside)), which is not a public address")
        }
    }

    /// An address as 4 or 16 bytes.
    typealias Address = [UInt8]

    static func resolve(_ host: String) throws -> [Address] {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, nil, &hints, &result) == 0, let first = result else {
            throw Refusal(description: "\(host) does not resolve")
        }
        defer { freeaddrinfo(first) }
        var addresses: [Address] = []
        var cursor: UnsafeMutablePointer<addrinfo>? = first
        while let info = cursor {
            if info.pointee.ai_family == AF_INET, let raw = info.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { address in
                    withUnsafeBytes(of: address.pointee.sin_addr) { addresses.append(Array($0)) }
                }
            } else if info.pointee.ai_family == AF_INET6, let raw = info.pointee.ai_addr {
                raw.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { address in
                    withUnsafeBytes(of: address.pointee.sin6_addr) { addresses.append(Array($0)) }
                }
            }
            cursor = info.pointee.ai_next
        }
        return addresses
    }

    /// Whether an address is on the public internet: not loopback, private, link-local,
    /// shared (CGNAT), multicast, reserved, documentation or unspecified, in IPv4 or IPv6
    /// (IPv4-mapped and NAT64 addresses are judged by their IPv4 part).
    static func isPublic(_ address: Address) -> Bool {
        if address.count == 4 { return isPublicIPv4(address) }
        guard address.count == 16 else { return false }
        if address[0..<10].allSatisfy({ $0 == 0 }) && address[10] == 0xFF && address[11] == 0xFF {
            return isPublicIPv4(Array(address[12..<16])) // ::ffff:a.b.c.d
        }
        if address[0..<12] == [0x00, 0x64, 0xFF, 0x9B, 0, 0, 0, 0, 0, 0, 0, 0] { return isPublicIPv4(Array(address[12..<16])) }
        if address.allSatisfy({ $0 == 0 }) || address[0..<15].allSatisfy({ $0 == 0 }) && address[15] == 1 { return false } // ::, ::1
        if address[0] & 0xFE == 0xFC { return false } // fc00::/7 unique local
        if address[0] == 0xFE && address[1] & 0xC0 == 0x80 { return false } // fe80::/10 link-local
        if address[0] == 0xFF { return false } // multicast
        if address[0] == 0x20 && address[1] == 0x01 && address[2] == 0x0D && address[3] == 0xB8 { return false } // documentation
        return address[0] & 0xE0 == 0x20 // 2000::/3, global unicast
    }

    static func isPublicIPv4(_ a: Address) -> Bool {
        switch (a[0], a[1]) {
        case (0, _), (10, _), (127, _): return false
        case (100, 64...127): return false // shared address space (CGNAT)
        case (169, 254): return false
        case (172, 16...31): return false
        case (192, 168): return false
        case (192, 0) where a[2] == 0 || a[2] == 2: return false // IETF, documentation
        case (198, 18...19): return false // benchmarking
        case (198, 51) where a[2] == 100, (203, 0) where a[2] == 113: return false // documentation
        case (224...255, _): return false // multicast, reserved, broadcast
        default: return true
        }
    }

    static func text(_ address: Address) -> String {
        address.count == 4
            ? address.map(String.init).joined(separator: ".")
            : stride(from: 0, to: 16, by: 2).map { String(UInt16(address[$0]) << 8 | UInt16(address[$0 + 1]), radix: 16) }.joined(
                separator: ":")
    }
}
