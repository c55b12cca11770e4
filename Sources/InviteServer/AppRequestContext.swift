import Foundation
import HTTPTypes
public import Hummingbird
public import NIOCore

/// The per-request context: Hummingbird's core storage and the connection. Its logger
/// already carries the request id (`hb.request.id`) that responses echo as `X-Request-Id`.
public struct AppRequestContext: RequestContext, RemoteAddressRequestContext {
    public var coreContext: CoreRequestContextStorage
    private let channel: any Channel

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.channel = source.channel
    }

    /// The connection's peer (the proxy's, behind one); nil in router tests. Read when asked
    /// (only sign-ins do), not for every request.
    public var remoteAddress: SocketAddress? { channel.remoteAddress }

    /// Bodies over 64 KiB are refused with 413.
    public var maxUploadSize: Int { 64 * 1024 }

    /// The client's address for throttling: the last entry of `trustedHeader` when the
    /// operator configured one (the proxy appends the address it saw), else the peer's.
    func clientAddress(_ request: Request, trustedHeader: String?) -> String? {
        if let trustedHeader, let name = HTTPField.Name(trustedHeader), let value = request.headers[name] {
            let last = value.split(separator: ",").last.map { $0.trimmingCharacters(in: .whitespaces) }
            if let last, !last.isEmpty { return last }
        }
        return remoteAddress?.ipAddress
    }
}
