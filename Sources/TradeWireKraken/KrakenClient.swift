import CoreMetrics
import Logging
@_spi(VenueClients) import TradeWire

/// An acknowledged Kraken request with its latency.
public struct KrakenAck: Sendable {
    public let requestID: UInt64
    public let response: KrakenResponse
    public let latency: RequestLatency
}

/// A completed Kraken request, as `Handlers.onResponse` receives it on the loop thread.
public struct KrakenCompletion: Sendable {
    public let requestID: UInt64
    public let method: KrakenMethod
    public let request: KrakenRequest
    public let result: Result<KrakenResponse, TradeWireError>
    public let latency: RequestLatency
}

/// A Kraken Spot WS v2 client: typed requests, request correlation by `req_id`,
/// per-request latency (HDR histogram per method), rate control, push streams.
///
/// Threading (docs/threading.md): every public member is safe from any thread. The async API
/// (`placeOrder`, …) and the streams (`executions`, `connectionEvents`, …) are for any task. The
/// handlers, given at creation as `@Sendable` closures, run on the loop thread and receive the
/// client, so a handler can `send` the next request with no hop: `send` is the hot path (no
/// allocation, no lock) and refuses with `.notOnEventLoop` when called from another thread. The
/// client's own state is confined to its loop (this class's `@unchecked Sendable` rests on that:
/// no public member reads or writes it from the caller's thread).
public final class KrakenClient: WebSocketHandler, @unchecked Sendable {
    /// What the client calls on its loop thread. `@Sendable`: the compiler checks what each closure
    /// captures (no unguarded `var`, no main-actor closure run on the loop thread).
    public struct Handlers: Sendable {
        /// Every completed request, exactly once (ack, venue error, timeout, connection lost).
        public var onResponse: (@Sendable (KrakenClient, KrakenCompletion) -> Void)?
        /// Channel messages (status, heartbeat, executions, instrument…).
        public var onPush: (@Sendable (KrakenClient, KrakenPush) -> Void)?
        /// An `executions` frame's sequence was not the previous one plus one.
        public var onSequenceGap: (@Sendable (KrakenClient, _ expected: Int64, _ received: Int64) -> Void)?
        public var onConnection: (@Sendable (KrakenClient, ConnectionEvent) -> Void)?
        /// What became of orders whose request ended without an answer (docs/reliability.md).
        public var onReconciliation: (@Sendable (KrakenClient, [OrderReconciliation]) -> Void)?
        /// The book feed's events (snapshot, update, checksum mismatch…), after the book changed.
        public var onBook: (@Sendable (KrakenClient, KrakenBookFeed.Event) -> Void)?
        /// The `level3` feed's events, after an order-by-order book changed.
        public var onLevel3: (@Sendable (KrakenClient, KrakenBookFeed.Event) -> Void)?

        public init(onResponse: (@Sendable (KrakenClient, KrakenCompletion) -> Void)? = nil,
                    onPush: (@Sendable (KrakenClient, KrakenPush) -> Void)? = nil,
                    onSequenceGap: (@Sendable (KrakenClient, Int64, Int64) -> Void)? = nil,
                    onConnection: (@Sendable (KrakenClient, ConnectionEvent) -> Void)? = nil,
                    onReconciliation: (@Sendable (KrakenClient, [OrderReconciliation]) -> Void)? = nil,
                    onBook: (@Sendable (KrakenClient, KrakenBookFeed.Event) -> Void)? = nil,
                    onLevel3: (@Sendable (KrakenClient, KrakenBookFeed.Event) -> Void)? = nil) {
            self.onResponse = onResponse
            self.onPush = onPush
            self.onSequenceGap = onSequenceGap
            self.onConnection = onConnection
            self.onReconciliation = onReconciliation
            self.onBook = onBook
            self.onLevel3 = onLevel3
        }
    }

    public struct Configuration: Sendable {
        public var url: WebSocketURL
        /// The WebSocket token (REST `GetWebSocketsToken`), sent in every request's params.
        public var token: String?
        public var tls: TLSConfiguration
        public var requestTimeout: Duration
        /// In-flight request capacity (rounded up to a power of two).
        public var capacity: Int
        /// Print each completed request in the seed's form.
        public var logRequests: Bool
        public var rateLimiter: VenueRateLimiter?
        /// Fetches and refreshes the token over REST (used by the async `connect()`); overrides `token`.
        public var tokenProvider: KrakenTokenProvider?
        /// Reconnect after a loss (nil = stay disconnected). Close code 1008 is terminal either way.
        public var reconnect: ReconnectPolicy?
        /// On a busy-polling loop, encode the last request and decode the last ack again in
        /// scratch while waiting, so the next order finds its code and data in cache
        /// (`OrderPathWarmer`). Nothing is sent. No effect on a waiting loop.
        public var warmUpWhileIdle = true
        /// How long an order whose outcome is unknown (lost with its connection, or timed out) must stay
        /// out of sight, with the `executions` stream subscribed, after its connection was known dead (or
        /// after its timeout) before it is reported `.notFound` (docs/reliability.md).
        public var unknownOrderSettleWindow: Duration = .seconds(5)
        /// Events each stream subscription buffers for a consumer that falls behind (then: a `.gap`).
        public var streamBufferSize = 4096
        /// Where metrics go (nil: `MetricsSystem.factory`, the bootstrapped backend).
        public var metricsFactory: (any MetricsFactory)?

        public init(url: WebSocketURL, token: String? = nil, tls: TLSConfiguration = .default,
                    requestTimeout: Duration = .seconds(5), capacity: Int = 1024, logRequests: Bool = false,
                    rateLimiter: VenueRateLimiter? = KrakenClient.sharedRateLimiter, reconnect: ReconnectPolicy? = nil) {
            self.reconnect = reconnect
            self.url = url
            self.token = token
            self.tls = tls
            self.requestTimeout = requestTimeout
            self.capacity = capacity
            self.logRequests = logRequests
            self.rateLimiter = rateLimiter
        }
    }

    // Loop-confined state read or written on every request carries @exclusivity(unchecked):
    // the runtime's access tracking (a thread-local access set per access) cost ~0.1 µs per
    // round trip, and no access to these spans a call that could reach another one.

    /// The token sent in requests: from the provider once fetched, else the configured one.
    @exclusivity(unchecked) private var currentToken: String?
    private var refreshTimer: Int?

    /// Kraken's per-pair order counter (Starter tier), shared by every Kraken client in the process. It fails
    /// fast: an add or amend over the limit throws `.rateLimited` with the retry time, rather than waiting
    /// out of the caller's sight. Cancels are never held back.
    public static let sharedRateLimiter = VenueRateLimiter(KrakenOrderCounter(tier: .starter), policy: .failFast)

    public let loop: EventLoop
    public let configuration: Configuration
    /// Loop-confined: read it through `latencyStats(for:)`.
    package let latency: LatencyRecorder
    package let metrics: ClientMetrics
    public let logger: Logger
    private let handlers: Handlers
    private let pushHub: StreamHub<KrakenPush>
    private let executionHub: StreamHub<KrakenExecution>
    private let connectionHub: StreamHub<ConnectionEvent>
    private let reconciliationHub: StreamHub<OrderReconciliation>
    private let bookHub: StreamHub<KrakenBookFeed.Event>
    private let level3Hub: StreamHub<KrakenBookFeed.Event>
    private let tickerHub: StreamHub<KrakenTicker>
    private let tradeHub: StreamHub<KrakenTrade>
    private let candleHub: StreamHub<KrakenCandle>
    private var lastSequence: Int64?

    /// Connects, reconnects (with the configured policy) and watches for staleness.
    @exclusivity(unchecked) package private(set) var supervisor: ConnectionSupervisor!
    private var connection: WebSocketConnection? { supervisor.connection }
    /// The executions subscription to restore after a reconnect.
    private var executionsSubscription: (snapOrders: Bool, snapTrades: Bool)?
    /// Orders whose outcome is unknown, settled by the executions stream.
    private let reconciler: OrderReconciler
    /// The executions subscription is acknowledged on the current connection.
    private var executionsLive = false
    /// A subscribe to executions was sent on the current connection (restored, or made to settle unknown
    /// orders): at most one per connection, so a venue that does not answer is not asked again and again.
    private var executionsSubscribeSent = false
    /// The requests in flight (the pipeline every venue client shares).
    private let pending: PendingRequests<KrakenRequest, KrakenResponse>
    private let methodIndex: [Int]
    @exclusivity(unchecked) private var queued: [UInt64] = []          // rate-limited, waiting in issue order
    /// The venue's rate-counter costs of each request, from its orders' ages (with a limiter only).
    private var rates = KrakenRateControl()
    /// Pairs from the `instrument` channel (after `subscribeInstruments`), by symbol. Loop-confined.
    package private(set) var pairs: [String: KrakenPair] = [:]
    /// The `book` channel's verified books (after `subscribeBook`). Loop-confined.
    @exclusivity(unchecked) package private(set) var bookFeed: KrakenBookFeed?
    /// The `level3` channel's verified order-by-order books (after `subscribeLevel3`). Loop-confined.
    @exclusivity(unchecked) package private(set) var level3Feed: KrakenLevel3Feed?
    /// Requests answered once per symbol or order (multi-id `cancel_order`, `book` for several symbols) waiting
    /// for the rest of their answers (same `req_id`).
    private var multiAnswers: [UInt64: (remaining: Int, rows: [KrakenOrderRow])] = [:]
    /// Requests sent again once with a fresh token after the venue called theirs stale.
    private var resentForToken: Set<UInt64> = []
    private var drainTimer: Int?
    /// Busy-poll loops: re-runs the order path in scratch while waiting (see `OrderPathWarmer`).
    @exclusivity(unchecked) private var warmer = OrderPathWarmer<KrakenRequest>(requestCapacity: 1024, answerCapacity: 512)
    /// The loop's idle hook running the warmer, while a connection is open.
    @exclusivity(unchecked) private var idleHandler: Int?

    public init(loop: EventLoop, configuration: Configuration, handlers: Handlers = Handlers(),
                logger: Logger = Logger(label: "tradewire.kraken")) {
        self.loop = loop
        self.configuration = configuration
        self.handlers = handlers
        self.logger = logger
        let buffer = configuration.streamBufferSize
        pushHub = StreamHub(defaultBufferSize: buffer)
        executionHub = StreamHub(defaultBufferSize: buffer)
        connectionHub = StreamHub(defaultBufferSize: buffer)
        reconciliationHub = StreamHub(defaultBufferSize: buffer)
        bookHub = StreamHub(defaultBufferSize: buffer)
        level3Hub = StreamHub(defaultBufferSize: buffer)
        tickerHub = StreamHub(defaultBufferSize: buffer)
        tradeHub = StreamHub(defaultBufferSize: buffer)
        candleHub = StreamHub(defaultBufferSize: buffer)
        let recorder = LatencyRecorder()
        latency = recorder
        pending = PendingRequests(loop: loop, latency: recorder, capacity: configuration.capacity, timeout: configuration.requestTimeout)
        methodIndex = KrakenMethod.allCases.map { recorder.index(of: $0.rawValue) }
        metrics = ClientMetrics(venue: "kraken", recorder: recorder, factory: configuration.metricsFactory ?? MetricsSystem.factory)
        pending.metrics = metrics
        reconciler = OrderReconciler(loop: loop, settleWindow: configuration.unknownOrderSettleWindow, verification: .orderStream)
        let url = configuration.url, tls = configuration.tls, provider = configuration.tokenProvider
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: configuration.reconnect,
                                          retireAfter: configuration.requestTimeout,
                                          streams: [pushHub, executionHub, connectionHub, reconciliationHub, bookHub, level3Hub, tickerHub, tradeHub, candleHub]) { [weak self] in
            // Every attempt starts with a valid token (cached, or fetched again once it aged out).
            guard let self else { throw TradeWireError(code: .closed, detail: "the Kraken client is gone") }
            if let provider {
                let token = try await provider.token()
                try await loop.submitTyped { [self] in
                    currentToken = token
                    scheduleTokenRefresh(provider)
                }
            }
            return WebSocketConfiguration(url: url, tls: tls)
        }
        supervisor.isTerminal = { $0.code == 1008 }     // policy violation: reconnecting would repeat it
        // unowned(unsafe): the supervisor and reconciler belong to this client and end with it.
        supervisor.onEvent = { [unowned(unsafe) self] in connectionEvent($0) }
        reconciler.deliver = { [unowned(unsafe) self] list in
            handlers.onReconciliation?(self, list)
            for r in list { reconciliationHub.yield(r) }
        }
        pending.onComplete = { [unowned(unsafe) self] id, request, result, latency in completed(id, request, result, latency) }
        pending.onTimeout = { [unowned(unsafe) self] id, request, generation in
            noteUnknownOrders(request, requestID: id, cause: .timedOut, generation: generation,
                              connectionOpen: generation == supervisor.generation && isConnected)
            if !reconciler.isEmpty, isConnected { subscribeExecutionsForEvidence() }
        }
    }

    // MARK: connection

    /// Connect and wait for the upgrade (fetching the token first if there is a provider).
    public func connect() async throws(TradeWireError) {
        do { try await supervisor.connect() } catch { throw .wrapping(error) }
    }


    private func connectionEvent(_ e: ConnectionEvent) {
        if case .connected(.reconnected) = e { metrics.reconnected() }
        handlers.onConnection?(self, e)
        connectionHub.yield(e)
    }

    // MARK: streams (any task; each access is a new subscription, see `EventStream`)

    /// Every channel message: status, heartbeat, executions frames, instrument…
    public var pushes: EventStream<KrakenPush> { pushHub.stream() }
    /// Each execution report of the `executions` channel (after `subscribeExecutions`), snapshot rows included.
    public var executions: EventStream<KrakenExecution> { executionHub.stream() }
    public var connectionEvents: EventStream<ConnectionEvent> { connectionHub.stream() }
    /// What became of each order whose request ended without an answer (docs/reliability.md).
    public var reconciliations: EventStream<OrderReconciliation> { reconciliationHub.stream() }
    /// The book feed's events (after `subscribeBook`); read a book with `book(_:)`.
    public var bookEvents: EventStream<KrakenBookFeed.Event> { bookHub.stream() }
    /// The `level3` feed's events (after `subscribeLevel3`); read a book with `level3Book(_:)`.
    public var level3Events: EventStream<KrakenBookFeed.Event> { level3Hub.stream() }
    /// Each `ticker` entry (after `subscribe(.ticker, …)`), snapshot included.
    public var tickers: EventStream<KrakenTicker> { tickerHub.stream() }
    /// Each `trade` entry (after `subscribe(.trade(), …)`), snapshot included.
    public var trades: EventStream<KrakenTrade> { tradeHub.stream() }
    /// Each `ohlc` candle (after `subscribe(.ohlc(interval:), …)`), snapshot included.
    public var candles: EventStream<KrakenCandle> { candleHub.stream() }

    public var isConnected: Bool { supervisor.isConnected }

    /// Refresh the token before it ages out, off the hot path.
    private func scheduleTokenRefresh(_ provider: KrakenTokenProvider) {
        guard refreshTimer == nil else { return }
        refreshTimer = loop.schedule(after: provider.refreshAfter) { [self] in
            refreshTimer = nil
            Task {
                do {
                    let t = try await provider.fetch()
                    loop.execute { [self] in currentToken = t; scheduleTokenRefresh(provider) }
                } catch {
                    logger.warning("token refresh failed", metadata: ["error": "\(error)"])
                    loop.execute { [self] in scheduleTokenRefresh(provider) }
                }
            }
        }
    }

    /// Close for good (no reconnect follows), and return at once (`close()` waits for it). The streams end once drained.
    public func beginClose() {
        supervisor.close()
    }

    /// Close for good and return once the connection is closed and every request in flight has
    /// completed (answered, or `.connectionLost`). The streams end once drained.
    public func close() async {
        await supervisor.closeAndWait()
    }

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard let kind = supervisor.didOpen(c) else { return }
        defer { supervisor.announceOpen() }
        if kind != .first {
            // Restore the executions subscription; it is also the evidence that settles orders lost with the old connection.
            lastSequence = nil
            if executionsSubscription != nil || !reconciler.isEmpty { subscribeExecutionsForEvidence() }
        }
        if idleHandler == nil {
            // unowned(unsafe): the open connection holds this client (its handler) until the
            // close below removes the hook; a weak reference would slow every retain of the client.
            idleHandler = loop.addWarmUpHandler(enabled: configuration.warmUpWhileIdle) { [unowned(unsafe) self] in warmUp() }
        }
    }

    public func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        let kind = supervisor.didClose(c, close)
        let generation: Int
        switch kind {
        case .standby: return
        case .current(let g): generation = g
        case .retired(let g): generation = g
        }
        // Every request in flight on it ends now, once: outcome unknown for orders.
        pending.failAll(TradeWireError(code: .connectionLost, detail: "connection lost (\(close)); an order's outcome is unknown"),
                        generation: generation) { [self] id, r in
            noteUnknownOrders(r, requestID: id, cause: .connectionLost, generation: generation, connectionOpen: false)
        }
        reconciler.connectionClosed(generation: generation)
        guard case .current = kind else { return }
        reconciler.evidenceLost()
        executionsLive = false
        executionsSubscribeSent = false
        loop.removeIdleHandler(&idleHandler)
        lastSequence = nil
        queued.removeAll()
    }

    /// One warm-up pass: the last request encoded again, the last ack decoded again. Nothing is sent.
    private func warmUp() {
        let token = currentToken ?? configuration.token
        warmer.run(encodeJSON: { r, id, w in KrakenEncoder.encode(r, id: id, token: token, into: &w) },
                   decode: { bytes in KrakenResponseFastPath.decode(bytes)?.requestID ?? 0 })
    }

    /// Hand the orders of a request that ended without an answer to the reconciler (by client order id:
    /// an order without one cannot be reconciled).
    private func noteUnknownOrders(_ r: KrakenRequest, requestID: UInt64, cause: OrderReconciliation.Cause, generation: Int,
                                   connectionOpen: Bool) {
        var orders: [KrakenAddOrder] = []
        switch r {
        case .addOrder(let a): orders = [a]
        case .batchAdd(_, let list, let validate, _): if !validate { orders = list }
        default: return
        }
        for a in orders where !a.validate {
            guard let id = a.order.clientOrderID else { continue }
            reconciler.unknown(clientOrderID: id.description, requestID: requestID, cause: cause, symbol: a.order.symbol,
                               generation: generation, connectionOpen: connectionOpen)
        }
    }

    /// Subscribe to executions (open orders and the last trades in its snapshot) unless it is live or on
    /// its way: the stream is what settles unknown orders. Its outcome reaches `onResponse` like any request.
    private func subscribeExecutionsForEvidence() {
        guard !executionsLive, !executionsSubscribeSent else { return }
        let snapTrades = !reconciler.isEmpty || executionsSubscription?.snapTrades == true
        do {
            try send(.subscribeExecutions(snapOrders: true, snapTrades: snapTrades))
            executionsSubscribeSent = true
        } catch {
            logger.warning("executions subscribe failed", metadata: ["error": "\(error)"])
        }
    }

    // MARK: sending (loop thread)

    /// Issue a request. Returns its request id; the outcome arrives exactly once
    /// through `onResponse` (and the async waiter, if any). Throws only when the
    /// request could not be issued at all (invalid, table full, rate-limited with
    /// a fail-fast policy, not connected): then no outcome follows.
    @discardableResult
    public func send(_ request: KrakenRequest, timeout: Duration? = nil) throws(TradeWireError) -> UInt64 {
        do { return try issue(request, timeout: timeout, waiter: nil) } catch { throw .wrapping(error) }
    }

    /// `send`, with the async caller's waiter stored as soon as the request has an id: before its
    /// frame leaves, so that a send failing inside itself completes the awaited request too.
    private func issue(_ request: KrakenRequest, timeout: Duration?, waiter: PendingRequests<KrakenRequest, KrakenResponse>.Waiter?) throws -> UInt64 {
        guard loop.inEventLoop else { throw TradeWireError(code: .notOnEventLoop, detail: "KrakenClient.send runs on its loop") }
        if let refused = supervisor.refusal(venue: "Kraken") { throw refused }
        try KrakenEncoder.check(request)
        let requestTimeoutNs = timeout.map(PendingRequests<KrakenRequest, KrakenResponse>.nanoseconds) ?? pending.timeoutNs
        // Rate control: requests leave in issue order, so once one waits, all later ones wait too.
        // Only a request that waits reads the clock for its deadline here; one sent now gets it from
        // its kernel hand-off stamp (`markSent`), a clock read (~40 ns here) less before the send.
        var queueFrom: UInt64 = 0
        if !queued.isEmpty {
            queueFrom = MonotonicClock.nanoseconds()
        } else if let limiter = configuration.rateLimiter {
            let now = MonotonicClock.nanoseconds()
            let costs = rates.costs(of: request, now: now)
            for c in costs.always { limiter.charge(cost: c.cost, key: c.pair, now: now) }
            if let c = costs.refusable, let over = limiter.acquire(cost: c.cost, key: c.pair, now: now) {
                metrics.rateLimitHit()
                if limiter.policy == .failFast {
                    throw TradeWireError(code: .rateLimited, detail: "over \(over.limit); retry in \(over.retryAfterNs / 1_000_000) ms",
                                         retryAfter: .nanoseconds(Int64(clamping: over.retryAfterNs)))
                }
                queueFrom = now
                armDrain(after: over.retryAfterNs)
            }
        }
        let id = try pending.register(methodIndex: methodIndex[request.method.ordinal], generation: supervisor.generation, waiter: waiter,
                                      queuedSince: queueFrom, timeoutNs: requestTimeoutNs)
        if request.answers > 1 { multiAnswers[id] = (request.answers, []) }
        if queueFrom != 0 {
            pending.hold(request, for: id)
            queued.append(id)
            return id
        }
        // The frame leaves first; the request is kept for its callback after (a 300-byte copy
        // into a slot not touched since the table last wrapped, off the send path). No answer
        // can be read before this returns: the loop reads on this thread, later; a failed send
        // closes the connection from the loop's deferred list, also later.
        let failure = transmit(id, request, timeoutNs: requestTimeoutNs)
        pending.hold(request, for: id)
        if idleHandler != nil { warmer.sent(request, id: id) }
        if let failure { pending.fail(id, failure) }
        return id
    }

    /// Encode the request and hand its frame to the kernel; the error if it could not be sent
    /// (the caller completes the request with it). `timeoutNs`: the deadline of a request
    /// registered with `RequestTable.deadlineAtSend`, counted from the hand-off.
    private func transmit(_ id: UInt64, _ request: KrakenRequest, timeoutNs: UInt64? = nil) -> TradeWireError? {
        guard let conn = connection else { return TradeWireError(code: .closed, detail: "Kraken connection is not open") }
        do {
            var capacity = 512
            var submitted: UInt64 = 0
            while true {
                var overflow = false
                submitted = try conn.send(.text, capacity: capacity) { buf in
                    var w = JSONWriter(buf)
                    KrakenEncoder.encode(request, id: id, token: currentToken ?? configuration.token, into: &w)
                    overflow = w.overflowed
                    return overflow ? 0 : w.count
                }
                if !overflow { break }
                capacity *= 4    // a large batch: try again with room (the empty frame above is harmless to no one: not sent)
            }
            pending.markSent(id, submitNs: submitted, timeoutNs: timeoutNs)
            metrics.sent()
            return nil
        } catch {
            return error as? TradeWireError ?? TradeWireError(code: .closed, detail: "\(error)")
        }
    }

    private func armDrain(after ns: UInt64) {
        guard drainTimer == nil else { return }
        drainTimer = loop.schedule(after: .nanoseconds(Int64(ns))) { [self] in
            drainTimer = nil
            drainQueue()
        }
    }

    private func drainQueue() {
        while let id = queued.first {
            guard let req = pending.request(id) else {
                queued.removeFirst()          // it timed out while waiting: already completed
                continue
            }
            if let limiter = configuration.rateLimiter, let c = rates.costs(of: req, now: MonotonicClock.nanoseconds()).refusable,
               let over = limiter.acquire(cost: c.cost, key: c.pair) {
                armDrain(after: over.retryAfterNs)
                return
            }
            queued.removeFirst()
            if let failure = transmit(id, req) { pending.fail(id, failure) }
        }
    }

    // MARK: receiving (loop thread)

    public func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text else { return }
        metrics.received()
        // Decode time counts from the read that completed the message (its stamp is already
        // taken): one clock read before the callback instead of two.
        let t0 = message.receivedAt
        // An ack in the venue's usual shape skips the general decoder (and its enum wrapper).
        if let r = KrakenResponseFastPath.decode(message.bytes) {
            answered(r, receivedAt: t0, decodeNs: MonotonicClock.nanoseconds() &- t0)
            if idleHandler != nil { warmer.received(message.bytes) }
            return
        }
        // A book update in the venue's usual shape: one pass, no document.
        if let feed = bookFeed, feed.applyFast(message.bytes) {
            feed.recordApplyTime(MonotonicClock.nanoseconds() &- t0)
            return
        }
        let inbound: KrakenInbound
        do {
            let doc = try KrakenDecoder.document(message.bytes)
            if let feed = bookFeed, doc.captured[KrakenDecoder.Top.channel]?.stringEquals("book") == true {
                feed.apply(doc.captured)
                feed.recordApplyTime(MonotonicClock.nanoseconds() &- t0)
                return
            }
            if let feed = level3Feed, doc.captured[KrakenDecoder.Top.channel]?.stringEquals("level3") == true {
                feed.apply(type: doc.captured[KrakenDecoder.Top.type], data: doc.captured[KrakenDecoder.Top.data])
                return
            }
            inbound = try KrakenDecoder.decode(doc)
        } catch {
            // A malformed answer to a known request completes it (with the error) rather than leaving it to time out.
            let answeredRequest = Self.requestID(in: message.bytes).map { pending.answer($0, .failure(.wrapping(error)), receivedAt: message.receivedAt) }
            if answeredRequest != true { logger.warning("undecodable Kraken message", metadata: ["error": "\(error)"]) }
            return
        }
        let decodeNs = MonotonicClock.nanoseconds() &- t0
        switch inbound {
        case .response(let r):
            answered(r, receivedAt: message.receivedAt, decodeNs: decodeNs)
        case .push(let p):
            // `pong` answers a `ping` request: complete it like any response.
            if case .pong(let rid?) = p {
                let r = KrakenResponse(method: .ping, requestID: rid, success: true, error: nil, orderID: nil, clientOrderID: nil,
                                       orderUserref: nil, count: nil, timeIn: nil, timeOut: nil, hasWarnings: false)
                pending.answer(rid, .success(r), receivedAt: message.receivedAt, decodeNs: decodeNs)
            }
            if case .executions(let x) = p, reconciler.isWatching {
                for e in x.reports {
                    guard let cl = e.clientOrderID else { continue }
                    reconciler.sighted(clientOrderID: cl.description, orderID: e.orderID?.description ?? "",
                                       status: e.orderStatus.map { "\($0)" } ?? "\(e.execType)")
                }
            }
            if case .executions(let x) = p, let seq = x.sequence {
                if x.isSnapshot { lastSequence = seq } else {
                    if let last = lastSequence, seq != last + 1 {
                        logger.warning("executions sequence gap", metadata: ["expected": "\(last + 1)", "received": "\(seq)"])
                        handlers.onSequenceGap?(self, last + 1, seq)
                    }
                    lastSequence = seq
                }
            }
            if case .instruments(let x) = p {
                for pair in x.pairs {
                    pairs[pair.symbol] = pair
                    bookFeed?.setPrecision(pair.bookPrecision, for: pair.symbol)
                    level3Feed?.setPrecision(pair.bookPrecision, for: pair.symbol)
                }
            }
            handlers.onPush?(self, p)
            pushHub.yield(p)
            switch p {
            case .executions(let x) where executionHub.hasSubscribers: for e in x.reports { executionHub.yield(e) }
            case .ticker(let m) where tickerHub.hasSubscribers: for e in m.entries { tickerHub.yield(e) }
            case .trades(let m) where tradeHub.hasSubscribers: for e in m.entries { tradeHub.yield(e) }
            case .ohlc(let m) where candleHub.hasSubscribers: for e in m.entries { candleHub.yield(e) }
            default: break
            }
        }
    }

    /// A decoded answer: complete its request, if it is still in flight.
    private func answered(_ r: KrakenResponse, receivedAt: UInt64, decodeNs: UInt64) {
        // One answer of several (multi-id cancel, a channel for several symbols): gathered, completed with the last.
        if !multiAnswers.isEmpty, multiAnswers[r.requestID] != nil {
            if let all = gathered(r) { complete(all, receivedAt: receivedAt, decodeNs: decodeNs) }
            return
        }
        complete(r, receivedAt: receivedAt, decodeNs: decodeNs)
    }

    /// Add one answer to its request's rows; the aggregate once the last has come (or a refusal of the whole
    /// request, which ends it at once), else nil.
    private func gathered(_ r: KrakenResponse) -> KrakenResponse? {
        guard let partial = multiAnswers[r.requestID] else { return r }
        guard r.success || !Self.refusesWholeRequest(r.errorText) else {
            multiAnswers[r.requestID] = nil
            return r
        }
        var rows = partial.rows
        rows.append(KrakenOrderRow(orderID: r.orderID, orderUserref: r.orderUserref, clientOrderID: r.clientOrderID,
                                   error: r.success ? nil : r.errorText))
        if partial.remaining > 1 {
            multiAnswers[r.requestID] = (partial.remaining - 1, rows)
            return nil
        }
        multiAnswers[r.requestID] = nil
        let failed = rows.first { !$0.succeeded }
        var all = KrakenResponse(method: r.method, requestID: r.requestID, success: failed == nil,
                                 error: failed?.error.map { InlineText($0) }, orderID: nil, clientOrderID: nil, orderUserref: nil,
                                 count: nil, timeIn: r.timeIn, timeOut: r.timeOut, hasWarnings: r.hasWarnings, orders: rows)
        all.fullError = failed?.error
        return all
    }

    /// Complete the request an answer is for, if it is still in flight.
    private func complete(_ r: KrakenResponse, receivedAt: UInt64, decodeNs: UInt64) {
        if !r.success, Self.isStaleToken(r.errorText), resendWithFreshToken(r.requestID) { return }
        guard pending.isPending(r.requestID) else {
            // A late answer to an order that timed out settles it.
            if reconciler.isWatching {
                reconciler.answeredLate(requestID: r.requestID, r.success
                    ? .success((orderID: r.orderID?.description ?? "", status: "acknowledged late"))
                    : .failure(.venueRejected(VenueError.kraken(r.errorText ?? "rejected"))))
            }
            logger.debug("response to an unknown or finished request", metadata: ["req_id": "\(r.requestID)"])
            return
        }
        // A multi-order answer is the venue's word on each order: it completes with the rows, even when some
        // failed (a partly placed batch: the live orders' ids must reach the caller). Only a request refused
        // as a whole, with no order placed, is a failure.
        let answeredPerOrder = r.orders?.contains { $0.orderID != nil || r.method == .cancelOrder } == true
        let result: Result<KrakenResponse, TradeWireError> = r.success || answeredPerOrder
            ? .success(r) : .failure(.venueRejected(VenueError.kraken(r.errorText ?? "rejected")))
        if !r.success, Self.isStaleToken(r.errorText) { configuration.tokenProvider?.invalidate() }
        if let limiter = configuration.rateLimiter, let request = pending.request(r.requestID) {
            if r.success || answeredPerOrder { rates.acknowledged(request, r, now: receivedAt) }
            // The venue's own count is the truth: a refusal as over the limit fills the local model for that pair.
            if r.errorText?.hasPrefix("EOrder:Rate limit exceeded") == true { limiter.saturate(key: rates.pair(of: request)) }
        }
        pending.answer(r.requestID, result, receivedAt: receivedAt, decodeNs: decodeNs)
    }

    /// Errors that refuse a request as a whole, not one of its orders.
    static func refusesWholeRequest(_ error: String?) -> Bool {
        guard let error else { return false }
        return error.hasPrefix("EAPI:") || error.hasPrefix("ESession:") || error.hasPrefix("EGeneral:")
            || error.hasPrefix("EOrder:Rate limit exceeded")
    }

    /// The venue calls the token stale: `EAPI:Invalid token`, `ESession:Invalid session`.
    static func isStaleToken(_ error: String?) -> Bool {
        guard let error else { return false }
        return error.hasPrefix("EAPI:Invalid token") || error.hasPrefix("ESession:Invalid session")
    }

    /// The venue refused a request for its token. It was refused, so sending that one request again is safe:
    /// with a token provider, fetch a fresh token now and send it again under the same id, once. Its deadline
    /// and its latency still count from the first send, so the refresh is not hidden. False: complete it.
    private func resendWithFreshToken(_ id: UInt64) -> Bool {
        guard let provider = configuration.tokenProvider, pending.isPending(id), !resentForToken.contains(id) else { return false }
        resentForToken.insert(id)
        provider.invalidate()
        logger.notice("token refused: fetching a fresh one and sending request \(id) again")
        Task { [weak self] in
            let fresh: Result<String, Error>
            do { fresh = .success(try await provider.token()) } catch { fresh = .failure(error) }
            self?.loop.execute { [weak self] in self?.resend(id, with: fresh) }
        }
        return true
    }

    private func resend(_ id: UInt64, with token: Result<String, Error>) {
        resentForToken.remove(id)
        guard let firstSend = pending.submitNs(of: id), let request = pending.request(id) else { return }  // ended meanwhile
        switch token {
        case .success(let t):
            currentToken = t
            if let provider = configuration.tokenProvider { scheduleTokenRefresh(provider) }
            if request.answers > 1 { multiAnswers[id] = (request.answers, []) }
            if let failure = transmit(id, request) {
                pending.fail(id, failure)
            } else {
                pending.markSent(id, submitNs: firstSend)      // latency and deadline from the first send
            }
        case .failure(let error):
            pending.fail(id, TradeWireError(code: .venueRejected, detail: "EAPI:Invalid token; a fresh token could not be fetched: \(error)",
                                            venueError: .kraken("EAPI:Invalid token")))
        }
    }

    static func requestID(in bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard let doc = try? JSONDocument(validating: bytes), let v = doc.root["req_id"]?.int64, v >= 0 else { return nil }
        return UInt64(v)
    }

    /// A request's one completion (`pending` calls it): the client's own bookkeeping, then the caller's callback.
    private func completed(_ id: UInt64, _ request: __owned KrakenRequest, _ result: Result<KrakenResponse, TradeWireError>, _ lat: RequestLatency) {
        if !multiAnswers.isEmpty { multiAnswers[id] = nil }
        let method = request.method
        if case .subscribeExecutions(let so, let st) = request {
            if case .success = result {
                executionsSubscription = (so, st)
                executionsLive = true
                reconciler.evidenceInView()
            }
        }
        if let onResponse = handlers.onResponse {
            onResponse(self, KrakenCompletion(requestID: id, method: method, request: request, result: result, latency: lat))
        }
        if configuration.logRequests {
            logger.info("WebSocket Request - ID: \(id) | Method: \(method.rawValue) | Latency: \(lat.microseconds)µs")
        }
    }

    // MARK: async API (any thread)

    /// Send a request and await its acknowledgement (a venue error throws `.venueRejected`).
    public func request(_ r: KrakenRequest, timeout: Duration? = nil) async throws(TradeWireError) -> KrakenAck {
        try await loop.awaitTyped { [self] (waiter: RequestWaiter<KrakenAck>) in
            do {
                _ = try issue(r, timeout: timeout, waiter: { id, result, latency in
                    waiter.resume(with: result.map { KrakenAck(requestID: id, response: $0, latency: latency) }.mapError { $0 as Error })
                })
            } catch { waiter.resume(throwing: error) }
        }
    }

    public func placeOrder(_ order: Order) async throws(TradeWireError) -> KrakenAck { try await request(.addOrder(KrakenAddOrder(order))) }
    public func cancelOrder(_ target: KrakenCancelTarget) async throws(TradeWireError) -> KrakenAck { try await request(.cancelOrder(target)) }
    public func cancelAll() async throws(TradeWireError) -> KrakenAck { try await request(.cancelAll) }
    public func amendOrder(_ amend: KrakenAmendOrder) async throws(TradeWireError) -> KrakenAck { try await request(.amendOrder(amend)) }
    /// Place 2 to 15 orders for one pair. A partly placed batch returns (it does not throw): `response.orders`
    /// has a row per order, with the live orders' ids and the others' errors; `response.success` is false.
    public func batchAdd(symbol: String, _ orders: [Order], validate: Bool = false, deadline: String? = nil) async throws(TradeWireError) -> KrakenAck {
        try await request(.batchAdd(symbol: symbol, orders: orders.map { KrakenAddOrder($0) }, validate: validate, deadline: deadline))
    }
    public func subscribeExecutions(snapOrders: Bool = true, snapTrades: Bool = false) async throws(TradeWireError) -> KrakenAck {
        try await request(.subscribeExecutions(snapOrders: snapOrders, snapTrades: snapTrades))
    }

    /// Subscribe to a public market channel (`ticker`, `trade`, `ohlc`): its messages reach `onPush` and the
    /// `tickers`, `trades`, `candles` streams. Completes when every symbol is answered.
    public func subscribe(_ channel: KrakenPublicChannel, symbols: [String]) async throws(TradeWireError) -> KrakenAck {
        try await request(.subscribeChannel(channel, symbols: symbols))
    }

    public func unsubscribe(_ channel: KrakenPublicChannel, symbols: [String]) async throws(TradeWireError) -> KrakenAck {
        try await request(.unsubscribeChannel(channel, symbols: symbols))
    }

    /// Subscribe to the `instrument` channel: every pair's precisions (`pairs`), which the book feed then uses.
    public func subscribeInstruments() async throws(TradeWireError) -> KrakenAck { try await request(.subscribeInstruments) }

    /// Subscribe to the `book` channel and keep verified books (`bookFeed`), at the pairs' precisions: those given
    /// here, else those of the `instrument` channel (subscribe to it first). A checksum mismatch withdraws the
    /// book and resubscribes the symbol (those requests reach `onResponse`).
    public func subscribeBook(_ symbols: [String], depth: Int = 10, precisions: [String: KrakenBookFeed.Precision] = [:]) async throws(TradeWireError) -> KrakenAck {
        try await loop.submitTyped { [self] in
            let feed = bookFeed ?? KrakenBookFeed(depth: depth)
            for (s, p) in precisionsToUse(precisions) { feed.setPrecision(p, for: s) }
            (feed.onEvent, feed.resubscribe) = bookFeedCallbacks(handler: handlers.onBook, hub: bookHub, name: "book", depth: feed.depth) {
                [.unsubscribeBook(symbols: [$0], depth: $1), .subscribeBook(symbols: [$0], depth: $1)]
            }
            bookFeed = feed
        }
        return try await request(.subscribeBook(symbols: symbols, depth: depth))
    }

    /// Subscribe to the authenticated `level3` channel (every order, one by one; the token is sent) and keep verified
    /// order-by-order books, at the pairs' precisions: those given here, else the `instrument` channel's. `depth` is
    /// 10, 100 or 1000 price levels a side. A checksum mismatch withdraws the book and resubscribes the symbol.
    public func subscribeLevel3(_ symbols: [String], depth: Int = 10, precisions: [String: KrakenLevel3Feed.Precision] = [:]) async throws(TradeWireError) -> KrakenAck {
        try await loop.submitTyped { [self] in
            let feed = level3Feed ?? KrakenLevel3Feed(depth: depth)
            for (s, p) in precisionsToUse(precisions) { feed.setPrecision(p, for: s) }
            (feed.onEvent, feed.resubscribe) = bookFeedCallbacks(handler: handlers.onLevel3, hub: level3Hub, name: "level3", depth: feed.depth) {
                [.unsubscribeLevel3(symbols: [$0], depth: $1), .subscribeLevel3(symbols: [$0], depth: $1)]
            }
            level3Feed = feed
        }
        return try await request(.subscribeLevel3(symbols: symbols, depth: depth))
    }

    /// The pairs' precisions for a book feed: the `instrument` channel's, then those given (which win).
    private func precisionsToUse(_ given: [String: KrakenBookFeed.Precision]) -> [(String, KrakenBookFeed.Precision)] {
        pairs.map { ($0.key, $0.value.bookPrecision) } + given.map { ($0.key, $0.value) }
    }

    /// A book feed's callbacks (on the loop): each event to `handler` and `hub`; and its resubscribe, which sends the
    /// channel's unsubscribe and subscribe `requests` for the symbol at the feed's depth. They hold the depth, not
    /// the feed, which holds them.
    private func bookFeedCallbacks(handler: (@Sendable (KrakenClient, KrakenBookFeed.Event) -> Void)?, hub: StreamHub<KrakenBookFeed.Event>,
                                   name: String, depth: Int, requests: @escaping (String, Int) -> [KrakenRequest])
        -> (((KrakenBookFeed.Event) -> Void)?, ((String) -> Void)?) {
        let onEvent: (KrakenBookFeed.Event) -> Void = { [unowned(unsafe) self] e in
            handler?(self, e)
            hub.yield(e)
        }
        let resubscribe: (String) -> Void = { [weak self] symbol in
            guard let self else { return }
            do {
                for r in requests(symbol, depth) { try send(r) }
            } catch {
                logger.warning("\(name) resubscribe failed", metadata: ["symbol": "\(symbol)", "error": "\(error)"])
            }
        }
        return (onEvent, resubscribe)
    }

    /// A copy of a verified order-by-order book (nil: not subscribed, not yet in sync, or withdrawn after a mismatch).
    public func level3Book(_ symbol: String) async throws(TradeWireError) -> L3BookSnapshot? {
        try await loop.submitTyped { [self] in level3Feed?.book(symbol)?.snapshot() }
    }

    /// Round-trip percentiles of a method, read on the loop (nil: none completed yet).
    public func latencyStats(for method: KrakenMethod) async -> LatencyStats? {
        (try? await loop.submit { [self] in latency.stats(for: method.rawValue) }) ?? nil
    }

    /// Round-trip percentiles of every method that completed a request.
    public func allLatencyStats() async -> [LatencyStats] {
        (try? await loop.submit { [self] in latency.allStats }) ?? []
    }

    /// Pairs from the `instrument` channel (after `subscribeInstruments`), by symbol.
    public func instrumentPairs() async throws(TradeWireError) -> [String: KrakenPair] {
        try await loop.submitTyped { [self] in pairs }
    }

    /// A copy of a verified book (nil: not subscribed, not yet in sync, or withdrawn after a checksum
    /// mismatch until it is rebuilt). For the zero-copy read on the loop thread, see `withBookFeed`.
    public func book(_ symbol: String) async throws(TradeWireError) -> L2BookSnapshot? {
        try await loop.submitTyped { [self] in bookFeed?.book(symbol)?.snapshot() }
    }

    /// Read the book feed in place, on the loop thread (from a handler): no copy, no hop. Throws
    /// `.notOnEventLoop` from any other thread, and `.closed` before `subscribeBook`.
    public func withBookFeed<R>(_ body: (KrakenBookFeed) throws -> R) throws -> R {
        guard loop.inEventLoop else { throw TradeWireError(code: .notOnEventLoop, detail: "KrakenClient.withBookFeed runs on its loop") }
        guard let feed = bookFeed else { throw TradeWireError(code: .closed, detail: "no book subscription (call subscribeBook first)") }
        return try body(feed)
    }
}

extension KrakenClient: VenueClient {
    public static let venueName = "kraken"
}

extension Venue where Client == KrakenClient {
    /// Kraken Spot WS v2: `TradeWire.create(.kraken, …)` / `TradeWire.client(.kraken)`.
    public static var kraken: Venue<KrakenClient> { Venue() }
}

extension TradeWire {
    /// Create the process's Kraken client (once); fetch it anywhere with `TradeWire.client(.kraken)`.
    @discardableResult
    public static func create(_ venue: Venue<KrakenClient>, loop: EventLoop, configuration: KrakenClient.Configuration,
                              handlers: KrakenClient.Handlers = .init()) throws -> KrakenClient {
        let c = KrakenClient(loop: loop, configuration: configuration, handlers: handlers)
        try register(c)
        return c
    }
}

extension KrakenClient {
    /// Let `TradeWire.createAll(configJSON:)` create Kraken clients from `ws_apis` entries.
    public static func registerFactory() {
        TradeWire.registerFactory(venue: venueName) { c, loop in
            var tls = c.insecure ? TLSConfiguration.insecureNoVerification() : TLSConfiguration.default
            if let ca = c.caFile { tls.additionalTrust.append(.caFile(ca)) }
            return KrakenClient(loop: loop, configuration: .init(
                url: try WebSocketURL(c.url ?? "wss://ws-auth.kraken.com/v2"), token: c.token, tls: tls))
        }
    }
}


/// The WebSocket token is a credential: never printed, dumped or mirrored.
extension KrakenClient.Configuration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "KrakenClient.Configuration(url: \(url), token: \(token == nil ? "nil" : "<redacted>"), requestTimeout: \(requestTimeout), "
            + "capacity: \(capacity), reconnect: \(reconnect.map { "\($0)" } ?? "nil"))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["url": url, "token": token == nil ? "nil" : "<redacted>", "requestTimeout": requestTimeout,
                                "capacity": capacity, "tokenProvider": tokenProvider == nil ? "nil" : "<set>"])
    }
}
