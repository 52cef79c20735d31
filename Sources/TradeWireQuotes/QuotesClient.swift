import CoreMetrics
import Logging
@_spi(VenueClients) import TradeWire

/// An answered quotes request with its latency.
public struct QuotesAck: Sendable {
    public let requestID: UInt64
    public let response: QuotesResponse
    public let latency: RequestLatency
}

/// A client of the product-quotes stream (seed 002): bearer token in the
/// handshake, subscribe/unsubscribe/unsubscribeAll/ping with per-request
/// latency, `pq` quotes and `hb` heartbeats, and the stream's limits enforced
/// before anything is sent. The stream has no request ids: answers are matched
/// to requests in order, per operation.
///
/// Threading (docs/threading.md): as `KrakenClient`: every public member is safe from any thread; handlers
/// are `@Sendable`, given at creation, and run on the loop thread with the client passed in; `send` is the
/// loop thread's zero-hop path and refuses (`.notOnEventLoop`) elsewhere; the client's state is loop-confined.
public final class QuotesClient: WebSocketHandler, @unchecked Sendable {
    public struct Configuration: Sendable {
        public var url: WebSocketURL
        public var bearerToken: String
        public var tls: TLSConfiguration
        public var requestTimeout: Duration
        public var rateLimiter: VenueRateLimiter?
        /// Reconnect after a loss (nil = stay disconnected); subscriptions are restored.
        public var reconnect: ReconnectPolicy?
        /// Fetches a fresh bearer token for each connection attempt (overrides `bearerToken`).
        public var bearerTokenProvider: (@Sendable () async throws -> String)?
        /// On a busy-polling loop, encode the last request and decode the last answer again in scratch while
        /// waiting, so the next request finds its code and data in cache (`OrderPathWarmer`). Nothing is sent. No
        /// effect on a waiting loop.
        public var warmUpWhileIdle = true
        /// Events each stream subscription buffers for a consumer that falls behind (then: a `.gap`).
        public var streamBufferSize = 4096
        /// Where metrics go (nil: `MetricsSystem.factory`, the bootstrapped backend).
        public var metricsFactory: (any MetricsFactory)?

        public init(url: WebSocketURL, bearerToken: String, tls: TLSConfiguration = .default,
                    requestTimeout: Duration = .seconds(10), rateLimiter: VenueRateLimiter? = QuotesClient.sharedRateLimiter,
                    reconnect: ReconnectPolicy? = nil, bearerTokenProvider: (@Sendable () async throws -> String)? = nil) {
            self.reconnect = reconnect
            self.bearerTokenProvider = bearerTokenProvider
            self.url = url
            self.bearerToken = bearerToken
            self.tls = tls
            self.requestTimeout = requestTimeout
            self.rateLimiter = rateLimiter
        }
    }

    /// What the client calls on its loop thread (`@Sendable`: the compiler checks what each closure captures).
    public struct Handlers: Sendable {
        /// Every completed request, exactly once.
        public var onResponse: (@Sendable (QuotesClient, QuotesCompletion) -> Void)?
        /// A quote (`pq`); the product name is lent inline, no allocation.
        public var onQuote: (@Sendable (QuotesClient, Quote) -> Void)?
        /// A heartbeat's timestamp.
        public var onHeartbeat: (@Sendable (QuotesClient, Int64) -> Void)?
        /// Errors the stream sent that answer no pending request.
        public var onError: (@Sendable (QuotesClient, QuotesError) -> Void)?
        public var onConnection: (@Sendable (QuotesClient, ConnectionEvent) -> Void)?

        public init(onResponse: (@Sendable (QuotesClient, QuotesCompletion) -> Void)? = nil,
                    onQuote: (@Sendable (QuotesClient, Quote) -> Void)? = nil,
                    onHeartbeat: (@Sendable (QuotesClient, Int64) -> Void)? = nil,
                    onError: (@Sendable (QuotesClient, QuotesError) -> Void)? = nil,
                    onConnection: (@Sendable (QuotesClient, ConnectionEvent) -> Void)? = nil) {
            self.onResponse = onResponse
            self.onQuote = onQuote
            self.onHeartbeat = onHeartbeat
            self.onError = onError
            self.onConnection = onConnection
        }
    }

    /// 50 requests/minute, process-wide, failing fast with the limit's name.
    public static let sharedRateLimiter = VenueRateLimiter(
        TokenBucket(name: "quotes: \(QuotesLimits.requestsPerMinute) requests/minute", capacity: Double(QuotesLimits.requestsPerMinute),
                    ratePerSecond: Double(QuotesLimits.requestsPerMinute) / 60), policy: .failFast)

    public let loop: EventLoop
    public let configuration: Configuration
    /// Loop-confined: read it through `latencyStats(for:)`.
    package let latency = LatencyRecorder()
    package let metrics: ClientMetrics
    public let logger: Logger
    private let handlers: Handlers
    private let quoteHub: StreamHub<Quote>
    private let heartbeatHub: StreamHub<Int64>
    private let errorHub: StreamHub<QuotesError>
    private let connectionHub: StreamHub<ConnectionEvent>

    /// Products the stream confirmed (loop thread; `subscriptionCount()`/`subscribedProducts()` from any task).
    package private(set) var subscriptions: Set<String> = []
    private var requested = 0                 // names in subscribe requests still unanswered
    // Loop-confined state read or written on every request carries @exclusivity(unchecked), as in KrakenClient:
    // the runtime's access tracking showed up in the profile (`swift_beginAccess`), and no access to these spans a
    // call that could reach another one.
    @exclusivity(unchecked) package private(set) var supervisor: ConnectionSupervisor!
    private var connection: WebSocketConnection? { supervisor.connection }
    /// Names to subscribe again after a reconnect, sent as the rate limit allows.
    private var toRestore: [String] = []
    private var restoreTimer: Int?
    private let pending: PendingRequests<QuotesRequest, QuotesResponse>
    /// Pending request ids per answer queue (`fifoSlot`), oldest first: the stream's answers name no request.
    @exclusivity(unchecked) private var fifo: [[UInt64]] = [[], [], []]
    /// Busy-poll loops: re-runs the request path in scratch while waiting (see `OrderPathWarmer`).
    @exclusivity(unchecked) private var warmer = OrderPathWarmer<QuotesRequest>()
    /// The loop's idle hook running the warmer, while a connection is open.
    @exclusivity(unchecked) private var idleHandler: Int?

    /// The answers of one async request's parts; resumes its continuation once.
    final class AckGroup {
        var acks: [QuotesAck?]
        let waiter: RequestWaiter<[QuotesAck]>
        init(parts: Int, _ w: RequestWaiter<[QuotesAck]>) { acks = Array(repeating: nil, count: parts); waiter = w }
        func complete(_ i: Int, _ r: Result<QuotesAck, TradeWireError>) {
            switch r {
            case .failure(let e): waiter.resume(throwing: e)
            case .success(let a):
                acks[i] = a
                if acks.allSatisfy({ $0 != nil }) { waiter.resume(returning: acks.map { $0! }) }
            }
        }
    }
    /// The async request being sent: its parts' completions go to it.
    @exclusivity(unchecked) private var pendingGroup: AckGroup?

    public init(loop: EventLoop, configuration: Configuration, handlers: Handlers = Handlers(),
                logger: Logger = Logger(label: "tradewire.quotes")) {
        self.loop = loop
        self.configuration = configuration
        self.handlers = handlers
        self.logger = logger
        let buffer = configuration.streamBufferSize
        quoteHub = StreamHub(defaultBufferSize: buffer)
        heartbeatHub = StreamHub(defaultBufferSize: buffer)
        errorHub = StreamHub(defaultBufferSize: buffer)
        connectionHub = StreamHub(defaultBufferSize: buffer)
        pending = PendingRequests(loop: loop, latency: latency, timeout: configuration.requestTimeout)
        metrics = ClientMetrics(venue: "quotes", recorder: latency, factory: configuration.metricsFactory ?? MetricsSystem.factory)
        pending.metrics = metrics
        pending.onComplete = { [unowned self] id, request, result, latency in settled(id, request, result, latency) }
        let c = configuration
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: c.reconnect, retireAfter: c.requestTimeout,
                                          streams: [quoteHub, heartbeatHub, errorHub, connectionHub]) {
            let token = try await c.bearerTokenProvider?() ?? c.bearerToken
            return WebSocketConfiguration(url: c.url, headers: [("Authorization", "Bearer \(token)")], tls: c.tls)
        }
        // unowned(unsafe): the supervisor belongs to this client and ends with it.
        supervisor.onEvent = { [unowned(unsafe) self] e in
            if case .connected(.reconnected) = e { metrics.reconnected() }
            handlers.onConnection?(self, e)
            connectionHub.yield(e)
        }
    }

    // MARK: connection

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

    /// Quotes of the subscribed products.
    public var quotes: EventStream<Quote> { quoteHub.stream() }
    /// Heartbeat timestamps.
    public var heartbeats: EventStream<Int64> { heartbeatHub.stream() }
    /// Errors the stream sent that answer no pending request.
    public var errors: EventStream<QuotesError> { errorHub.stream() }
    public var connectionEvents: EventStream<ConnectionEvent> { connectionHub.stream() }

    public var isConnected: Bool { supervisor.isConnected }

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard let kind = supervisor.didOpen(c) else { return }
        defer { supervisor.announceOpen() }
        if idleHandler == nil {
            // unowned(unsafe): the open connection holds this client until the close removes the hook.
            idleHandler = loop.addWarmUpHandler(enabled: configuration.warmUpWhileIdle) { [unowned(unsafe) self] in warmUp() }
        }
        if kind != .first { restoreSubscriptions() }
    }

    public func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        guard case .current(let generation) = supervisor.didClose(c, close) else { return }
        pending.failAll(TradeWireError(code: .connectionLost, detail: "connection lost (\(close))"), generation: generation)
        for q in fifo.indices { fifo[q].removeAll(keepingCapacity: true) }
        if configuration.reconnect != nil {
            toRestore = subscriptions.sorted() + toRestore.filter { !subscriptions.contains($0) }
        }
        subscriptions.removeAll()
        if let t = restoreTimer { loop.cancelTimer(t); restoreTimer = nil }
        loop.removeIdleHandler(&idleHandler)
    }

    /// One warm-up pass: the last request encoded again, the last answer decoded again. Nothing is sent.
    private func warmUp() {
        warmer.run(encodeJSON: { r, _, w in QuotesEncoder.encode(r, into: &w) },
                   decode: { bytes in QuotesFastPath.decode(bytes) == nil ? 0 : 1 })    // the general decoder would allocate
    }

    /// Subscribe again to what the lost connection had, 100 names a request, as fast as the rate limit allows.
    private func restoreSubscriptions() {
        restoreTimer = nil
        while !toRestore.isEmpty, connection?.state == .open {
            let chunk = Array(toRestore.prefix(QuotesLimits.namesPerRequest))
            do {
                try send(.subscribe(chunk))
                toRestore.removeFirst(chunk.count)
            } catch where error.code == .rateLimited {
                restoreTimer = loop.schedule(after: .seconds(1)) { [self] in restoreSubscriptions() }
                return
            } catch {
                logger.warning("restoring quote subscriptions failed", metadata: ["error": "\(error)"])
                return
            }
        }
    }

    // MARK: requests (loop thread)

    /// Issue a request. A subscribe or unsubscribe of more than 100 names becomes several requests (their ids are
    /// returned in order). Throws, sending nothing, when the 10,000-subscription cap or the rate limit would be
    /// exceeded.
    @discardableResult
    public func send(_ request: QuotesRequest) throws(TradeWireError) -> QuotesRequestIDs {
        do { return try issue(request) } catch { throw .wrapping(error) }
    }

    private func issue(_ request: QuotesRequest) throws -> QuotesRequestIDs {
        guard loop.inEventLoop else { throw TradeWireError(code: .notOnEventLoop, detail: "QuotesClient.send runs on its loop") }
        if let refused = supervisor.refusal(venue: "quotes") { throw refused }
        switch request {
        case .subscribe(let names), .unsubscribe(let names):
            guard !names.isEmpty else { throw TradeWireError(code: .invalidArgument, detail: "no product names") }
            if case .subscribe = request {
                let new = Set(names).subtracting(subscriptions).count
                if subscriptions.count + requested + new > QuotesLimits.maxSubscriptions {
                    throw TradeWireError(code: .invalidArgument, detail: "MAX_PRODUCT_SUBSCRIPTIONS_REACHED (client side): \(subscriptions.count) subscribed + \(requested) pending + \(new) new > \(QuotesLimits.maxSubscriptions)")
                }
            }
            if names.count > QuotesLimits.namesPerRequest {
                let parts: [QuotesRequest] = stride(from: 0, to: names.count, by: QuotesLimits.namesPerRequest).map {
                    let chunk = Array(names[$0..<min($0 + QuotesLimits.namesPerRequest, names.count)])
                    if case .subscribe = request { return .subscribe(chunk) } else { return .unsubscribe(chunk) }
                }
                try acquire(parts: parts.count)
                var ids: [UInt64] = []
                for (i, p) in parts.enumerated() { ids.append(try sendPart(p, part: i)) }
                return QuotesRequestIDs(ids)
            }
        default:
            break
        }
        try acquire(parts: 1)
        return QuotesRequestIDs(try sendPart(request, part: 0))
    }

    /// All parts pass the rate limit, or none is sent.
    private func acquire(parts: Int) throws {
        guard let limiter = configuration.rateLimiter else { return }
        for i in 0..<parts {
            if let over = limiter.acquire(cost: 1) {
                throw TradeWireError(code: .rateLimited, detail: "over \(over.limit) (\(i) of \(parts) parts would have fit); retry in \(over.retryAfterNs / 1_000_000) ms")
            }
        }
    }

    /// Register, queue for its answer and send one request (one part of a split subscribe); returns its id.
    private func sendPart(_ p: QuotesRequest, part: Int) throws -> UInt64 {
        let id = try pending.register(p, method: p.op.rawValue, generation: supervisor.generation,
                                      waiter: pendingGroup.map { g in { id, result, latency in   // before the frame leaves
                                          g.complete(part, result.map { QuotesAck(requestID: id, response: $0, latency: latency) })
                                      } })
        fifo[Self.fifoSlot(p.op)].append(id)
        if case .subscribe(let n) = p { requested += n.count }
        do {
            let submitted = try connection!.send(.text, capacity: 65_536) { buf in
                var w = JSONWriter(buf)
                QuotesEncoder.encode(p, into: &w)
                return w.overflowed ? 0 : w.count
            }
            pending.markSent(id, submitNs: submitted)
            metrics.sent()
            if idleHandler != nil { warmer.sent(p, id: id) }
        } catch {
            pending.fail(id, error as? TradeWireError ?? TradeWireError(code: .closed, detail: "\(error)"))
        }
        return id
    }

    /// Which answer queue an operation's requests wait in (`unsubscribeAll` is answered by `unsubscribed`).
    private static func fifoSlot(_ op: QuotesOp) -> Int {
        switch op {
        case .subscribe: return 0
        case .unsubscribe, .unsubscribeAll: return 1
        case .ping: return 2
        }
    }

    // MARK: receiving (loop thread)

    public func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text else { return }
        metrics.received()
        let inbound: QuotesInbound
        do { inbound = try QuotesDecoder.decode(message.bytes) } catch {
            logger.warning("undecodable quotes message", metadata: ["error": "\(error)"])
            return
        }
        switch inbound {
        case .quote(let p, let q, let t):
            let quote = Quote(product: p, price: q, timestamp: t)
            handlers.onQuote?(self, quote)
            quoteHub.yield(quote)
        case .heartbeat(let t):
            handlers.onHeartbeat?(self, t)
            heartbeatHub.yield(t)
        case .response(let r):
            let op: QuotesOp
            switch r {
            case .subscribed: op = .subscribe
            case .unsubscribed: op = .unsubscribe
            case .pong: op = .ping
            }
            answer(op, .success(r), at: message.receivedAt)
            if idleHandler != nil { warmer.received(message.bytes) }
        case .error(let e):
            let op: QuotesOp? = e.opRequest.flatMap { $0 == "unsubscribeAll" ? .unsubscribe : QuotesOp(rawValue: $0) }
            if let op, !fifo[Self.fifoSlot(op)].isEmpty {
                answer(op, .failure(.venueRejected(VenueError(venue: "quotes", code: e.code.wireName, message: e.msg))), at: message.receivedAt)
            } else {
                handlers.onError?(self, e)
                errorHub.yield(e)
            }
        }
    }

    /// The oldest pending request of this operation gets the answer.
    private func answer(_ op: QuotesOp, _ result: Result<QuotesResponse, TradeWireError>, at recvNs: UInt64) {
        // Decoded just before this call, from the read that completed the message: one clock read, for answers only.
        let decodeNs = MonotonicClock.nanoseconds() &- recvNs
        let q = Self.fifoSlot(op)
        // Array's own members, not Collection's `first`/`removeFirst` (unspecialized, they allocate in debug builds).
        while !fifo[q].isEmpty {
            let id = fifo[q].remove(at: 0)
            if pending.answer(id, result, receivedAt: recvNs, decodeNs: decodeNs) { return }   // else it already timed out
        }
        logger.debug("answer to no pending request", metadata: ["op": "\(op)"])
    }

    /// Every completion, answered or not: keep the subscription count right, then tell the user.
    private func settled(_ id: UInt64, _ request: QuotesRequest, _ result: Result<QuotesResponse, TradeWireError>, _ latency: RequestLatency) {
        if case .subscribe(let n) = request { requested -= n.count }
        if case .success(let r) = result {
            switch r {
            case .subscribed(_, _, let products): for p in products { subscriptions.insert(p.name) }
            case .unsubscribed(_, _, let names):
                if case .unsubscribeAll = request { subscriptions.removeAll() } else { names.forEach { subscriptions.remove($0) } }
            case .pong: break
            }
        }
        handlers.onResponse?(self, QuotesCompletion(requestID: id, op: request.op, request: request, result: result, latency: latency))
    }

    // MARK: async API (any thread)

    /// Send and await every part's answer (a subscribe over 100 names has several).
    public func request(_ r: QuotesRequest) async throws(TradeWireError) -> [QuotesAck] {
        let parts: Int
        switch r {
        case .subscribe(let n), .unsubscribe(let n): parts = max(1, (n.count + QuotesLimits.namesPerRequest - 1) / QuotesLimits.namesPerRequest)
        default: parts = 1
        }
        return try await loop.awaitTyped { [self] (waiter: RequestWaiter<[QuotesAck]>) in
            let group = AckGroup(parts: parts, waiter)
            pendingGroup = group
            defer { pendingGroup = nil }
            do { _ = try send(r) } catch { group.complete(0, .failure(error as? TradeWireError ?? TradeWireError(code: .closed, detail: "\(error)"))) }
        }
    }

    public func subscribe(_ names: [String]) async throws(TradeWireError) -> [QuotesAck] { try await request(.subscribe(names)) }
    public func unsubscribe(_ names: [String]) async throws(TradeWireError) -> [QuotesAck] { try await request(.unsubscribe(names)) }
    public func unsubscribeAll() async throws(TradeWireError) -> QuotesAck { try await request(.unsubscribeAll)[0] }
    public func ping(_ msg: String) async throws(TradeWireError) -> QuotesAck { try await request(.ping(msg))[0] }

    public func subscriptionCount() async throws(TradeWireError) -> Int { try await loop.submitTyped { [self] in subscriptions.count } }
    /// The products the stream confirmed.
    public func subscribedProducts() async throws(TradeWireError) -> Set<String> { try await loop.submitTyped { [self] in subscriptions } }

    /// Round-trip percentiles of an operation, read on the loop (nil: none completed yet).
    public func latencyStats(for op: QuotesOp) async -> LatencyStats? {
        (try? await loop.submit { [self] in latency.stats(for: op.rawValue) }) ?? nil
    }

    /// Round-trip percentiles of every operation that completed a request.
    public func allLatencyStats() async -> [LatencyStats] {
        (try? await loop.submit { [self] in latency.allStats }) ?? []
    }
}

/// The bearer token is a credential: never printed, dumped or mirrored.
extension QuotesClient.Configuration: CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public var description: String {
        "QuotesClient.Configuration(url: \(url), bearerToken: <redacted>, requestTimeout: \(requestTimeout))"
    }
    public var debugDescription: String { description }
    public var customMirror: Mirror {
        Mirror(self, children: ["url": url, "bearerToken": "<redacted>", "requestTimeout": requestTimeout])
    }
}

/// One quote (`pq`) of a subscribed product.
public struct Quote: Sendable {
    /// The product's name, inline (no allocation).
    public let product: InlineText
    public let price: FixedDecimal
    public let timestamp: Int64
}

/// A completed quotes request, as `Handlers.onResponse` receives it on the loop thread.
public struct QuotesCompletion: Sendable {
    public let requestID: UInt64
    public let op: QuotesOp
    public let request: QuotesRequest
    public let result: Result<QuotesResponse, TradeWireError>
    public let latency: RequestLatency
}

extension QuotesClient: VenueClient {
    public static let venueName = "quotes"
}

extension Venue where Client == QuotesClient {
    /// The quotes stream (seed 002): `TradeWire.create(.quotes, …)` / `TradeWire.client(.quotes)`.
    public static var quotes: Venue<QuotesClient> { Venue() }
}

extension TradeWire {
    /// Create the process's quotes client (once); fetch it anywhere with `TradeWire.client(.quotes)`.
    @discardableResult
    public static func create(_ venue: Venue<QuotesClient>, loop: EventLoop, configuration: QuotesClient.Configuration,
                              handlers: QuotesClient.Handlers = .init()) throws -> QuotesClient {
        let c = QuotesClient(loop: loop, configuration: configuration, handlers: handlers)
        try register(c)
        return c
    }
}
