import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireGateway
@testable import TradeWireSimulator
#if canImport(Glibc)
import Glibc
#endif

/// Reconnects, planned replacement and reconciliation on the Binance and gateway clients.
@Suite("Reconnect and reconciliation per venue", .serialized)
struct ReconnectVenueTests {
    static let quick = ReconnectPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(200))

    static func until(_ seconds: Double = 15, _ cond: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !cond() { if Date() > deadline { return false }; try? await Task.sleep(for: .milliseconds(2)) }
        return true
    }

    func binanceClient(_ exchange: ExchangeSimulator, loop: EventLoop, timeout: Duration = .seconds(5),
                       handlers: BinanceClient.Handlers = .init()) -> BinanceClient {
        BinanceClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath),
            credentials: .init(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret")), requestTimeout: timeout,
            rateLimiter: nil, reconnect: Self.quick), handlers: handlers)
    }

    /// `serverShutdown`: a second connection opens first, new requests go out on it, and the old one is
    /// retired after its requests had time to finish. Nothing completes with connectionLost.
    @Test func binanceServerShutdownIsAPlannedReplacement() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let exchange = try ExchangeSimulator(on: serverLoop)
        let events = Locked<[ConnectionEvent]>([])
        let outcomes = Locked<[Result<BinanceResponse, TradeWireError>]>([])
        let client = binanceClient(exchange, loop: loop, timeout: .milliseconds(500), handlers: .init(
            onResponse: { _, done in outcomes.withLock { $0.append(done.result) } },
            onConnection: { _, e in events.withLock { $0.append(e) } }))
        try await client.connect()
        _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "10", clientOrderID: ClientOrderID("before")))
        let venue = exchange.binance
        try serverLoop.runSync { venue.announceShutdown() }
        #expect(await Self.until { events.withLock { $0.contains { if case .connected(.replacement) = $0 { return true }; return false } } })
        #expect(client.supervisor.generation == 2)
        let after = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "10", clientOrderID: ClientOrderID("after")))
        #expect(after.response.status == 200)
        // The old connection goes once its grace period (the request timeout) is over.
        #expect(await Self.until { (try? serverLoop.runSync { venue.sessions.count }) == 1 })
        #expect(client.isConnected)
        #expect(outcomes.withLock { $0.count } == 2)
        #expect(outcomes.withLock { $0.allSatisfy { if case .success = $0 { return true }; return false } })
        #expect(events.withLock { $0.contains { if case .replacing(let why) = $0 { return why.contains("serverShutdown") }; return false } })
    }

    /// An order whose answer is lost: connectionLost (never resent), then after the reconnect
    /// `openOrders.status` shows it at the venue.
    @Test func binanceLostOrderIsReconciledFromOpenOrders() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        // Message 1 answers the ping, message 2 (the order's answer) is cut in half.
        let exchange = try ExchangeSimulator(on: serverLoop, fault: .init(mode: .dropMidFrame, atMessage: 2))
        let found = Locked<[OrderReconciliation]>([])
        let client = binanceClient(exchange, loop: loop, handlers: .init(onReconciliation: { _, r in found.withLock { $0 += r } }))
        try await client.connect()
        _ = try await client.ping()
        await #expect { _ = try await client.placeOrder(.limit("BTCUSDT", .sell, quantity: "2", price: "99", clientOrderID: ClientOrderID("lost-b"))) }
            throws: { ($0 as? TradeWireError)?.code == .connectionLost }
        #expect(await Self.until { !found.withLock { $0.isEmpty } })
        let r = found.withLock { $0 }
        #expect(r.map(\.clientOrderID) == ["lost-b"])
        if case .found(_, let status)? = r.first?.finding { #expect(status == "NEW") } else { Issue.record("\(r)") }
        let venue = exchange.binance
        #expect(try serverLoop.runSync { venue.orders.values.filter { $0.clientOrderID == "lost-b" }.count } == 1)   // placed once, never resent
    }

    /// Gateway: orders_subscribe is restored on the new connection; its snapshot settles the lost order,
    /// and later reports reach the new connection.
    @Test func gatewayLostOrderIsReconciledFromTheSubscribeSnapshot() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        // 1: greeting, 2: orders_subscribed, 3: the order's ack (cut).
        let exchange = try ExchangeSimulator(on: serverLoop, gateway: GatewayVenueSimulator(options: .init(ticksPerSecond: 0)),
                                             fault: .init(mode: .dropMidFrame, atMessage: 3))
        let found = Locked<[OrderReconciliation]>([])
        let reports = Locked<[GatewayOrderReport]>([])
        let client = GatewayClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.gatewayPath),
            reconnect: Self.quick), handlers: .init(
            onReport: { _, r in reports.withLock { $0.append(r) } },
            onReconciliation: { _, r in found.withLock { $0 += r } }))
        try await client.connect()
        _ = try await client.ordersSubscribe(account: "16557")
        let order = GatewayOrder(symbol: "GGAL", side: .buy, size: "10", price: "1500")
        await #expect { _ = try await client.sendOrder(order, clientOrderID: ClientOrderID("lost-g")!) } throws: {
            ($0 as? TradeWireError)?.code == .connectionLost
        }
        #expect(await Self.until { !found.withLock { $0.isEmpty } })
        let r = found.withLock { $0 }
        #expect(r.map(\.clientOrderID) == ["lost-g"])
        if case .found = r.first?.finding {} else { Issue.record("\(r)") }
        // A crossing order fills the lost one: its report reaches the new connection.
        _ = try await client.sendOrder(GatewayOrder(symbol: "GGAL", side: .sell, size: "10", price: "1500"), clientOrderID: ClientOrderID("cross")!)
        #expect(await Self.until { reports.withLock { $0.contains { $0.clientOrderID == "lost-g" && "\($0.status)".lowercased().contains("fill") } } })
    }
}
