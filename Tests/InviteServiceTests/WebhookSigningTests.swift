import Foundation
import InviteService
import InviteStore
import Testing

/// Standard Webhooks signatures and where webhooks may go (DESIGN.md §9).
@Suite("Webhooks: signatures and URLs")
struct WebhookSigningTests {
    @Test("the signature is Standard Webhooks' example: v1, base64 HMAC-SHA256 of id.timestamp.body")
    func standardExample() throws {
        // The example of the Standard Webhooks specification (and of its libraries' tests).
        let signature = try StandardWebhooks.signature(
            id: "msg_p5jXN8AQM9LWM0D4loKWxJek", timestamp: 1_614_265_330, body: Array(#"{"test": 2432232314}"#.utf8),
            secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"])
        #expect(signature == "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        let both = try StandardWebhooks.signature(
            id: "msg_1", timestamp: 1, body: [], secrets: ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", try StandardWebhooks.newSecret()])
        #expect(both.split(separator: " ").count == 2 && both.split(separator: " ").allSatisfy { $0.hasPrefix("v1,") })
    }

    @Test("a new secret is whsec_ and 32 random bytes in base64")
    func secrets() throws {
        let secret = try StandardWebhooks.newSecret()
        #expect(secret.hasPrefix("whsec_") && Data(base64Encoded: String(secret.dropFirst(6)))?.count == 32)
        #expect(try StandardWebhooks.newSecret() != secret)
    }

    @Test("only https to public addresses, unless insecure is allowed")
    func urlPolicy() throws {
        let strict = WebhookURLPolicy(allowInsecure: false)
        for url in [
            "http://127.0.0.1/x", "https://127.0.0.1/x", "https://10.0.0.1/x", "https://192.168.1.5/x", "https://172.20.0.1/x",
            "https://169.254.169.254/latest/meta-data", "https://100.64.0.1/x", "https://[::1]/x", "https://[fd00::1]/x",
            "https://[::ffff:10.0.0.1]/x", "https://localhost/x", "https://0.0.0.0/x", "ftp://example.com/x", "https://user:pw@1.1.1.1/x",
            "not a url",
        ] {
            #expect(throws: WebhookURLPolicy.Refusal.self, "\(url) was allowed") { try strict.check(url) }
        }
        try strict.check("https://1.1.1.1/hooks")
        try strict.check("https://[2606:4700:4700::1111]/hooks")
        let insecure = WebhookURLPolicy(allowInsecure: true)
        try insecure.check("http://127.0.0.1:8099/hook")
        #expect(throws: WebhookURLPolicy.Refusal.self) { try insecure.check("ftp://127.0.0.1/x") }
    }

    @Test("retries back off on the schedule, then the hour, until the window closes")
    func schedule() {
        let schedule = WebhookRetrySchedule.standard
        #expect(schedule.nextAttempt(after: 1, now: 100, createdAt: 100) == 105)
        #expect(schedule.nextAttempt(after: 2, now: 105, createdAt: 100) == 135)
        #expect(schedule.nextAttempt(after: 6, now: 10_000, createdAt: 100) == 13_600)
        #expect(schedule.nextAttempt(after: 30, now: 100 + 86_000, createdAt: 100) == nil, "a retry past 24 h")
    }
}
