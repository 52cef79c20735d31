import CoreMetrics
import Logging
@_spi(VenueClients) import TradeWire
#if canImport(Glibc)
import Glibc
#endif

public struct BinanceAck: Sendable {
    public let requestID: UInt64
    public let response: BinanceResponse
    public let latency: RequestLatency
}

/// An answer with its typed result (`value`) and the raw answer (`ack`: request id, response, latency).
public struct BinanceReply<Value: Sendable>: Sendable {
    public let value: Value
    public let ack: BinanceAck
}

/// A Binance Spot WebSocket API client: signed requests (HMAC or Ed25519), `session.logon` (Ed25519), the user data
/// stream (by logon or by signature) with typed `executionReport`s, Binance's rate limits (`BinanceRateLimits`: clock
/// windows, ORDERS for placed orders, `retryAfter`, 418 bans as `.banned`), 5xx and -1007 surfaced as `.outcomeUnknown`,
/// session revocation and `serverShutdown` surfaced. Server ping frames are answered by the core.
///
/// Threading (docs/threading.md): as `KrakenClient`: every public member is safe from any thread; handlers
/// are `@Sendable`, given at creation, and run on the loop thread with the client passed in; `send` is the
/// loop thread's zero-hop path and refuses (`.notOnEventLoop`) elsewhere; the client's state is loop-confined.
public final class BinanceClient: WebSocketHandler, @unchecked Sendable {
    /// What the client calls on its loop thread (`@Sendable`: the compiler checks what each closure captures).
    public struct Handlers: Sendable {
        /// Every completed request, exactly once.
        public var onResponse: (@Sendable (BinanceClient, BinanceCompletion) -> Void)?
        /// The user data stream's `executionReport`s.
        public var onExecutionReport: (@Sendable (BinanceClient, BinanceExecutionReport) -> Void)?
        /// Logon, its failure, revocation, user data stream subscribed or terminated, server shutdown notices.
        public var onSessionEvent: (@Sendable (BinanceClient, BinanceSessionEvent) -> Void)?
        public var onConnection: (@Sendable (BinanceClient, ConnectionEvent) -> Void)?
        /// What became of orders whose request ended without an answer (docs/reliability.md).
        public var onReconciliation: (@Sendable (BinanceClient, [OrderReconciliation]) -> Void)?

        public init(onResponse: (@Sendable (BinanceClient, BinanceCompletion) -> Void)? = nil,
                    onExecutionReport: (@Sendable (BinanceClient, BinanceExecutionReport) -> Void)? = nil,
                    onSessionEvent: (@Sendable (BinanceClient, BinanceSessionEvent) -> Void)? = nil,
                    onConnection: (@Sendable (BinanceClient, ConnectionEvent) -> Void)? = nil,
                    onReconciliation: (@Sendable (BinanceClient, [OrderReconciliation]) -> Void)? = nil) {
            self.onResponse = onResponse
            self.onExecutionReport = onExecutionReport
            self.onSessionEvent = onSessionEvent
            self.onConnection = onConnection
            self.onReconciliation = onReconciliation
        }
    }

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
        /// On a busy-polling loop, encode (and sign) the last request and decode the last answer again in scratch
        /// while waiting, so the next order finds its code and data in cache (`OrderPathWarmer`). Nothing is sent.
        /// No effect on a waiting loop.
        public var warmUpWhileIdle = true
        /// Events each stream subscription buffers for a consumer that falls behind (then: a `.gap`).
        public var streamBufferSize = 4096
        /// Where metrics go (nil: `MetricsSystem.factory`, the bootstrapped backend).
        public var metricsFactory: (any MetricsFactory)?
        /// How the venue answers: JSON text frames, or SBE binary frames (`BinanceSBEAnswers`: the connection's
        /// URL carries `responseFormat=sbe&sbeSchemaId=3&sbeSchemaVersion=5`). On an SBE connection, a request
        /// whose SBE answer this version does not read is refused before it is sent (`.unsupported`).
        public var responseFormat: ResponseFormat = .json
        public enum ResponseFormat: Sendable { case json, sbe }

        /// The URL connected to: `url`, with the SBE query when answers are to come in SBE.
        var connectURL: WebSocketURL {
            guard responseFormat == .sbe else { return url }
            var u = url
            u.target += (u.target.contains("?") ? "&" : "?") + BinanceSBEAnswers.urlQuery
            return u
        }

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

    /// Binance's limits, learned from every answer's `rateLimits`, shared process-wide (the limits are per IP and per
    /// account), failing fast.
    public static let sharedRateLimiter = VenueRateLimiter(BinanceRateLimits(), policy: .failFast)

    public let loop: EventLoop
    public let configuration: Configuration
    /// Loop-confined: read it through `latencyStats(for:)`.
    package let latency = LatencyRecorder()
    package let metrics: ClientMetrics
    public let logger: Logger
    private let handlers: Handlers
    private let executionReportHub: StreamHub<BinanceExecutionReport>
    private let sessionHub: StreamHub<BinanceSessionEvent>
    private let connectionHub: StreamHub<ConnectionEvent>
    private let reconciliationHub: StreamHub<OrderReconciliation>
    /// Is the current connection's session logged on (Ed25519 `session.logon`)? Loop thread.
    package var loggedOn: Bool { session.loggedOn }

    // Loop-confined state read or written on every request carries @exclusivity(unchecked), as in KrakenClient:
    // the runtime's access tracking showed up in the profile (`swift_beginAccess`), and no access to these spans a
    // call that could reach another one.
    /// Connects, reconnects, replaces aging connections.
    @exclusivity(unchecked) package private(set) var supervisor: ConnectionSupervisor!
    private var connection: WebSocketConnection? { supervisor.connection }
    private let pending: PendingRequests<BinanceRequest, BinanceResponse>
    @exclusivity(unchecked) private var session = BinanceSession()
    /// The credentials' key prepared once for signing (made on first use, on the loop).
    @exclusivity(unchecked) private var signer: RequestSigner?
    /// Where each request is encoded, and its params gathered: allocated once (loop thread).
    private let encodeBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 8192, alignment: 8)
    private let params = BinanceParams()
    /// Where answers keep their `result` (loop thread): reused once the caller lets go of an answer.
    @exclusivity(unchecked) private var resultStorage = ByteRecycler()
    /// Busy-poll loops: re-runs the order path in scratch while waiting (see `OrderPathWarmer`).
    @exclusivity(unchecked) private var warmer = OrderPathWarmer<BinanceRequest>()
    /// The loop's idle hook running the warmer, while a connection is open.
    @exclusivity(unchecked) private var idleHandler: Int?
    @exclusivity(unchecked) private var signerFailed = false
    /// Orders whose outcome is unknown; settled by `order.status` when their window ends.
    private let reconciler: OrderReconciler
    /// The `order.status` requests the reconciler asked for: request id → client order id.
    @exclusivity(unchecked) private var statusQueries: [UInt64: String] = [:]

    public init(loop: EventLoop, configuration: Configuration, handlers: Handlers = Handlers(),
                logger: Logger = Logger(label: "tradewire.binance")) {
        self.loop = loop
        self.configuration = configuration
        self.handlers = handlers
        self.logger = logger
        let buffer = configuration.streamBufferSize
        executionReportHub = StreamHub(defaultBufferSize: buffer)
        sessionHub = StreamHub(defaultBufferSize: buffer)
        connectionHub = StreamHub(defaultBufferSize: buffer)
        reconciliationHub = StreamHub(defaultBufferSize: buffer)
        pending = PendingRequests(loop: loop, latency: latency, timeout: configuration.requestTimeout)
        metrics = ClientMetrics(venue: "binance", recorder: latency, factory: configuration.metricsFactory ?? MetricsSystem.factory)
        pending.metrics = metrics
        reconciler = OrderReconciler(loop: loop, settleWindow: configuration.unknownOrderSettleWindow, verification: .statusQuery)
        var policy = configuration.reconnect
        if policy != nil, policy?.maxConnectionAge == nil { policy?.maxConnectionAge = .seconds(23 * 3600 + 1800) }
        let url = configuration.connectURL, tls = configuration.tls
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: policy, retireAfter: configuration.requestTimeout,
                                          streams: [executionReportHub, sessionHub, connectionHub, reconciliationHub]) {
            WebSocketConfiguration(url: url, tls: tls)
        }
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
                onResponse(self, BinanceCompletion(requestID: id, method: r.method, request: r, result: result, latency: latency))
            }
        }
        reconciler.query = { [weak self] in self?.queryStatus($0) }
        pending.onTimeout = { [weak self] id, r, generation in
            guard let self else { return }
            noteUnknownOrder(r, requestID: id, cause: .timedOut, generation: generation,
                             connectionOpen: generation == supervisor.generation && isConnected)
        }
    }

    deinit { encodeBuffer.deallocate() }

    private func noteUnknownOrder(_ r: BinanceRequest, requestID: UInt64, cause: OrderReconciliation.Cause, generation: Int,
                                  connectionOpen: Bool) {
        if let cl = statusQueries.removeValue(forKey: requestID) { reconciler.recheck(clientOrderID: cl); return }   // a query went unanswered
        let order: BinanceOrder
        switch r {
        case .orderPlace(let o): order = o
        case .orderCancelReplace(let cr): order = cr.order
        default: return
        }
        guard let cl = order.newClientOrderID else { return }
        reconciler.unknown(clientOrderID: cl.description, requestID: requestID, cause: cause, symbol: order.symbol,
                           generation: generation, connectionOpen: connectionOpen)
    }

    /// Ask the venue about orders whose window has ended: `order.status` knows ended orders too.
    private func queryStatus(_ entries: [UnknownOrderTracker.Entry]) {
        for e in entries {
            do {
                let id = try send(.orderStatus(symbol: e.symbol ?? "", order: .clientOrderID(e.clientOrderID)))
                statusQueries[id] = e.clientOrderID
            } catch {
                reconciler.recheck(clientOrderID: e.clientOrderID)
            }
        }
    }

    public func connect() async throws {
        try await supervisor.connect()
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

    /// The user data stream's `executionReport`s (after `subscribeUserDataStream`).
    public var executionReports: EventStream<BinanceExecutionReport> { executionReportHub.stream() }
    /// Logon, revocation, user data stream subscribed or terminated, server shutdown notices.
    public var sessionEvents: EventStream<BinanceSessionEvent> { sessionHub.stream() }
    public var connectionEvents: EventStream<ConnectionEvent> { connectionHub.stream() }
    /// What became of each order whose request ended without an answer (docs/reliability.md).
    public var reconciliations: EventStream<OrderReconciliation> { reconciliationHub.stream() }

    private func sessionEvent(_ e: BinanceSessionEvent) {
        handlers.onSessionEvent?(self, e)
        sessionHub.yield(e)
    }

    public var isConnected: Bool { supervisor.isConnected }

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard let kind = supervisor.didOpen(c) else { return }
        defer { supervisor.announceOpen() }
        reconciler.evidenceInView()          // order.status can be asked on any open connection
        // A new connection has no session: log on again (the logon's subscribe follows its answer), restore a
        // signature subscription, and ask for open orders if some orders' outcome was lost with the old connection.
        if idleHandler == nil {
            // unowned(unsafe): the open connection holds this client until the close removes the hook.
            idleHandler = loop.addWarmUpHandler(enabled: configuration.warmUpWhileIdle) { [unowned(unsafe) self] in warmUp() }
        }
        var restore = session.connectionOpened(restoring: kind != .first)
        if kind != .first && !reconciler.isEmpty { restore.append(.openOrdersStatus(symbol: nil)) }
        sendFollowUps(restore)
    }

    private func sendFollowUps(_ requests: [BinanceRequest]) {
        for r in requests {
            do { try send(r) } catch { logger.warning("restoring \(r.method) failed", metadata: ["error": "\(error)"]) }
        }
    }

    public func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        let generation: Int
        switch supervisor.didClose(c, close) {
        case .standby: return
        case .current(let g):
            generation = g
            session.connectionClosed()
            reconciler.evidenceLost()
            loop.removeIdleHandler(&idleHandler)
        case .retired(let g): generation = g
        }
        pending.failAll(TradeWireError(code: .connectionLost, detail: "connection lost (\(close)); an order's outcome is unknown"),
                        generation: generation) { [self] id, r in
            noteUnknownOrder(r, requestID: id, cause: .connectionLost, generation: generation, connectionOpen: false)
        }
        reconciler.connectionClosed(generation: generation)
    }

    /// One warm-up pass: the last request encoded and signed again (a fresh timestamp, the session as it is), the last
    /// answer decoded again. Nothing is sent; no request's state changes. A request an Ed25519 or RSA key would sign is
    /// not encoded again: those signatures take tens of µs, and an answer landing meanwhile would wait for it.
    private func warmUp() {
        warmer.run(encodeJSON: { r, id, w in
            if r.security != .none && (r.security == .selfSigned || !session.loggedOn) {
                guard case .hmac? = configuration.credentials?.key else { return }
            }
            try? withRequestIDText(id) { (text) throws(TradeWireError) in
                try BinanceEncoder.encode(r, id: text, params: params, credentials: configuration.credentials,
                                          loggedOn: session.loggedOn, timestampMs: Self.nowMs(), signer: preparedSigner(), into: &w)
            }
        }, decode: { bytes in
            if configuration.responseFormat == .sbe {
                return (try? BinanceSBEAnswers.decode(bytes, recycling: &resultStorage)).map { UInt64(bitPattern: $0.orderID ?? 1) } ?? 0
            }
            // The fast path only: the general decoder would allocate on every pass.
            return BinanceResponseFastPath.decode(bytes, recycling: &resultStorage).map { UInt64(bitPattern: $0.orderID ?? 1) } ?? 0
        })
    }

    /// A request id as it goes on the wire, `tw-<n>`, lent to `body`.
    private func withRequestIDText(_ id: UInt64, _ body: (UnsafeRawBufferPointer) throws(TradeWireError) -> Void) throws(TradeWireError) {
        try withUnsafeTemporaryAllocation(byteCount: 24, alignment: 1) { (b) throws(TradeWireError) in
            b[0] = UInt8(ascii: "t"); b[1] = UInt8(ascii: "w"); b[2] = UInt8(ascii: "-")
            let n = BinanceParams.writeDecimal(Int64(bitPattern: id), to: UnsafeMutableRawBufferPointer(rebasing: b[3...]))
            try body(UnsafeRawBufferPointer(rebasing: b[..<(3 + n)]))
        }
    }

    /// The request id of an answer's `id` as the client writes it (`tw-<n>`), read from its bytes; nil for any other.
    static func requestID(_ text: String) -> UInt64? {
        var text = text
        return text.withUTF8 { b -> UInt64? in
            guard b.count > 3, b.count <= 23, b[0] == UInt8(ascii: "t"), b[1] == UInt8(ascii: "w"), b[2] == UInt8(ascii: "-") else { return nil }
            var v: UInt64 = 0
            for i in 3..<b.count {
                let d = b[i] &- UInt8(ascii: "0")
                guard d < 10 else { return nil }
                let (m, o1) = v.multipliedReportingOverflow(by: 10)
                let (sum, o2) = m.addingReportingOverflow(UInt64(d))
                guard !o1, !o2 else { return nil }
                v = sum
            }
            return v
        }
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }

    /// Issue a request (loop thread). Request ids go on the wire as strings (`"tw-<n>"`). Throws, with nothing sent
    /// and no callback, when the request is refused before it has an id: not connected, over a rate limit
    /// (`.rateLimited`, or `.banned` during a 418 ban, with `retryAfter`).
    @discardableResult
    public func send(_ request: BinanceRequest) throws(TradeWireError) -> UInt64 { try issue(request, waiter: nil) }

    /// `send`, with the async caller's waiter stored with the request before its frame leaves.
    private func issue(_ request: BinanceRequest, waiter: RequestWaiter<BinanceAck>?) throws(TradeWireError) -> UInt64 {
        guard loop.inEventLoop else { throw TradeWireError(code: .notOnEventLoop, detail: "BinanceClient.send runs on its loop") }
        if configuration.responseFormat == .sbe, !BinanceSBEAnswers.readsAnswer(to: request) {
            throw TradeWireError(code: .unsupported, detail: "\(request.method): its SBE answer is not read by this version; send it on a JSON connection")
        }
        if let refused = supervisor.refusal(venue: "Binance") { throw refused }
        guard let conn = connection else { throw TradeWireError(code: .closed, detail: "Binance connection is not open") }
        if let limiter = configuration.rateLimiter {
            let now = MonotonicClock.nanoseconds()
            if let over = limiter.acquire(cost: Double(request.weight), key: request.placesOrder ? BinanceRateLimits.Key.order : nil, now: now) {
                let banned = limiter.withModel(as: BinanceRateLimits.self) { $0.isBanned(now: now) } ?? false
                metrics.rateLimitHit()
                throw TradeWireError(code: banned ? .banned : .rateLimited,
                                     detail: "\(request.method): over \(over.limit); retry in \(over.retryAfterNs / 1_000_000) ms",
                                     retryAfter: .nanoseconds(Int64(over.retryAfterNs)))
            }
        }
        let id = try pending.register(request, method: request.method.rawValue, generation: supervisor.generation,
                                      waiter: waiter.map { w in { id, result, latency in
                                          w.resume(with: result.map { BinanceAck(requestID: id, response: $0, latency: latency) }.mapError { $0 as Error })
                                      } })
        session.sending(request)
        // Encode first (validation and signing may fail): nothing is sent, and the request completes with the error.
        let n: Int
        do {
            var w = JSONWriter(encodeBuffer)
            try withRequestIDText(id) { (text) throws(TradeWireError) in
                try BinanceEncoder.encode(request, id: text, params: params, credentials: configuration.credentials,
                                          loggedOn: session.loggedOn, timestampMs: Self.nowMs(), signer: preparedSigner(), into: &w)
            }
            n = w.count
        } catch {
            pending.fail(id, error)
            return id
        }
        do {
            let submitted = try conn.send(.text, bytes: UnsafeRawBufferPointer(rebasing: encodeBuffer[..<n]))
            pending.markSent(id, submitNs: submitted)
            metrics.sent()
            if idleHandler != nil { warmer.sent(request, id: id) }
        } catch {
            pending.fail(id, error as? TradeWireError ?? TradeWireError(code: .closed, detail: "\(error)"))
        }
        return id
    }

    /// The key prepared once (nil without credentials, or if it cannot be prepared: then each request signs one-off
    /// and reports the key's problem itself).
    private func preparedSigner() -> RequestSigner? {
        if let signer { return signer }
        guard !signerFailed, let c = configuration.credentials else { return nil }
        switch c.key {
        case .hmac(let secret): signer = try? RequestSigner(hmacSHA256: secret)
        case .ed25519(let pem), .rsa(let pem): signer = try? RequestSigner(privateKeyPEM: pem)
        }
        signerFailed = signer == nil
        return signer
    }

    public func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        let inbound: BinanceInbound
        switch message.opcode {
        case .text:
            metrics.received()
            do { inbound = try BinanceDecoder.decode(message.bytes, recycling: &resultStorage) } catch {
                logger.warning("undecodable Binance message", metadata: ["error": "\(error)"])
                return
            }
        case .binary where configuration.responseFormat == .sbe:
            metrics.received()
            do {
                if BinanceSBEUserEvents.isEvent(message.bytes) {
                    inbound = try BinanceSBEUserEvents.decode(message.bytes)
                } else {
                    let r = try BinanceSBEAnswers.decode(message.bytes, recycling: &resultStorage)
                    inbound = r.id.isEmpty ? .unsolicited(r) : .response(r)
                }
            } catch {
                logger.warning("undecodable Binance SBE answer", metadata: ["error": "\(error)"])
                return
            }
        default:
            return
        }
        switch inbound {
        case .executionReport(let r):
            if reconciler.isWatching {
                // A cancel's report carries the cancel's own id in `c` and the order's in `C`: correlate by the order's.
                reconciler.sighted(clientOrderID: r.orderClientOrderID, orderID: String(r.orderID), status: r.status.rawValue)
            }
            handlers.onExecutionReport?(self, r)
            executionReportHub.yield(r)
        case .serverShutdown(let t):
            logger.notice("Binance serverShutdown: reconnect")
            sessionEvent(.serverShutdown(atMs: t))
            if configuration.reconnect != nil { supervisor.replace(reason: "Binance serverShutdown") }
        case .streamTerminated(let sub, _):
            sessionEvent(session.streamTerminated(subscriptionID: sub))
        case .event: break
        case .unsolicited(let r):
            feedLimiter(r)
            if r.status == 401 || r.errorCode == -2015 {
                logger.notice("Binance revoked the session", metadata: ["code": "\(r.errorCode ?? 0)"])
                sessionEvent(session.revoked(code: r.errorCode ?? 0, message: r.errorMessage ?? ""))
            } else {
                logger.warning("Binance error without a request id", metadata: ["status": "\(r.status)", "code": "\(r.errorCode ?? 0)"])
            }
        case .response(let r):
            // From the read that completed the message (its stamp is already taken): one clock read, for answers only.
            let decodeNs = MonotonicClock.nanoseconds() &- message.receivedAt
            feedLimiter(r)
            guard let id = Self.requestID(r.id), let request = pending.request(id) else {
                if reconciler.isWatching, let id = Self.requestID(r.id) {
                    // A late answer to an order that timed out settles it.
                    reconciler.answeredLate(requestID: id, r.status == 200
                        ? .success((orderID: r.orderID.map { String($0) } ?? "", status: r.orderStatus ?? "acknowledged late"))
                        : .failure(Self.venueError(r)))
                }
                logger.debug("response to an unknown request", metadata: ["id": "\(r.id)"])
                return
            }
            let result = Self.outcome(r, of: request)
            if request.placesOrder, !r.reportsOrderCount, Self.countsAsPlaced(r, of: request) {
                _ = configuration.rateLimiter?.withModel(as: BinanceRateLimits.self) { $0.orderPlaced(now: MonotonicClock.nanoseconds()) }
            }
            if !statusQueries.isEmpty, let cl = statusQueries.removeValue(forKey: id) {
                switch result {
                case .success(let s): reconciler.sighted(clientOrderID: cl, orderID: s.orderID.map { String($0) } ?? "", status: s.orderStatus ?? "")
                case .failure where r.errorCode == -2013: reconciler.notFound(clientOrderID: cl)    // "Order does not exist."
                case .failure: reconciler.recheck(clientOrderID: cl)
                }
            }
            if case .openOrdersStatus = request, r.status == 200, reconciler.isWatching {
                for o in r.openOrders { reconciler.sighted(clientOrderID: o.clientOrderID, orderID: o.orderID, status: o.status) }
            }
            let (next, event) = session.answered(request, ok: r.status == 200, error: result.failure, subscriptionID: r.subscriptionID)
            if let event { sessionEvent(event) }        // before the caller resumes: its awaited answer finds the event told
            pending.answer(id, result, receivedAt: message.receivedAt, decodeNs: decodeNs)
            if idleHandler != nil { warmer.received(message.bytes, text: message.opcode == .text) }
            sendFollowUps(next)
        }
    }

    /// The venue's `rateLimits`, and a 429's or 418's `retryAfter`, into the limiter.
    private func feedLimiter(_ r: BinanceResponse) {
        guard let limiter = configuration.rateLimiter else { return }
        let now = MonotonicClock.nanoseconds()
        if !r.rateLimits.isEmpty { limiter.observe(usage: r.rateLimits, now: now) }
        if r.status == 429 || r.status == 418 {
            _ = limiter.withModel(as: BinanceRateLimits.self) {
                $0.refused(status: r.status, code: r.errorCode, retryAfterMs: r.retryAfterMs, serverTimeMs: r.serverTimeMs, now: now)
            }
        }
    }

    /// Did the venue count this answer's order in ORDERS? `order.place`: when it placed it; `order.cancelReplace`:
    /// whenever it answered with the legs' results, even with the new order not attempted.
    static func countsAsPlaced(_ r: BinanceResponse, of request: BinanceRequest) -> Bool {
        if r.status == 200 { return true }
        if case .orderCancelReplace = request { return r.errorCode == -2021 || r.errorCode == -2022 }
        return false
    }

    /// How an answer completes its request.
    static func outcome(_ r: BinanceResponse, of request: BinanceRequest) -> Result<BinanceResponse, TradeWireError> {
        if r.status == 200 { return .success(r) }
        // A partial cancel-replace (409, -2021): one leg took effect; the answer's legs say which (`cancelReplace()`).
        if case .orderCancelReplace = request, r.status == 409, r.errorDataJSON != nil || r.errorDataSBE != nil { return .success(r) }
        if r.status >= 500 || r.errorCode == -1007 {
            return .failure(TradeWireError(code: .outcomeUnknown, detail: "Binance \(r.status) \(r.errorCode.map(String.init) ?? ""): \(r.errorMessage ?? "server error"); the order may have gone through: check its state", venueCode: r.errorCode,
                                           venueError: r.errorCode.map { VenueError(venue: "binance", code: String($0), message: r.errorMessage ?? "") }))
        }
        return .failure(venueError(r))
    }

    static func retryAfter(_ r: BinanceResponse) -> Duration? {
        guard let after = r.retryAfterMs else { return nil }
        return .milliseconds(max(0, after - (r.serverTimeMs ?? nowMs())))
    }

    static func venueError(_ r: BinanceResponse) -> TradeWireError {
        var text = "Binance \(r.errorCode ?? 0): \(r.errorMessage ?? "")"
        if r.errorCode == -2022 || r.errorCode == -2021, let legs = try? r.cancelReplace() {
            func leg(_ outcome: BinanceCancelReplaceResult.Outcome, _ l: BinanceCancelReplaceResult.Leg?) -> String {
                if case .error(let code, let msg)? = l { return "\(outcome.rawValue) \(code) \(msg)" }
                return outcome.rawValue
            }
            text += " (cancel: \(leg(legs.cancelResult, legs.cancelResponse)); new order: \(leg(legs.newOrderResult, legs.newOrderResponse)))"
        }
        let v = VenueError(venue: "binance", code: r.errorCode.map(String.init) ?? "\(r.status)", message: r.errorMessage ?? "")
        switch r.status {
        case 418: return TradeWireError(code: .banned, detail: "\(text) (IP banned)", venueCode: r.errorCode, retryAfter: retryAfter(r), venueError: v)
        case 429: return TradeWireError(code: .rateLimited, detail: text, venueCode: r.errorCode, retryAfter: retryAfter(r), venueError: v)
        default: return TradeWireError(code: .venueRejected, detail: text, venueCode: r.errorCode, venueError: v)
        }
    }

    // MARK: async/await

    /// Send and await the answer, from any task. Errors are `TradeWireError`s.
    public func request(_ r: BinanceRequest) async throws(TradeWireError) -> BinanceAck {
        do {
            return try await loop.awaitResult { [self] (waiter: RequestWaiter<BinanceAck>) in
                do { _ = try issue(r, waiter: waiter) } catch { waiter.resume(throwing: error) }
            }
        } catch let e as TradeWireError { throw e } catch {
            throw TradeWireError(code: .closed, detail: "\(error)")
        }
    }

    private func reply<V: Sendable>(_ r: BinanceRequest, _ decode: (BinanceResponse) throws(TradeWireError) -> V) async throws(TradeWireError) -> BinanceReply<V> {
        let ack = try await request(r)
        return BinanceReply(value: try decode(ack.response), ack: ack)
    }

    public func placeOrder(_ o: BinanceOrder) async throws(TradeWireError) -> BinanceAck { try await request(.orderPlace(o)) }
    public func testOrder(_ o: BinanceOrder) async throws(TradeWireError) -> BinanceAck { try await request(.orderTest(o)) }

    /// `order.cancel` by `orderId` and/or the client id the order was placed with.
    public func cancelOrder(symbol: String, orderID: Int64? = nil, origClientOrderID: String? = nil,
                            newClientOrderID: ClientOrderID? = nil) async throws(TradeWireError) -> BinanceAck {
        let ref: BinanceOrderRef
        switch (orderID, origClientOrderID) {
        case let (i?, c?): ref = .both(orderID: i, clientOrderID: c)
        case let (i?, nil): ref = .orderID(i)
        case let (nil, c?): ref = .clientOrderID(c)
        case (nil, nil): throw TradeWireError(code: .invalidArgument, detail: "order.cancel needs orderID or origClientOrderId")
        }
        return try await request(.orderCancel(BinanceCancel(symbol: symbol, order: ref, newClientOrderID: newClientOrderID)))
    }

    public func cancelOrder(_ c: BinanceCancel) async throws(TradeWireError) -> BinanceReply<BinanceCancelResult> {
        try await reply(.orderCancel(c)) { r throws(TradeWireError) in try r.cancelResult() }
    }

    /// `order.cancelReplace`. A 409 (one leg failed) returns too: look at both legs.
    public func cancelReplace(_ c: BinanceCancelReplace) async throws(TradeWireError) -> BinanceReply<BinanceCancelReplaceResult> {
        try await reply(.orderCancelReplace(c)) { r throws(TradeWireError) in try r.cancelReplace() }
    }

    public func amendKeepPriority(_ a: BinanceAmend) async throws(TradeWireError) -> BinanceReply<BinanceAmendResult> {
        try await reply(.orderAmendKeepPriority(a)) { r throws(TradeWireError) in try r.amendResult() }
    }

    public func cancelAllOpenOrders(symbol: String) async throws(TradeWireError) -> BinanceReply<[BinanceCancelResult]> {
        try await reply(.openOrdersCancelAll(symbol: symbol)) { r throws(TradeWireError) in try r.cancelAllResults() }
    }

    public func orderStatus(symbol: String, order: BinanceOrderRef) async throws(TradeWireError) -> BinanceReply<BinanceOrderReport> {
        try await reply(.orderStatus(symbol: symbol, order: order)) { r throws(TradeWireError) in try r.orderReport() }
    }

    public func openOrders(symbol: String? = nil) async throws(TradeWireError) -> BinanceReply<[BinanceOrderReport]> {
        try await reply(.openOrdersStatus(symbol: symbol)) { r throws(TradeWireError) in try r.openOrderReports() }
    }

    public func accountStatus(omitZeroBalances: Bool? = nil) async throws(TradeWireError) -> BinanceReply<BinanceAccountStatus> {
        try await reply(.accountStatus(omitZeroBalances: omitZeroBalances)) { r throws(TradeWireError) in try r.accountStatus() }
    }

    /// `account.rateLimits.orders`: the unfilled order count of each ORDERS window.
    public func orderRateLimits() async throws(TradeWireError) -> BinanceReply<[BinanceRateLimit]> {
        try await reply(.accountRateLimitsOrders) { r throws(TradeWireError) in try r.orderRateLimits() }
    }

    public func ping() async throws(TradeWireError) -> BinanceAck { try await request(.ping) }
    public func logon() async throws(TradeWireError) -> BinanceAck { try await request(.sessionLogon) }

    /// The user data stream: `userDataStream.subscribe` on a logged-on (Ed25519) session, else
    /// `userDataStream.subscribe.signature` (any key, HMAC included). Restored after a reconnect.
    public func subscribeUserDataStream() async throws(TradeWireError) -> BinanceAck {
        let loggedOn = try await onLoop { $0.session.loggedOn }
        return try await request(loggedOn ? .userDataStreamSubscribe : .userDataStreamSubscribeSignature)
    }

    public func unsubscribeUserDataStream(subscriptionID: Int64? = nil) async throws(TradeWireError) -> BinanceAck {
        try await request(.userDataStreamUnsubscribe(subscriptionID: subscriptionID))
    }

    private func onLoop<T: Sendable>(_ body: @escaping @Sendable (BinanceClient) -> T) async throws(TradeWireError) -> T {
        do { return try await loop.submit { [self] in body(self) } } catch let e as TradeWireError { throw e } catch {
            throw TradeWireError(code: .closed, detail: "\(error)")
        }
    }
}

extension Result {
    var failure: Failure? { if case .failure(let e) = self { return e } else { return nil } }
}

/// A completed Binance request, as `Handlers.onResponse` receives it on the loop thread.
public struct BinanceCompletion: Sendable {
    public let requestID: UInt64
    public let method: BinanceMethod
    public let request: BinanceRequest
    public let result: Result<BinanceResponse, TradeWireError>
    public let latency: RequestLatency
}

extension BinanceClient {
    /// Round-trip percentiles of a method, read on the loop (nil: none completed yet).
    public func latencyStats(for method: BinanceMethod) async -> LatencyStats? {
        (try? await loop.submit { [self] in latency.stats(for: method.rawValue) }) ?? nil
    }

    /// Round-trip percentiles of every method that completed a request.
    public func allLatencyStats() async -> [LatencyStats] {
        (try? await loop.submit { [self] in latency.allStats }) ?? []
    }

    /// Whether the current connection's session is logged on (Ed25519 `session.logon`).
    public func isLoggedOn() async -> Bool {
        (try? await loop.submit { [self] in session.loggedOn }) ?? false
    }
}

extension BinanceClient: VenueClient {
    public static let venueName = "binance"
}

extension Venue where Client == BinanceClient {
    /// The Binance Spot WebSocket API: `TradeWire.create(.binance, …)` / `TradeWire.client(.binance)`.
    public static var binance: Venue<BinanceClient> { Venue() }
}

extension TradeWire {
    /// Create the process's Binance client (once); fetch it anywhere with `TradeWire.client(.binance)`.
    @discardableResult
    public static func create(_ venue: Venue<BinanceClient>, loop: EventLoop, configuration: BinanceClient.Configuration,
                              handlers: BinanceClient.Handlers = .init()) throws -> BinanceClient {
        let c = BinanceClient(loop: loop, configuration: configuration, handlers: handlers)
        try register(c)
        return c
    }
}
