import ArgumentParser
import Foundation
import TradeWire
import TradeWireBinance
import TradeWireGateway
import TradeWireKraken
import TradeWireQuotes
import TradeWireSimulator

/// The trading demo: the exchange simulator in-process, and the seed flows
/// (subscribe, place, amend, cancel, an order that fills, a rejected one, a
/// batch) over Kraken WS v2, each printed in the seed's form with its latency.
struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the trading demo against the embedded exchange simulator.")

    @Option(help: "Extra add_order/cancel_order round trips for the latency summary.") var count = 2_000
    @Flag(help: "Busy-poll the client loop.") var busyPoll = false

    func run() async throws {
        let venueLoop = try EventLoop()
        let loop = try EventLoop(configuration: .init(waitMode: busyPoll ? .busyPoll : .wait))
        defer { loop.shutdown(); venueLoop.shutdown() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradewire-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cert = try GeneratedCertificate.generate(in: dir)

        let restSecret = "ZGVtby1rcmFrZW4tc2VjcmV0LWZvci10aGUtZGVtbw=="
        // The demo account's funds take orders of up to 100 units: a larger one fails the engine's pre-match check.
        let kraken = KrakenVenueSimulator(options: .init(token: "demo-ws-token", apiKey: "demo-kraken-key", apiSecretBase64: restSecret,
                                                         fundsLimit: FixedDecimal("100")))
        let quotesVenue = QuotesVenueSimulator(options: .init(bearer: "demo-bearer", quotesPerSecond: 2_000))
        let gatewayVenue = GatewayVenueSimulator()
        let (edPrivate, edPublic) = try Signing.ed25519KeyPair()
        let binanceVenue = BinanceVenueSimulator(options: .init(apiKey: "demo-binance-key", apiSecret: "demo-binance-secret", ed25519PublicKeyPEM: edPublic))
        // The same venues behind a ws:// and a wss:// listener.
        let plain = try ExchangeSimulator(on: venueLoop, kraken: kraken, quotes: quotesVenue, gateway: gatewayVenue, binance: binanceVenue)
        let secure = try ExchangeSimulator(on: venueLoop, tls: .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile),
                                           kraken: kraken, quotes: quotesVenue, gateway: gatewayVenue, binance: binanceVenue)
        print("TradeWire demo: exchange simulator on ws://127.0.0.1:\(plain.port) and wss://127.0.0.1:\(secure.port) (Kraken WS v2 at /v2, product quotes at /quotewebsocket/1.0.0, order gateway at /ws/cotizaciones, Binance WS API at /ws-api/v3)")
        print("backend \(loop.backend), \(busyPoll ? "busy-poll" : "wait") mode; latency = frame handed to the kernel -> reap of the reply\n")

        // One client per venue, created once and fetched anywhere (seed 001).
        TradeWire.removeAll()
        // Kraken's Starter tier (60 per pair, -1/s) would hold the summary loop below to ~1 order/s;
        // the simulator charges no counter, so the demo runs under a Pro-tier-sized one instead.
        let limiter = VenueRateLimiter(KrakenOrderCounter(threshold: 100_000, decayPerSecond: 3.75), policy: .wait)
        let trust = TLSConfiguration(additionalTrust: [.caFile(cert.caFile)])
        // The WebSocket token comes from the REST GetWebSocketsToken call, signed, over TradeWire's own TLS.
        let tokens = KrakenTokenProvider(loop: loop, credentials: Credentials(apiKey: "demo-kraken-key", apiSecret: restSecret),
                                         restURL: "https://127.0.0.1:\(secure.port)", tls: trust)
        var krakenConfig = KrakenClient.Configuration(url: try WebSocketURL("wss://127.0.0.1:\(secure.port)/v2"), tls: trust, rateLimiter: limiter)
        krakenConfig.tokenProvider = tokens
        // Handlers run on the loop thread; they are @Sendable, so the compiler checks what they capture
        // (`quiet` is a lock-guarded flag, not a bare var).
        let quiet = Locked(false)
        try TradeWire.create(.kraken, loop: loop, configuration: krakenConfig, handlers: .init(
            onResponse: { _, done in
                if quiet.withLock({ $0 }) { return }
                print("WebSocket Request - ID: \(done.requestID) | Method: \(done.method.rawValue) | Latency: \(done.latency)")
                print("Request Params: \(Self.params(done.request, id: done.requestID))")
                switch done.result {
                case .success(let r): print("Response Data: \(Self.describe(r))\n")
                case .failure(let e): print("Response Error: \(e.venueError.map { "\($0.code)" } ?? e.detail)\n")
                }
            },
            onPush: { _, push in
                guard !quiet.withLock({ $0 }), case .executions(let x) = push else { return }
                for e in x.reports {
                    var line = "  executions \(x.isSnapshot ? "snapshot" : "update") seq=\(x.sequence ?? 0): \(e.execType) \(e.orderID.map { "\($0)" } ?? "-")"
                    if let s = e.orderStatus { line += " status=\(s)" }
                    if let q = e.lastQty, let p = e.lastPrice { line += " fill \(q) @ \(p) (\(e.isMaker == true ? "maker" : "taker"))" }
                    if let r = e.reason { line += " reason=\"\(r)\"" }
                    print(line)
                }
            }))
        let trader = try TradeWire.client(.kraken)
        try await trader.connect()
        print("== token: POST /0/private/GetWebSocketsToken (API-Sign = HMAC-SHA512), over TLS: \(try await tokens.token().prefix(8))…\n")
        // A second session plays the other side of the book.
        let maker = KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:\(plain.port)/v2"),
                                                                  token: "demo-ws-token", rateLimiter: limiter))
        try await maker.connect()

        print("== subscribe to executions")
        _ = try await trader.subscribeExecutions()
        try await Task.sleep(for: .milliseconds(20))

        print("== place a resting limit order, amend it, cancel it")
        let resting = try await trader.placeOrder(.limit("BTC/USD", .buy, quantity: "0.5", price: "25000.0",
                                                         clientOrderID: ClientOrderID("demo-rest-1")))
        let restingID = resting.response.orderID!.description
        _ = try await trader.amendOrder(KrakenAmendOrder(.orderID(restingID), quantity: "0.25", limitPrice: "25100.5"))
        _ = try await trader.cancelOrder(.orderIDs([restingID]))
        try await Task.sleep(for: .milliseconds(20))

        print("== an order that fills: the maker rests 0.8 @ 26000, the trader buys 0.8 @ 26010")
        _ = try await maker.placeOrder(.limit("BTC/USD", .sell, quantity: "0.8", price: "26000"))
        _ = try await trader.placeOrder(.limit("BTC/USD", .buy, quantity: "0.8", price: "26010"))
        try await Task.sleep(for: .milliseconds(20))

        print("== rejected orders: an unknown pair, and a post-only order that would take")
        _ = try? await trader.placeOrder(.limit("BTCUSD", .buy, quantity: "1", price: "1"))
        _ = try await maker.placeOrder(.limit("BTC/USD", .sell, quantity: "1", price: "26500"))
        _ = try await trader.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "26600", postOnly: true))
        try await Task.sleep(for: .milliseconds(20))

        print("== cancel_order with three ids (one unknown): one answer per order, one completion with each order's outcome")
        var toCancel: [String] = []
        for (i, price) in ["24000", "24100"].enumerated() {
            toCancel.append(try await trader.placeOrder(.limit("BTC/USD", .buy, quantity: "0.1", price: Price(price)!,
                                                               clientOrderID: ClientOrderID("demo-mc-\(i)"))).response.orderID!.description)
        }
        let multi = try await trader.cancelOrder(.orderIDs([toCancel[0], "OUNKN0-WN000-ORDER0", toCancel[1]]))
        for row in multi.response.orders ?? [] {
            print("  cancel \(row.orderID.map { "\($0)" } ?? "(no id)"): \(row.error ?? "cancelled")")
        }
        try await Task.sleep(for: .milliseconds(20))

        print("== batch_add partly placed: the 500-unit order fails the funds check alone; the live orders' ids are reported")
        let partial = try await trader.batchAdd(symbol: "ETH/USD", [
            .limit("ETH/USD", .buy, quantity: "1.5", price: "1800.10", clientOrderID: ClientOrderID("demo-b-1")),
            .limit("ETH/USD", .buy, quantity: "500", price: "1799.55", clientOrderID: ClientOrderID("demo-b-2")),
            .limit("ETH/USD", .sell, quantity: "0.75", price: "1900", clientOrderID: ClientOrderID("demo-b-3")),
        ])
        for row in partial.response.orders ?? [] {
            print("  \(row.clientOrderID.map { "\($0)" } ?? "?"): \(row.orderID.map { "live as \($0)" } ?? "rejected: \(row.error ?? "")")")
        }
        print("== the book channel: the venue's BTC/USD book, checksum-verified on every message")
        _ = try await trader.subscribeBook(["BTC/USD"], depth: 10, precisions: ["BTC/USD": .init(price: 5, quantity: 10)])
        _ = try await maker.placeOrder(.limit("BTC/USD", .sell, quantity: "0.4", price: "26550"))
        _ = try await trader.request(.ping)              // the book's update came before this answer
        print(try loop.runSync { () -> String in
            guard let feed = trader.bookFeed, let b = feed.book("BTC/USD") else { return "  no verified book" }
            func side(_ l: L2Level?) -> String { l.map { "\(b.price($0.price)) x \(b.quantity($0.quantity))" } ?? "-" }
            return "  BTC/USD bid \(side(b.bestBid)) | ask \(side(b.bestAsk)); \(b.bids.count) bid and \(b.asks.count) ask levels; "
                + "snapshots \(feed.snapshots), updates \(feed.updatesApplied), checksum failures \(feed.checksumFailures)"
        })
        print("== cancel_all")
        _ = try await trader.cancelAll()
        try await Task.sleep(for: .milliseconds(20))

        print("== product quotes stream (seed 002): bearer token in the handshake, subscribe, quotes, ping, unsubscribeAll")
        let quotes = QuotesClient(loop: loop, configuration: .init(
            url: try WebSocketURL("wss://127.0.0.1:\(secure.port)/quotewebsocket/1.0.0"), bearerToken: "demo-bearer",
            tls: TLSConfiguration(additionalTrust: [.caFile(cert.caFile)])))
        // The quotes as an AsyncSequence, read by a task of their own (a lagging reader would get a `.gap`).
        let quoteStream = quotes.quotes
        let reader = Task {
            var n = 0
            for await item in quoteStream {
                guard case .event(let q) = item else { continue }
                n += 1
                if n <= 5 { print("  pq \(q.product) \(q.price) @\(q.timestamp)") }
            }
            return n
        }
        do {
            let rejected = QuotesClient(loop: loop, configuration: .init(
                url: try WebSocketURL("ws://127.0.0.1:\(plain.port)/quotewebsocket/1.0.0"), bearerToken: "wrong-token"))
            try await rejected.connect()
        } catch let e as TradeWireError {
            print("  a wrong bearer token is refused in the handshake: HTTP \(e.httpStatus ?? 0)")
        }
        try await quotes.connect()
        for ack in try await quotes.subscribe(["DWC.4.20", "LVS.4.20", "THA.4.20"]) {
            if case .subscribed(let status, _, let products) = ack.response {
                print("WebSocket Request - ID: \(ack.requestID) | Method: subscribe | Latency: \(ack.latency.microseconds)µs")
                print("Response Data: {status: \(status), products: \(products.map { "\($0.name)=\($0.quote.map { "\($0)" } ?? "-")" })}")
            }
        }
        try await Task.sleep(for: .milliseconds(200))
        let pong = try await quotes.ping("1234")
        print("WebSocket Request - ID: \(pong.requestID) | Method: ping | Latency: \(pong.latency.microseconds)µs")
        _ = try await quotes.unsubscribeAll()
        await quotes.close()
        print("  \(await reader.value) quotes received in 200 ms\n")

        print("== broker order gateway (seed 000): orders_subscribe, send_order with clOrdId, order_ack, order_report")
        let gw = GatewayClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:\(plain.port)/ws/cotizaciones")),
                               handlers: .init(onReport: { _, r in
            print("  order_report (\(r.rawPrimaryShape ? "raw or" : "flat")): clOrdId=\(r.clientOrderID ?? "-") orderID=\(r.orderID ?? "-") status=\(r.status.rawValue)"
                  + (r.lastQty.map { q in " fill \(q) @ \(r.lastPrice.map { "\($0)" } ?? "-")" } ?? ""))
        }))
        let gwMaker = GatewayClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:\(plain.port)/ws/cotizaciones")))
        try await gw.connect()
        try await gwMaker.connect()
        _ = try await gwMaker.ordersSubscribe(account: "16557")
        let sub = try await gw.ordersSubscribe(account: "16558")
        print("WebSocket Request - ID: \(sub.requestID) | Method: orders_subscribe | Latency: \(sub.latency.microseconds)µs")
        _ = try await gwMaker.sendOrder(GatewayOrder(symbol: "GGAL", side: .sell, size: "100", price: "1500.0"), clientOrderID: ClientOrderID("MAKER_001")!)
        let gack = try await gw.sendOrder(GatewayOrder(symbol: "GGAL", side: .buy, size: "100", price: "1500.0"), clientOrderID: ClientOrderID("MI_ORDEN_001")!)
        if case .orderAck(let a) = gack.response {
            print("WebSocket Request - ID: \(gack.requestID) | Method: send_order | Latency: \(gack.latency.microseconds)µs")
            print("Response Data: {status: \(a.ok ? "ok" : "error"), orderID: \(a.orderID ?? "-"), status: \(a.status ?? "-")}")
        }
        do { _ = try await gw.sendOrder(GatewayOrder(symbol: "", side: .buy, size: "1", price: "1"), clientOrderID: ClientOrderID("MI_ORDEN_002")!) }
        catch { print("  a refused order: \(error.venueError?.message ?? error.detail)") }
        try await Task.sleep(for: .milliseconds(30))
        await gw.close()
        await gwMaker.close()
        print("")

        print("== Binance WS API: HMAC-signed order.place, Ed25519 session.logon and the user data stream, a bad signature")
        let bn = BinanceClient(loop: loop, configuration: .init(
            url: try WebSocketURL("ws://127.0.0.1:\(plain.port)/ws-api/v3"),
            credentials: .init(apiKey: "demo-binance-key", key: .ed25519(privateKeyPEM: edPrivate))), handlers: .init(
            onExecutionReport: { _, r in
                print("  executionReport: \(r.executionType) \(r.symbol) order \(r.orderID) status=\(r.status.rawValue)"
                      + (r.lastQty.map { q in q > .zero ? " fill \(q) @ \(r.lastPrice.map { "\($0)" } ?? "-")" : "" } ?? ""))
            }))
        try await bn.connect()
        let logon = try await bn.logon()
        print("WebSocket Request - ID: \(logon.requestID) | Method: session.logon | Latency: \(logon.latency.microseconds)µs")
        _ = try await bn.subscribeUserDataStream()
        let bhmac = BinanceClient(loop: loop, configuration: .init(
            url: try WebSocketURL("ws://127.0.0.1:\(plain.port)/ws-api/v3"),
            credentials: .init(apiKey: "demo-binance-key", key: .hmac(secret: "demo-binance-secret"))))
        try await bhmac.connect()
        let placed = try await bhmac.placeOrder(.limit("BTCUSDT", .sell, quantity: "0.01", price: "52000.00"))
        print("WebSocket Request - ID: \(placed.requestID) | Method: order.place | Latency: \(placed.latency.microseconds)µs")
        print("Response Data: {orderID: \(placed.response.orderID ?? 0), status: \(placed.response.orderStatus ?? "-"), rateLimits: \(placed.response.rateLimits.map { "\($0.interval) \($0.count)/\($0.limit)" })}")
        _ = try await bn.placeOrder(.limit("BTCUSDT", .buy, quantity: "0.01", price: "52000.00"))
        do {
            let wrong = BinanceClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:\(plain.port)/ws-api/v3"),
                                                                       credentials: .init(apiKey: "demo-binance-key", key: .hmac(secret: "wrong")), rateLimiter: nil))
            try await wrong.connect()
            _ = try await wrong.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "1"))
        } catch let e as TradeWireError { print("  a wrong secret: \(e.detail)") }
        try await Task.sleep(for: .milliseconds(30))
        print("")

        print("== market data beside the orders: Kraken's book (CRC-32 checked on every message) and Binance's SBE best bid/ask")
        _ = try await trader.subscribeInstruments()                        // the pairs' precisions, which the checksum uses
        try await Task.sleep(for: .milliseconds(50))
        _ = try await trader.subscribeBook(["BTC/USD"], depth: 10)
        _ = try await maker.placeOrder(.limit("BTC/USD", .sell, quantity: "0.5", price: "20010"))
        _ = try await maker.placeOrder(.limit("BTC/USD", .buy, quantity: "0.7", price: "19990"))
        try await Task.sleep(for: .milliseconds(50))
        if let b = try await trader.book("BTC/USD"), let bid = b.bestBid, let ask = b.bestAsk {
            func text(_ l: L2Level) -> String {
                "\(FixedDecimal(mantissa: l.price, scale: b.priceScale)) x \(FixedDecimal(mantissa: l.quantity, scale: b.qtyScale))"
            }
            print("  Kraken BTC/USD, verified: best bid \(text(bid)) | best ask \(text(ask)) (\(b.bids.count) bids, \(b.asks.count) asks)")
        }
        let sbeQuotes = Locked(0)
        let sbe = BinanceMarketStream(loop: loop, base: try WebSocketURL("ws://127.0.0.1:\(plain.port)"), api: nil, symbols: ["BTCUSDT"],
                                      encoding: .sbe(apiKey: "demo-binance-key"), channels: [.bestBidAsk, .trades], handlers: .init(
            onBestBidAsk: { _, e in
                guard sbeQuotes.withLock({ $0 += 1; return $0 }) <= 3, let bid = e.bid, let ask = e.ask else { return }
                print("  Binance SBE @bestBidAsk (binary, decoded in place): \(e.symbol) \(bid.price) x \(bid.quantity) | \(ask.price) x \(ask.quantity) (update \(e.bookUpdateID))")
            },
            onTrade: { _, t in
                print("  Binance SBE @trade: \(t.symbol) \(t.qtyDecimal.map { "\($0)" } ?? "?") @ \(t.priceDecimal.map { "\($0)" } ?? "?")")
            }))
        try await sbe.connect()
        _ = try await bhmac.placeOrder(.limit("BTCUSDT", .sell, quantity: "0.03", price: "52010.00"))
        _ = try await bhmac.placeOrder(.limit("BTCUSDT", .buy, quantity: "0.02", price: "51990.00"))
        _ = try await bhmac.placeOrder(.limit("BTCUSDT", .sell, quantity: "0.01", price: "51980.00"))    // trades with the bid
        try await Task.sleep(for: .milliseconds(50))
        await sbe.close()
        await bn.close()
        await bhmac.close()
        print("")

        // Quietly, many more round trips for the summary.
        quiet.withLock { $0 = true }
        for i in 0..<count {
            let a = try await trader.placeOrder(.limit("BTC/USD", .buy, quantity: "0.01", price: "20000"))
            if i % 2 == 0 { _ = try await trader.cancelOrder(.orderIDs([a.response.orderID!.description])) }
        }
        _ = try await trader.cancelAll()

        print("\nLatency per method (HDR histogram, µs), through async/await across threads:")
        print("method                 count      p50      p90      p99    p99.9      max")
        for s in trader.latency.allStats {
            print(s.method.padding(toLength: 20, withPad: " ", startingAt: 0)
                  + String(format: "%7d %8.1f %8.1f %8.1f %8.1f %8.1f", s.count, s.p50, s.p90, s.p99, s.p999, s.max))
        }
        print("\n(for the callback hot path without thread hops: tradewire bench --venue kraken --floor)")
        await maker.close()
        await trader.close()
        try await Task.sleep(for: .milliseconds(50))
        TradeWire.removeAll()
    }

    static func params(_ r: KrakenRequest, id: UInt64) -> String {
        var buf = [UInt8](repeating: 0, count: 4096)
        let n = buf.withUnsafeMutableBytes { b -> Int in
            var w = JSONWriter(b)
            KrakenEncoder.encode(r, id: id, token: "<token>", into: &w)
            return w.count
        }
        return String(decoding: buf[..<n], as: UTF8.self)
    }

    static func describe(_ r: KrakenResponse) -> String {
        var parts = ["success: \(r.success)"]
        if let v = r.orderID, !v.isEmpty { parts.append("order_id: \(v)") }
        if let v = r.clientOrderID { parts.append("cl_ord_id: \(v)") }
        if let v = r.amendID { parts.append("amend_id: \(v)") }
        if let v = r.count { parts.append("count: \(v)") }
        if let b = r.orders {
            parts.append("orders: [\(b.map { $0.orderID?.description ?? "error: \($0.error ?? "")" }.joined(separator: ", "))]")
        }
        if let e = r.errorText { parts.append("error: \(e)") }
        if let t = r.timeOut { parts.append("time_out: \(t)") }
        return "{" + parts.joined(separator: ", ") + "}"
    }
}
