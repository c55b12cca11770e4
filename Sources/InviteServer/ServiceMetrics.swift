import Hummingbird
import InviteStore
import InviteToken
public import Prometheus
import Synchronization

/// The Prometheus metrics the service exports at `/metrics`: requests by route and status,
/// a latency histogram, acceptances, and verification failures by reason code.
///
/// Uses its own `PrometheusCollectorRegistry` rather than the process-global MetricsSystem,
/// so that every application built in a test has its own counters.
public final class ServiceMetrics: Sendable {
    public let registry = PrometheusCollectorRegistry()
    private let latency: DurationHistogram
    private let acceptances: Counter
    private let keyringReloadFailures: Counter
    /// The request counters made so far, so that a request costs one look-up rather than the
    /// registry's label formatting and validation.
    private let requestCounters = Mutex<[RequestKey: Counter]>([:])

    private struct RequestKey: Hashable {
        var route: String
        var method: HTTPRequest.Method
        var status: Int
    }

    /// `invitelink_<name>[_<unit>]`.
    private static func name(_ name: String, unit: String = "", help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "invitelink", metricName: name, unitName: unit, helpText: help)
    }

    private static var requests: MetricNameDescriptor { name("http_requests_total", help: "HTTP requests by route and status") }
    private static var webhookDeliveries: MetricNameDescriptor {
        name("webhook_attempts_total", help: "Webhook delivery attempts, by outcome: delivered, retry, failed")
    }
    private static var verificationFailures: MetricNameDescriptor {
        name("verification_failures_total", help: "Invitation links refused, by reason code")
    }

    public init() {
        latency = registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", unit: "seconds", help: "HTTP request latency"),
            buckets: [
                .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(20),
                .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
            ]
        )
        acceptances = registry.makeCounter(
            descriptor: Self.name("acceptances_total", help: "Invitations accepted (first acceptances only)"), labels: []
        )
        keyringReloadFailures = registry.makeCounter(
            descriptor: Self.name(
                "keyring_reload_failures_total",
                help: "Keyring reloads that left some key unusable or could not read the manifest"
            ),
            labels: []
        )
    }

    func recordRequest(route: String, method: HTTPRequest.Method, status: Int, duration: Duration) {
        let key = RequestKey(route: route, method: method, status: status)
        let counter = requestCounters.withLock { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: Self.requests, labels: [("route", route), ("method", method.rawValue), ("status", String(status))]
            )
            counters[key] = counter
            return counter
        }
        counter.increment()
        latency.record(duration)
    }

    func recordAcceptance() { acceptances.increment() }

    /// One webhook attempt's outcome (`delivered`, `retry`, `failed`).
    func recordWebhookAttempt(_ outcome: String) {
        registry.makeCounter(descriptor: Self.webhookDeliveries, labels: [("outcome", outcome)]).increment()
    }

    /// The age of the oldest pending webhook delivery, 0 when none is pending.
    func recordOldestPendingWebhook(seconds: Int64) {
        registry.makeGauge(
            descriptor: Self.name("webhook_oldest_pending", unit: "seconds", help: "Age of the oldest webhook delivery not yet made"),
            labels: []
        ).set(Double(seconds))
    }

    func recordKeyringReloadFailure() { keyringReloadFailures.increment() }

    func recordVerificationFailure(_ reason: TokenError.Code) {
        registry.makeCounter(descriptor: Self.verificationFailures, labels: [("reason", reason.rawValue)]).increment()
    }

    /// Runs an acceptance and counts what came of it: a first acceptance (never a repeat), or
    /// the reason the link was refused, whether the token or the database refused it.
    func observeAcceptance(_ accept: () async throws -> Acceptance) async throws -> Acceptance {
        do {
            let acceptance = try await accept()
            if !acceptance.isRepeat { recordAcceptance() }
            return acceptance
        } catch let error as TokenError {
            recordVerificationFailure(error.code)
            throw error
        } catch let error as StoreError {
            if let reason = error.tokenReason { recordVerificationFailure(reason) }
            throw error
        }
    }
}
