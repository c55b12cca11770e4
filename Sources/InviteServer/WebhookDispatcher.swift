import AsyncHTTPClient
import Foundation
import InviteService
import InviteStore
import Logging
import NIOCore
import NIOHTTP1
import ServiceLifecycle
import Synchronization

/// Delivers webhooks (DESIGN.md §9): a service beside the HTTP server.
///
/// Every poll it fans new events out into deliveries, then claims the due ones (on
/// PostgreSQL with `FOR UPDATE SKIP LOCKED`, for a lease: each attempt is made by exactly one
/// instance, and a crashed instance's are made again once its lease ends) and makes each
/// attempt in its own task: at most ``concurrency`` at once and ``perEndpoint`` per endpoint,
/// each with a 10 s deadline, so a slow or dead receiver holds a few tasks here and nothing an
/// acceptance waits for. An attempt signs the body with the endpoint's secrets (both during a
/// rotation), follows no redirect, reads at most ``responseLimit`` bytes of the answer and
/// keeps none of it; 2xx is delivered, anything else is retried on the schedule until the
/// window closes. At graceful shutdown it stops claiming and lets the attempts under way
/// finish (each within its deadline).
struct WebhookDispatcher: Service {
    let store: any RelationshipStore
    let policy: WebhookURLPolicy
    let schedule: WebhookRetrySchedule
    let pollInterval: Duration
    let metrics: ServiceMetrics
    let logger: Logger
    let clock: @Sendable () -> Int64

    static let concurrency = 16
    /// Audit entries one fan-out looks at, and fan-outs per poll at most: 20,000 entries a poll.
    static let fanOutBatch = 1000
    static let fanOutBatchesPerPoll = 20
    static let perEndpoint = 4
    /// How long a claim holds a delivery: past the attempt's 10 s deadline, so two attempts
    /// of one delivery never overlap, and short, so a crashed instance's claims come back soon.
    static let leaseMilliseconds: Int64 = 15_000
    static let attemptTimeout: TimeAmount = .seconds(10)
    static let responseLimit = 4096

    /// Attempts under way: in all, and per endpoint.
    final class Load: Sendable {
        let counts = Mutex<(total: Int, byEndpoint: [String: Int])>((0, [:]))

        func take(_ endpoint: String) -> Bool {
            counts.withLock { counts in
                guard counts.byEndpoint[endpoint, default: 0] < WebhookDispatcher.perEndpoint else { return false }
                counts.total += 1
                counts.byEndpoint[endpoint, default: 0] += 1
                return true
            }
        }

        func release(_ endpoint: String) {
            counts.withLock { counts in
                counts.total -= 1
                counts.byEndpoint[endpoint, default: 1] -= 1
            }
        }

        var total: Int { counts.withLock { $0.total } }

        /// The endpoints at their limit of attempts under way: the next claim leaves them out.
        var saturated: Set<String> {
            counts.withLock { counts in Set(counts.byEndpoint.filter { $0.value >= WebhookDispatcher.perEndpoint }.keys) }
        }
    }

    func run() async throws {
        var configuration = HTTPClient.Configuration()
        configuration.redirectConfiguration = .disallow
        configuration.timeout = .init(connect: .seconds(5), read: Self.attemptTimeout)
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        let load = Load()
        await withDiscardingTaskGroup { group in
            while !Task.isShuttingDownGracefully && !Task.isCancelled {
                do {
                    let now = clock()
                    // Full batches mean more is waiting, wanted or not: go on, but only so far per
                    // poll, so that a steady stream of new entries never starves the deliveries.
                    for _ in 0..<Self.fanOutBatchesPerPoll {
                        guard try await store.fanOutWebhookEvents(at: now, limit: Self.fanOutBatch).entries == Self.fanOutBatch
                        else { break }
                    }
                    metrics.recordOldestPendingWebhook(
                        seconds: try await store.oldestPendingWebhookDelivery().map { max(now - $0, 0) } ?? 0)
                    let room = Self.concurrency - load.total
                    if room > 0 {
                        let jobs = try await store.claimWebhookDeliveries(
                            nowMilliseconds: Self.milliseconds(), limit: room, perEndpoint: Self.perEndpoint,
                            excluding: load.saturated, leaseMilliseconds: Self.leaseMilliseconds)
                        for job in jobs {
                            guard load.take(job.endpoint.id) else {
                                try await store.recordWebhookAttempt(deliveryID: job.delivery.id, outcome: .released, at: now)
                                continue
                            }
                            group.addTask {
                                await attempt(job, client: client)
                                load.release(job.endpoint.id)
                            }
                        }
                    }
                } catch {
                    logger.warning("webhook dispatch failed; trying again", metadata: ["error": "\(error)"])
                }
                try? await Task.sleep(for: pollInterval)
            }
        }
        try? await client.shutdown()
    }

    /// One attempt of one delivery, and its outcome recorded.
    func attempt(_ job: WebhookJob, client: HTTPClient) async {
        let now = clock()
        var outcome: WebhookAttemptOutcome
        do {
            // Checked again at each attempt: the name may point elsewhere since registration.
            try policy.check(job.endpoint.url)
            let body = StandardWebhooks.body(type: job.delivery.eventType, event: job.event)
            var request = HTTPClientRequest(url: job.endpoint.url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "user-agent", value: "InviteLink-Webhooks/1")
            request.headers.add(name: "webhook-id", value: job.delivery.messageID)
            request.headers.add(name: "webhook-timestamp", value: String(now))
            request.headers.add(
                name: "webhook-signature",
                value: try StandardWebhooks.signature(
                    id: job.delivery.messageID, timestamp: now, body: body, secrets: job.endpoint.signingSecrets(at: now)))
            request.body = .bytes(body)
            let response = try await client.execute(request, timeout: Self.attemptTimeout)
            // Read a little of the answer and keep none of it.
            var read = 0
            for try await chunk in response.body {
                read += chunk.readableBytes
                if read >= Self.responseLimit { break }
            }
            let code = Int(response.status.code)
            outcome = (200..<300).contains(code) ? .delivered(statusCode: code) : retryOrFail(job, now: now, statusCode: code, error: nil)
        } catch let refusal as WebhookURLPolicy.Refusal {
            outcome = retryOrFail(job, now: now, statusCode: nil, error: "refused: \(refusal.description)")
        } catch {
            outcome = retryOrFail(job, now: now, statusCode: nil, error: Self.describe(error))
        }
        switch outcome {
        case .delivered: metrics.recordWebhookAttempt("delivered")
        case .retry: metrics.recordWebhookAttempt("retry")
        case .failed: metrics.recordWebhookAttempt("failed")
        case .released: break
        }
        do {
            try await store.recordWebhookAttempt(deliveryID: job.delivery.id, outcome: outcome, at: clock())
        } catch {
            // The claim lapses after its lease and the attempt is made again: at least once.
            logger.warning(
                "a webhook attempt's outcome was not recorded", metadata: ["delivery": "\(job.delivery.id)", "error": "\(error)"])
        }
    }

    func retryOrFail(_ job: WebhookJob, now: Int64, statusCode: Int?, error: String?) -> WebhookAttemptOutcome {
        if let next = schedule.nextAttempt(
            after: job.delivery.attempts, nowMilliseconds: Self.milliseconds(), createdAt: job.delivery.createdAt)
        {
            return .retry(statusCode: statusCode, error: error, nextAttemptMilliseconds: next)
        }
        return .failed(statusCode: statusCode, error: error)
    }

    /// Now in Unix milliseconds: retries are scheduled finer than the second.
    static func milliseconds() -> Int64 { Int64((Date.now.timeIntervalSince1970 * 1000).rounded()) }

    /// A short, fixed description of a transport failure: never a response body.
    static func describe(_ error: any Error) -> String {
        if let error = error as? HTTPClientError {
            switch error {
            case .deadlineExceeded, .readTimeout: return "no answer within 10 s"
            case .connectTimeout: return "connection timed out"
            case .remoteConnectionClosed: return "the connection was closed"
            default: return "HTTP client: \(error)".prefix(200).description
            }
        }
        return "could not connect: \(String(describing: error).prefix(150))"
    }
}
