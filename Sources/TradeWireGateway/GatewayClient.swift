import Logging
import TradeWire

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
public final class GatewayClient: WebSocketHandler, @unchecked Sendable {
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
        public init(url: WebSocketURL, headers: [(name: String, value: String)] = [], tls: TLSConfiguration = .default,
                    requestTimeout: Duration = .seconds(5), reconnect: ReconnectPolicy? = nil) {
            self.reconnect = reconnect
            self.url = url
            self.headers = headers
            self.tls = tls
            self.requestTimeout = requestTimeout
        }
    }

    public typealias Callback = (_ requestID: UInt64, _ method: String, _ request: GatewayRequest,
                                 _ result: Result<GatewayInbound, TradeWireError>, _ latency: RequestLatency) -> Void

    public let loop: EventLoop
    public let configuration: Configuration
    public let latency = LatencyRecorder()
    public var logger = Logger(label: "tradewire.gateway")
    /// Every completed request, on the loop thread: (id, method, request, result, latency).
    public var onResponse: Callback? {
        didSet { let cb = onResponse; pending.onComplete = cb.map { cb in { id, r, res, lat in cb(id, r.method, r, res, lat) } } }
    }
    /// Order reports; the client id is filled in from earlier reports of the same order.
    public var onReport: ((GatewayOrderReport) -> Void)?
    public var onTick: ((GatewayTick) -> Void)?
    /// `{"type":"error"}` messages.
    public var onError: ((String) -> Void)?

    /// What became of each order whose request ended without an answer (lost connection, timeout), by
    /// `clOrdId`, from the order reports of the accounts subscribed with `orders_subscribe` (their snapshot
    /// after a reconnect included) or a late `order_ack`. Once per order, plus `.foundAfterNotFound`.
    /// Without an `orders_subscribe`d account there is no evidence, and such orders stay unknown.
    public var onReconciliation: (([OrderReconciliation]) -> Void)?

    public private(set) var supervisor: ConnectionSupervisor!
    private var connection: WebSocketConnection? { supervisor.connection }
    private let pending: PendingRequests<GatewayRequest, GatewayInbound>
    /// What to restore on a new connection.
    private var accounts: [String] = []
    private var instruments: [String] = []
    /// Orders whose outcome is unknown, settled by the accounts' order reports.
    private let reconciler: OrderReconciler
    private var fifo: [String: [UInt64]] = [:]
    private var byClientID: [String: UInt64] = [:]
    private var clientIDByOrder: [String: String] = [:]

    public init(loop: EventLoop, configuration: Configuration) {
        self.loop = loop
        self.configuration = configuration
        pending = PendingRequests(loop: loop, latency: latency, timeout: configuration.requestTimeout)
        reconciler = OrderReconciler(loop: loop, settleWindow: configuration.unknownOrderSettleWindow, verification: .orderStream)
        let ws = WebSocketConfiguration(url: configuration.url, headers: configuration.headers, tls: configuration.tls)
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: configuration.reconnect,
                                          retireAfter: configuration.requestTimeout) { ws }
        reconciler.deliver = { [weak self] in self?.onReconciliation?($0) }
        pending.onTimeout = { [weak self] id, r, generation in
            guard let self, case .sendOrder(let cl, _) = r else { return }
            reconciler.unknown(clientOrderID: cl.description, requestID: id, cause: .timedOut, generation: generation,
                               connectionOpen: generation == supervisor.generation && isConnected)
        }
    }

    public func connect() async throws { try await supervisor.connect() }

    /// Close for good (no reconnect follows).
    public func close() { supervisor.close() }

    public var isConnected: Bool { supervisor.isConnected }

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard let kind = supervisor.didOpen(c), kind != .first else { return }
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
        fifo.removeAll()
        byClientID.removeAll()
    }

    /// Issue a request (loop thread). `subscribe` has no answer and completes when sent.
    @discardableResult
    public func send(_ request: GatewayRequest) throws -> UInt64 { try issue(request, waiter: nil) }

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
            if let existing = byClientID[id.description], pending.request(existing) != nil {
                throw TradeWireError(code: .invalidArgument, detail: "clOrdId \(id) is already in flight")
            }
        }
        let tracked: Bool
        if case .subscribe = request { tracked = false } else { tracked = true }
        var id: UInt64 = 0
        if tracked {
            id = try pending.register(request, method: request.method, generation: supervisor.generation,
                                      waiter: waiter.map { w in { id, result, latency in
                                          w.resume(with: result.map { GatewayAck(requestID: id, response: $0, latency: latency) }.mapError { $0 as Error })
                                      } })
            fifo[request.method, default: []].append(id)
            if case .sendOrder(let cl, _) = request { byClientID[cl.description] = id }
        }
        do {
            let submitted = try conn.send(.text, capacity: 4096) { buf in
                var w = JSONWriter(buf)
                GatewayEncoder.encode(request, into: &w)
                return w.overflowed ? 0 : w.count
            }
            if tracked { pending.markSent(id, submitNs: submitted) }
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
        fifo[request.method]?.removeAll { $0 == id }
        if case .sendOrder(let cl, _) = request { byClientID[cl.description] = nil }
    }

    public func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text else { return }
        let inbound: GatewayInbound
        do { inbound = try GatewayDecoder.decode(message.bytes) } catch {
            logger.warning("undecodable gateway message", metadata: ["error": "\(error)"])
            return
        }
        switch inbound {
        case .connection: break
        case .pong: answer("ping", nil, inbound, at: message.receivedAt)
        case .ordersSubscribed: answer("orders_subscribe", nil, inbound, at: message.receivedAt)
        case .orderAck(let ack): answer("send_order", ack.clientOrderID, inbound, at: message.receivedAt)
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
            onReport?(r)
        case .tick(let t): onTick?(t)
        case .error(let m):
            // The gateway's errors name no request: the oldest pending order or subscription takes it.
            if let id = fifo["orders_subscribe"]?.first, pending.request(id) != nil, m.contains("account") {
                answer("orders_subscribe", nil, nil, error: m, at: message.receivedAt)
            } else {
                onError?(m)
            }
        }
    }

    private func answer(_ method: String, _ clientID: String?, _ response: GatewayInbound?, error: String? = nil, at recv: UInt64) {
        var id: UInt64?
        if let clientID, let byID = byClientID[clientID] { id = byID }
        else {
            while let first = fifo[method]?.first, pending.request(first) == nil { fifo[method]!.removeFirst() }   // timed out
            id = fifo[method]?.first
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
        if let error { result = .failure(TradeWireError(code: .venueRejected, detail: error)) }
        else if case .orderAck(let a) = response!, !a.ok { result = .failure(TradeWireError(code: .venueRejected, detail: a.message ?? "rejected")) }
        else { result = .success(response!) }
        pending.answer(id, result, receivedAt: recv)
    }

    /// Send and await the answer (any thread).
    public func request(_ r: GatewayRequest) async throws -> GatewayAck {
        try await loop.awaitResult { [self] (waiter: RequestWaiter<GatewayAck>) in
            do {
                _ = try issue(r, waiter: waiter)
                // `subscribe` has no answer: it is done once its frame is sent.
                if case .subscribe = r { waiter.resume(returning: GatewayAck(requestID: 0, response: .pong, latency: .init(nanoseconds: 0, decodeNanoseconds: 0))) }
            } catch { waiter.resume(throwing: error) }
        }
    }

    public func sendOrder(_ order: GatewayOrder, clOrdId: ClientOrderID) async throws -> GatewayAck {
        try await request(.sendOrder(clOrdId: clOrdId, order: order))
    }
    public func ordersSubscribe(account: String) async throws -> GatewayAck { try await request(.ordersSubscribe(account: account)) }
    public func ping() async throws -> GatewayAck { try await request(.ping) }
    public func subscribe(instruments: [String]) async throws { _ = try await request(.subscribe(instruments: instruments)) }
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
