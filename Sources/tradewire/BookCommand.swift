import ArgumentParser
import Foundation
import TradeWire
import TradeWireBinance
import TradeWireKraken
import TradeWireSimulator

/// `tradewire book`: keep a live, checksum-verified book and print its top while it runs.
struct Book: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep a live order book (Kraken `book`, checksum-verified; Binance diff depth, JSON or SBE, kept in sync) and print the top of book.")

    enum Venue: String, ExpressibleByArgument { case kraken, binance, binanceSBE = "binance-sbe" }

    @Option(help: "The venue: kraken (WS v2 book), binance (JSON diff depth stream with WS API snapshots) or binance-sbe (the SBE streams: depth, best bid/ask, trades).")
    var venue: Venue = .kraken
    @Option(help: "Kraken: a WS v2 endpoint (wss://ws.kraken.com/v2); Binance: the stream endpoint (wss://stream.binance.com:9443, SBE: wss://stream-sbe.binance.com:9443). Without it: the embedded simulator, with order flow.")
    var url: String?
    @Option(help: "binance-sbe: the Ed25519 API key sent in X-MBX-APIKEY (the simulator's: demo-api-key).") var apiKey = "demo-api-key"
    @Option(help: "Binance: the WS API endpoint the depth snapshots come from.") var apiUrl = "wss://ws-api.binance.com:443/ws-api/v3"
    @Option(help: "The pair, as the venue names it (default: BTC/USD on Kraken, BTCUSDT on Binance).") var symbol: String?
    @Option(help: "Levels a side: 10, 25, 100, 500 or 1000.") var depth = 10
    @Option(help: "Seconds to run.") var seconds = 10.0
    @Option(help: "The pair's price precision (default: the venue's instrument channel says; the simulator's pair gets 1).")
    var pricePrecision: UInt8?
    @Option(help: "The pair's quantity precision (default: the instrument channel's; the simulator's pair gets 8).")
    var qtyPrecision: UInt8?
    @Option(help: "Simulator only: orders per second placed by the flow that moves the book.") var flowRate = 200
    @Flag(help: "End with one JSON line: updates, seconds_active, checksum_failures, resyncs, gaps, bids, asks, decode_p50_ns.")
    var json = false

    /// What the printing loop and the summary read, on the loop thread.
    struct Stats: Sendable {
        var top: (bid: String, ask: String)?
        var bids: [[String]] = [], asks: [[String]] = []
        var updates = 0, checksumFailures = 0, resyncs = 0, gaps = 0
        var decodeP50: UInt64?
        /// Binance: the best bid/ask stream's last event, and the trades seen.
        var bestBidAsk: String?
        var trades: Int?
    }

    static func stats(_ b: L2Book?) -> Stats {
        var s = Stats()
        guard let b else { return s }
        func text(_ l: L2Level?) -> String { l.map { "\(b.price($0.price)) x \(b.quantity($0.quantity))" } ?? "-" }
        s.top = (text(b.bestBid), text(b.bestAsk))
        s.bids = b.top(.buy, 10).map { ["\(b.price($0.price))", "\(b.quantity($0.quantity))"] }
        s.asks = b.top(.sell, 10).map { ["\(b.price($0.price))", "\(b.quantity($0.quantity))"] }
        return s
    }

    func run() async throws {
        switch venue {
        case .kraken: try await runKraken()
        case .binance: try await runBinance(encoding: .json)
        case .binanceSBE: try await runBinance(encoding: .sbe(apiKey: apiKey))
        }
    }

    /// Print the top of book each second; end with the JSON summary if asked.
    func report(_ symbol: String, loop: EventLoop, _ read: @escaping @Sendable () -> Stats) async throws {
        let started = Date()
        while Date().timeIntervalSince(started) < seconds {
            try await Task.sleep(for: .seconds(1))
            let s = try loop.runSync(read)
            guard let top = s.top else { print("\(symbol): no book in sync (resynchronizing)"); continue }
            print("\(symbol) bid \(top.bid) | ask \(top.ask)  (updates \(s.updates), checksum failures \(s.checksumFailures), "
                  + "resyncs \(s.resyncs), gaps \(s.gaps))")
            if let b = s.bestBidAsk { print("  best bid/ask stream: \(b); trades: \(s.trades ?? 0)") }
        }
        guard json else { return }
        let s = try loop.runSync(read)
        func levels(_ l: [[String]]) -> String { "[" + l.map { "[\"\($0[0])\",\"\($0[1])\"]" }.joined(separator: ",") + "]" }
        print("{\"updates\":\(s.updates),\"seconds_active\":\(String(format: "%.3f", Date().timeIntervalSince(started))),"
              + "\"checksum_failures\":\(s.checksumFailures),\"resyncs\":\(s.resyncs),\"gaps\":\(s.gaps),"
              + "\"bids\":\(levels(s.bids)),\"asks\":\(levels(s.asks)),\"decode_p50_ns\":\(s.decodeP50.map(String.init) ?? "null")}")
    }

    func runBinance(encoding: BinanceMarketStream.Encoding) async throws {
        let symbol = self.symbol ?? "BTCUSDT"
        let loop = try EventLoop(configuration: .init())
        var serverLoop: EventLoop? = nil
        var streamBase = url.map { try? WebSocketURL($0) } ?? nil
        var apiURL = try WebSocketURL(apiUrl)
        var credentials: BinanceCredentials? = nil
        if url == nil {
            let sl = try EventLoop(configuration: .init())
            serverLoop = sl
            let exchange = try ExchangeSimulator(on: sl)
            streamBase = WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: "/")
            apiURL = WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath)
            credentials = BinanceCredentials(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret"))   // the flow's orders
        }
        guard let streamBase else { throw ValidationError("--url: not a ws:// or wss:// URL") }
        let api = BinanceClient(loop: loop, configuration: .init(url: apiURL, credentials: credentials, rateLimiter: nil))
        try await api.connect()
        let trades = Locked(0)
        let stream = BinanceMarketStream(loop: loop, base: streamBase, api: api, symbols: [symbol], depth: depth, encoding: encoding,
                                         channels: [.depth, .bestBidAsk, .trades], handlers: .init(
            onDepthEvent: { _, e in if case .synced = e.event {} else { print("  \(e.symbol): \(e.event)") } },
            onTrade: { _, _ in trades.withLock { $0 += 1 } }))
        try await stream.connect()
        let flowRate = self.flowRate
        let flowTask = serverLoop == nil ? nil : Task { await Self.binanceFlow(api, symbol: symbol, perSecond: flowRate) }
        try await report(symbol, loop: loop) {
            let d = stream.depthBook(symbol)
            var s = Self.stats(d?.book)
            s.updates = d?.eventsApplied ?? 0
            s.gaps = d?.gaps ?? 0
            s.resyncs = d?.gaps ?? 0
            s.decodeP50 = stream.applyTimeMedian
            if let b = stream.loopBestBidAsk(symbol), let bid = b.bid, let ask = b.ask {
                s.bestBidAsk = "\(bid.price) x \(bid.quantity) | \(ask.price) x \(ask.quantity)"
            }
            s.trades = trades.withLock { $0 }
            return s
        }
        flowTask?.cancel()
        _ = await flowTask?.value
        await stream.close()
        await api.close()
        try await Task.sleep(for: .milliseconds(50))
        loop.shutdown()
        serverLoop?.shutdown()
    }

    func runKraken() async throws {
        let symbol = self.symbol ?? "BTC/USD"
        let loop = try EventLoop(configuration: .init())
        var serverLoop: EventLoop? = nil
        var target = url
        var flow: KrakenClient? = nil
        if target == nil {
            // The embedded venue: its matching books are what the book channel publishes.
            let sl = try EventLoop(configuration: .init())
            serverLoop = sl
            var options = KrakenVenueSimulator.Options()
            options.pairPrecision = [symbol: (pricePrecision ?? 1, qtyPrecision ?? 8)]
            let exchange = try ExchangeSimulator(on: sl, kraken: KrakenVenueSimulator(options: options))
            target = "ws://127.0.0.1:\(exchange.port)\(ExchangeSimulator.krakenPath)"
            let trader = KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL(target!), token: "book-flow", rateLimiter: nil))
            try await trader.connect()
            flow = trader
        }
        let client = KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL(target!), rateLimiter: nil),
                                  handlers: .init(onBook: { _, event in
            switch event {
            case .checksumMismatch(let s, let expected, let computed):
                print("  \(s): checksum \(computed) != the venue's \(expected): book withdrawn, resubscribing")
            case .unusable(let s, let why): print("  \(s): \(why)")
            case .snapshot, .update: break
            }
        }))
        try await client.connect()
        var precisions: [String: KrakenBookFeed.Precision] = [:]
        if let p = pricePrecision, let q = qtyPrecision {
            precisions[symbol] = .init(price: p, quantity: q)
        } else {
            // The venue's own word on the pair's precisions, which its checksum is computed at.
            _ = try await client.subscribeInstruments()
            let deadline = Date().addingTimeInterval(10)
            while try loop.runSync({ client.pairs[symbol] == nil }) {
                guard Date() < deadline else { throw ValidationError("the instrument channel did not list \(symbol)") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let ack = try await client.subscribeBook([symbol], depth: depth, precisions: precisions)
        guard ack.response.success else { throw ValidationError("book subscribe refused: \(ack.response.errorText ?? "")") }
        let flowRate = self.flowRate, scale = pricePrecision ?? 1
        let flowTask = flow.map { trader in Task { await Self.flow(trader, symbol: symbol, perSecond: flowRate, scale: scale) } }
        try await report(symbol, loop: loop) {
            guard let feed = client.bookFeed else { return Stats() }
            var s = Self.stats(feed.book(symbol))
            s.updates = feed.updatesApplied
            s.checksumFailures = feed.checksumFailures
            s.resyncs = feed.resyncs
            s.decodeP50 = feed.applyTimeMedian
            return s
        }
        flowTask?.cancel()
        _ = await flowTask?.value
        await client.close()
        await flow?.close()
        try await Task.sleep(for: .milliseconds(50))
        loop.shutdown()
        serverLoop?.shutdown()
    }

    /// Order flow on the embedded Binance venue (as for Kraken, prices in cents).
    static func binanceFlow(_ api: BinanceClient, symbol: String, perSecond: Int) async {
        var rng = SplitMix64(seed: 7)
        var mid: Int64 = 3_000_000
        let gap = Duration.nanoseconds(Int64(1_000_000_000 / max(1, perSecond)))
        while !Task.isCancelled {
            mid += Int64(rng.next() % 5) - 2
            let buy = rng.next() % 2 == 0
            let offset = Int64(rng.next() % 12) - 2
            let price = Price(FixedDecimal(mantissa: buy ? mid - offset : mid + offset, scale: 2))
            let qty = Quantity(FixedDecimal(mantissa: Int64(1 + rng.next() % 300), scale: 3))
            _ = try? await api.placeOrder(.limit(symbol, buy ? .buy : .sell, quantity: qty, price: price))
            try? await Task.sleep(for: gap)
        }
    }

    /// Order flow on the embedded venue: limit orders around a random walk (seeded), some crossing.
    static func flow(_ trader: KrakenClient, symbol: String, perSecond: Int, scale: UInt8) async {
        var rng = SplitMix64(seed: 42)
        var mid: Int64 = 260_000                      // in units of the price precision
        let gap = Duration.nanoseconds(Int64(1_000_000_000 / max(1, perSecond)))
        while !Task.isCancelled {
            mid += Int64(rng.next() % 5) - 2
            let buy = rng.next() % 2 == 0
            let offset = Int64(rng.next() % 12) - 2        // mostly resting, sometimes crossing
            let price = FixedDecimal(mantissa: buy ? mid - offset : mid + offset, scale: scale)
            let qty = FixedDecimal(mantissa: Int64(1 + rng.next() % 300), scale: 2)
            let order = Order(symbol: symbol, side: buy ? .buy : .sell, type: .limit, quantity: Quantity(qty), limitPrice: Price(price))
            _ = try? await trader.placeOrder(order)
            try? await Task.sleep(for: gap)
        }
    }
}

