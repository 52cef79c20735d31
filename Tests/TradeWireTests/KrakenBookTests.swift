import CMallocCounter
import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken
@testable import TradeWireSimulator

/// The L2 book, Kraken's `book` channel and its checksum, against the docs' own vectors
/// (`Fixtures/kraken/docs-book/`, INDEX.md names each one's page) and against the simulator's feed.
@Suite("Kraken book: verified L2 books")
struct KrakenBookTests {
    static func docs(_ name: String) throws -> [UInt8] { try fixture("kraken", "docs-book/\(name)") }

    @Test func crc32IsTheZlibOne() {
        #expect(CRC32.checksum(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(CRC32.checksum([]) == 0)
        // A bit at a time, straight from the polynomial: the reference both paths must match.
        func reference(_ bytes: ArraySlice<UInt8>, _ start: UInt32) -> UInt32 {
            var c = ~start
            for b in bytes {
                c ^= UInt32(b)
                for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            }
            return ~c
        }
        // Every length to 300 (the folding starts at 64 bytes and works in 16-byte blocks, the table in 8), split
        // anywhere and continued, and from a nonzero start.
        var rng = SplitMix64(seed: 3)
        let bytes = (0..<300).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
        bytes.withUnsafeBytes { b in
            for n in 0...bytes.count {
                let whole = UnsafeRawBufferPointer(rebasing: b[..<n])
                let want = reference(bytes[..<n], 0)
                #expect(CRC32.checksum(whole) == want && CRC32.tableChecksum(whole) == want)
                let k = n / 3
                #expect(CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[k..<n]),
                                       continuing: CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[..<k]))) == want)
                #expect(CRC32.checksum(whole, continuing: 0x1234_5678) == reference(bytes[..<n], 0x1234_5678))
            }
        }
    }

    @Test func theChecksumGuidesExample() throws {
        let feed = KrakenBookFeed(depth: 10, precisions: ["BTC/USD": .init(price: 1, quantity: 8)])
        var events: [KrakenBookFeed.Event] = []
        feed.onEvent = { events.append($0) }
        try Self.docs("ws_book_checksum_guide_snapshot.json").withUnsafeBytes { try feed.apply(message: $0) }
        #expect(events == [.snapshot(symbol: InlineText("BTC/USD"))])
        let book = try #require(feed.book("BTC/USD"))
        #expect(KrakenBookChecksum.compute(book) == 3_310_070_434)
        #expect(book.bestBid == L2Level(price: 452835, quantity: 10_000_000) && book.bestAsk?.price == 452852)
        book.apply(.buy, price: 452835, quantity: 20_000_000)
        #expect(KrakenBookChecksum.compute(book) == 38_355_977)
    }

    /// The book page's MATIC/USD snapshot and update (JSON numbers with trailing zeros trimmed): they verify
    /// only at the pair's precision (4 and 8), as the checksum is computed on the padded text.
    @Test func theBookPagesSnapshotAndUpdateVerifyAtThePairsPrecision() throws {
        let feed = KrakenBookFeed(depth: 10, precisions: ["MATIC/USD": .init(price: 4, quantity: 8)])
        var events: [KrakenBookFeed.Event] = []
        feed.onEvent = { events.append($0) }
        try Self.docs("ws_book_snapshot.json").withUnsafeBytes { try feed.apply(message: $0) }
        try Self.docs("ws_book_update.json").withUnsafeBytes { try feed.apply(message: $0) }
        #expect(events == [.snapshot(symbol: InlineText("MATIC/USD")), .update(symbol: InlineText("MATIC/USD"))])
        #expect(feed.checksumFailures == 0 && feed.updatesApplied == 1)
        let book = try #require(feed.book("MATIC/USD"))
        #expect(book.bids.first { $0.price == 5657 }?.quantity == 109_839_475_580)
    }

    /// A wrong book is never handed out: withdrawn, a resubscribe asked for, updates dropped until a snapshot.
    @Test func aChecksumMismatchWithdrawsTheBookUntilTheNextSnapshot() throws {
        let feed = KrakenBookFeed(depth: 10, precisions: ["MATIC/USD": .init(price: 4, quantity: 8)])
        var events: [KrakenBookFeed.Event] = []
        var resubscribed: [String] = []
        feed.onEvent = { events.append($0) }
        feed.resubscribe = { resubscribed.append($0) }
        try Self.docs("ws_book_snapshot.json").withUnsafeBytes { try feed.apply(message: $0) }
        // The docs' update with a checksum one off: the book no longer agrees with the venue.
        var text = String(decoding: try Self.docs("ws_book_update.json"), as: UTF8.self)
        text = text.replacingOccurrences(of: "2114181697", with: "2114181698")
        try Array(text.utf8).withUnsafeBytes { try feed.apply(message: $0) }
        #expect(events.last == .checksumMismatch(symbol: InlineText("MATIC/USD"), expected: 2_114_181_698, computed: 2_114_181_697))
        #expect(feed.book("MATIC/USD") == nil && resubscribed == ["MATIC/USD"] && feed.checksumFailures == 1)
        // Updates before the new snapshot change nothing and say nothing.
        let before = events.count
        try Self.docs("ws_book_update.json").withUnsafeBytes { try feed.apply(message: $0) }
        #expect(events.count == before && feed.book("MATIC/USD") == nil)
        try Self.docs("ws_book_snapshot.json").withUnsafeBytes { try feed.apply(message: $0) }
        #expect(feed.book("MATIC/USD") != nil && events.last == .snapshot(symbol: InlineText("MATIC/USD")))
    }

    @Test func aValueFinerThanThePrecisionOrAnUnknownPairIsUnusable() throws {
        let feed = KrakenBookFeed(depth: 10, precisions: ["MATIC/USD": .init(price: 3, quantity: 8)])   // 0.5666 is finer
        var events: [KrakenBookFeed.Event] = []
        feed.onEvent = { events.append($0) }
        try Self.docs("ws_book_snapshot.json").withUnsafeBytes { try feed.apply(message: $0) }
        guard case .unusable? = events.last else { Issue.record("\(events)"); return }
        #expect(feed.book("MATIC/USD") == nil)
        let unknown = KrakenBookFeed(depth: 10)
        unknown.onEvent = { events.append($0) }
        try Self.docs("ws_book_snapshot.json").withUnsafeBytes { try unknown.apply(message: $0) }
        guard case .unusable? = events.last else { Issue.record("\(events)"); return }
    }

    /// The instrument page's snapshot: each pair's precisions, which the book's checksum is computed at.
    @Test func theInstrumentChannelGivesThePairsPrecisions() throws {
        guard case .push(.instruments(let x)) = try Self.docs("ws_instrument_snapshot.json").withUnsafeBytes({ try KrakenDecoder.decode($0) }) else {
            Issue.record("not an instrument message"); return
        }
        #expect(x.isSnapshot)
        let btc = try #require(x.pairs.first { $0.symbol == "BTC/USD" })
        #expect(btc.pricePrecision == 1 && btc.qtyPrecision == 8 && btc.tickSize == FixedDecimal("0.1") && btc.qtyMin == FixedDecimal("0.0001"))
        guard case .push(.instruments(let u)) = try Self.docs("ws_instrument_update.json").withUnsafeBytes({ try KrakenDecoder.decode($0) }) else {
            Issue.record("not an instrument message"); return
        }
        #expect(!u.isSnapshot && u.pairs.isEmpty)
        #expect(sameJSON(written { KrakenEncoder.encode(.subscribeInstruments, id: 79, token: nil, into: &$0) },
                         try Self.docs("ws_instrument_subscribe_request.json")))
    }

    /// The one-pass path reads what the general decoder reads: the same books, the same events, over the docs'
    /// messages (whitespace taken out, as the venue sends them) and a seeded stream of updates; what it does not
    /// take (whitespace, an unknown pair) it leaves for the general path untouched.
    @Test func theFastPathAgreesWithTheGeneralDecoder() throws {
        func compact(_ b: [UInt8]) -> [UInt8] { b.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 } }
        let fast = KrakenBookFeed(depth: 10, precisions: ["MATIC/USD": .init(price: 4, quantity: 8), "BTC/USD": .init(price: 1, quantity: 8)])
        let general = KrakenBookFeed(depth: 10, precisions: ["MATIC/USD": .init(price: 4, quantity: 8), "BTC/USD": .init(price: 1, quantity: 8)])
        var fastEvents: [KrakenBookFeed.Event] = [], generalEvents: [KrakenBookFeed.Event] = []
        fast.onEvent = { fastEvents.append($0) }
        general.onEvent = { generalEvents.append($0) }
        func both(_ m: [UInt8], expectFast: Bool) throws {
            let took = m.withUnsafeBytes { fast.applyFast($0) }
            #expect(took == expectFast)
            if !took { try m.withUnsafeBytes { try fast.apply(message: $0) } }
            try m.withUnsafeBytes { b in
                let doc = try KrakenDecoder.document(b)
                general.apply(doc.captured)
            }
        }
        try both(Self.docs("ws_book_snapshot.json"), expectFast: false)            // pretty-printed: the general path
        try both(compact(try Self.docs("ws_book_update.json")), expectFast: true)
        try both(compact(try Self.docs("ws_book_checksum_guide_snapshot.json")), expectFast: false)   // prices as strings
        // A seeded walk of updates with their checksums.
        var rng = SystemRandomNumberGenerator()
        let model = L2Book(depth: 10, priceScale: 1, qtyScale: 8)
        for i in 1...10 { model.apply(.buy, price: 1000 - Int64(i), quantity: 100); model.apply(.sell, price: 1000 + Int64(i), quantity: 100) }
        func msg(_ type: String, _ bids: [L2Level], _ asks: [L2Level]) -> [UInt8] {
            func l(_ x: [L2Level]) -> String { x.map { "{\"price\":\(model.price($0.price)),\"qty\":\(model.quantity($0.quantity))}" }.joined(separator: ",") }
            return Array(("{\"channel\":\"book\",\"type\":\"\(type)\",\"data\":[{\"symbol\":\"BTC/USD\",\"bids\":[\(l(bids))],\"asks\":[\(l(asks))],"
                + "\"checksum\":\(KrakenBookChecksum.compute(model)),\"timestamp\":\"2026-12-06T10:33:05.709993Z\"}]}").utf8)
        }
        try both(msg("snapshot", Array(model.bids), Array(model.asks)), expectFast: true)
        for _ in 0..<500 {
            let side: Side = Bool.random(using: &rng) ? .buy : .sell
            let price = (side == .buy ? 990 : 1001) + Int64.random(in: 0..<10, using: &rng)
            let qty = Bool.random(using: &rng) ? 0 : Int64.random(in: 1...1_000_000_000, using: &rng)
            model.apply(side, price: price, quantity: qty)
            model.truncate()
            try both(msg("update", side == .buy ? [L2Level(price: price, quantity: qty)] : [], side == .sell ? [L2Level(price: price, quantity: qty)] : []),
                     expectFast: true)
        }
        #expect(fastEvents == generalEvents)
        #expect(fast.checksumFailures == 0 && general.checksumFailures == 0)
        for s in ["MATIC/USD", "BTC/USD"] {
            #expect(fast.book(s)?.bids == general.book(s)?.bids && fast.book(s)?.asks == general.book(s)?.asks)
        }
        #expect(fast.book("BTC/USD")?.bids == model.bids)
    }

    /// The memo (digits of unchanged levels reused) gives the checksum the full formatting gives, through inserts,
    /// removals, quantity changes and a cleared book.
    @Test func theChecksumMemoAgreesWithTheFullFormatting() {
        var rng = SystemRandomNumberGenerator()
        let book = L2Book(depth: 10, priceScale: 2, qtyScale: 8)
        let memo = KrakenBookChecksum.Memo()
        for step in 0..<3000 {
            if step % 700 == 699 { book.clear() }
            let side: Side = Bool.random(using: &rng) ? .buy : .sell
            book.apply(side, price: (side == .buy ? 1_000 : 1_020) + Int64.random(in: 0..<20, using: &rng),
                       quantity: Bool.random(using: &rng) ? 0 : Int64.random(in: 1...9_999_999_999, using: &rng))
            book.truncate()
            #expect(KrakenBookChecksum.compute(book, memo: memo) == KrakenBookChecksum.compute(book))
        }
    }

    @Test func theBookKeepsItsOrderAndDepth() {
        let book = L2Book(depth: 3, priceScale: 1, qtyScale: 0)
        for p in [5, 1, 9, 3, 7] as [Int64] { book.apply(.buy, price: p, quantity: p * 10); book.apply(.sell, price: 100 + p, quantity: p) }
        #expect(book.bids.map(\.price) == [9, 7, 5, 3, 1] && book.asks.map(\.price) == [101, 103, 105, 107, 109])
        book.apply(.buy, price: 7, quantity: 0)                      // removed
        book.apply(.sell, price: 103, quantity: 33)                  // replaced, not added to
        book.truncate()
        #expect(book.bids.map(\.price) == [9, 5, 3] && book.asks.map(\.quantity) == [1, 33, 5])
        #expect(Array(book.top(.buy, 2)).map(\.price) == [9, 5])
        #expect(L2Book.units(FixedDecimal("1.5")!, scale: 3) == 1500 && L2Book.units(FixedDecimal("1.25")!, scale: 1) == nil)
    }

    /// Once the book has grown to its depth, an update (decode, apply, truncate, verify) allocates nothing.
    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"))
    func aBookUpdateAllocatesNothing() throws {
        let feed = KrakenBookFeed(depth: 10, precisions: ["MATIC/USD": .init(price: 4, quantity: 8)])
        let snapshot = try Self.docs("ws_book_snapshot.json"), update = try Self.docs("ws_book_update.json")
        try snapshot.withUnsafeBytes { try feed.apply(message: $0) }
        try update.withUnsafeBytes { b in
            for _ in 0..<10 { try feed.apply(message: b) }           // warm: the dictionaries and sides have grown
            let start = tw_test_thread_allocations()
            for _ in 0..<1000 { try feed.apply(message: b) }
            #expect(tw_test_thread_allocations() - start == 0)
        }
        #expect(feed.checksumFailures == 0 && feed.updatesApplied == 1010)
        // The one-pass path too (the venue's compact form).
        let compact = update.filter { $0 != 0x20 && $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
        try compact.withUnsafeBytes { b in
            #expect(feed.applyFast(b))
            let start = tw_test_thread_allocations()
            for _ in 0..<1000 { try feed.apply(message: b) }
            #expect(tw_test_thread_allocations() - start == 0)
        }
    }
}

/// The client keeps the simulator's book: the venue's matching engine publishes it, checksum on every message.
@Suite("Kraken book against the simulator", .serialized)
struct KrakenBookFeedTests {
    func run(corruptEvery: Int?) async throws -> (KrakenVenueSimulator, EventLoop, KrakenClient, EventLoop) {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        var options = KrakenVenueSimulator.Options()
        options.pairPrecision = ["BTC/USD": (1, 8)]
        options.corruptBookChecksumEvery = corruptEvery
        let venue = KrakenVenueSimulator(options: options)
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        let client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), token: "t", rateLimiter: nil))
        try await client.connect()
        // One side rests before the subscription (in the snapshot), the rest arrives as updates.
        _ = try await client.placeOrder(.limit("BTC/USD", .sell, quantity: "1.5", price: "26010.5"))
        let ack = try await client.subscribeBook(["BTC/USD"], depth: 10, precisions: ["BTC/USD": .init(price: 1, quantity: 8)])
        #expect(ack.response.success)
        for i in 0..<30 {
            _ = try await client.placeOrder(.limit("BTC/USD", i % 2 == 0 ? .buy : .sell, quantity: "0.25",
                                                   price: Price(i % 2 == 0 ? "\(25_900 + i).5" : "\(26_100 + i).0")!))
        }
        _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "26200"))      // takes from the asks
        #expect(try loop.runSync { client.bookFeed != nil })
        return (venue, serverLoop, client, loop)
    }

    /// Every message verified; the client's top 10 equals the venue's book.
    @Test func theClientsBookIsTheVenuesBook() async throws {
        let (venue, serverLoop, client, loop) = try await run(corruptEvery: nil)
        defer { loop.shutdown(); serverLoop.shutdown() }
        // The venue sends a book's update right after the answer that changed it: once a ping is answered, all are read.
        _ = try await client.request(.ping)
        // Orders resting beyond the subscribed depth change nothing the feed shows: fewer updates than orders.
        #expect(try loop.runSync { client.bookFeed?.updatesApplied ?? 0 } > 10)
        let mine = try loop.runSync { () -> [String] in
            guard let b = client.bookFeed?.book("BTC/USD") else { return [] }
            return b.bids.map { "\(b.price($0.price)) \(b.quantity($0.quantity))" } + ["|"] + b.asks.map { "\(b.price($0.price)) \(b.quantity($0.quantity))" }
        }
        let theirs = try serverLoop.runSync { () -> [String] in
            let b = venue.book("BTC/USD")
            func fmt(_ d: FixedDecimal, _ s: UInt8) -> String { "\(FixedDecimal(mantissa: L2Book.units(d, scale: s)!, scale: s))" }
            return b.depth(.buy, levels: 10).map { "\(fmt($0.price, 1)) \(fmt($0.quantity, 8))" } + ["|"]
                + b.depth(.sell, levels: 10).map { "\(fmt($0.price, 1)) \(fmt($0.quantity, 8))" }
        }
        #expect(mine == theirs)
        #expect(try loop.runSync { client.bookFeed?.checksumFailures } == 0)
    }

    /// The venue's fault: every 7th message carries a wrong checksum. Each is caught, the symbol resubscribed,
    /// and the book rebuilt from a fresh snapshot; at the end it matches the venue again.
    @Test func aCorruptedChecksumIsCaughtAndTheBookRebuilt() async throws {
        let (venue, serverLoop, client, loop) = try await run(corruptEvery: 7)
        defer { loop.shutdown(); serverLoop.shutdown() }
        #expect(await Self.until { (try? loop.runSync { client.bookFeed?.checksumFailures ?? 0 }) ?? 0 >= 2 })
        #expect(try loop.runSync { client.bookFeed?.resyncs ?? 0 } >= 2)
        // After the last resubscribe's snapshot, a ping answered means everything before it was read.
        _ = try await client.request(.ping)
        try await Task.sleep(for: .milliseconds(50))
        _ = try await client.request(.ping)
        let best = try loop.runSync { client.bookFeed?.book("BTC/USD").map { [$0.bestBid?.price, $0.bestAsk?.price] } }
        let venueBest = try serverLoop.runSync {
            [venue.book("BTC/USD").depth(.buy, levels: 1).first, venue.book("BTC/USD").depth(.sell, levels: 1).first]
                .map { $0.flatMap { L2Book.units($0.price, scale: 1) } }
        }
        #expect(best == venueBest, "the rebuilt book is verified and matches the venue's best prices")
    }

    /// The venue's background flow: a book that moves on its own at a set rate, on the connection that carries the
    /// orders' answers. Every update verifies, across the flow's wrap (a fresh snapshot), and orders still complete.
    @Test func aBookMovingOnItsOwnVerifiesBesideTheOrders() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let venue = KrakenVenueSimulator()
        // A rate every build keeps up with (ASan's and TSan's included); it wraps in 150 ms.
        venue.bookFlow = KrakenBookFlow(perSecond: 2_000, count: 300)
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        let client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), token: "t", rateLimiter: nil))
        try await client.connect()
        let ack = try await client.subscribeBook(["FLOW/USD"], depth: 10, precisions: ["FLOW/USD": .init(price: 1, quantity: 8)])
        #expect(ack.response.success)
        for i in 0..<50 {
            let a = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "0.01", price: Price("\(20_000 + i)")!))
            #expect(a.response.success)
        }
        #expect(await Self.until { (try? loop.runSync { client.bookFeed?.snapshots ?? 0 }) ?? 0 >= 2 })     // it wrapped
        #expect(try loop.runSync { client.bookFeed?.updatesApplied ?? 0 } > 300)
        #expect(try loop.runSync { client.bookFeed?.checksumFailures } == 0)
        #expect(try loop.runSync { client.bookFeed?.book("FLOW/USD")?.bids.count } == 10)
    }

    /// Precisions from the venue's `instrument` channel: no precision given, the book still verifies.
    @Test func theBookTakesItsPrecisionsFromTheInstrumentChannel() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        var options = KrakenVenueSimulator.Options()
        options.pairPrecision = ["ETH/USD": (2, 8)]
        let venue = KrakenVenueSimulator(options: options)
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        let client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), token: "t", rateLimiter: nil))
        try await client.connect()
        _ = try await client.placeOrder(.limit("ETH/USD", .buy, quantity: "1.5", price: "1800.25"))
        _ = try await client.subscribeInstruments()
        _ = try await client.request(.ping)                  // the snapshot came right after the ack
        #expect(try loop.runSync { client.pairs["ETH/USD"]?.pricePrecision } == 2)
        _ = try await client.subscribeBook(["ETH/USD"])
        _ = try await client.placeOrder(.limit("ETH/USD", .sell, quantity: "0.5", price: "1900.5"))
        _ = try await client.request(.ping)
        #expect(try loop.runSync { client.bookFeed?.book("ETH/USD")?.bestBid?.price } == 180_025)
        #expect(try loop.runSync { client.bookFeed?.checksumFailures } == 0)
    }

    static func until(_ seconds: Double = 10, _ cond: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !cond() { if Date() > deadline { return false }; try? await Task.sleep(for: .milliseconds(2)) }
        return true
    }
}
