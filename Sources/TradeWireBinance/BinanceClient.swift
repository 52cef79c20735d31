import Logging
import TradeWire
#if canImport(Glibc)
import Glibc
#endif

public struct BinanceAck: Sendable {
    public let requestID: UInt64
    public let response: BinanceResponse
    public let latency: RequestLatency
}

/// A Binance Spot WebSocket API client: signed requests (HMAC or Ed25519),
/// `session.logon`, the user data stream with typed `executionReport`s,
/// `rateLimits` fed to the process-wide limiter, 5xx and -1007 surfaced as
/// `.outcomeUnknown`, `serverShutdown` surfaced. Server ping frames are
/// answered by the core.
public final class BinanceClient: WebSocketHandler, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var url: WebSocketURL
        public var credentials: BinanceCredentials?
        public var tls: TLSConfiguration
        public var requestTimeout: Duration
        public var rateLimiter: VenueRateLimiter?
        /// Reconnect after a loss (nil = stay disconnected). With a policy, a connection is also replaced
        /// before Binance's 24 h limit (at 23 h 30 min unless the policy says otherwise) and on `serverShutdown`.
        public var reconnect: ReconnectPolicy?
        public init(url: WebSocketURL, credentials: BinanceCredentials? = nil, tls: TLSConfiguration = .default,
                    requestTimeout: Duration = .seconds(10), rateLimiter: VenueRateLimiter? = BinanceClient.sharedRateLimiter,
                    reconnect: ReconnectPolicy? = nil) {
            self.reconnect = reconnect
            self.url = url
            self.credentials = credentials
            self.tls = tls
            self.requestTimeout = requestTimeout
            self.rateLimiter = rateLimiter
        }
    }

    public typealias Callback = (_ requestID: UInt64, _ method: String, _ request: BinanceRequest,
                                 _ result: Result<BinanceResponse, TradeWireError>, _ latency: RequestLatency) -> Void

    /// Limits as Binance reports them in `rateLimits`, shared process-wide, failing fast.
    public static let sharedRateLimiter = VenueRateLimiter(BinanceReportedLimits(), policy: .failFast)

    public let loop: EventLoop
    public let configuration: Configuration
    public let latency = LatencyRecorder()
    public var logger = Logger(label: "tradewire.binance")
    /// Every completed request, on the loop thread: (id, method, request, result, latency).
    public var onResponse: Callback? {
        didSet { let cb = onResponse; pending.onComplete = cb.map { cb in { id, r, res, lat in cb(id, r.method, r, res, lat) } } }
    }
    public var onExecutionReport: ((BinanceExecutionReport) -> Void)?
    /// The server announced a shutdown: a replacement connection is opened (with a reconnect policy).
    public var onServerShutdown: ((Int64?) -> Void)?
    /// After a reconnect: what `openOrders.status` says of the orders lost with the connection.
    public var onReconciliation: (([OrderReconciliation]) -> Void)?
    public private(set) var loggedOn = false

    /// Connects, reconnects, replaces aging connections.
    public private(set) var supervisor: ConnectionSupervisor!
    private var connection: WebSocketConnection? { supervisor.connection }
    private let pending: PendingRequests<BinanceRequest, BinanceResponse>
    /// What to restore on a new connection.
    private var wantsLogon = false
    private var wantsUserDataStream = false
    private var unknownOrders = UnknownOrders()

    public init(loop: EventLoop, configuration: Configuration) {
        self.loop = loop
        self.configuration = configuration
        pending = PendingRequests(loop: loop, latency: latency, timeout: configuration.requestTimeout)
        var policy = configuration.reconnect
        if policy != nil, policy?.maxConnectionAge == nil { policy?.maxConnectionAge = .seconds(23 * 3600 + 1800) }
        let url = configuration.url, tls = configuration.tls
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: policy, retireAfter: configuration.requestTimeout) {
            WebSocketConfiguration(url: url, tls: tls)
        }
    }

    public func connect() async throws { try await supervisor.connect() }

    /// Close for good (no reconnect follows).
    public func close() { supervisor.close() }

    public var isConnected: Bool { supervisor.isConnected }

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard let kind = supervisor.didOpen(c), kind != .first else { return }
        // A new connection has no session: log on again, restore the user data stream, and ask for open orders
        // if some orders' outcome was lost with the old connection. Binance answers in order on one connection.
        loggedOn = false
        var restore: [BinanceRequest] = []
        if wantsLogon { restore.append(.sessionLogon) }
        if wantsUserDataStream { restore.append(.userDataStreamSubscribe) }
        if !unknownOrders.isEmpty { restore.append(.openOrdersStatus(symbol: nil)) }
        for r in restore {
            do { try send(r) } catch { logger.warning("restoring \(r.method) failed", metadata: ["error": "\(error)"]) }
        }
    }

    public func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        let generation: Int
        switch supervisor.didClose(c, close) {
        case .standby: return
        case .current(let g): generation = g; loggedOn = false
        case .retired(let g): generation = g
        }
        pending.failAll(TradeWireError(code: .connectionLost, detail: "connection lost (\(close)); an order's outcome is unknown"),
                        generation: generation) { [self] r in
            if case .orderPlace(let o) = r, let id = o.newClientOrderId { unknownOrders.add(id.description) }
        }
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }

    /// Issue a request (loop thread). Request ids go on the wire as strings (`"tw-<n>"`).
    @discardableResult
    public func send(_ request: BinanceRequest) throws -> UInt64 {
        guard loop.inEventLoop else { throw TradeWireError(code: .notOnEventLoop, detail: "BinanceClient.send runs on its loop") }
        guard let conn = connection, conn.state == .open else { throw TradeWireError(code: .closed, detail: "Binance connection is not open") }
        if case .sessionLogon = request, case .hmac = configuration.credentials?.key {
            throw TradeWireError(code: .invalidArgument, detail: "session.logon needs an Ed25519 key")
        }
        if let limiter = configuration.rateLimiter, let over = limiter.acquire(cost: 1) {
            throw TradeWireError(code: .rateLimited, detail: "over \(over.limit); retry in \(over.retryAfterNs / 1_000_000) ms")
        }
        let id = try pending.register(request, method: request.method, generation: supervisor.generation)
        // Encode first (signing may fail): nothing is sent, and the request completes with the error, if it does.
        var encoded = [UInt8](repeating: 0, count: 2048)
        let n: Int
        do {
            n = try encoded.withUnsafeMutableBytes { b -> Int in
                var w = JSONWriter(b)
                try BinanceEncoder.encode(request, id: "tw-\(id)", credentials: configuration.credentials, loggedOn: loggedOn,
                                          timestampMs: Self.nowMs(), into: &w)
                return w.count
            }
        } catch {
            pending.fail(id, error as? TradeWireError ?? TradeWireError(code: .invalidArgument, detail: "\(error)"))
            return id
        }
        do {
            let submitted = try encoded.withUnsafeBytes { try conn.send(.text, bytes: UnsafeRawBufferPointer(rebasing: $0[..<n])) }
            pending.markSent(id, submitNs: submitted)
        } catch {
            pending.fail(id, error as? TradeWireError ?? TradeWireError(code: .closed, detail: "\(error)"))
        }
        return id
    }

    public func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text else { return }
        let inbound: BinanceInbound
        do { inbound = try BinanceDecoder.decode(message.bytes) } catch {
            logger.warning("undecodable Binance message", metadata: ["error": "\(error)"])
            return
        }
        switch inbound {
        case .executionReport(let r): onExecutionReport?(r)
        case .serverShutdown(let t):
            logger.notice("Binance serverShutdown: reconnect")
            onServerShutdown?(t)
            if configuration.reconnect != nil { supervisor.replace(reason: "Binance serverShutdown") }
        case .event: break
        case .response(let r):
            configuration.rateLimiter?.observe(usage: r.rateLimits)
            guard r.id.hasPrefix("tw-"), let id = UInt64(r.id.dropFirst(3)), let request = pending.request(id) else {
                logger.debug("response to an unknown request", metadata: ["id": "\(r.id)"])
                return
            }
            let result: Result<BinanceResponse, TradeWireError>
            if r.status == 200 {
                result = .success(r)
            } else if r.status >= 500 || r.errorCode == -1007 {
                result = .failure(TradeWireError(code: .outcomeUnknown, detail: "Binance \(r.status) \(r.errorCode.map(String.init) ?? ""): \(r.errorMessage ?? "server error"); the order may have gone through: check its state"))
            } else {
                result = .failure(TradeWireError(code: .venueRejected, detail: "Binance \(r.errorCode ?? 0): \(r.errorMessage ?? "")"))
            }
            if case .success = result {
                switch request {
                case .sessionLogon: loggedOn = true; wantsLogon = true
                case .userDataStreamSubscribe: wantsUserDataStream = true
                case .openOrdersStatus: if !unknownOrders.isEmpty { onReconciliation?(unknownOrders.reconcile(with: r.openOrders)) }
                default: break
                }
            }
            pending.answer(id, result, receivedAt: message.receivedAt)
        }
    }

    public func request(_ r: BinanceRequest) async throws -> BinanceAck {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<BinanceAck, Error>) in
            loop.execute { [self] in
                do {
                    let id = try send(r)
                    pending.wait(id) { result, latency in
                        c.resume(with: result.map { BinanceAck(requestID: id, response: $0, latency: latency) }.mapError { $0 as Error })
                    }
                } catch { c.resume(throwing: error) }
            }
        }
    }

    public func placeOrder(_ o: BinanceOrder) async throws -> BinanceAck { try await request(.orderPlace(o)) }
    public func testOrder(_ o: BinanceOrder) async throws -> BinanceAck { try await request(.orderTest(o)) }
    public func cancelOrder(symbol: String, orderId: Int64? = nil, origClientOrderId: String? = nil) async throws -> BinanceAck {
        try await request(.orderCancel(symbol: symbol, orderId: orderId, origClientOrderId: origClientOrderId))
    }
    public func ping() async throws -> BinanceAck { try await request(.ping) }
    public func logon() async throws -> BinanceAck { try await request(.sessionLogon) }
    public func subscribeUserDataStream() async throws -> BinanceAck { try await request(.userDataStreamSubscribe) }
}
