public import Hummingbird

/// The per-request context: Hummingbird's core storage. Its logger already carries the
/// request id (`hb.request.id`) that responses echo as `X-Request-Id`.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        self.coreContext = .init(source: source)
    }

    /// Bodies over 64 KiB are refused with 413.
    public var maxUploadSize: Int { 64 * 1024 }
}
