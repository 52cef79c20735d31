import CMallocCounter
import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken
@testable import TradeWireSimulator

/// A venue for the client test: acks each level3 request (one ack per symbol, as the channel page shows) and, on a
/// subscribe, sends the stream it was given: the first time with the one message `corrupt` names given a wrong
/// checksum, afterwards as is. Every request it saw is kept.
final class Level3Venue: WebSocketHandler, @unchecked Sendable {
    let messages: [String]
    let corrupt: Int
    let requests = Locked<[String]>([])
    private var subscribes = 0
    init(messages: [String], corrupt: Int) {
        self.messages = messages
        self.corrupt = corrupt
    }
    func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
        let text = String(decoding: m.bytes, as: UTF8.self)
        requests.withLock { $0.append(text) }
        guard let doc = try? JSONDocument(validating: m.bytes), let method = doc.root["method"]?.string,
              let id = doc.root["req_id"]?.int64 else { return }
        let symbol = doc.root["params"]?["symbol"].flatMap { s -> String? in
            var first: String?
            s.forEachElement { first = $0.string; return false }
            return first
        } ?? "BTC/USD"
        _ = try? c.send(text: #"{"method":"\#(method)","req_id":\#(id),"result":{"channel":"level3","symbol":"\#(symbol)","snapshot":true},"success":true,"time_in":"2026-12-06T07:00:00.000000Z","time_out":"2026-12-06T07:00:00.000001Z"}"#)
        guard method == "subscribe" else { return }
        subscribes += 1
        for (i, msg) in messages.enumerated() {
            let faulty = subscribes == 1 && i == corrupt
            _ = try? c.send(text: faulty ? msg.replacingOccurrences(of: #""checksum":"#, with: #""checksum":1"#) : msg)
        }
    }
}

/// Kraken's `level3` channel: order-by-order books kept as the channel page says, verified by the guide's checksum.
@Suite("Kraken level3")
struct KrakenLevel3Tests {
    static let btc = ["BTC/USD": KrakenLevel3Feed.Precision(price: 1, quantity: 8)]

    func feed(depth: Int = 10) -> (KrakenLevel3Feed, Locked<[KrakenBookFeed.Event]>, Locked<[String]>) {
        let f = KrakenLevel3Feed(depth: depth, precisions: Self.btc)
        let events = Locked<[KrakenBookFeed.Event]>([]), resubscribed = Locked<[String]>([])
        f.onEvent = { e in events.withLock { $0.append(e) } }
        f.resubscribe = { s in resubscribed.withLock { $0.append(s) } }
        return (f, events, resubscribed)
    }

    func apply(_ f: KrakenLevel3Feed, _ bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { b in try f.apply(message: b) }
    }

    /// The guide's worked example: 21 bids and 14 asks over 10 levels a side, checksum 1063832831.
    @Test func theGuidesWorkedExampleVerifies() throws {
        let (f, events, resubscribed) = feed()
        try apply(f, try fixture("kraken/docs-book", "ws_level3_checksum_guide_snapshot.json"))
        #expect(events.withLock { $0 } == [.snapshot(symbol: InlineText("BTC/USD"))])
        let book = try #require(f.book("BTC/USD"))
        #expect(book.bids.count == 10 && book.asks.count == 10 && book.orderCount == 35)
        #expect(book.bids.reduce(0) { $0 + $1.orders.count } == 21 && book.asks.reduce(0) { $0 + $1.orders.count } == 14)
        #expect(book.price(book.bestBid!.price) == FixedDecimal("44939.4") && book.price(book.bestAsk!.price) == FixedDecimal("44939.5"))
        #expect(KrakenLevel3Checksum.compute(book) == 1063832831)
        #expect(resubscribed.withLock { $0 }.isEmpty && f.checksumFailures == 0)
    }

    /// The checksum covers each order's place in its queue: two orders of one level swapped no longer verify, and
    /// the book is withdrawn and asked for again.
    @Test func queueOrderIsPartOfTheChecksum() throws {
        var text = String(decoding: try fixture("kraken/docs-book", "ws_level3_checksum_guide_snapshot.json"), as: UTF8.self)
        // The first two bids share 44939.4: swap their ids and quantities by swapping their texts.
        let a = #""order_qty": "0.88968699""#, b = #""order_qty": "0.45210000""#
        #expect(text.contains(a) && text.contains(b))
        text = text.replacingOccurrences(of: a, with: "#A#").replacingOccurrences(of: b, with: a).replacingOccurrences(of: "#A#", with: b)
        let (f, events, resubscribed) = feed()
        try apply(f, Array(text.utf8))
        guard case .checksumMismatch(_, let expected, _)? = events.withLock({ $0.last }) else {
            Issue.record("expected a checksum mismatch, got \(events.withLock { $0 })")
            return
        }
        #expect(expected == 1063832831)
        #expect(f.book("BTC/USD") == nil && resubscribed.withLock { $0 } == ["BTC/USD"])
        // Updates are dropped until a snapshot rebuilds the book.
        try apply(f, Array(#"{"channel":"level3","type":"update","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":0}]}"#.utf8))
        #expect(f.updatesApplied == 0 && f.book("BTC/USD") == nil)
        try apply(f, try fixture("kraken/docs-book", "ws_level3_checksum_guide_snapshot.json"))
        #expect(f.book("BTC/USD") != nil)
    }

    /// The rules the channel page states, one by one: an add joins the back of its queue, a modify keeps the order's
    /// place, a delete removes it, an emptied level goes, and the book is cut to its depth with no delete sent.
    @Test func addModifyDeleteAndTruncation() {
        let b = L3Book(depth: 2, priceScale: 1, qtyScale: 8)
        let (x, y, z, w) = (InlineText("X"), InlineText("Y"), InlineText("Z"), InlineText("W"))
        b.add(.buy, id: x, price: 1000, quantity: 5)
        b.add(.buy, id: y, price: 1000, quantity: 7)
        b.add(.buy, id: z, price: 1010, quantity: 1)
        #expect(b.bids.map(\.price) == [1010, 1000] && b.bids[1].orders.map(\.id) == [x, y])
        #expect(b.modify(id: x, price: 1000, quantity: 2) && b.bids[1].orders.map(\.id) == [x, y] && b.bids[1].orders[0].quantity == 2)
        #expect(b.modify(id: x, price: 1010, quantity: 2) && b.bids[0].orders.map(\.id) == [z, x])   // a new price: the back of that queue
        b.add(.buy, id: w, price: 990, quantity: 3)
        b.truncate()
        #expect(b.bids.map(\.price) == [1010, 1000] && b.orderCount == 3)                           // W fell out, with no delete
        b.add(.buy, id: w, price: 1000, quantity: 3)
        #expect(b.modify(id: w, price: 1000, quantity: 0) && b.bids[1].orders.map(\.id) == [y])   // nothing left: gone
        #expect(b.delete(id: z) && b.delete(id: x) && !b.delete(id: w))
        b.truncate()
        #expect(b.bids.map(\.price) == [1000] && b.orderCount == 1)
    }

    /// An independent feed (Peers/kraken_level3_stream.py): a random book written as the venue writes it, each
    /// message checksummed by the script as the guide says. Every message verifies, and the book ends as the
    /// script's, order by order, across truncations and levels coming back into the window.
    @Test(arguments: [(7, 10), (11, 10), (29, 100)])
    func aPythonVenuesStreamVerifiesThroughout(_ seed: Int, _ depth: Int) throws {
        guard let dir = Bundle.module.resourcePath.map({ $0 + "/Peers" }) else { throw PeerError("no Peers directory") }
        let script = "import runpy, sys; sys.argv = ['kraken_level3_stream.py'] + sys.argv[1:]; runpy.run_path('\(dir)/kraken_level3_stream.py', run_name='__main__')"
        let (status, output) = try PythonPeer.run(script: script, arguments: [String(seed), "400", String(depth)])
        #expect(status == 0)
        var lines = output.split(separator: "\n").map(String.init)
        let final = lines.removeLast()
        #expect(lines.count == 401)
        let (f, events, _) = feed(depth: depth)
        for l in lines { try apply(f, Array(l.utf8)) }
        #expect(f.checksumFailures == 0 && f.snapshots == 1 && f.updatesApplied == 400)
        #expect(events.withLock { $0.filter { if case .update = $0 { true } else { false } }.count } == 400)
        let book = try #require(f.book("BTC/USD"))
        // The script's final window, side by side: [[price, [[id, qty], …]], …], best first.
        let want = try #require(try JSONSerialization.jsonObject(with: Data(final.utf8)) as? [String: [String: [[Any]]]])["final"]
        func side(_ levels: [L3Level]) -> [String] {
            levels.map { l in "\(book.price(l.price)):" + l.orders.map { "\($0.id)=\(book.quantity($0.quantity))" }.joined(separator: ",") }
        }
        func scriptSide(_ levels: [[Any]]) -> [String] {
            levels.map { l in
                "\(FixedDecimal(l[0] as! String)!):" + (l[1] as! [[String]]).map { "\($0[0])=\(FixedDecimal($0[1])!)" }.joined(separator: ",")
            }
        }
        #expect(side(book.bids) == scriptSide(want?["bids"] ?? []))
        #expect(side(book.asks) == scriptSide(want?["asks"] ?? []))
    }

    /// A venue whose orders come and go at random over a bounded set of ids and prices: once the book has grown,
    /// a level3 message (decode, apply, truncate, checksum) allocates nothing, and neither does the book itself
    /// while levels leave and return through truncation.
    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"))
    func onceGrownTheLevel3PathAllocatesNothing() throws {
        var rng = SplitMix64(seed: 5)
        let venue = L3Book(depth: 100, priceScale: 1, qtyScale: 8)   // never truncates: the venue's whole book
        var live: [Int: Side] = [:]
        func text(_ v: Int64, _ scale: Int) -> String {
            let unit = [1, 10, 100_000_000][scale == 1 ? 1 : 2]
            let frac = String(v % Int64(unit))
            return "\(v / Int64(unit)).\(String(repeating: "0", count: scale - frac.count))\(frac)"
        }
        var messages: [[UInt8]] = [Array(#"{"channel":"level3","type":"snapshot","data":[{"symbol":"BTC/USD","bids":[],"asks":[],"checksum":0}]}"#.utf8)]
        for _ in 0..<4000 {
            var sides: [Side: [String]] = [.buy: [], .sell: []]
            for _ in 0..<3 {
                let k = Int(rng.next() % 300)
                let id = InlineText("O\(k)")
                let qty = Int64(rng.next() % 100_000_000) + 1
                if let side = live[k] {
                    if rng.next() % 2 == 0 {
                        live[k] = nil
                        venue.delete(id: id)
                        sides[side]!.append(#"{"event":"delete","order_id":"\#(id)","limit_price":0.0,"order_qty":"0"}"#)
                    } else {
                        let price = (side == .buy ? venue.bids : venue.asks).first { $0.orders.contains { $0.id == id } }!.price
                        venue.modify(id: id, price: price, quantity: qty)
                        sides[side]!.append(#"{"event":"modify","order_id":"\#(id)","limit_price":\#(text(price, 1)),"order_qty":"\#(text(qty, 8))"}"#)
                    }
                } else {
                    let side: Side = k % 2 == 0 ? .buy : .sell
                    let price: Int64 = side == .buy ? 500_000 - Int64(rng.next() % 40) : 500_010 + Int64(rng.next() % 40)
                    live[k] = side
                    venue.add(side, id: id, price: price, quantity: qty)
                    sides[side]!.append(#"{"event":"add","order_id":"\#(id)","limit_price":\#(text(price, 1)),"order_qty":"\#(text(qty, 8))"}"#)
                }
            }
            venue.truncate()
            let bids = sides[.buy]!.joined(separator: ","), asks = sides[.sell]!.joined(separator: ",")
            messages.append(Array(#"{"channel":"level3","type":"update","data":[{"symbol":"BTC/USD","bids":[\#(bids)],"asks":[\#(asks)],"checksum":\#(KrakenLevel3Checksum.compute(venue))}]}"#.utf8))
        }
        // The first pass grows the book to the flow's high-water marks; the second's updates (after the same empty
        // snapshot) are measured.
        let f = KrakenLevel3Feed(depth: 100, precisions: Self.btc)
        for m in messages { try apply(f, m) }
        try apply(f, messages[0])
        var allocations = 0
        for m in messages[1...] {
            let start = tw_test_thread_allocations()
            try apply(f, m)
            allocations += Int(tw_test_thread_allocations() - start)
        }
        #expect(allocations == 0)
        #expect(f.checksumFailures == 0 && f.snapshots == 2 && f.updatesApplied == 8000)
        let book = try #require(f.book("BTC/USD"))
        #expect(book.bids == venue.bids && book.asks == venue.asks)

        // The book alone at depth 10: levels fall out of the window and come back.
        let small = L3Book(depth: 10, priceScale: 1, qtyScale: 8)
        var held = [Bool](repeating: false, count: 300)
        func step() {
            let k = Int(rng.next() % 300)
            let id = InlineText("O\(k)")
            if held[k] {
                held[k] = false
                small.delete(id: id)
            } else {
                held[k] = true
                let side: Side = k % 2 == 0 ? .buy : .sell
                small.add(side, id: id, price: side == .buy ? 500_000 - Int64(rng.next() % 40) : 500_010 + Int64(rng.next() % 40), quantity: 1)
            }
            small.truncate()
            _ = KrakenLevel3Checksum.compute(small)
        }
        for _ in 0..<20_000 { step() }
        let start = tw_test_thread_allocations()
        for _ in 0..<20_000 { step() }
        #expect(tw_test_thread_allocations() - start == 0)
        #expect(small.bids.count <= 10 && small.asks.count <= 10)
    }

    @Test func theSubscribeCarriesTheTokenAndTheDepthBothWays() throws {
        // The docs' request, with the depth named: the same channel, symbols and token.
        let docs = try #require(try JSONSerialization.jsonObject(with: Data(try fixture("kraken/docs-book", "ws_level3_subscribe_request.json"))) as? [String: Any])
        let docsParams = try #require(docs["params"] as? [String: Any])
        let token = try #require(docsParams["token"] as? String)
        let request = KrakenRequest.subscribeLevel3(symbols: docsParams["symbol"] as? [String] ?? [], depth: 100)
        try KrakenEncoder.check(request)
        let sub = written { w in KrakenEncoder.encode(request, id: 7, token: token, into: &w) }
        let doc = try #require(try JSONSerialization.jsonObject(with: Data(sub)) as? [String: Any])
        let params = try #require(doc["params"] as? [String: Any])
        #expect(doc["method"] as? String == "subscribe" && params["channel"] as? String == docsParams["channel"] as? String)
        #expect(params["symbol"] as? [String] == docsParams["symbol"] as? [String] && params["token"] as? String == docsParams["token"] as? String)
        #expect(params["depth"] as? Int == 100 && params["snapshot"] as? Bool == true)
        let unsub = written { w in KrakenEncoder.encode(.unsubscribeLevel3(symbols: ["ALGO/USD"], depth: 100), id: 8, token: "t", into: &w) }
        let u = try #require((try JSONSerialization.jsonObject(with: Data(unsub)) as? [String: Any])?["params"] as? [String: Any])
        #expect(u["depth"] as? Int == 100 && u["token"] as? String == "t" && u["snapshot"] == nil)
        var refused: TradeWireError?
        do { try KrakenEncoder.check(.subscribeLevel3(symbols: ["BTC/USD"], depth: 25)) } catch { refused = error }
        #expect(refused?.code == .invalidArgument)     // level3 takes 10, 100 or 1000 (the book channel's 25 is not one)
    }

    /// The client: `subscribeLevel3` sends the token and depth, keeps the books, hands out copies; a message whose
    /// checksum disagrees withdraws the book, and the client unsubscribes and subscribes that symbol again (with
    /// the token), after which the new snapshot rebuilds it.
    @Test func theClientKeepsTheBooksAndResubscribesAfterAMismatch() async throws {
        guard let dir = Bundle.module.resourcePath.map({ $0 + "/Peers" }) else { throw PeerError("no Peers directory") }
        let script = "import runpy, sys; sys.argv = ['kraken_level3_stream.py'] + sys.argv[1:]; runpy.run_path('\(dir)/kraken_level3_stream.py', run_name='__main__')"
        let (status, output) = try PythonPeer.run(script: script, arguments: ["3", "60", "10"])
        #expect(status == 0)
        var lines = output.split(separator: "\n").map(String.init)
        lines.removeLast()                              // the script's final book
        let venue = Level3Venue(messages: lines, corrupt: 30)   // the 31st message, the first time: a corrupted checksum
        let serverLoop = try EventLoop.forTest(.automatic), loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue }
        let events = Locked<[KrakenBookFeed.Event]>([])
        let client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), token: "l3-token", rateLimiter: nil),
            handlers: .init(onLevel3: { _, e in events.withLock { $0.append(e) } }))
        try await client.connect()
        _ = try await client.subscribeLevel3(["BTC/USD"], depth: 10, precisions: Self.btc)
        for _ in 0..<500 where events.withLock({ $0.filter { if case .snapshot = $0 { true } else { false } }.count }) < 2 {
            try await Task.sleep(for: .milliseconds(10))
        }
        let seen = events.withLock { $0 }
        #expect(seen.filter { if case .checksumMismatch = $0 { true } else { false } }.count == 1)
        #expect(seen.filter { if case .snapshot = $0 { true } else { false } }.count == 2)
        let book = try #require(try await client.level3Book("BTC/USD"))
        #expect(book.bids.count == 10 && book.asks.count == 10 && book.bestBid!.price < book.bestAsk!.price)
        let sent = venue.requests.withLock { $0 }
        #expect(sent.count == 3)                        // subscribe; then, after the mismatch, unsubscribe and subscribe
        #expect(sent.allSatisfy { $0.contains(#""channel":"level3""#) && $0.contains(#""token":"l3-token""#) && $0.contains(#""depth":10"#) })
        #expect(sent[1].contains(#""method":"unsubscribe""#) && sent[2].contains(#""method":"subscribe""#))
        await client.close()
    }

    /// The simulator's `level3`: the orders of the book it matches against, one by one. Orders placed through the
    /// client show up in the client's level3 book in time priority, fills as new remaining quantities, cancels and
    /// full fills as deletes; every message verifies, and the client's book is the venue's, order by order.
    @Test func theClientsOrderBookIsTheSimulatorsOrderByOrder() async throws {
        let serverLoop = try EventLoop.forTest(.automatic), loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        var options = KrakenVenueSimulator.Options()
        options.pairPrecision = ["BTC/USD": (1, 8)]
        let venue = KrakenVenueSimulator(options: options)
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        let client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), token: "t", rateLimiter: nil))
        try await client.connect()
        _ = try await client.placeOrder(.limit("BTC/USD", .sell, quantity: "1.5", price: "26010.5"))   // in the snapshot
        let ack = try await client.subscribeLevel3(["BTC/USD"], depth: 10, precisions: Self.btc)
        #expect(ack.response.success)
        for i in 0..<24 {
            // Two orders a price, so levels hold queues; 13 levels a side, so some rest beyond the depth.
            _ = try await client.placeOrder(.limit("BTC/USD", i % 2 == 0 ? .buy : .sell, quantity: "0.25",
                                                   price: Price(i % 2 == 0 ? "\(25_900 + i / 4).5" : "\(26_100 + i / 4).0")!))
        }
        _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1.6", price: "26100.0"))   // a full and a partial fill
        _ = try await client.request(.ping)                                                         // everything before it was read
        #expect(try loop.runSync { client.level3Feed?.checksumFailures } == 0)
        #expect(try loop.runSync { client.level3Feed?.updatesApplied ?? 0 } > 20)
        let mine = try #require(try await client.level3Book("BTC/USD"))
        func text(_ levels: [L3Level]) -> [String] {
            levels.map { l in "\(FixedDecimal(mantissa: l.price, scale: 1)):" + l.orders.map { "\($0.id)=\(FixedDecimal(mantissa: $0.quantity, scale: 8))" }.joined(separator: ",") }
        }
        let theirs = try serverLoop.runSync { () -> (bids: [String], asks: [String]) in
            let b = venue.book("BTC/USD")
            func fmt(_ w: [(price: FixedDecimal, orders: [(id: String, remaining: FixedDecimal)])]) -> [String] {
                w.map { l in "\(FixedDecimal(mantissa: L2Book.units(l.price, scale: 1)!, scale: 1)):"
                    + l.orders.map { "\($0.id)=\(FixedDecimal(mantissa: L2Book.units($0.remaining, scale: 8)!, scale: 8))" }.joined(separator: ",") }
            }
            return (fmt(b.queues(.buy, levels: 10)), fmt(b.queues(.sell, levels: 10)))
        }
        #expect(text(mine.bids) == theirs.bids)
        #expect(text(mine.asks) == theirs.asks)
        // The buy took the 1.5 at 26010.5 (deleted) and 0.1 of the first 0.25 at 26100.0 (modified in place).
        #expect(mine.asks.first.map { FixedDecimal(mantissa: $0.price, scale: 1) } == FixedDecimal("26100.0"))
        #expect(mine.asks.first.map { l in l.orders.map { FixedDecimal(mantissa: $0.quantity, scale: 8) } } == [FixedDecimal("0.15")!, FixedDecimal("0.25")!])
        await client.close()
    }
}
