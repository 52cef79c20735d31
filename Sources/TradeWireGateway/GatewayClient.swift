import CoreMetrics
import Logging
@_spi(VenueClients) import TradeWire

/// An answered gateway request with its latency.
public struct GatewayAck: Sendable {
    public let requestID: UInt64
    public let response: GatewayInbound
    public let latency: RequestLatency
}

/// A client of the broker order gateway (seed 000): `orders_subscribe`,
/// `send_order` with `clOrdId` answered by `order_ack` (matched by the echoed
/// client id, else in order), `order_report` in both shapes with the client id
/// carried over to later reports, instrument ticks, ping/pong.
///
/// Threading (docs/threading.md): as `KrakenClient`: every public member is safe from any thread; handlers
/// are `@Sendable`, given at creation, and run on the loop thread with the client passed in; `send` is the
/// loop thread's zero-hop path and refuses (`.notOnEventLoop`) elsewhere; the client's state is loop-confined.
public final class GatewayClient: WebSocketHandler, @unchecked Sendable {
    /// What the client calls on its loop thread (`@Sendable`: the compiler checks what each closure captures).
    public struct Handlers: Sendable {
        /// Every completed request, exactly once.
        public var onResponse: (@Sendable (GatewayClient, GatewayCompletion) -> Void)?
        /// Order reports; the client id is filled in from earlier reports of the same order.
        public var onReport: (@Sendable (GatewayClient, GatewayOrderReport) -> Void)?
        public var onTick: (@Sendable (GatewayClient, GatewayTick) -> Void)?
        /// `{"type":"error"}` messages that no pending request took.
        public var onError: (@Sendable (GatewayClient, VenueError) -> Void)?
        public var onConnection: (@Sendable (GatewayClient, ConnectionEvent) -> Void)?
        /// What became of orders whose request ended without an answer (docs/reliability.md).
        public var onReconciliation: (@Sendable (GatewayClient, [OrderReconciliation]) -> Void)?

        public init(onResponse: (@Sendable (GatewayClient, GatewayCompletion) -> Void)? = nil,
                    onReport: (@Sendable (GatewayClient, GatewayOrderReport) -> Void)? = nil,
                    onTick: (@Sendable (GatewayClient, GatewayTick) -> Void)? = nil,
                    onError: (@Sendable (GatewayClient, VenueError) -> Void)? = nil,
                    onConnection: (@Sendable (GatewayClient, ConnectionEvent) -> Void)? = nil,
                    onReconciliation: (@Sendable (GatewayClient, [OrderReconciliation]) -> Void)? = nil) {
            self.onResponse = onResponse
            self.onReport = onReport
            self.onTick = onTick
            self.onError = onError
            self.onConnection = onConnection
            self.onReconciliation = onReconciliation
        }
    }

    public struct Configuration: Sendable {
        public var url: WebSocketURL
        public var headers: [(name: String, value: String)]
        public var tls: TLSConfiguration
        public var requestTimeout: Duration
        /// Reconnect after a loss (nil = stay disconnected); subscriptions are restored.
        public var reconnect: ReconnectPolicy?
        /// How long an order whose outcome is unknown must stay out of sight, with an account's order
        /// reports subscribed, after its connection was known dead (or its timeout) before it is
        /// reported `.notFound` (docs/reliability.md).
        public var unknownOrderSettleWindow: Duration = .seconds(5)
        /// On a busy-polling loop, encode the last request and decode the last ack again in scratch while waiting,
        /// so the next order finds its code and data in cache (`OrderPathWarmer`). Nothing is sent. No effect on a
        /// waiting loop.
        public var warmUpWhileIdle = true
        /// Events each stream subscription buffers for a consumer that falls behind (then: a `.gap`).
        public var streamBufferSize = 4096
        /// Where metrics go (nil: `MetricsSystem.factory`, the bootstrapped backend).
        public var metricsFactory: (any MetricsFactory)?
        public init(url: WebSocketURL, headers: [(name: String, value: String)] = [], tls: TLSConfiguration = .default,
                    requestTimeout: Duration = .seconds(5), reconnect: ReconnectPolicy? = nil) {
            self.reconnect = reconnect
            self.url = url
            self.headers = headers
            self.tls = tls
            self.requestTimeout = requestTimeout
        }
    }

    public let loop: EventLoop
    public let configuration: Configuration
    /// Loop-confined: read it through `latencyStats(for:)`.
    package let latency = LatencyRecorder()
    package let metrics: ClientMetrics
    public let logger: Logger
    private let handlers: Handlers
    private let reportHub: StreamHub<GatewayOrderReport>
    private let tickHub: StreamHub<GatewayTick>
    private let errorHub: StreamHub<VenueError>
    private let connectionHub: StreamHub<ConnectionEvent>
    private let reconciliationHub: StreamHub<OrderReconciliation>

    // Loop-confined state read or written on every request carries @exclusivity(unchecked), as in KrakenClient:
    // the runtime's access tracking showed up in the profile (`swift_beginAccess`), and no access to these spans a
    // call that could reach another one.
    @exclusivity(unchecked) package private(set) var supervisor: ConnectionSupervisor!
    private var connection: WebSocketConnection? { supervisor.connection }
    private let pending: PendingRequests<GatewayRequest, GatewayInbound>
    /// What to restore on a new connection.
    private var accounts: [String] = []
    private var instruments: [String] = []
    /// Orders whose outcome is unknown, settled by the accounts' order reports.
    private let reconciler: OrderReconciler
    /// Pending request ids per method (`GatewayMethod.allCases` order), oldest first: an answer that names no
    /// request (a pong, an error) is the oldest's. Kept allocated between requests.
    @exclusivity(unchecked) private var fifo = [[UInt64]](repeating: [], count: GatewayMethod.allCases.count)
    /// Pending orders by client order id: an ack names its order so.
    @exclusivity(unchecked) private var byClientID: [ClientOrderID: UInt64] = [:]
    private var clientIDByOrder: [String: String] = [:]
    /// Busy-poll loops: re-runs the order path in scratch while waiting (see `OrderPathWarmer`).
    @exclusivity(unchecked) private var warmer = OrderPathWarmer<GatewayRequest>()
    /// The loop's idle hook running the warmer, while a connection is open.
    @exclusivity(unchecked) private var idleHandler: Int?

    public init(loop: EventLoop, configuration: Configuration, handlers: Handlers = Handlers(),
                logger: Logger = Logger(label: "tradewire.gateway")) {
        self.loop = loop
        self.configuration = configuration
        self.handlers = handlers
        self.logger = logger
        byClientID.reserveCapacity(1024)            // grown once, not per order
        for m in fifo.indices { fifo[m].reserveCapacity(64) }
        let buffer = configuration.streamBufferSize
        reportHub = StreamHub(defaultBufferSize: buffer)
        tickHub = StreamHub(defaultBufferSize: buffer)
        errorHub = StreamHub(defaultBufferSize: buffer)
        connectionHub = StreamHub(defaultBufferSize: buffer)
        reconciliationHub = StreamHub(defaultBufferSize: buffer)
        pending = PendingRequests(loop: loop, latency: latency, timeout: configuration.requestTimeout)
        metrics = ClientMetrics(venue: "gateway", recorder: latency, factory: configuration.metricsFactory ?? MetricsSystem.factory)
        pending.metrics = metrics
        reconciler = OrderReconciler(loop: loop, settleWindow: configuration.unknownOrderSettleWindow, verification: .orderStream)
        let ws = WebSocketConfiguration(url: configuration.url, headers: configuration.headers, tls: configuration.tls)
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: configuration.reconnect,
                                          retireAfter: configuration.requestTimeout,
                                          streams: [reportHub, tickHub, errorHub, connectionHub, reconciliationHub]) { ws }
        // unowned(unsafe): the supervisor, reconciler and request table belong to this client and end with it.
        supervisor.onEvent = { [unowned(unsafe) self] e in
            if case .connected(.reconnected) = e { metrics.reconnected() }
            handlers.onConnection?(self, e)
            connectionHub.yield(e)
        }
        reconciler.deliver = { [unowned(unsafe) self] list in
            handlers.onReconciliation?(self, list)
            for r in list { reconciliationHub.yield(r) }
        }
        if let onResponse = handlers.onResponse {
            pending.onComplete = { [unowned(unsafe) self] id, r, result, latency in
                onResponse(self, GatewayCompletion(requestID: id, method: r.method, request: r, result: result, latency: latency))
            }
        }
        pending.onTimeout = { [weak self] id, r, generation in
            guard let self, case .sendOrder(let cl, _) = r else { return }
            reconciler.unknown(clientOrderID: cl.description, requestID: id, cause: .timedOut, generation: generation,
                               connectionOpen: generation == supervisor.generation && isConnected)
        }
    }

    public func connect() async throws(TradeWireError) {
        do { try await supervisor.connect() } catch { throw .wrapping(error) }
    }

    /// Close for good (no reconnect follows), and return at once (`close()` waits for it). The streams end once drained.
    public func beginClose() {
        supervisor.close()
    }

    /// Close for good and return once the connection is closed and every request in flight has completed.
    public func close() async {
        await supervisor.closeAndWait()
    }

    // MARK: streams (any task; each access is a new subscription, see `EventStream`)

    /// Order reports of the accounts subscribed with `orders_subscribe`.
    public var orderReports: EventStream<GatewayOrderReport> { reportHub.stream() }
    /// Instrument ticks (after `subscribe(instruments:)`).
    public var ticks: EventStream<GatewayTick> { tickHub.stream() }
    /// `{"type":"error"}` messages that no pending request took.
    public var errors: EventStream<VenueError> { errorHub.stream() }
    public var connectionEvents: EventStream<ConnectionEvent> { connectionHub.stream() }
    /// What became of each order whose request ended without an answer (docs/reliability.md).
    public var reconciliations: EventStream<OrderReconciliation> { reconciliationHub.stream() }

    public var isConnected: Bool { supervisor.isConnected }

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard let kind = supervisor.didOpen(c) else { return }
        defer { supervisor.announceOpen() }
        if idleHandler == nil {
            // unowned(unsafe): the open connection holds this client until the close removes the hook.
            idleHandler = loop.addWarmUpHandler(enabled: configuration.warmUpWhileIdle) { [unowned(unsafe) self] in warmUp() }
        }
        guard kind != .first else { return }
        // Restore subscriptions; the orders_subscribe snapshot and reports then settle orders lost with the old connection.
        var restore = accounts.map { GatewayRequest.ordersSubscribe(account: $0) }
        if !instruments.isEmpty { restore.append(.subscribe(instruments: instruments)) }
        do {
            for r in restore { try send(r) }
        } catch {
            logger.warning("restoring subscriptions failed", metadata: ["error": "\(error)"])
        }
    }

    public func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        guard case .current(let generation) = supervisor.didClose(c, close) else { return }
        reconciler.evidenceLost()
        pending.failAll(TradeWireError(code: .connectionLost, detail: "connection lost (\(close)); an order's outcome is unknown"),
                        generation: generation) { [self] id, r in
            if case .sendOrder(let cl, _) = r {
                reconciler.unknown(clientOrderID: cl.description, requestID: id, cause: .connectionLost, generation: generation,
                                   connectionOpen: false)
            }
        }
        reconciler.connectionClosed(generation: generation)
        for m in fifo.indices { fifo[m].removeAll(keepingCapacity: true) }
        byClientID.removeAll(keepingCapacity: true)
        loop.removeIdleHandler(&idleHandler)
    }

    /// One warm-up pass: the last order encoded again, the last ack decoded again. Nothing is sent.
    private func warmUp() {
        warmer.run(encodeJSON: { r, _, w in GatewayEncoder.encode(r, into: &w) },
                   decode: { bytes in GatewayAckFastPath.decode(bytes) == nil ? 0 : 1 })
    }

    /// Issue a request (loop thread). `subscribe` has no answer and completes when sent.
    @discardableResult
    public func send(_ request: GatewayRequest) throws(TradeWireError) -> UInt64 {
        do { return try issue(request, waiter: nil) } catch { throw .wrapping(error) }
    }

    /// `send`, with the async caller's waiter stored with the request before its frame leaves.
    private func issue(_ request: GatewayRequest, waiter: RequestWaiter<GatewayAck>?) throws -> UInt64 {
        guard loop.inEventLoop else { throw TradeWireError(code: .notOnEventLoop, detail: "GatewayClient.send runs on its loop") }
        if let refused = supervisor.refusal(venue: "gateway") { throw refused }
        guard let conn = connection else { throw TradeWireError(code: .closed, detail: "gateway connection is not open") }
        if case .ordersSubscribe(let account) = request, account.isEmpty {
            throw TradeWireError(code: .invalidArgument, detail: "orders_subscribe needs an account")
        }
        if case .sendOrder(let id, let o) = request {
            if o.type != .market && o.price == nil { throw TradeWireError(code: .invalidArgument, detail: "a LIMIT order needs a price") }
            if let existing = byClientID[id], pending.request(existing) != nil {
                throw TradeWireError(code: .invalidArgument, detail: "clOrdId \(id) is already in flight")
            }
        }
        let tracked: Bool
        if case .subscribe = request { tracked = false } else { tracked = true }
        var id: UInt64 = 0
        if tracked {
            id = try pending.register(request, method: request.method.rawValue, generation: supervisor.generation,
                                      waiter: waiter.map { w in { id, result, latency in
                                          w.resume(with: result.map { GatewayAck(requestID: id, response: $0, latency: latency) }.mapError { $0 as Error })
                                      } })
            fifo[request.method.slot].append(id)
            if case .sendOrder(let cl, _) = request { byClientID[cl] = id }
        }
        do {
            let submitted = try conn.send(.text, capacity: 4096) { buf in
                var w = JSONWriter(buf)
                GatewayEncoder.encode(request, into: &w)
                return w.overflowed ? 0 : w.count
            }
            if tracked { pending.markSent(id, submitNs: submitted) }
            metrics.sent()
            if idleHandler != nil, case .sendOrder = request { warmer.sent(request, id: id) }
            switch request {
            case .ordersSubscribe(let a): if !accounts.contains(a) { accounts.append(a) }
            case .subscribe(let list): for i in list where !instruments.contains(i) { instruments.append(i) }
            default: break
            }
        } catch {
            if !tracked { throw error }
            forget(id, request)
            pending.fail(id, error as? TradeWireError ?? TradeWireError(code: .closed, detail: "\(error)"))
        }
        return id
    }

    /// Drop the correlation entries of a request that has completed.
    private func forget(_ id: UInt64, _ request: GatewayRequest) {
        let m = request.method.slot
        // Array's own members, not Collection's `first`/`removeFirst` (unspecialized, they allocate in debug builds).
        if !fifo[m].isEmpty && fifo[m][0] == id { fifo[m].remove(at: 0) } else { fifo[m].removeAll { $0 == id } }
        if case .sendOrder(let cl, _) = request { byClientID[cl] = nil }
    }

    public func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text else { return }
        metrics.received()
        let inbound: GatewayInbound
        do { inbound = try GatewayDecoder.decode(message.bytes) } catch {
            logger.warning("undecodable gateway message", metadata: ["error": "\(error)"])
            return
        }
        switch inbound {
        case .connection: break
        case .pong: answer(.ping, nil, inbound, at: message.receivedAt)
        case .ordersSubscribed: answer(.ordersSubscribe, nil, inbound, at: message.receivedAt)
        case .orderAck(let ack):
            answer(.sendOrder, ack.clientOrderID, inbound, at: message.receivedAt)
            if idleHandler != nil { warmer.received(message.bytes) }
        case .orderReport(var r):
            if let cl = r.clientOrderID, let oid = r.orderID { clientIDByOrder[oid] = cl }
            if r.clientOrderID == nil, let oid = r.orderID, let cl = clientIDByOrder[oid] {
                r = GatewayOrderReport(clientOrderID: cl, orderID: r.orderID, status: r.status, side: r.side, symbol: r.symbol,
                                       size: r.size, price: r.price, cumQty: r.cumQty, lastQty: r.lastQty, lastPrice: r.lastPrice,
                                       text: r.text, rawPrimaryShape: r.rawPrimaryShape)
            }
            if reconciler.isWatching, let cl = r.clientOrderID, let oid = r.orderID {
                reconciler.sighted(clientOrderID: cl, orderID: oid, status: r.status.rawValue)
            }
            handlers.onReport?(self, r)
            reportHub.yield(r)
        case .tick(let t):
            handlers.onTick?(self, t)
            tickHub.yield(t)
        case .error(let m):
            // The gateway's errors name no request: the oldest pending order or subscription takes it.
            if let id = fifo[GatewayMethod.ordersSubscribe.slot].first, pending.request(id) != nil, m.contains("account") {
                answer(.ordersSubscribe, nil, nil, error: m, at: message.receivedAt)
            } else {
                let v = VenueError(venue: "gateway", code: "error", message: m)
                handlers.onError?(self, v)
                errorHub.yield(v)
            }
        }
    }

    private func answer(_ method: GatewayMethod, _ clientID: String?, _ response: GatewayInbound?, error: String? = nil, at recv: UInt64) {
        // Decoded just before this call, from the read that completed the message: one clock read, for answers only.
        let decodeNs = MonotonicClock.nanoseconds() &- recv
        var id: UInt64?
        if let clientID, let key = ClientOrderID(clientID), let byID = byClientID[key] { id = byID }
        else {
            let m = method.slot
            while !fifo[m].isEmpty, pending.request(fifo[m][0]) == nil { fifo[m].remove(at: 0) }   // timed out
            id = fifo[m].isEmpty ? nil : fifo[m][0]
        }
        guard let id, let request = pending.request(id) else {
            // A late ack of an order that timed out: it was placed.
            if reconciler.isWatching, case .orderAck(let a)? = response, a.ok, let cl = a.clientOrderID {
                reconciler.sighted(clientOrderID: cl, orderID: a.orderID ?? "", status: a.status ?? "acknowledged late")
            }
            logger.debug("answer to no pending request", metadata: ["method": "\(method)"])
            return
        }
        forget(id, request)
        if case .ordersSubscribed(_, true)? = response { reconciler.evidenceInView() }   // its account's reports are in view
        var result: Result<GatewayInbound, TradeWireError>
        if let error { result = .failure(.venueRejected(VenueError(venue: "gateway", code: "error", message: error))) }
        else if case .orderAck(let a) = response!, !a.ok {
            result = .failure(.venueRejected(VenueError(venue: "gateway", code: a.status ?? "rejected", message: a.message ?? "rejected")))
        }
        else { result = .success(response!) }
        pending.answer(id, result, receivedAt: recv, decodeNs: decodeNs)
    }

    /// Send and await the answer (any thread).
    public func request(_ r: GatewayRequest) async throws(TradeWireError) -> GatewayAck {
        try await loop.awaitTyped { [self] (waiter: RequestWaiter<GatewayAck>) in
            do {
                _ = try issue(r, waiter: waiter)
                // `subscribe` has no answer: it is done once its frame is sent.
                if case .subscribe = r { waiter.resume(returning: GatewayAck(requestID: 0, response: .pong, latency: .init(nanoseconds: 0, decodeNanoseconds: 0, wasSent: true))) }
            } catch { waiter.resume(throwing: error) }
        }
    }

    public func sendOrder(_ order: GatewayOrder, clientOrderID: ClientOrderID) async throws(TradeWireError) -> GatewayAck {
        try await request(.sendOrder(clientOrderID: clientOrderID, order: order))
    }
    public func ordersSubscribe(account: String) async throws(TradeWireError) -> GatewayAck { try await request(.ordersSubscribe(account: account)) }
    public func ping() async throws(TradeWireError) -> GatewayAck { try await request(.ping) }
    public func subscribe(instruments: [String]) async throws(TradeWireError) { _ = try await request(.subscribe(instruments: instruments)) }
}

/// Handshake headers often carry credentials (`X-Auth-Token`): their values are never printed, dumped or mirrored.
extension GatewayClient.Configuration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "GatewayClient.Configuration(url: \(url), headers: [\(headers.map { "\($0.name): <redacted>" }.joined(separator: ", "))], "
            + "requestTimeout: \(requestTimeout))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["url": url, "headers": headers.map { "\($0.name): <redacted>" }, "requestTimeout": requestTimeout])
    }
}

/// A completed gateway request, as `Handlers.onResponse` receives it on the loop thread.
public struct GatewayCompletion: Sendable {
    public let requestID: UInt64
    public let method: GatewayMethod
    public let request: GatewayRequest
    public let result: Result<GatewayInbound, TradeWireError>
    public let latency: RequestLatency
}

extension GatewayClient {
    /// Round-trip percentiles of a method, read on the loop (nil: none completed yet).
    public func latencyStats(for method: GatewayMethod) async -> LatencyStats? {
        (try? await loop.submit { [self] in latency.stats(for: method.rawValue) }) ?? nil
    }

    /// Round-trip percentiles of every method that completed a request.
    public func allLatencyStats() async -> [LatencyStats] {
        (try? await loop.submit { [self] in latency.allStats }) ?? []
    }
}

extension GatewayClient: VenueClient {
    public static let venueName = "gateway"
}

extension Venue where Client == GatewayClient {
    /// The broker order gateway (seed 000): `TradeWire.create(.gateway, …)` / `TradeWire.client(.gateway)`.
    public static var gateway: Venue<GatewayClient> { Venue() }
}

extension TradeWire {
    /// Create the process's gateway client (once); fetch it anywhere with `TradeWire.client(.gateway)`.
    @discardableResult
    public static func create(_ venue: Venue<GatewayClient>, loop: EventLoop, configuration: GatewayClient.Configuration,
                              handlers: GatewayClient.Handlers = .init()) throws -> GatewayClient {
        let c = GatewayClient(loop: loop, configuration: configuration, handlers: handlers)
        try register(c)
        return c
    }
}
