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
        public init(url: WebSocketURL, credentials: BinanceCredentials? = nil, tls: TLSConfiguration = .default,
                    requestTimeout: Duration = .seconds(10), rateLimiter: VenueRateLimiter? = BinanceClient.sharedRateLimiter) {
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
    /// The server announced a shutdown: plan a reconnect.
    public var onServerShutdown: ((Int64?) -> Void)?
    public private(set) var loggedOn = false

    private var connection: WebSocketConnection?
    private let pending: PendingRequests<BinanceRequest, BinanceResponse>
    private let opener = ConnectWaiter()

    public init(loop: EventLoop, configuration: Configuration) {
        self.loop = loop
        self.configuration = configuration
        pending = PendingRequests(loop: loop, latency: latency, timeout: configuration.requestTimeout)
    }

    public func connect() async throws {
        try await opener.connect(on: loop, configuration: .init(url: configuration.url, tls: configuration.tls), handler: self) { [self] c in connection = c }
    }

    public func close() { loop.execute { [self] in try? connection?.close() } }

    public func webSocketDidOpen(_ c: WebSocketConnection) { opener.opened() }

    public func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        connection = nil
        loggedOn = false
        opener.closed(close)
        pending.failAll(TradeWireError(code: .connectionLost, detail: "connection lost (\(close)); an order's outcome is unknown"))
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
        let id = try pending.register(request, method: request.method)
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
            if case .success = result, case .sessionLogon = request { loggedOn = true }
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
