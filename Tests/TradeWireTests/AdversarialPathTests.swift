import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireGateway
@testable import TradeWireKraken
@testable import TradeWireSimulator

/// The issue's adversary, per order venue: a proxy (`Peers/fault_proxy.py`, an independent process)
/// between the client and the simulator cuts a frame in two, resets, stalls past the stale check (and
/// then delivers the stalled orders to the venue after the client has reconnected), and drips bytes,
/// while orders with unique client ids go out four at a time. Then the books are checked against the
/// venue: every request completed once, every awaited call returned, and every order that is at the
/// venue was reported to the caller as found (acknowledged, or reconciled `.found`/`.foundAfterNotFound`).
@Suite("Outcome certainty: orders through a misbehaving network path", .serialized)
struct AdversarialPathTests {
    /// One venue client wired for the run.
    struct Harness: Sendable {
        /// Place one order with this client id and await it (throws what the client throws).
        let place: @Sendable (String) async throws -> Void
        /// The client ids of the orders the venue has (on the venue's loop).
        let atVenue: @Sendable () throws -> Set<String>
    }

    static let policy = ReconnectPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(200), staleAfter: .milliseconds(400))
    static let timeout = Duration.seconds(2)
    static let settle = Duration.seconds(1)

    static func until(_ seconds: Double, _ cond: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !cond() { if Date() > deadline { return false }; try? await Task.sleep(for: .milliseconds(5)) }
        return true
    }

    @Test(arguments: ["kraken", "binance", "gateway"])
    func everyOrderAtTheVenueIsReportedFound(venue: String) async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let exchange = try ExchangeSimulator(on: serverLoop, gateway: GatewayVenueSimulator(options: .init(ticksPerSecond: 0)))
        let proxy = try PythonPeer(script: "fault_proxy", arguments: ["--upstream-port", "\(exchange.port)", "--seed", "7"])
        func url(_ path: String) -> WebSocketURL { WebSocketURL(secure: false, host: "127.0.0.1", port: proxy.ports[0], target: path) }

        let outcomes = Locked<[UInt64]>([])                      // request ids, one per completion
        let acked = Locked<Set<String>>([])                      // client ids acknowledged
        let unknown = Locked<Set<String>>([])                    // client ids whose outcome was unknown
        let reconciled = Locked<[String: [OrderReconciliation.Finding]]>([:])
        let record = { @Sendable (r: [OrderReconciliation]) in
            reconciled.withLock { for x in r { $0[x.clientOrderID, default: []].append(x.finding) } }
        }
        func note(_ cl: String, _ error: TradeWireError?) {
            guard let error else { acked.withLock { _ = $0.insert(cl) }; return }
            if error.code == .connectionLost || error.code == .requestTimeout { unknown.withLock { _ = $0.insert(cl) } }
        }

        let harness: Harness
        var keepAlive: [AnyObject] = []
        switch venue {
        case "kraken":
            var c = KrakenClient.Configuration(url: url(ExchangeSimulator.krakenPath), token: "t", requestTimeout: Self.timeout,
                                               rateLimiter: nil, reconnect: Self.policy)
            c.unknownOrderSettleWindow = Self.settle
            let client = KrakenClient(loop: loop, configuration: c, handlers: .init(
                onResponse: { _, done in outcomes.withLock { $0.append(done.requestID) } },
                onReconciliation: { _, r in record(r) }))
            try await client.connect()
            keepAlive.append(client)
            let sim = exchange.kraken
            harness = Harness(
                place: { cl in _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "100", clientOrderID: ClientOrderID(cl))) },
                atVenue: { try serverLoop.runSync { Set(sim.orders.compactMap { $0.value.clOrdID }) } })
        case "binance":
            var c = BinanceClient.Configuration(url: url(ExchangeSimulator.binancePath),
                                                credentials: .init(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret")),
                                                requestTimeout: Self.timeout, rateLimiter: nil, reconnect: Self.policy)
            c.unknownOrderSettleWindow = Self.settle
            let client = BinanceClient(loop: loop, configuration: c, handlers: .init(
                onResponse: { _, done in outcomes.withLock { $0.append(done.requestID) } },
                onReconciliation: { _, r in record(r) }))
            try await client.connect()
            keepAlive.append(client)
            let sim = exchange.binance
            harness = Harness(
                place: { cl in _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "10", clientOrderID: ClientOrderID(cl))) },
                atVenue: { try serverLoop.runSync { Set(sim.orders.values.map(\.clientOrderID)) } })
        default:
            var c = GatewayClient.Configuration(url: url(ExchangeSimulator.gatewayPath), requestTimeout: Self.timeout, reconnect: Self.policy)
            c.unknownOrderSettleWindow = Self.settle
            let client = GatewayClient(loop: loop, configuration: c, handlers: .init(
                onResponse: { _, done in outcomes.withLock { $0.append(done.requestID) } },
                onReconciliation: { _, r in record(r) }))
            try await client.connect()
            _ = try await client.ordersSubscribe(account: "16557")
            keepAlive.append(client)
            let sim = exchange.gateway
            harness = Harness(
                place: { cl in _ = try await client.sendOrder(GatewayOrder(symbol: "GGAL", side: .buy, size: "1", price: "10"), clientOrderID: ClientOrderID(cl)!) },
                atVenue: { try serverLoop.runSync { Set(sim.orderOwner.values.map(\.clientOrderID)) } })
        }

        // Four senders, every attempt with a new client id (nothing is ever resent), until 400 orders went out
        // and every fault has happened (a busy machine moves fewer bytes per connection; 5,000 at most).
        let sent = Locked<Int>(0)
        let enough = { @Sendable in sent.withLock { $0 } >= 5000 || (sent.withLock { $0 } >= 400 && proxy.lineCount(prefix: "FAULT") >= 4) }
        await withTaskGroup(of: Void.self) { g in
            for t in 0..<4 {
                g.addTask {
                    var i = 0
                    while !enough() {
                        i += 1
                        let cl = "\(venue.prefix(1))\(t)-\(i)"
                        do {
                            try await harness.place(cl)
                            note(cl, nil)
                        } catch let e as TradeWireError {
                            note(cl, e)
                            if e.code == .closed { try? await Task.sleep(for: .milliseconds(5)) }   // between connections
                        } catch {
                            Issue.record("\(cl): \(error)")
                        }
                        sent.withLock { $0 += 1 }
                    }
                }
            }
        }
        // The faults all happened.
        #expect(proxy.lineCount(prefix: "FAULT") == 4, "faults: \(proxy.allLines(prefix: "FAULT", count: 4, seconds: 1))")
        // Every unknown order gets its final reconciliation.
        #expect(await Self.until(20) {
            let r = reconciled.withLock { $0 }
            return unknown.withLock { $0 }.allSatisfy { r[$0] != nil }
        }, "unsettled: \(unknown.withLock { $0 }.subtracting(reconciled.withLock { Set($0.keys) }))")
        // Late sightings (a `.notFound` corrected) have had time to arrive: the stall's bytes reach the venue
        // 0.25 s after the client gave up.
        try await Task.sleep(for: .milliseconds(500))

        let ids = outcomes.withLock { $0 }
        #expect(Set(ids).count == ids.count, "a request completed twice")
        let atVenue = try harness.atVenue()
        let findings = reconciled.withLock { $0 }
        let found = acked.withLock { $0 }.union(findings.compactMap { cl, f in
            if case .found? = f.last { return cl }
            if case .foundAfterNotFound? = f.last { return cl }
            return nil
        })
        #expect(atVenue.subtracting(found).isEmpty, "at the venue, never reported found: \(atVenue.subtracting(found).sorted())")
        #expect(found.subtracting(atVenue).isEmpty, "reported found, not at the venue: \(found.subtracting(atVenue).sorted())")
        // Each unknown order: one verdict, or `.notFound` then `.foundAfterNotFound`.
        for (cl, f) in findings {
            let ok = f.count == 1 || (f.count == 2 && f[0] == .notFound && { if case .foundAfterNotFound = f[1] { return true }; return false }())
            #expect(ok, "\(cl): \(f)")
        }
        #expect(!unknown.withLock { $0.isEmpty }, "the faults left no order unknown: nothing was tested")
        let verdicts = findings.values.map { f in f.map { "\($0)".prefix { $0 != "(" } }.joined(separator: "+") }
        print("adversarial path, \(venue): \(ids.count) requests completed, \(acked.withLock { $0.count }) acknowledged, "
              + "\(unknown.withLock { $0.count }) unknown -> \(Dictionary(verdicts.map { ($0, 1) }, uniquingKeysWith: +)), \(atVenue.count) at the venue")
        _ = keepAlive
    }
}
