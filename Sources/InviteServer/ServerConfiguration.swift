public import InviteService
public import InviteStore

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
    /// Threads that hash passwords, apart from the request threads (DESIGN.md §11).
    public var passwordHashingThreads: Int
    /// Sign-ins that may wait for a hashing thread; beyond, 503 with `Retry-After`.
    public var passwordHashingQueue: Int
    /// Per email address, in the store: 5 failures in 15 minutes lock it for 15 minutes.
    public var signInLimits: SignInLimits
    /// Per client address, in this process: failed sign-ins within the window before 429.
    public var clientAddressFailures: Int
    /// A header the proxy in front sets to the client's address (`X-Forwarded-For`); its last
    /// entry is used. Nil: the connection's peer address, and no header is believed.
    public var trustedProxyHeader: String?
    /// How often the service seals new audit entries into a checkpoint (DESIGN.md §8: within
    /// 2 minutes of their commit); nil: never (tests that seal by hand).
    public var auditSealInterval: Duration? = .seconds(60)
    /// Webhook deliveries (DESIGN.md §9): whether `http` and private addresses are allowed
    /// (development and tests only), the retry schedule, and how often due deliveries are
    /// looked for; a nil interval: no dispatcher (tests that dispatch by hand).
    public var webhooksAllowInsecure = false
    public var webhookRetrySchedule = WebhookRetrySchedule.standard
    public var webhookPollInterval: Duration? = .milliseconds(500)

    public init(
        host: String = "127.0.0.1", port: Int = 8080, publicURL: String = "http://127.0.0.1:8080",
        issuer: String = "invitelink", keysDirectory: String = "Keys", keyringCheckInterval: Duration = .seconds(2),
        sessionSecret: SessionSecret? = nil, passwordHashingThreads: Int = 1, passwordHashingQueue: Int = 8,
        signInLimits: SignInLimits = SignInLimits(), clientAddressFailures: Int = 30, trustedProxyHeader: String? = nil
    ) {
        self.host = host
        self.port = port
        self.publicURL = publicURL
        self.issuer = issuer
        self.keysDirectory = keysDirectory
        self.keyringCheckInterval = keyringCheckInterval
        self.sessionSecret = sessionSecret
        self.passwordHashingThreads = passwordHashingThreads
        self.passwordHashingQueue = passwordHashingQueue
        self.signInLimits = signInLimits
        self.clientAddressFailures = clientAddressFailures
        self.trustedProxyHeader = trustedProxyHeader
    }

    /// Cookies are `Secure` when links are served over https.
    var secureCookies: Bool { publicURL.lowercased().hasPrefix("https://") }
}
