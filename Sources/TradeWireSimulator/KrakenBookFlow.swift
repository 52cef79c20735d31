import TradeWire

/// A Kraken book that moves on its own: a seeded random walk of level changes on one symbol (the background
/// flow of a busy market), published to that symbol's `book` subscribers at a set rate, each update with the
/// checksum of the book after it. The messages are made once, up front (a snapshot and `count` updates, depth
/// 10, precisions 1 and 8); at the end of the list a fresh snapshot starts it again, so a client stays verified.
///
/// Sending is paced from the venue's loop by a 100 µs timer (the rate's share of the time since the last tick, carried over: at
/// 100k/s, 10 messages a tick rather than bursts of 100 a millisecond), on the same connections that carry the
/// orders' answers, as a venue's would be. Loop-confined.
public final class KrakenBookFlow {
    public let symbol: String
    public let perSecond: Int
    public static let precision: (price: UInt8, quantity: UInt8) = (1, 8)
    /// The snapshot, then the updates in order.
    public let messages: [[UInt8]]
    private var next = 1
    private var owed = 0.0
    private var subscribers: [ObjectIdentifier: WebSocketConnection] = [:]
    private var timer: Int?
    static let tick = Duration.microseconds(100)
    private var lastTick: UInt64 = 0
    /// Updates sent (to all subscribers, counted once per update).
    public private(set) var published = 0

    public init(symbol: String = "FLOW/USD", perSecond: Int, count: Int = 50_000, seed: UInt64 = 2026) {
        self.symbol = symbol
        self.perSecond = perSecond
        messages = Self.generate(symbol: symbol, count: count, seed: seed)
    }

    /// A subscriber: the current book (as a snapshot), then the flow.
    func subscribe(_ c: WebSocketConnection) -> [UInt8] {
        subscribers[ObjectIdentifier(c)] = c
        if timer == nil { schedule(on: c.loop) }
        return snapshotNow()
    }

    func unsubscribe(_ c: WebSocketConnection) { subscribers[ObjectIdentifier(c)] = nil }

    /// The snapshot that matches where the flow is: the flow restarts from its first message, for everyone.
    private func snapshotNow() -> [UInt8] {
        if next != 1 {
            next = 1
            for c in subscribers.values { c.sendAll([messages[0]]) }
        }
        return messages[0]
    }

    private func schedule(on loop: EventLoop) {
        timer = loop.schedule(after: Self.tick) { [self] in
            timer = nil
            subscribers = subscribers.filter { $0.value.state == .open }
            guard !subscribers.isEmpty else { return }
            // The rate's share of the time that really passed (a tick can come late behind the venue's other work).
            let now = MonotonicClock.nanoseconds()
            owed += Double(perSecond) * Double(now &- (lastTick == 0 ? now &- 100_000 : lastTick)) / 1e9
            lastTick = now
            while owed >= 1 {
                owed -= 1
                if next == messages.count {
                    next = 1
                    for c in subscribers.values { c.sendAll([messages[0]]) }     // a fresh snapshot, then round again
                }
                for c in subscribers.values { c.sendAll([messages[next]]) }
                next += 1
                published += 1
            }
            schedule(on: loop)
        }
    }

    /// A snapshot and `count` updates of `symbol` from a seeded walk: each update sets, removes or adds one or two
    /// levels, and carries the checksum of the book after it (what Kraken sends). Also `tradewire book-bench`'s stream.
    public static func generate(symbol: String, count: Int, seed: UInt64) -> [[UInt8]] {
        var rng = SplitMix64(seed: seed)
        let book = L2Book(depth: 10, priceScale: precision.price, qtyScale: precision.quantity)
        var mid: Int64 = 452_850
        for i in 1...10 {
            book.apply(.buy, price: mid - Int64(i), quantity: Int64(1 + rng.next() % 300_000_000))
            book.apply(.sell, price: mid + Int64(i), quantity: Int64(1 + rng.next() % 300_000_000))
        }
        func message(_ type: String, bids: [L2Level], asks: [L2Level]) -> [UInt8] {
            func levels(_ l: [L2Level]) -> String {
                l.map { "{\"price\":\(book.price($0.price)),\"qty\":\(book.quantity($0.quantity))}" }.joined(separator: ",")
            }
            return Array(("{\"channel\":\"book\",\"type\":\"\(type)\",\"data\":[{\"symbol\":\"\(symbol)\",\"bids\":[\(levels(bids))],"
                + "\"asks\":[\(levels(asks))],\"checksum\":\(checksum(book)),"
                + "\"timestamp\":\"2026-12-06T10:33:05.709993Z\"}]}").utf8)
        }
        var out = [message("snapshot", bids: Array(book.bids), asks: Array(book.asks))]
        for _ in 0..<count {
            var bids: [L2Level] = [], asks: [L2Level] = []
            for _ in 0..<Int(1 + rng.next() % 2) {
                let side: Side = rng.next() % 2 == 0 ? .buy : .sell
                let levels = side == .buy ? book.bids : book.asks
                let change: L2Level
                switch rng.next() % 3 {
                case 0 where levels.count > 5:                    // a level goes
                    change = L2Level(price: levels[Int(rng.next() % UInt64(levels.count))].price, quantity: 0)
                case 1:                                           // a new level near the top
                    let p = side == .buy ? (book.bestBid?.price ?? mid) - Int64(rng.next() % 4) : (book.bestAsk?.price ?? mid) + Int64(rng.next() % 4)
                    change = L2Level(price: p, quantity: Int64(1 + rng.next() % 300_000_000))
                default:                                          // a level's quantity changes
                    change = L2Level(price: levels[Int(rng.next() % UInt64(levels.count))].price, quantity: Int64(1 + rng.next() % 300_000_000))
                }
                book.apply(side, price: change.price, quantity: change.quantity)
                if side == .buy { bids.append(change) } else { asks.append(change) }
            }
            book.truncate()
            // Refill a thin side from behind, as a venue's deeper levels move up.
            while book.bids.count < 10 { let l = L2Level(price: (book.bids.last?.price ?? mid) - 1, quantity: 100_000_000); book.apply(.buy, price: l.price, quantity: l.quantity); bids.append(l) }
            while book.asks.count < 10 { let l = L2Level(price: (book.asks.last?.price ?? mid) + 1, quantity: 100_000_000); book.apply(.sell, price: l.price, quantity: l.quantity); asks.append(l) }
            mid = ((book.bestBid?.price ?? mid) + (book.bestAsk?.price ?? mid)) / 2
            out.append(message("update", bids: bids, asks: asks))
        }
        return out
    }

    /// Kraken's book checksum (the guide's text of the top 10 levels, asks then bids, CRC-32), computed here from
    /// the integers, apart from the client's `KrakenBookChecksum`.
    static func checksum(_ book: L2Book) -> UInt32 {
        var text = ""
        for l in book.asks.prefix(10) { text += String(l.price) + String(l.quantity) }
        for l in book.bids.prefix(10) { text += String(l.price) + String(l.quantity) }
        return CRC32.checksum(Array(text.utf8))
    }
}
