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
        /// How long after its connection was known dead (or after its timeout) an order whose outcome is
        /// unknown waits before `order.status` is asked about it (docs/reliability.md).
        public var unknownOrderSettleWindow: Duration = .seconds(5)
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
    /// What became of each order whose request ended without an answer (lost connection, timeout), by
    /// `clientOrderId`: from the user data stream, `openOrders.status` after a reconnect, a late answer, or
    /// `order.status` once the settle window has passed. Once per order, plus `.foundAfterNotFound`.
    public var onReconciliation: (([OrderReconciliation]) -> Void)?
    public private(set) var loggedOn = false

    /// Connects, reconnects, replaces aging connections.
    public private(set) var supervisor: ConnectionSupervisor!
    private var connection: WebSocketConnection? { supervisor.connection }
    private let pending: PendingRequests<BinanceRequest, BinanceResponse>
    /// What to restore on a new connection.
    private var wantsLogon = false
    private var wantsUserDataStream = false
    /// Orders whose outcome is unknown; settled by `order.status` when their window ends.
    private let reconciler: OrderReconciler
    /// The `order.status` requests the reconciler asked for: request id → client order id.
    private var statusQueries: [UInt64: String] = [:]

    public init(loop: EventLoop, configuration: Configuration) {
        self.loop = loop
        self.configuration = configuration
        pending = PendingRequests(loop: loop, latency: latency, timeout: configuration.requestTimeout)
        reconciler = OrderReconciler(loop: loop, settleWindow: configuration.unknownOrderSettleWindow, verification: .statusQuery)
        var policy = configuration.reconnect
        if policy != nil, policy?.maxConnectionAge == nil { policy?.maxConnectionAge = .seconds(23 * 3600 + 1800) }
        let url = configuration.url, tls = configuration.tls
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: policy, retireAfter: configuration.requestTimeout) {
            WebSocketConfiguration(url: url, tls: tls)
        }
        reconciler.deliver = { [weak self] in self?.onReconciliation?($0) }
        reconciler.query = { [weak self] in self?.queryStatus($0) }
        pending.onTimeout = { [weak self] id, r, generation in
            guard let self else { return }
            noteUnknownOrder(r, requestID: id, cause: .timedOut, generation: generation,
                             connectionOpen: generation == supervisor.generation && isConnected)
        }
    }

    private func noteUnknownOrder(_ r: BinanceRequest, requestID: UInt64, cause: OrderReconciliation.Cause, generation: Int,
                                  connectionOpen: Bool) {
        if let cl = statusQueries.removeValue(forKey: requestID) { reconciler.recheck(clientOrderID: cl); return }   // a query went unanswered
        guard case .orderPlace(let o) = r, let cl = o.newClientOrderId else { return }
        reconciler.unknown(clientOrderID: cl.description, requestID: requestID, cause: cause, symbol: o.symbol,
                           generation: generation, connectionOpen: connectionOpen)
    }

    /// Ask the venue about orders whose window has ended: `order.status` knows ended orders too.
    private func queryStatus(_ entries: [UnknownOrderTracker.Entry]) {
        for e in entries {
            do {
                let id = try send(.orderStatus(symbol: e.symbol ?? "", orderId: nil, origClientOrderId: e.clientOrderID))
                statusQueries[id] = e.clientOrderID
            } catch {
                reconciler.recheck(clientOrderID: e.clientOrderID)
            }
        }
    }

    public func connect() async throws { try await supervisor.connect() }

    /// Close for good (no reconnect follows).
    public func close() { supervisor.close() }

    public var isConnected: Bool { supervisor.isConnected }

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard let kind = supervisor.didOpen(c) else { return }
        reconciler.evidenceInView()          // order.status can be asked on any open connection
        guard kind != .first else { return }
        // A new connection has no session: log on again, restore the user data stream, and ask for open orders
        // if some orders' outcome was lost with the old connection. Binance answers in order on one connection.
        loggedOn = false
        var restore: [BinanceRequest] = []
        if wantsLogon { restore.append(.sessionLogon) }
        if wantsUserDataStream { restore.append(.userDataStreamSubscribe) }
        if !reconciler.isEmpty { restore.append(.openOrdersStatus(symbol: nil)) }
        for r in restore {
            do { try send(r) } catch { logger.warning("restoring \(r.method) failed", metadata: ["error": "\(error)"]) }
        }
    }

    public func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        let generation: Int
        switch supervisor.didClose(c, close) {
        case .standby: return
        case .current(let g): generation = g; loggedOn = false; reconciler.evidenceLost()
        case .retired(let g): generation = g
        }
        pending.failAll(TradeWireError(code: .connectionLost, detail: "connection lost (\(close)); an order's outcome is unknown"),
                        generation: generation) { [self] id, r in
            noteUnknownOrder(r, requestID: id, cause: .connectionLost, generation: generation, connectionOpen: false)
        }
        reconciler.connectionClosed(generation: generation)
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }

    /// Issue a request (loop thread). Request ids go on the wire as strings (`"tw-<n>"`).
    @discardableResult
    public func send(_ request: BinanceRequest) throws -> UInt64 { try issue(request, waiter: nil) }

    /// `send`, with the async caller's waiter stored with the request before its frame leaves.
    private func issue(_ request: BinanceRequest, waiter: RequestWaiter<BinanceAck>?) throws -> UInt64 {
        guard loop.inEventLoop else { throw TradeWireError(code: .notOnEventLoop, detail: "BinanceClient.send runs on its loop") }
        if let refused = supervisor.refusal(venue: "Binance") { throw refused }
        guard let conn = connection else { throw TradeWireError(code: .closed, detail: "Binance connection is not open") }
        if case .sessionLogon = request, case .hmac = configuration.credentials?.key {
            throw TradeWireError(code: .invalidArgument, detail: "session.logon needs an Ed25519 key")
        }
        if let limiter = configuration.rateLimiter, let over = limiter.acquire(cost: 1) {
            throw TradeWireError(code: .rateLimited, detail: "over \(over.limit); retry in \(over.retryAfterNs / 1_000_000) ms")
        }
        let id = try pending.register(request, method: request.method, generation: supervisor.generation,
                                      waiter: waiter.map { w in { id, result, latency in
                                          w.resume(with: result.map { BinanceAck(requestID: id, response: $0, latency: latency) }.mapError { $0 as Error })
                                      } })
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
        case .executionReport(let r):
            if reconciler.isWatching {
                reconciler.sighted(clientOrderID: r.orderClientOrderId, orderID: String(r.orderId), status: r.status.rawValue)
            }
            onExecutionReport?(r)
        case .serverShutdown(let t):
            logger.notice("Binance serverShutdown: reconnect")
            onServerShutdown?(t)
            if configuration.reconnect != nil { supervisor.replace(reason: "Binance serverShutdown") }
        case .event: break
        case .response(let r):
            configuration.rateLimiter?.observe(usage: r.rateLimits)
            guard r.id.hasPrefix("tw-"), let id = UInt64(r.id.dropFirst(3)), let request = pending.request(id) else {
                if reconciler.isWatching, r.id.hasPrefix("tw-"), let id = UInt64(r.id.dropFirst(3)) {
                    // A late answer to an order that timed out settles it.
                    reconciler.answeredLate(requestID: id, r.status == 200
                        ? .success((orderID: r.orderId.map { String($0) } ?? "", status: r.orderStatus ?? "acknowledged late"))
                        : .failure(Self.venueError(r)))
                }
                logger.debug("response to an unknown request", metadata: ["id": "\(r.id)"])
                return
            }
            let result: Result<BinanceResponse, TradeWireError>
            if r.status == 200 {
                result = .success(r)
            } else if r.status >= 500 || r.errorCode == -1007 {
                result = .failure(TradeWireError(code: .outcomeUnknown, detail: "Binance \(r.status) \(r.errorCode.map(String.init) ?? ""): \(r.errorMessage ?? "server error"); the order may have gone through: check its state"))
            } else {
                result = .failure(Self.venueError(r))
            }
            if let cl = statusQueries.removeValue(forKey: id) {
                switch result {
                case .success(let s): reconciler.sighted(clientOrderID: cl, orderID: s.orderId.map { String($0) } ?? "", status: s.orderStatus ?? "")
                case .failure where r.errorCode == -2013: reconciler.notFound(clientOrderID: cl)    // "Order does not exist."
                case .failure: reconciler.recheck(clientOrderID: cl)
                }
            }
            if case .success = result {
                switch request {
                case .sessionLogon: loggedOn = true; wantsLogon = true
                case .userDataStreamSubscribe: wantsUserDataStream = true
                case .openOrdersStatus:
                    if reconciler.isWatching {
                        for o in r.openOrders { reconciler.sighted(clientOrderID: o.clientOrderID, orderID: o.orderID, status: o.status) }
                    }
                default: break
                }
            }
            pending.answer(id, result, receivedAt: message.receivedAt)
        }
    }

    static func venueError(_ r: BinanceResponse) -> TradeWireError {
        TradeWireError(code: .venueRejected, detail: "Binance \(r.errorCode ?? 0): \(r.errorMessage ?? "")")
    }

    public func request(_ r: BinanceRequest) async throws -> BinanceAck {
        try await loop.awaitResult { [self] (waiter: RequestWaiter<BinanceAck>) in
            do { _ = try issue(r, waiter: waiter) } catch { waiter.resume(throwing: error) }
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
