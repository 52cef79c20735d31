import ArgumentParser
import Foundation
import TradeWire
import TradeWireKraken
import TradeWireSimulator

/// `tradewire book`: keep a live, checksum-verified book and print its top while it runs.
struct Book: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep a live order book (Kraken WS v2 `book`, checksum-verified) and print the top of book.")

    enum Venue: String, ExpressibleByArgument { case kraken }

    @Option(help: "The venue's dialect (kraken).") var venue: Venue = .kraken
    @Option(help: "A Kraken WS v2 endpoint (e.g. wss://ws.kraken.com/v2). Without it: the embedded simulator, with order flow.")
    var url: String?
    @Option(help: "The pair, as the venue names it.") var symbol = "BTC/USD"
    @Option(help: "Levels a side: 10, 25, 100, 500 or 1000.") var depth = 10
    @Option(help: "Seconds to run.") var seconds = 10.0
    @Option(help: "The pair's price precision (default: the venue's instrument channel says; the simulator's pair gets 1).")
    var pricePrecision: UInt8?
    @Option(help: "The pair's quantity precision (default: the instrument channel's; the simulator's pair gets 8).")
    var qtyPrecision: UInt8?
    @Option(help: "Simulator only: orders per second placed by the flow that moves the book.") var flowRate = 200
    @Flag(help: "End with one JSON line: updates, seconds_active, checksum_failures, resyncs, gaps, bids, asks, decode_p50_ns.")
    var json = false

    func run() async throws {
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
        let client = KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL(target!), rateLimiter: nil))
        try await client.connect()
        var precisions: [String: KrakenBookFeed.Precision] = [:]
        if let p = pricePrecision, let q = qtyPrecision {
            precisions[symbol] = .init(price: p, quantity: q)
        } else {
            // The venue's own word on the pair's precisions, which its checksum is computed at.
            _ = try await client.subscribeInstruments()
            let symbol = self.symbol
            let deadline = Date().addingTimeInterval(10)
            while try loop.runSync({ client.pairs[symbol] == nil }) {
                guard Date() < deadline else { throw ValidationError("the instrument channel did not list \(symbol)") }
                try await Task.sleep(for: .milliseconds(20))
            }
        }
        let ack = try await client.subscribeBook([symbol], depth: depth, precisions: precisions) { event in
            switch event {
            case .checksumMismatch(let s, let expected, let computed):
                print("  \(s): checksum \(computed) != the venue's \(expected): book withdrawn, resubscribing")
            case .unusable(let s, let why): print("  \(s): \(why)")
            case .snapshot, .update: break
            }
        }
        guard ack.response.success else { throw ValidationError("book subscribe refused: \(ack.response.errorText ?? "")") }
        let started = Date()
        let symbol = self.symbol, flowRate = self.flowRate, scale = pricePrecision ?? 1
        let flowTask = flow.map { trader in Task { await Self.flow(trader, symbol: symbol, perSecond: flowRate, scale: scale) } }
        while Date().timeIntervalSince(started) < seconds {
            try await Task.sleep(for: .seconds(1))
            let line = try loop.runSync { () -> String in
                guard let feed = client.bookFeed else { return "no book" }
                guard let b = feed.book(symbol) else { return "\(symbol): no verified book (resynchronizing)" }
                func side(_ l: L2Level?) -> String { l.map { "\(b.price($0.price)) x \(b.quantity($0.quantity))" } ?? "-" }
                return "\(symbol) bid \(side(b.bestBid)) | ask \(side(b.bestAsk))  (updates \(feed.updatesApplied), "
                    + "checksum failures \(feed.checksumFailures), resyncs \(feed.resyncs))"
            }
            print(line)
        }
        flowTask?.cancel()
        _ = await flowTask?.value
        if json {
            let seconds = Date().timeIntervalSince(started)
            let summary = try loop.runSync { () -> String in
                let feed = client.bookFeed
                let b = feed?.book(symbol)
                func levels(_ l: ArraySlice<L2Level>?) -> String {
                    guard let b, let l else { return "[]" }
                    return "[" + l.map { "[\"\(b.price($0.price))\",\"\(b.quantity($0.quantity))\"]" }.joined(separator: ",") + "]"
                }
                return "{\"updates\":\(feed?.updatesApplied ?? 0),\"seconds_active\":\(String(format: "%.3f", seconds)),"
                    + "\"checksum_failures\":\(feed?.checksumFailures ?? 0),\"resyncs\":\(feed?.resyncs ?? 0),\"gaps\":0,"
                    + "\"bids\":\(levels(b?.top(.buy, 10))),\"asks\":\(levels(b?.top(.sell, 10))),"
                    + "\"decode_p50_ns\":\(feed?.applyTimeMedian.map(String.init) ?? "null")}"
            }
            print(summary)
        }
        client.close()
        flow?.close()
        try await Task.sleep(for: .milliseconds(50))
        loop.shutdown()
        serverLoop?.shutdown()
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

/// A small seeded generator (SplitMix64), so that a flow can be replayed.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
