import CMallocCounter
import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireSimulator

/// Binance's diff depth stream kept in sync by the procedure of web-socket-streams.md ("How to manage a local
/// order book correctly"), as a state machine and against the simulator's books.
@Suite("Binance depth: books in sync with the diff stream")
struct BinanceDepthTests {
    /// Runs `body` with a JSON value parsed from `text` (valid only inside).
    static func json<T>(_ text: String, _ body: (JSONValue) -> T) -> T {
        var t = text
        return t.withUTF8 { b in body(try! JSONDocument(validating: UnsafeRawBufferPointer(b)).root) }
    }

    static func event(_ book: BinanceDepthBook, _ U: Int64, _ u: Int64, bids: String = "[]", asks: String = "[]") -> BinanceDepthBook.Event? {
        json(#"{"b":\#(bids),"a":\#(asks)}"#) { v in book.apply(firstU: U, finalU: u, bids: v["b"], asks: v["a"]) }
    }

    static func snapshot(_ book: BinanceDepthBook, _ id: Int64, bids: String, asks: String) -> BinanceDepthBook.Event {
        json(#"{"bids":\#(bids),"asks":\#(asks)}"#) { v in book.applySnapshot(lastUpdateID: id, bids: v["bids"], asks: v["asks"]) }
    }

    @Test func bufferedEventsBeforeTheSnapshotAreDroppedOrApplied() {
        let book = BinanceDepthBook(symbol: "BNBBTC", depth: 10)
        // Buffered: one the snapshot covers, one straddling it, one after.
        #expect(Self.event(book, 150, 155, bids: #"[["0.00240000","5"]]"#) == nil)
        #expect(Self.event(book, 156, 160, bids: #"[["0.00240000","10"]]"#, asks: #"[["0.00260000","100"]]"#) == nil)
        #expect(Self.event(book, 161, 161, bids: #"[["0.00230000","0"]]"#) == nil)
        #expect(book.book == nil)                                           // not in sync before the snapshot
        let synced = Self.snapshot(book, 157, bids: #"[["0.00240000","7"],["0.00230000","1"]]"#, asks: #"[["0.00260000","50"]]"#)
        #expect(synced == .synced(updateID: 161))
        let b = book.book!
        #expect(b.bids.map(\.price) == [240_000] && b.bids.first?.quantity == 1_000_000_000)   // 10, absolute; 0.0023 removed
        #expect(b.asks.first == L2Level(price: 260_000, quantity: 10_000_000_000))
        // Next events must follow: 162 fine; 164 is a gap.
        #expect(Self.event(book, 162, 163, asks: #"[["0.00270000","1"]]"#) == nil)
        #expect(Self.event(book, 150, 160) == nil)                            // older than the book: ignored
        #expect(Self.event(book, 165, 166) == .gap(expectedU: 164, receivedU: 165))
        #expect(book.book == nil && book.gaps == 1)
    }

    @Test func aSnapshotOlderThanTheStreamIsRefusedAndAStraddleIsRequired() {
        let book = BinanceDepthBook(symbol: "BNBBTC", depth: 10)
        #expect(Self.event(book, 200, 205) == nil)
        #expect(Self.snapshot(book, 150, bids: "[]", asks: "[]") == .snapshotTooOld(lastUpdateID: 150, firstU: 200))
        #expect(book.book == nil)
        // A snapshot with nothing buffered after it: the first event must straddle it, then follow.
        let fresh = BinanceDepthBook(symbol: "BNBBTC", depth: 10)
        #expect(Self.snapshot(fresh, 300, bids: #"[["1.0","1"]]"#, asks: "[]") == .synced(updateID: 300))
        #expect(Self.event(fresh, 299, 303, bids: #"[["1.0","2"]]"#) == nil)    // straddles 301
        #expect(fresh.book?.bestBid?.quantity == 200_000_000)
        #expect(Self.event(fresh, 304, 304) == nil && fresh.updateID == 304)
    }

    /// Once in sync, an event is applied from the message as it stands: no allocation.
    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"))
    func anEventInSyncAllocatesNothing() {
        let book = BinanceDepthBook(symbol: "BNBBTC", depth: 100)
        #expect(Self.snapshot(book, 100, bids: #"[["0.00240000","5"],["0.00230000","1"]]"#, asks: #"[["0.00260000","50"]]"#) == .synced(updateID: 100))
        var id: Int64 = 100
        let events = (0..<1100).map { i in
            #"{"b":[["0.0024\#(i % 10)000","\#(i + 1)"]],"a":[["0.0026\#(i % 10)000","\#(i % 3)"]]}"#
        }
        let bytes = events.map { Array($0.utf8) }
        var allocations: UInt64 = 0
        var results: [BinanceDepthBook.Event?] = []
        results.reserveCapacity(bytes.count)
        for (i, e) in bytes.enumerated() {
            let r = e.withUnsafeBytes { b -> BinanceDepthBook.Event? in
                let doc = try! JSONDocument(validating: b)
                let before = tw_test_thread_allocations()
                let r = book.apply(firstU: id + 1, finalU: id + 1, bids: doc.root["b"], asks: doc.root["a"])
                if i >= 100 { allocations += tw_test_thread_allocations() - before }      // after the sides have grown
                return r
            }
            results.append(r)
            id += 1
        }
        #expect(results.allSatisfy { $0 == nil })
        #expect(allocations == 0)
        #expect(book.updateID == id && book.eventsApplied == 1100)
    }

    /// The docs' `depth` request and response.
    @Test func theDepthRequestAndSnapshotAreTheDocs() throws {
        let out = try written { try BinanceEncoder.encode(.depth(symbol: "BNBBTC", limit: 5), id: "51e2affb-0aba-4821-ba75-f2625006eb43",
                                                          credentials: nil, loggedOn: false, timestampMs: 0, into: &$0) }
        #expect(sameJSON(out, try fixture("binance", "ws_depth_request.json")))
        let response = try fixture("binance", "ws_depth_response.json")
        let book = BinanceDepthBook(symbol: "BNBBTC", depth: 5)
        let e = try response.withUnsafeBytes { b -> BinanceDepthBook.Event in
            let r = try JSONDocument(validating: b).root["result"]!
            return book.applySnapshot(lastUpdateID: r["lastUpdateId"]!.int64!, bids: r["bids"], asks: r["asks"])
        }
        #expect(e == .synced(updateID: 2_731_179_239))
        #expect(book.book?.bestBid == L2Level(price: 1_379_900, quantity: 343_200_000))
        #expect(book.book?.bids.count == 5)
    }
}

@Suite("Binance depth against the simulator", .serialized)
struct BinanceDepthStreamTests {
    /// The stream's best bid and ask and the venue's, once they agree (or after 10 s): the events of a change follow
    /// its answer on another connection, so the stream's book may lag the last order briefly.
    static func bestPrices(_ stream: BinanceMarketStream, _ exchange: ExchangeSimulator, _ loop: EventLoop,
                           _ serverLoop: EventLoop) async throws -> (mine: [Int64?], venue: [Int64?]) {
        let venueTop = try serverLoop.runSync { () -> [Int64?] in
            let b = exchange.binance.books["BTCUSDT"]!
            return [b.depth(.buy, levels: 1).first, b.depth(.sell, levels: 1).first].map { $0.flatMap { L2Book.units($0.price, scale: 8) } }
        }
        let until = Date().addingTimeInterval(10)
        var mine: [Int64?] = []
        repeat {
            mine = try loop.runSync { stream.loopBook("BTCUSDT").map { [$0.bestBid?.price, $0.bestAsk?.price] } ?? [] }
            if mine == venueTop { break }
            try await Task.sleep(for: .milliseconds(5))
        } while Date() < until
        return (mine, venueTop)
    }

    /// The simulator on its loop and a WS API client (for orders and depth snapshots) connected to it on another.
    static func simulatorAndAPI() async throws -> (EventLoop, EventLoop, ExchangeSimulator, BinanceClient) {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        let exchange = try ExchangeSimulator(on: serverLoop)
        let api = BinanceClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath),
            credentials: .init(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret")), rateLimiter: nil))
        try await api.connect()
        return (serverLoop, loop, exchange, api)
    }

    /// JSON and SBE alike: the book kept from the stream is the venue's book; with SBE, the best bid/ask and trade
    /// streams report the venue's top of book and its matches.
    @Test(arguments: [false, true])
    func theStreamedBookIsTheVenuesBook(sbe: Bool) async throws {
        let (serverLoop, loop, exchange, api) = try await Self.simulatorAndAPI()
        defer { loop.shutdown(); serverLoop.shutdown() }
        // Some book before the stream (in the snapshot), the rest as diff events.
        _ = try await api.placeOrder(.limit("BTCUSDT", .sell, quantity: "2", price: "30010"))
        let events = Locked<[BinanceDepthBook.Event]>([])
        let trades = Locked<[BinanceTrade]>([])
        let stream = BinanceMarketStream(loop: loop, base: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: "/"),
                                         api: api, symbols: ["BTCUSDT"], depth: 100, encoding: sbe ? .sbe(apiKey: "demo-api-key") : .json,
                                         channels: [.depth, .bestBidAsk, .trades], handlers: .init(
                                            onDepthEvent: { _, e in events.withLock { $0.append(e.event) } },
                                            onTrade: { _, t in trades.withLock { $0.append(t) } }))
        try await stream.connect()
        let deadline = Date().addingTimeInterval(10)
        while events.withLock({ $0.isEmpty }) && Date() < deadline { try await Task.sleep(for: .milliseconds(2)) }
        for i in 0..<20 {
            _ = try await api.placeOrder(.limit("BTCUSDT", i % 2 == 0 ? .buy : .sell, quantity: "0.5",
                                                price: Price(i % 2 == 0 ? "\(29_900 + i)" : "\(30_100 + i)")!))
        }
        _ = try await api.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "30015"))       // takes from 30010
        // The events of the last change follow its answer on another connection: wait until the book shows it.
        let (mine, venueTop) = try await Self.bestPrices(stream, exchange, loop, serverLoop)
        #expect(mine == venueTop)
        #expect(events.withLock { $0.first.map { if case .synced = $0 { return true }; return false } ?? false })
        #expect(try loop.runSync { (stream.depthBook("BTCUSDT")?.gaps ?? -1, stream.depthBook("BTCUSDT")?.eventsApplied ?? 0) }.0 == 0)
        #expect(try loop.runSync { stream.depthBook("BTCUSDT")?.eventsApplied ?? 0 } > 10)
        // The remaining 30010 ask: 1 of 2 taken.
        #expect(try loop.runSync { stream.loopBook("BTCUSDT")?.asks.first { $0.price == 3_001_000_000_000 }?.quantity } == 100_000_000)
        // The match, as a trade event: 1 at 30010, the buyer the taker.
        let traded = trades.withLock { $0 }
        #expect(traded.count == 1)
        #expect(traded.first?.priceDecimal == FixedDecimal("30010") && traded.first?.qtyDecimal == FixedDecimal("1"))
        #expect(traded.first?.isBuyerMaker == false)
        // The best bid/ask stream's last event is the venue's top of book.
        let best = try await stream.bestBidAsk("BTCUSDT")
        #expect(best.flatMap { L2Book.units(mantissa: $0.bidPrice, exponent: $0.priceExponent, scale: 8) } == venueTop[0])
        #expect(best.flatMap { L2Book.units(mantissa: $0.askPrice, exponent: $0.priceExponent, scale: 8) } == venueTop[1])
    }

    /// `@depth20` (JSON `@depth20@100ms`, SBE `@depth20`): the top 20 levels, whole, every 100 ms, equal to the
    /// venue's; and JSON `@aggTrade` for each match.
    @Test(arguments: [false, true])
    func topLevelsAndAggregateTradesAreTheVenues(sbe: Bool) async throws {
        let (serverLoop, loop, exchange, api) = try await Self.simulatorAndAPI()
        defer { loop.shutdown(); serverLoop.shutdown() }
        for i in 0..<25 {                               // 25 levels a side: the stream shows 20
            _ = try await api.placeOrder(.limit("BTCUSDT", .buy, quantity: "0.5", price: Price("\(29_900 - i)")!))
            _ = try await api.placeOrder(.limit("BTCUSDT", .sell, quantity: "0.5", price: Price("\(30_100 + i)")!))
        }
        let aggs = Locked<[BinanceAggTrade]>([]), tops = Locked(0)
        let base = WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: "/")
        let stream = BinanceMarketStream(loop: loop, base: base, api: nil, symbols: ["BTCUSDT"],
                                         encoding: sbe ? .sbe(apiKey: "demo-api-key") : .json,
                                         channels: sbe ? [.topLevels] : [.topLevels, .aggTrades], handlers: .init(
                                            onAggTrade: { _, t in aggs.withLock { $0.append(t) } },
                                            onTopLevels: { _, _ in tops.withLock { $0 += 1 } }))
        try await stream.connect()
        _ = try await api.placeOrder(.limit("BTCUSDT", .buy, quantity: "0.75", price: "30101"))   // takes 30100 and part of 30101
        let venue = try serverLoop.runSync { () -> [[Int64]] in
            let b = exchange.binance.books["BTCUSDT"]!
            func units(_ l: [(price: FixedDecimal, quantity: FixedDecimal)]) -> [Int64] {
                l.flatMap { [L2Book.units($0.price, scale: 8)!, L2Book.units($0.quantity, scale: 8)!] }
            }
            return [units(b.depth(.buy, levels: 20)), units(b.depth(.sell, levels: 20))]
        }
        let until = Date().addingTimeInterval(10)
        var mine: [[Int64]] = []
        repeat {
            if let t = try await stream.topLevels("BTCUSDT") {
                func units(_ l: [L2Level]) -> [Int64] {
                    l.flatMap { [L2Book.units(mantissa: $0.price, exponent: -Int8(t.book.priceScale), scale: 8)!,
                                 L2Book.units(mantissa: $0.quantity, exponent: -Int8(t.book.qtyScale), scale: 8)!] }
                }
                mine = [units(t.book.bids), units(t.book.asks)]
            }
            if mine == venue { break }
            try await Task.sleep(for: .milliseconds(20))
        } while Date() < until
        #expect(mine == venue)
        #expect(mine.first?.count == 40 && mine.last?.count == 40)       // 20 levels a side, price and quantity each
        #expect(tops.withLock { $0 } >= 1)
        if !sbe {
            let seen = aggs.withLock { $0 }
            #expect(seen.map { $0.price } == [FixedDecimal("30100")!, FixedDecimal("30101")!])
            #expect(seen.map { $0.quantity } == [FixedDecimal("0.5")!, FixedDecimal("0.25")!])
            #expect(seen.allSatisfy { !$0.isBuyerMaker && $0.symbol == InlineText("BTCUSDT") && $0.firstTradeID == $0.lastTradeID })
        }
        await stream.close()
    }

    /// The venue's stalled-feed fault: each stream connection goes silent (open, nothing sent) 300 ms after it
    /// opened. With `staleAfter`, the client drops the silent connection, opens another and rebuilds the book from a
    /// new snapshot; the book ends as the venue's.
    @Test func aStalledFeedIsDroppedAndTheBookRebuilt() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        var options = BinanceVenueSimulator.Options(apiKey: "demo-api-key", apiSecret: "demo-api-secret")
        options.stallStreamAfter = .milliseconds(300)
        let exchange = try ExchangeSimulator(on: serverLoop, binance: BinanceVenueSimulator(options: options))
        let api = BinanceClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath),
            credentials: .init(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret")), rateLimiter: nil))
        try await api.connect()
        let stale = Locked(0), synced = Locked(0)
        let stream = BinanceMarketStream(loop: loop, base: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: "/"),
                                         api: api, symbols: ["BTCUSDT"], depth: 100, channels: [.depth],
                                         reconnect: ReconnectPolicy(initialDelay: .milliseconds(10), staleAfter: .milliseconds(150)),
                                         handlers: .init(
                                            onDepthEvent: { _, e in if case .synced = e.event { synced.withLock { $0 += 1 } } },
                                            onConnection: { _, e in if case .stale = e { stale.withLock { $0 += 1 } } }))
        try await stream.connect()
        // Orders until the feed has stalled twice (about a second; bounded for slow sanitizer builds).
        let start = Date()
        var i = 0
        while stale.withLock({ $0 }) < 2 && Date().timeIntervalSince(start) < 20 {
            _ = try await api.placeOrder(.limit("BTCUSDT", i % 2 == 0 ? .buy : .sell, quantity: "0.5",
                                                price: Price(i % 2 == 0 ? "\(29_000 + i % 50)" : "\(31_000 + i % 50)")!))
            i += 1
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(stale.withLock { $0 } >= 2)
        // The first connection's book, then one rebuild per stall (the last one may still be on its way).
        let rebuilt = Date().addingTimeInterval(10)
        while synced.withLock({ $0 }) < 3 && Date() < rebuilt { try await Task.sleep(for: .milliseconds(5)) }
        #expect(synced.withLock { $0 } >= 3)
        // The current connection is fresh (stalls 300 ms after it opened): once it has synced, its book is the venue's.
        let (mine, venueTop) = try await Self.bestPrices(stream, exchange, loop, serverLoop)
        #expect(mine == venueTop)
        await stream.close()
    }

    /// The venue's market data faults: a diff event skipped now and then (a gap: the book is withdrawn and rebuilt
    /// from a new snapshot) and SBE frames cut short (counted, never applied). The book still ends as the venue's.
    @Test func skippedUpdatesAndCutFramesEndInTheVenuesBook() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        var options = BinanceVenueSimulator.Options(apiKey: "demo-api-key", apiSecret: "demo-api-secret")
        options.skipDepthEventEvery = 4
        options.cutSBEFrameEvery = 5
        let exchange = try ExchangeSimulator(on: serverLoop, binance: BinanceVenueSimulator(options: options))
        let api = BinanceClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath),
            credentials: .init(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret")), rateLimiter: nil))
        try await api.connect()
        let stream = BinanceMarketStream(loop: loop, base: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: "/"),
                                         api: api, symbols: ["BTCUSDT"], depth: 100, encoding: .sbe(apiKey: "demo-api-key"),
                                         channels: [.depth, .bestBidAsk])
        try await stream.connect()
        for i in 0..<40 {
            _ = try await api.placeOrder(.limit("BTCUSDT", i % 2 == 0 ? .buy : .sell, quantity: "0.5",
                                                price: Price(i % 2 == 0 ? "\(29_900 + i)" : "\(30_100 + i)")!))
        }
        let venueTop = try serverLoop.runSync { () -> [Int64?] in
            let b = exchange.binance.books["BTCUSDT"]!
            return [b.depth(.buy, levels: 1).first, b.depth(.sell, levels: 1).first].map { $0.flatMap { L2Book.units($0.price, scale: 8) } }
        }
        // A gap is only seen at the next event: one more change that is not skipped brings the book back.
        var mine: [Int64?] = []
        let until = Date().addingTimeInterval(10)
        var nudge = 0
        repeat {
            mine = try loop.runSync { stream.loopBook("BTCUSDT").map { [$0.bestBid?.price, $0.bestAsk?.price] } ?? [] }
            if mine == venueTop { break }
            // Resting far from the top: the best prices stay, the book changes (a new event, a new chance to resync).
            nudge += 1
            _ = try await api.placeOrder(.limit("BTCUSDT", .buy, quantity: "0.1", price: Price("\(29_000 - nudge)")!))
            try await Task.sleep(for: .milliseconds(20))
        } while Date() < until
        #expect(mine == venueTop)
        #expect(try loop.runSync { stream.depthBook("BTCUSDT")?.gaps ?? 0 } > 0)
        #expect(try loop.runSync { stream.undecodable } > 0)
    }

    @Test func anSBEStreamNeedsTheVenuesAPIKey() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let exchange = try ExchangeSimulator(on: serverLoop)
        let stream = BinanceMarketStream(loop: loop, base: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: "/"),
                                         api: nil, symbols: ["BTCUSDT"], encoding: .sbe(apiKey: "not-the-key"), channels: [.bestBidAsk])
        do { try await stream.connect(); Issue.record("an unknown API key was accepted") } catch {
            #expect((error as? TradeWireError)?.httpStatus == 401)
        }
    }
}
