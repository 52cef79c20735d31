/// How a TLS client decides whom to trust. Verification of the chain and of the
/// host name is on by default, against the system CA store.
public struct TLSConfiguration: Sendable {
    /// Extra trust anchors, added to the system store.
    public enum Trust: Sendable {
        case caFile(String)
        case caPEM(String)
    }

    /// Added to the system CA store (e.g. a venue's test CA).
    public var additionalTrust: [Trust] = []
    /// Name for SNI and for the host-name check; nil = the URL's host.
    public var serverName: String? = nil
    /// Off only through `insecureNoVerification()`.
    public private(set) var verifiesPeer: Bool = true

    public init(additionalTrust: [Trust] = [], serverName: String? = nil) {
        self.additionalTrust = additionalTrust
        self.serverName = serverName
    }

    /// Full verification against the system CA store.
    public static let `default` = TLSConfiguration()

    /// No certificate or host-name verification at all. Anyone on the path can
    /// read and change the traffic: for local tests only. Named so that it
    /// cannot be chosen by accident.
    public static func insecureNoVerification() -> TLSConfiguration {
        var c = TLSConfiguration()
        c.verifiesPeer = false
        return c
    }
}

/// Size limits; a peer that goes over them gets close code 1009.
public struct WebSocketLimits: Sendable {
    public var maxFrameSize: Int
    public var maxMessageSize: Int
    public init(maxFrameSize: Int = 16 << 20, maxMessageSize: Int = 16 << 20) {
        self.maxFrameSize = maxFrameSize
        self.maxMessageSize = maxMessageSize
    }
}

/// One client connection: where, with which headers, TLS and limits.
public struct WebSocketConfiguration: Sendable {
    public var url: WebSocketURL
    /// Extra request headers, e.g. `("Authorization", "Bearer …")`.
    public var headers: [(name: String, value: String)]
    public var tls: TLSConfiguration
    public var limits: WebSocketLimits
    /// Connect + TLS + upgrade.
    public var openTimeout: Duration
    /// How long to wait for the peer's part of the closing handshake.
    public var closeTimeout: Duration

    public init(url: WebSocketURL, headers: [(name: String, value: String)] = [],
                tls: TLSConfiguration = .default, limits: WebSocketLimits = .init(),
                openTimeout: Duration = .seconds(10), closeTimeout: Duration = .seconds(2)) {
        self.url = url
        self.headers = headers
        self.tls = tls
        self.limits = limits
        self.openTimeout = openTimeout
        self.closeTimeout = closeTimeout
    }

    public init(url: String, headers: [(name: String, value: String)] = [],
                tls: TLSConfiguration = .default, limits: WebSocketLimits = .init()) throws {
        self.init(url: try WebSocketURL(url), headers: headers, tls: tls, limits: limits)
    }
}

/// How the loop thread waits for I/O.
public enum WaitMode: Sendable {
    /// Sleep in the kernel until a completion arrives (one core stays free).
    case wait
    /// Spin on the completion queue: lowest latency, one core at 100 %.
    case busyPoll
}

/// Which I/O backend a loop uses.
public enum Backend: Sendable, Equatable {
    /// Waiting loops: io_uring, or plain syscalls if io_uring cannot be set up (logged once with
    /// the reason). Busy-polling loops: plain non-blocking syscalls, the faster of the two when
    /// a core spins on a few sockets (`tradewire bench --backend` compares them).
    case automatic
    case ioUring
    /// Non-blocking sockets and epoll.
    case posix
}

public struct EventLoopConfiguration: Sendable {
    public var waitMode: WaitMode
    /// Pin the loop thread to this CPU.
    public var cpu: Int?
    public var backend: Backend
    public init(waitMode: WaitMode = .wait, cpu: Int? = nil, backend: Backend = .automatic) {
        self.waitMode = waitMode
        self.cpu = cpu
        self.backend = backend
    }
}

extension Duration {
    var milliseconds: UInt32 {
        let (s, atto) = components
        let ms = s * 1000 + atto / 1_000_000_000_000_000
        return UInt32(clamping: max(ms, 1))
    }
}
