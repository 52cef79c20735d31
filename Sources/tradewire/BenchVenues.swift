import CTradeWireFloor
import Foundation
import TradeWire
import TradeWireBinance
import TradeWireGateway
import TradeWireKraken
import TradeWireQuotes
import TradeWireSimulator

/// What `tradewire bench` measures, one venue at a time: its client's order round trip (for the quotes stream,
/// which takes no orders, its `ping`), against raw floors that send the same requests, encoded (and signed) as
/// the client encodes them.
enum BenchVenue: String, CaseIterable {
    case kraken, binance, binanceSBE = "binance-sbe", gateway, quotes, echo

    /// The embedded simulator's endpoint for the venue.
    var path: String {
        switch self {
        case .kraken: return ExchangeSimulator.krakenPath
        case .binance: return ExchangeSimulator.binancePath
        // The floors ask for SBE answers in the URL, as the client does (its configuration adds the query).
        case .binanceSBE: return ExchangeSimulator.binancePath + "?" + BinanceSBEAnswers.urlQuery
        case .gateway: return ExchangeSimulator.gatewayPath
        case .quotes: return ExchangeSimulator.quotesPath
        case .echo: return "/"
        }
    }

    /// Payloads that begin with this are the venue's unsolicited pushes: a raw floor skips them while it waits
    /// for its answer (or it would take one for its answer and run one message behind).
    var push: String? {
        switch self {
        case .kraken: return #"{"channel":"#       // status on connect, heartbeats
        case .quotes: return #"{"op":"hb""#        // heartbeats
        case .binance, .binanceSBE, .gateway, .echo: return nil // nothing unasked on a connection with no subscription
        }
    }
}

/// What the bench drives, whatever the venue: round trips in chunks, on the client's loop thread.
protocol RoundTripRunner: AnyObject {
    var chunkDone: Completion { get }
    var errors: Int { get }
    var lastError: String? { get }
    var samples: [UInt64] { get }
    var userSamples: [UInt64] { get }
    /// On the loop thread: n round trips, one after the other, recorded unless warming up.
    func start(_ n: Int, record: Bool)
}

extension VenueRoundTrips: RoundTripRunner {}

/// One venue's client, connected, with what its floors send.
struct BenchSubject {
    let runner: any RoundTripRunner
    /// Kept alive for the run (the runner's handlers point at it unowned).
    let client: AnyObject
    /// One round trip, for the report.
    let what: String
    /// The floors' requests for their next n round trips; floor 0 is the blocking one, 1 the spinning one, 2 the epoll one (their
    /// client order ids differ from each other's and from the client's). Called between chunks, off the clock.
    let floorPayloads: (_ floor: Int, _ n: Int) -> [[UInt8]]
    /// Whether each chunk needs fresh floor payloads (ids a venue refuses twice, signed timestamps that age).
    let freshPerChunk: Bool
    /// Binance: the signer's time per order on what the client signs, and the whole request's encode with it.
    var signP50Ns: Double? = nil
    var encodeP50Ns: Double? = nil
    /// Binance SBE: the answer's decode (a `WebSocketResponse` around a `NewOrderAckResponse`), p50.
    var sbeDecodeP50Ns: Double? = nil

    /// The client's own record of read -> answer decoded for the bench's request, read on its loop.
    func decodeStats(on loop: EventLoop) throws -> LatencyStats? {
        switch client {
        case let c as KrakenClient: try loop.runSync { c.latency.decodeStats(for: KrakenMethod.addOrder.rawValue) }
        case let c as BinanceClient: try loop.runSync { c.latency.decodeStats(for: BinanceMethod.orderPlace.rawValue) }
        case let c as GatewayClient: try loop.runSync { c.latency.decodeStats(for: GatewayMethod.sendOrder.rawValue) }
        case let c as QuotesClient: try loop.runSync { c.latency.decodeStats(for: QuotesOp.ping.rawValue) }
        default: nil
        }
    }
}

/// The n-th client order id of a sender: a tag and a fixed-width count, so every sender's requests are the same
/// size and no id is used twice (the gateway refuses a reused clOrdId).
func benchClientOrderID(_ tag: String, _ n: Int) -> ClientOrderID {
    let digits = String(n)
    return ClientOrderID(tag + String(repeating: "0", count: max(0, 8 - digits.count)) + digits)!
}

/// Buy and sell in turn at one price, so the venue's book stays flat over a run.
func benchSide(_ n: Int) -> Side { n % 2 == 0 ? .buy : .sell }

/// A venue client's completion, as the driver reads it.
protocol BenchCompletion: Sendable {
    var requestID: UInt64 { get }
    var latency: RequestLatency { get }
    var failure: (any Error)? { get }
}
extension KrakenCompletion: BenchCompletion { var failure: (any Error)? { if case .failure(let e) = result { e } else { nil } } }
extension BinanceCompletion: BenchCompletion { var failure: (any Error)? { if case .failure(let e) = result { e } else { nil } } }
extension GatewayCompletion: BenchCompletion { var failure: (any Error)? { if case .failure(let e) = result { e } else { nil } } }
extension QuotesCompletion: BenchCompletion { var failure: (any Error)? { if case .failure(let e) = result { e } else { nil } } }

extension VenueRoundTrips {
    /// The client's `onResponse`: every completion to `completed`.
    ///
    /// Not `[weak self]`: a weak reference moves an object's counts to a side table, and every retain of the
    /// driver in the timed callback would take the slow path (seen in perf). `unowned(unsafe)`: the caller stops
    /// the loop before the driver goes, and the timed callback skips the unowned check.
    func completionHandler<Client, C: BenchCompletion>() -> @Sendable (Client, C) -> Void {
        { [unowned(unsafe) self] _, c in completed(c.requestID, wireNanoseconds: c.latency.nanoseconds, failure: c.failure) }
    }

    /// The client's `onConnection`: a lost connection fails the chunk in progress.
    func connectionHandler<Client>() -> @Sendable (Client, ConnectionEvent) -> Void {
        { [unowned(unsafe) self] _, event in if case .disconnected(let close, _) = event { lost("\(close)") } }
    }
}

private func encoded(capacity: Int = 4096, _ body: (inout JSONWriter) throws -> Void) rethrows -> [UInt8] {
    var buf = [UInt8](repeating: 0, count: capacity)
    let n = try buf.withUnsafeMutableBytes { b -> Int in
        var w = JSONWriter(b)
        try body(&w)
        return w.count
    }
    return Array(buf[..<n])
}

extension VenueRoundTrips where Request == KrakenRequest {
    /// A driver and its Kraken client, cycling through `requests`.
    static func kraken(loop: EventLoop, configuration: KrakenClient.Configuration, requests: [KrakenRequest],
                       capacity: Int) -> (VenueRoundTrips, KrakenClient) {
        let driver = VenueRoundTrips(capacity: capacity) { requests[$0 % requests.count] }
        let client = KrakenClient(loop: loop, configuration: configuration, handlers: .init(
                onResponse: driver.completionHandler(), onConnection: driver.connectionHandler()))
        driver.send = { [unowned(unsafe) client] r in try client.send(r) }
        return (driver, client)
    }

    /// The request the bench sends, as the floors send it.
    static let benchOrder = KrakenRequest.addOrder(KrakenAddOrder(Order.limit("BTC/USD", .buy, quantity: "1.25", price: "26500.4")))
}

extension BenchSubject {
    /// Connects the venue's client on `loop` and readies what its floors send.
    static func make(_ venue: BenchVenue, loop: EventLoop, url: WebSocketURL, tls: TLSConfiguration, token: String?,
                     warmUpWhileIdle: Bool, capacity: Int) throws -> BenchSubject {
        switch venue {
        case .kraken:
            var kc = KrakenClient.Configuration(url: url, token: token, tls: tls, rateLimiter: nil)
            kc.warmUpWhileIdle = warmUpWhileIdle
            let (driver, client) = VenueRoundTrips.kraken(loop: loop, configuration: kc, requests: [VenueRoundTrips.benchOrder],
                                                         capacity: capacity)
            try connect(url) { try await client.connect() }
            // The same bytes every time: Kraken takes a repeated req_id.
            let payload = encoded { KrakenEncoder.encode(VenueRoundTrips.benchOrder, id: 1, token: nil, into: &$0) }
            return BenchSubject(runner: driver, client: client, what: "Kraken add_order (\(payload.count) B request)",
                                floorPayloads: { _, _ in [payload] }, freshPerChunk: false)

        case .binance, .binanceSBE:
            let sbe = venue == .binanceSBE
            let credentials = BinanceCredentials(apiKey: BenchSimulator.binanceAPIKey, key: .hmac(secret: BenchSimulator.binanceSecret))
            func order(_ tag: String, _ n: Int) -> BinanceRequest {
                .orderPlace(BinanceOrder(symbol: "BTCUSDT", side: benchSide(n), type: .limit, quantity: "0.01000000",
                                         price: "26500.00", timeInForce: .gtc, newClientOrderID: benchClientOrderID(tag, n),
                                         responseType: .ack))
            }
            let driver = VenueRoundTrips<BinanceRequest>(capacity: capacity) { order("TW", $0) }
            var configuration = BinanceClient.Configuration(url: url, credentials: credentials, tls: tls, rateLimiter: nil)
            configuration.warmUpWhileIdle = warmUpWhileIdle
            if sbe {
                configuration.url.target = ExchangeSimulator.binancePath        // the client adds the SBE query itself
                configuration.responseFormat = .sbe
            }
            let client = BinanceClient(loop: loop, configuration: configuration,
                                       handlers: .init(
                onResponse: driver.completionHandler(), onConnection: driver.connectionHandler()))
            driver.send = { [unowned(unsafe) client] r in try client.send(r) }
            try connect(url) { try await client.connect() }
            // Pre-signed with the same key, prepared once as the client prepares it, timestamped when loaded (a
            // chunk is well inside the venue's 5 s recvWindow). Request ids as the client writes them.
            let signer = try RequestSigner(hmacSHA256: BenchSimulator.binanceSecret)
            var sent = [0, 0, 0]
            let payloads: (Int, Int) -> [[UInt8]] = { floor, n in
                let now = Int64(Date().timeIntervalSince1970 * 1000)
                return (0..<n).map { _ in
                    defer { sent[floor] += 1 }
                    return try! encoded { w in
                        try BinanceEncoder.encode(order("F\(floor)", sent[floor]), id: "tw-\(sent[floor] + 1)", credentials: credentials,
                                                  loggedOn: false, timestampMs: now, signer: signer, into: &w)
                    }
                }
            }
            let sample = payloads(0, 1)[0]
            sent[0] = 0
            var subject = BenchSubject(runner: driver, client: client,
                                       what: "Binance order.place, HMAC-signed (\(sample.count) B request)\(sbe ? ", answered in SBE" : "")",
                                       floorPayloads: payloads, freshPerChunk: true)
            (subject.signP50Ns, subject.encodeP50Ns) = try signingCost(order("TW", 0), credentials: credentials, signer: signer)
            if sbe { subject.sbeDecodeP50Ns = sbeDecodeCost() }
            return subject

        case .gateway:
            func order(_ tag: String, _ n: Int) -> GatewayRequest {
                .sendOrder(clientOrderID: benchClientOrderID(tag, n),
                           order: GatewayOrder(symbol: "GGAL", side: benchSide(n), size: "100", price: "1500.0"))
            }
            let driver = VenueRoundTrips<GatewayRequest>(capacity: capacity) { order("TW", $0) }
            var configuration = GatewayClient.Configuration(url: url, tls: tls)
            configuration.warmUpWhileIdle = warmUpWhileIdle
            let client = GatewayClient(loop: loop, configuration: configuration, handlers: .init(
                onResponse: driver.completionHandler(), onConnection: driver.connectionHandler()))
            driver.send = { [unowned(unsafe) client] r in try client.send(r) }
            try connect(url) { try await client.connect() }
            var sent = [0, 0, 0]
            let payloads: (Int, Int) -> [[UInt8]] = { floor, n in
                (0..<n).map { _ in
                    defer { sent[floor] += 1 }
                    return encoded { GatewayEncoder.encode(order("F\(floor)", sent[floor]), into: &$0) }
                }
            }
            let size = encoded { GatewayEncoder.encode(order("TW", 0), into: &$0) }.count
            return BenchSubject(runner: driver, client: client, what: "gateway send_order (\(size) B request)",
                                floorPayloads: payloads, freshPerChunk: true)

        case .quotes:
            let ping = QuotesRequest.ping("1234")
            let driver = VenueRoundTrips<QuotesRequest>(capacity: capacity) { _ in ping }
            var configuration = QuotesClient.Configuration(url: url, bearerToken: BenchSimulator.quotesBearer, tls: tls, rateLimiter: nil)
            configuration.warmUpWhileIdle = warmUpWhileIdle
            let client = QuotesClient(loop: loop, configuration: configuration, handlers: .init(
                onResponse: driver.completionHandler(), onConnection: driver.connectionHandler()))
            driver.send = { [unowned(unsafe) client] r in try client.send(r)[0] }   // a ping is one request
            try connect(url) { try await client.connect() }
            let payload = encoded { QuotesEncoder.encode(ping, into: &$0) }
            return BenchSubject(runner: driver, client: client, what: "quotes ping (\(payload.count) B request)",
                                floorPayloads: { _, _ in [payload] }, freshPerChunk: false)

        case .echo:
            preconditionFailure("echo runs on a bare WebSocketConnection (EchoRoundTrips)")
        }
    }

    private static func connect(_ url: WebSocketURL, _ body: @escaping @Sendable () async throws -> Void) throws {
        do { try blockingAwait(body) } catch { throw BenchFailure("could not connect to \(url): \(error)") }
    }

    /// The SBE answer's decode, p50 over 20,000 tries (each timed over 100 decodes): the simulator's ACK for an
    /// order like the bench's, with its three rate limits, its result kept in recycled storage as the client keeps it.
    static func sbeDecodeCost() -> Double {
        let frame = BinanceSBEAnswerEncoder.orderAckResponse(id: "tw-1", orderID: 12_569_099_453, transactTimeUs: 1_736_899_200_123_456,
                                                              symbol: "BTCUSDT", clientOrderID: "TW00000001", ordersPerDay: 160_000)
        var times: [Double] = []
        times.reserveCapacity(20_000)
        var sink = 0
        var recycler = ByteRecycler()
        frame.withUnsafeBytes { b in
            for _ in 0..<20_000 {
                let t0 = MonotonicClock.nanoseconds()
                for _ in 0..<100 { if let r = try? BinanceSBEAnswers.decode(b, recycling: &recycler) { sink &+= Int(r.orderID ?? 0) } }
                times.append(Double(MonotonicClock.nanoseconds() - t0) / 100)
            }
        }
        precondition(sink != 0)
        times.sort()
        return times[times.count / 2]
    }

    /// Binance's signing cost per order, p50 over 20,000 tries: the signer alone on the text the client signs,
    /// and the whole request's encode (params, signing text, signature, JSON) as the client does it, into reused
    /// storage.
    static func signingCost(_ r: BinanceRequest, credentials: BinanceCredentials, signer: RequestSigner) throws -> (Double, Double) {
        let text = try BinanceEncoder.signedText(r, apiKey: credentials.apiKey, timestampMs: 1_700_000_000_000)
        var sign = [UInt64](), encode = [UInt64]()
        sign.reserveCapacity(20_000)
        encode.reserveCapacity(20_000)
        var buf = [UInt8](repeating: 0, count: 4096)
        let params = BinanceParams()            // reused, as the client reuses its own
        let id: StaticString = "tw-1"
        let message = Array(text.utf8)
        for _ in 0..<20_000 {
            let t0 = twf_now_ns()
            try message.withUnsafeBytes { m in try signer.sign(m) { _ in } }
            let t1 = twf_now_ns()
            try buf.withUnsafeMutableBytes { b in
                var w = JSONWriter(b)
                try BinanceEncoder.encode(r, id: UnsafeRawBufferPointer(start: id.utf8Start, count: id.utf8CodeUnitCount), params: params,
                                          credentials: credentials, loggedOn: false, timestampMs: 1_700_000_000_000, signer: signer, into: &w)
            }
            let t2 = twf_now_ns()
            sign.append(t1 - t0)
            encode.append(t2 - t1)
        }
        return (LatencySummary(sign).p50 * 1000, LatencySummary(encode).p50 * 1000)
    }
}

/// The embedded simulator the bench runs against: every venue's dialect on one server, with Binance's order-count
/// limits off (a bench places far more than 50 orders per 10 s).
enum BenchSimulator {
    static let binanceAPIKey = "demo-api-key"
    static let binanceSecret = "demo-api-secret"
    static let quotesBearer = "demo-bearer"

    static func start(on loop: EventLoop, tls: WebSocketServer.TLS?, ackDelayUs: Int, bookRate: Int) throws -> ExchangeSimulator {
        let kraken = KrakenVenueSimulator(options: .init(ackDelay: .microseconds(ackDelayUs)))
        if bookRate > 0 { kraken.bookFlow = KrakenBookFlow(perSecond: bookRate) }
        let binance = BinanceVenueSimulator(options: .init(apiKey: binanceAPIKey, apiSecret: binanceSecret, ordersPer10s: nil,
                                                           ordersPerDay: 100_000_000))
        return try ExchangeSimulator(on: loop, tls: tls, kraken: kraken, binance: binance)
    }
}
