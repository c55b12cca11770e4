public import Hummingbird
import InviteCrypto
import InviteToken
import Logging

/// The per-request context: Hummingbird's core storage plus a request id for the logs.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    public var requestID: String

    public init(source: Source) {
        self.coreContext = .init(source: source)
        self.requestID = (try? Base64URL.encode(SystemRandom.bytes(9))) ?? "unknown"
    }

    /// Bodies over 64 KiB are refused with 413.
    public var maxUploadSize: Int { 64 * 1024 }
}
