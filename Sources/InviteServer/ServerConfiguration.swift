/// What `invitelink serve` needs to run.
public struct ServerConfiguration: Sendable {
    public var host: String
    public var port: Int
    /// The base of invitation links, e.g. `https://invite.example.com`.
    public var publicURL: String
    public var issuer: String
    public var keysDirectory: String
    /// How often the keyring is re-read when no SIGHUP arrives: well inside the 5 s within
    /// which every instance must honour a rotation or a revocation.
    public var keyringCheckInterval: Duration
    /// What the browser cookies' keys derive from; nil for a secret of this process alone.
    public var sessionSecret: SessionSecret?

    public init(
        host: String = "127.0.0.1", port: Int = 8080, publicURL: String = "http://127.0.0.1:8080",
        issuer: String = "invitelink", keysDirectory: String = "Keys", keyringCheckInterval: Duration = .seconds(2),
        sessionSecret: SessionSecret? = nil
    ) {
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.issuer = issuer
        self.keysDirectory = keysDirectory
        self.keyringCheckInterval = keyringCheckInterval
        self.sessionSecret = sessionSecret
    }

    /// Cookies are `Secure` when links are served over https.
    var secureCookies: Bool { publicURL.lowercased().hasPrefix("https://") }
}
