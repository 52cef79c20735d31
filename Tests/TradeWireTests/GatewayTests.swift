import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireGateway
@testable import TradeWireSimulator

@Suite("Broker order gateway", .serialized)
struct GatewayTests {
    func rig() throws -> (EventLoop, EventLoop, WebSocketServer) {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        let venue = GatewayVenueSimulator(options: .init(ticksPerSecond: 100))
        let server = try WebSocketServer.listen(on: serverLoop) { r in
            r.path == "/ws/cotizaciones" ? .accept(venue.handler()) : .reject(status: 404, body: "")
        }
        return (serverLoop, loop, server)
    }

    func client(_ loop: EventLoop, _ server: WebSocketServer, handlers: GatewayClient.Handlers = .init()) -> GatewayClient {
        GatewayClient(loop: loop, configuration: .init(url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/ws/cotizaciones")),
                      handlers: handlers)
    }

    @Test func subscribeSendOrderAckAndReportsInBothShapes() async throws {
        let (serverLoop, loop, server) = try rig()
        defer { loop.shutdown(); serverLoop.shutdown() }
        let reports = Locked<[GatewayOrderReport]>([])
        let ticks = Locked(0)
        let maker = client(loop, server), taker = client(loop, server, handlers: .init(
            onReport: { _, r in reports.withLock { $0.append(r) } },
            onTick: { _, _ in ticks.withLock { $0 += 1 } }))
        try await maker.connect()
        try await taker.connect()
        _ = try await maker.ordersSubscribe(account: "16557")
        let sub = try await taker.ordersSubscribe(account: "16558")
        guard case .ordersSubscribed(let account, let ok) = sub.response else { Issue.record("not subscribed"); return }
        #expect(account == "16558" && ok)
        _ = try await maker.sendOrder(GatewayOrder(symbol: "GGAL", side: .sell, size: "100", price: "1500.0"), clientOrderID: ClientOrderID("MAKER_1")!)
        let ack = try await taker.sendOrder(GatewayOrder(symbol: "GGAL", side: .buy, size: "100", price: "1501"), clientOrderID: ClientOrderID("MI_ORDEN_001")!)
        guard case .orderAck(let a) = ack.response else { Issue.record("not an ack"); return }
        #expect(a.ok && a.orderID != nil)
        #expect(ack.latency.nanoseconds > 0)
        let deadline = Date().addingTimeInterval(10)
        while reports.withLock({ $0.count }) < 2 && Date() < deadline { usleep(1000) }
        let r = reports.withLock { $0 }
        #expect(r.first?.status == .new && r.first?.clientOrderID == "MI_ORDEN_001" && r.first?.rawPrimaryShape == false)
        #expect(r.last?.status == .filled && r.last?.rawPrimaryShape == true)
        #expect(r.last?.clientOrderID == "MI_ORDEN_001")     // carried over: the raw report has only orderID
        #expect(r.last?.lastPrice == FixedDecimal("1500.0"))
        try await taker.subscribe(instruments: ["GGAL"])
        while ticks.withLock({ $0 }) == 0 && Date() < deadline { usleep(1000) }
        #expect(ticks.withLock { $0 } > 0)
        _ = try await taker.ping()
        #expect(await taker.latencyStats(for: .sendOrder)?.count == 1)
    }

    @Test func refusalsAreTypedAndCompleteTheRequest() async throws {
        let (serverLoop, loop, server) = try rig()
        defer { loop.shutdown(); serverLoop.shutdown() }
        let c = client(loop, server)
        try await c.connect()
        await #expect { _ = try await c.sendOrder(GatewayOrder(symbol: "", side: .buy, size: "1", price: "1"), clientOrderID: ClientOrderID("X1")!) } throws: { e in
            (e as? TradeWireError)?.code == .venueRejected && (e as? TradeWireError)?.venueError?.message == "invalid order"
        }
        await #expect { _ = try await c.ordersSubscribe(account: "") } throws: { ($0 as? TradeWireError)?.code == .invalidArgument }
        await #expect { _ = try await c.sendOrder(GatewayOrder(symbol: "GGAL", side: .buy, size: "1", price: nil), clientOrderID: ClientOrderID("X2")!) } throws: { ($0 as? TradeWireError)?.code == .invalidArgument }
    }

    @Test func aStatusThisVersionDoesNotKnowStillDeliversTheReport() throws {
        let b = Array(#"{"type":"order_report","report":{"orderId":"1","status":"SOMETHING"}}"#.utf8)
        guard case .orderReport(let r) = try b.withUnsafeBytes({ try GatewayDecoder.decode($0) }) else { Issue.record("not a report"); return }
        #expect(r.status == .unknown("SOMETHING") && r.status.rawValue == "SOMETHING" && r.orderID == "1")
    }

    @Test(arguments: [
        #"{"type":"order_report"}"#, #"{"type":"order_ack"}"#, #"{"type":"tick"}"#, #"{"type":"zzz"}"#, #"{"t":1}"#, "[",
    ])
    func badGatewayInputIsATypedError(_ text: String) {
        let b = Array(text.utf8)
        #expect { _ = try b.withUnsafeBytes { try GatewayDecoder.decode($0) } } throws: { ($0 as? TradeWireError)?.code == .malformedResponse }
    }

    @Test func decodesTheRawPrimaryReport() throws {
        let text = #"{"type": "or", "orderReport": {"orderId": "1128056", "clOrdId": "user14545967430231", "proprietary": "api", "execId": "160127155448-fix1-1368", "accountId": {"id": "30"}, "instrumentId": {"marketId": "ROFX", "symbol": "DODic21"}, "price": 18.000, "orderQty": 10, "ordType": "LIMIT", "side": "BUY", "timeInForce": "DAY", "transactTime": "20160204-11:41:54", "avgPx": 0, "lastPx": 0, "lastQty": 0, "cumQty": 0, "leavesQty": 10, "status": "CANCELLED", "text": "Reemplazada"}}"#
        let b = Array(text.utf8)
        guard case .orderReport(let r) = try b.withUnsafeBytes({ try GatewayDecoder.decode($0) }) else { Issue.record("not a report"); return }
        #expect(r.status == .cancelled && r.clientOrderID == "user14545967430231" && r.symbol == "DODic21" && r.text == "Reemplazada")
        #expect(r.price == FixedDecimal("18"))
    }
}
