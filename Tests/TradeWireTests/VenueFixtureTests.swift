import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireGateway
@testable import TradeWireKraken
@testable import TradeWireQuotes

func fixture(_ venue: String, _ name: String) throws -> [UInt8] {
    let path = Bundle.module.resourcePath! + "/Fixtures/\(venue)/\(name)"
    guard let d = FileManager.default.contents(atPath: path) else { throw PeerError("missing fixture \(venue)/\(name)") }
    return Array(d)
}

/// Semantic JSON equality (key order and number spelling aside).
func sameJSON(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard let x = try? JSONSerialization.jsonObject(with: Data(a)), let y = try? JSONSerialization.jsonObject(with: Data(b)) else { return false }
    return foundationEqual(x, y)
}

/// Foundation value against Foundation value (`sameShape` compares our reader's values with Foundation's).
func foundationEqual(_ a: Any, _ b: Any) -> Bool {
    switch (a, b) {
    case let (x as [String: Any], y as [String: Any]):
        return x.count == y.count && x.allSatisfy { k, v in y[k].map { foundationEqual(v, $0) } ?? false }
    case let (x as [Any], y as [Any]):
        return x.count == y.count && zip(x, y).allSatisfy { foundationEqual($0, $1) }
    case let (x as String, y as String): return x == y
    case let (x as NSNumber, y as NSNumber): return isBoolean(x) == isBoolean(y) && x.doubleValue == y.doubleValue
    case (is NSNull, is NSNull): return true
    default: return false
    }
}

func written(_ body: (inout JSONWriter) throws -> Void) rethrows -> [UInt8] {
    var buf = [UInt8](repeating: 0, count: 4096)
    let n = try buf.withUnsafeMutableBytes { b -> Int in
        var w = JSONWriter(b)
        try body(&w)
        return w.count
    }
    return Array(buf[..<n])
}

@Suite("Venue fixtures: the documented messages, encoded and decoded")
struct VenueFixtureTests {
    // MARK: Kraken

    @Test func krakenRequestsEncodeToTheDocumentedMessages() throws {
        let add = KrakenAddOrder(Order(symbol: "BTC/USD", side: .buy, type: .limit, quantity: "1.2", limitPrice: "26500.4"), orderUserref: 100054)
        #expect(sameJSON(written { KrakenEncoder.encode(.addOrder(add), id: 123456789, token: "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY", into: &$0) },
                         try fixture("kraken", "ws_add_order_request.json")))
        #expect(sameJSON(written { KrakenEncoder.encode(.cancelOrder(.orderIDs(["OK4GZK-XOTOY-U4C4X5"])), id: 3, token: "tok", into: &$0) },
                         try fixture("kraken", "ws_cancel_order_request.json")))
        let amend = KrakenAmendOrder(.clientOrderID(ClientOrderID("2c6be801-1f53-4f79-a0bb-4ea1c95dfae9")!), quantity: "1.2", limitPrice: "490795", postOnly: true)
        #expect(sameJSON(written { KrakenEncoder.encode(.amendOrder(amend), id: 7, token: "tok", into: &$0) },
                         try fixture("kraken", "ws_amend_order_request.json")))
        let batch: KrakenRequest = .batchAdd(symbol: "BTC/USD", orders: [
            KrakenAddOrder(Order(symbol: "BTC/USD", side: .buy, type: .limit, quantity: "0.123456789", limitPrice: "1010.10"), orderUserref: 1),
            KrakenAddOrder(Order(symbol: "BTC/USD", side: .sell, type: .limit, quantity: "0.987654321", limitPrice: "2020.20"), orderUserref: 2),
        ], validate: false)
        #expect(sameJSON(written { KrakenEncoder.encode(batch, id: 1234567890, token: "tok", into: &$0) },
                         try fixture("kraken", "ws_batch_add_request.json")))
    }

    @Test func krakenResponsesAndPushesDecode() throws {
        func d(_ n: String) throws -> KrakenInbound { try fixture("kraken", n).withUnsafeBytes { try KrakenDecoder.decode($0) } }
        guard case .response(let ok) = try d("ws_add_order_response.json"), case .response(let err) = try d("ws_add_order_error.json"),
              case .response(let cancel) = try d("ws_cancel_order_response.json"), case .response(let all) = try d("ws_cancel_all_response.json"),
              case .response(let batch) = try d("ws_batch_add_response.json"),
              case .push(.executions(let x)) = try d("ws_executions_fill.json"), case .push(.status(let system, _)) = try d("ws_status.json"),
              case .push(.pong(let pongID)) = try d("ws_ping_response.json") else {
            Issue.record("a fixture decoded to the wrong kind"); return
        }
        #expect(ok.success && ok.orderID?.description == "AA5JGQ-SBMRC-SCJ7J7" && ok.orderUserref == 100054)
        #expect(!err.success && err.error?.description == "EOrder:Insufficient funds")
        #expect(cancel.orderID?.description == "OK4GZK-XOTOY-U4C4X5")
        #expect(all.count == 5)
        #expect(batch.orders?.map { $0.orderUserref } == [1, 2])
        let fill = try #require(x.reports.first)
        #expect(x.sequence == 12 && fill.execType == .trade && fill.orderStatus == .filled && fill.isMaker == true)
        #expect(fill.lastQty == FixedDecimal("0.00008528") && fill.lastPrice == FixedDecimal("85.16") && fill.tradeID == 1241209)
        #expect(system.description == "online")
        #expect(pongID == 101)
    }

    // MARK: Binance

    @Test func binanceOrderPlaceEncodesToTheSignedVector() throws {
        let order = BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "0.01000000", price: "52000.00",
                                 timeInForce: .gtc, responseType: .ack, recvWindow: 100)
        let creds = BinanceCredentials(apiKey: "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A",
                                       key: .hmac(secret: "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"))
        let out = try written { try BinanceEncoder.encode(.orderPlace(order), id: "4885f793-e5ad-4c3b-8f6c-55d891472b71", credentials: creds,
                                                          loggedOn: false, timestampMs: 1645423376532, into: &$0) }
        #expect(sameJSON(out, try fixture("binance", "ws_signed_hmac_order_place_request.json")))   // the docs' HMAC vector, signature included
    }

    @Test func binanceResponsesAndEventsDecode() throws {
        func d(_ n: String) throws -> BinanceInbound { try fixture("binance", n).withUnsafeBytes { try BinanceDecoder.decode($0) } }
        guard case .response(let ok) = try d("ws_order_place_response.json"), case .response(let err) = try d("ws_order_place_error.json"),
              case .executionReport(let r) = try d("ws_execution_report.json"), case .serverShutdown(let t) = try d("ws_server_shutdown.json") else {
            Issue.record("a fixture decoded to the wrong kind"); return
        }
        #expect(ok.status == 200 && ok.orderID == 12569099453 && ok.clientOrderID == "4d96324ff9d44481926157ec08158a40")
        #expect(ok.rateLimits.map(\.interval) == ["ORDERS/SECOND/10", "REQUEST_WEIGHT/MINUTE/1"])
        #expect(err.status == 400 && err.errorCode == -2010)
        #expect(r.symbol == "ETHBTC" && r.status == .new && r.executionType == "NEW" && r.orderID == 4293153 && r.price == FixedDecimal("0.10264410"))
        #expect(t == 1770123456789)
    }

    // MARK: Gateway

    @Test func gatewayMessages() throws {
        let send = GatewayRequest.sendOrder(clientOrderID: ClientOrderID("MI_ORDEN_001")!,
                                            order: GatewayOrder(symbol: "GGAL", side: .buy, size: "100", price: "1500.0"))
        #expect(sameJSON(written { GatewayEncoder.encode(send, into: &$0) }, try fixture("gateway", "ws_send_order_request.json")))
        #expect(sameJSON(written { GatewayEncoder.encode(.ordersSubscribe(account: "mi_cuenta"), into: &$0) },
                         try fixture("gateway", "ws_orders_subscribe_request.json")))
        func d(_ n: String) throws -> GatewayInbound { try fixture("gateway", n).withUnsafeBytes { try GatewayDecoder.decode($0) } }
        guard case .orderAck(let ack) = try d("ws_order_ack.json"), case .orderReport(let flat) = try d("ws_order_report_flat.json"),
              case .orderReport(let raw) = try d("ws_order_report_raw.json"), case .tick(let tick) = try d("ws_tick.json") else {
            Issue.record("a fixture decoded to the wrong kind"); return
        }
        #expect(ack.ok && ack.orderID == "12345" && ack.clientOrderID == "MI_ORDEN_001")
        #expect(flat.clientOrderID == "MI_ORDEN_001" && flat.status == .new && !flat.rawPrimaryShape && flat.symbol == "GGAL")
        #expect(raw.rawPrimaryShape && raw.status == .cancelled && raw.clientOrderID == "user14545967430231")
        #expect(tick.symbol.description == "GGAL" && tick.last == FixedDecimal("1500.5") && tick.tsMs == 1642248600000)
    }

    // MARK: Quotes

    @Test func quotesMessages() throws {
        #expect(sameJSON(written { QuotesEncoder.encode(.subscribe(["DWC.4.20", "LVS.4.20"]), into: &$0) }, try fixture("quotes", "ws_subscribe_request.json")))
        #expect(sameJSON(written { QuotesEncoder.encode(.ping("1234"), into: &$0) }, try fixture("quotes", "ws_ping_request.json")))
        func d(_ n: String) throws -> QuotesInbound { try fixture("quotes", n).withUnsafeBytes { try QuotesDecoder.decode($0) } }
        guard case .response(.subscribed(let st, _, let products)) = try d("ws_subscribed.json"),
              case .response(.unsubscribed(_, _, let names)) = try d("ws_unsubscribed.json"),
              case .quote(let p, let q, _) = try d("ws_pq.json"), case .heartbeat(let hb) = try d("ws_hb.json"),
              case .error(let e) = try d("ws_error.json"), case .response(.pong(let msg, _)) = try d("ws_pong.json") else {
            Issue.record("a fixture decoded to the wrong kind"); return
        }
        #expect(st == .ok && products == [QuotesProduct(name: "DWC.4.20", quote: FixedDecimal("123.45"))])
        #expect(names == ["DWC.4.20"])
        #expect(p.description == "DWC.4.20" && q == FixedDecimal("123.45"))
        #expect(hb == 1587838905842)
        #expect(e.code == .productNotValid && e.opRequest == "subscribe")
        #expect(msg == "1234")
    }
}
