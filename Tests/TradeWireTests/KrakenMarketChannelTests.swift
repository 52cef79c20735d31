import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken
@testable import TradeWireSimulator

/// Kraken's public `ticker`, `trade` and `ohlc` channels: the docs' own messages (Fixtures/kraken/docs-book), and
/// the simulator's engine publishing its trades and best prices.
@Suite("Kraken ticker, trade and ohlc channels")
struct KrakenMarketChannelTests {
    static func decode(_ name: String) throws -> KrakenInbound {
        try fixture("kraken", "docs-book/\(name)").withUnsafeBytes { try KrakenDecoder.decode($0) }
    }

    static func request(_ r: KrakenRequest) throws -> [UInt8] {
        try KrakenDocsTests.withoutReqID(written { KrakenEncoder.encode(r, id: 1, token: nil, into: &$0) })   // the docs send none
    }

    @Test func theDocsRequestsAreWhatTheClientSends() throws {
        #expect(sameJSON(try Self.request(.subscribeChannel(.ticker, symbols: ["ALGO/USD"])), try fixture("kraken", "docs-book/ws_ticker_subscribe_request.json")))
        #expect(sameJSON(try Self.request(.subscribeChannel(.trade(snapshot: true), symbols: ["MATIC/USD"])),
                         try fixture("kraken", "docs-book/ws_trade_subscribe_request.json")))
        #expect(sameJSON(try Self.request(.subscribeChannel(.ohlc(interval: 5), symbols: ["ALGO/USD", "MATIC/USD"])),
                         try fixture("kraken", "docs-book/ws_ohlc_subscribe_request.json")))
        #expect(throws: TradeWireError.self) { try KrakenEncoder.check(.subscribeChannel(.ohlc(interval: 7), symbols: ["ALGO/USD"])) }
        #expect(throws: TradeWireError.self) { try KrakenEncoder.check(.subscribeChannel(.ticker, symbols: [])) }
    }

    @Test func theDocsMessagesDecodeToTheirValues() throws {
        guard case .push(.ticker(let t)) = try Self.decode("ws_ticker_update.json"), let e = t.entries.first else { Issue.record("ticker"); return }
        #expect(!t.isSnapshot && e.symbol == "ALGO/USD")
        #expect(e.bid == FixedDecimal("0.10025") && e.bidQty == FixedDecimal("740.0") && e.ask == FixedDecimal("0.10035"))
        #expect(e.last == FixedDecimal("0.10035") && e.volume == FixedDecimal("997038.98383185") && e.changePct == FixedDecimal("-0.17"))
        #expect(e.timestamp?.description == "2023-09-25T09:04:31.742648Z")
        guard case .push(.ticker(let ts)) = try Self.decode("ws_ticker_snapshot.json") else { Issue.record("ticker snapshot"); return }
        #expect(ts.isSnapshot && !ts.entries.isEmpty)

        guard case .push(.trades(let tr)) = try Self.decode("ws_trade_update.json"), let x = tr.entries.first else { Issue.record("trade"); return }
        #expect(x.symbol == "MATIC/USD" && x.side == .sell && x.price == FixedDecimal("0.5117") && x.qty == FixedDecimal("40.0"))
        #expect(x.orderType?.description == "market" && x.tradeID == 4665906)
        guard case .push(.trades(let trs)) = try Self.decode("ws_trade_snapshot.json") else { Issue.record("trade snapshot"); return }
        #expect(trs.isSnapshot && !trs.entries.isEmpty)

        guard case .push(.ohlc(let o)) = try Self.decode("ws_ohlc_update.json"), let c = o.entries.first else { Issue.record("ohlc"); return }
        #expect(c.symbol == "MATIC/USD" && c.open == FixedDecimal("0.5624") && c.close == FixedDecimal("0.5627") && c.trades == 12)
        #expect(c.interval == 5 && c.intervalBegin?.description == "2023-10-04T16:25:00.000000000Z")
        guard case .push(.ohlc(let os)) = try Self.decode("ws_ohlc_snapshot.json") else { Issue.record("ohlc snapshot"); return }
        #expect(os.isSnapshot)
    }

    /// A simulator on its own loop, and a client loop with a watcher and a trader (with a token) connected to it.
    struct Venue {
        let serverLoop: EventLoop, loop: EventLoop
        let venue = KrakenVenueSimulator()
        let server: WebSocketServer
        let url: WebSocketURL
        let watcher: KrakenClient, trader: KrakenClient

        init() async throws {
            serverLoop = try EventLoop.forTest(.automatic)
            loop = try EventLoop.forTest(.automatic)
            server = try WebSocketServer.listen(on: serverLoop) { [venue] _, _ in venue.handler() }
            url = WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2")
            watcher = KrakenClient(loop: loop, configuration: .init(url: url, rateLimiter: nil))
            trader = KrakenClient(loop: loop, configuration: .init(url: url, token: "t", rateLimiter: nil))
            try await watcher.connect()
            try await trader.connect()
        }

        func close() async {
            await watcher.close()
            await trader.close()
            loop.shutdown()
            serverLoop.shutdown()
        }
    }

    /// The engine's fills reach the `trade` stream and its best prices the `ticker` stream, one answer per symbol.
    @Test func theSimulatorsTradesAndBestPricesReachTheStreams() async throws {
        let v = try await Venue()
        let (watcher, trader) = (v.watcher, v.trader)
        let trades = watcher.trades, tickers = watcher.tickers
        let ack = try await watcher.subscribe(.trade(), symbols: ["BTC/USD", "ETH/USD"])
        #expect(ack.response.success)
        _ = try await watcher.subscribe(.ticker, symbols: ["BTC/USD"])
        _ = try await trader.placeOrder(.limit("BTC/USD", .sell, quantity: "0.5", price: "30010"))
        _ = try await trader.placeOrder(.limit("BTC/USD", .buy, quantity: "0.2", price: "30020"))       // takes 0.2 at 30010
        var it = trades.makeAsyncIterator()
        var seen: [KrakenTrade] = []
        while seen.count < 1, let item = await it.next() { if let t = item.value { seen.append(t) } }
        #expect(seen.first?.symbol == "BTC/USD" && seen.first?.side == .buy)
        #expect(seen.first?.price.flatMap { L2Book.units($0, scale: 5) } == L2Book.units(FixedDecimal("30010")!, scale: 5))
        #expect(seen.first?.qty.flatMap { L2Book.units($0, scale: 10) } == L2Book.units(FixedDecimal("0.2")!, scale: 10))
        // The ticker: a snapshot (empty book), then the ask, then the trade's last price and the remaining 0.3.
        var last: KrakenTicker?
        var ti = tickers.makeAsyncIterator()
        let deadline = ContinuousClock.now + .seconds(10)
        while ContinuousClock.now < deadline, let item = await ti.next() {
            last = item.value ?? last
            if last?.last != nil { break }
        }
        #expect(last?.ask.flatMap { L2Book.units($0, scale: 5) } == L2Book.units(FixedDecimal("30010")!, scale: 5))
        #expect(last?.askQty.flatMap { L2Book.units($0, scale: 10) } == L2Book.units(FixedDecimal("0.3")!, scale: 10))
        #expect(last?.last.flatMap { L2Book.units($0, scale: 5) } == L2Book.units(FixedDecimal("30010")!, scale: 5))
        await v.close()
    }

    /// The simulator's `ohlc` update is the docs' (ws_ohlc_update.json): the same members at the top and in each
    /// entry, each of the same JSON kind, and `interval_begin` / `timestamp` written to the same length.
    @Test func theSimulatorsCandleMessageHasTheDocsShape() throws {
        let venue = KrakenVenueSimulator()
        let key = KrakenCandleKey(symbol: "BTC/USD", interval: 5)
        var candle = KrakenSimCandle(begin: 1_696_436_700, price: 300_100, quantity: 50_000_000)
        candle.add(price: 300_300, quantity: 20_000_000)
        let ours = venue.candleMessage("update", key, [candle])
        let docs = try fixture("kraken", "docs-book/ws_ohlc_update.json")
        func shape(_ bytes: [UInt8]) throws -> (top: [String: JSONValue.Kind], entry: [String: JSONValue.Kind], begin: Int, end: Int) {
            try bytes.withUnsafeBytes { b in
                let doc = try JSONDocument(validating: b)
                var top: [String: JSONValue.Kind] = [:], entry: [String: JSONValue.Kind] = [:]
                var begin = 0, end = 0
                doc.root.forEachMember { k, v in top[k.string ?? ""] = v.kind; return true }
                doc.root["data"]?.forEachElement { e in
                    e.forEachMember { k, v in entry[k.string ?? ""] = v.kind; return true }
                    begin = e["interval_begin"]?.string?.count ?? 0
                    end = e["timestamp"]?.string?.count ?? 0
                    return false
                }
                return (top, entry, begin, end)
            }
        }
        let (a, b) = (try shape(ours), try shape(docs))
        #expect(a.top == b.top && a.entry == b.entry, "\(a.top) \(a.entry)\n\(b.top) \(b.entry)")
        #expect(a.begin == b.begin && a.end == b.end)
    }

    /// The engine's fills build the `ohlc` candles: one taker order that fills against two resting orders moves the
    /// candle of each subscribed interval (open, high, low, close, trades, volume, vwap), and a client subscribing
    /// afterwards gets the candle in its snapshot.
    @Test func theSimulatorsFillsBuildTheCandles() async throws {
        let v = try await Venue()
        let (venue, loop, url, watcher, trader) = (v.venue, v.loop, v.url, v.watcher, v.trader)
        let candles = watcher.candles
        await #expect(throws: TradeWireError.self) { try await watcher.subscribe(.ohlc(interval: 7), symbols: ["BTC/USD"]) }
        #expect(try await watcher.subscribe(.ohlc(interval: 1), symbols: ["BTC/USD"]).response.success)
        #expect(try await watcher.subscribe(.ohlc(interval: 60), symbols: ["BTC/USD"]).response.success)
        _ = try await trader.placeOrder(.limit("BTC/USD", .sell, quantity: "0.5", price: "30010"))
        _ = try await trader.placeOrder(.limit("BTC/USD", .sell, quantity: "0.5", price: "30030"))
        _ = try await trader.placeOrder(.limit("BTC/USD", .buy, quantity: "0.7", price: "30040"))   // 0.5 at 30010, 0.2 at 30030
        // The updates: per interval, the candle as it stands after each fill (a minute may turn between the two).
        // The snapshots came first, empty: no fill yet.
        var byInterval: [Int64: [String: KrakenCandle]] = [:]
        func tradesSeen() -> Int64 { byInterval.values.reduce(0) { $0 + $1.values.reduce(0) { $0 + ($1.trades ?? 0) } } }
        var it = candles.makeAsyncIterator()
        while tradesSeen() < 4, let item = await it.next() {
            guard let c = item.value else { continue }
            byInterval[c.interval ?? 0, default: [:]][c.intervalBegin?.description ?? ""] = c
        }
        #expect(Set(byInterval.keys) == [1, 60])
        for (_, kept) in byInterval {
            let list = kept.values.sorted { ($0.intervalBegin?.description ?? "") < ($1.intervalBegin?.description ?? "") }
            #expect(list.reduce(0) { $0 + ($1.trades ?? 0) } == 2)
            #expect(list.first?.open == FixedDecimal("30010") && list.last?.close == FixedDecimal("30030"))
            #expect(list.compactMap(\.volume).reduce(FixedDecimal("0")!, { FixedDecimal(mantissa: L2Book.units($0, scale: 8)! + L2Book.units($1, scale: 8)!, scale: 8) })
                    == FixedDecimal("0.7"))
            if list.count == 1, let c = list.first {
                #expect(c.high == FixedDecimal("30030") && c.low == FixedDecimal("30010"))
                // (30010 × 0.5 + 30030 × 0.2) / 0.7 = 30015.714…, at the pair's price precision.
                let vwap = Double(c.vwap?.description ?? "") ?? 0
                let (pp, _) = venue.precision("BTC/USD")
                #expect(abs(vwap - 21011.0 / 0.7) <= 0.5 * pow(10, -Double(pp)) + 1e-9)
            }
        }
        // A later subscriber: the candles in its snapshot.
        let late = KrakenClient(loop: loop, configuration: .init(url: url, rateLimiter: nil))
        try await late.connect()
        let lateCandles = late.candles
        _ = try await late.subscribe(.ohlc(interval: 60), symbols: ["BTC/USD"])
        var li = lateCandles.makeAsyncIterator()
        var got: KrakenCandle?
        while got == nil, let item = await li.next() { got = item.value }
        #expect(got?.symbol == "BTC/USD" && got?.interval == 60 && (got?.trades ?? 0) >= 1)
        await late.close()
        await v.close()
    }
}
