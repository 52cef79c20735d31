import TradeWire

/// One symbol's book from Binance's diff depth stream (`<symbol>@depth` / `@depth@100ms`), kept in sync by the
/// procedure of web-socket-streams.md, "How to manage a local order book correctly":
/// 1. buffer the stream's events; 2. take a depth snapshot (`lastUpdateId`); 3. drop buffered events with
/// `u <= lastUpdateId`; the first one applied must have `U <= lastUpdateID + 1 <= u`; 4. then each event's `U`
/// must be the previous event's `u + 1`; a level's quantity is absolute, 0 removes it (removing a level the book
/// does not have can happen and is not an error). A gap withdraws the book (`book` is nil) until a new snapshot.
/// A state machine without I/O: the stream client feeds it and asks for snapshots. Loop-confined.
/// The levels come from any `BinanceLevelSource`: the JSON streams' `[["price","qty"],…]` arrays, or the SBE
/// streams' groups of mantissas (the same procedure for both, so both give the same book).
public final class BinanceDepthBook {
    public enum Event: Sendable, Equatable {
        /// The snapshot and the buffered events agree: the book is in sync at this update id.
        case synced(updateID: Int64)
        /// The snapshot is older than the first buffered event: take another one.
        case snapshotTooOld(lastUpdateID: Int64, firstU: Int64)
        /// An event did not follow the previous one: the book is withdrawn; take a new snapshot.
        case gap(expectedU: Int64, receivedU: Int64)
    }

    /// A price level of an event, kept while buffering (allocation only before sync).
    struct Level {
        let price: Int64
        let quantity: Int64
    }

    struct Buffered {
        let firstU: Int64
        let finalU: Int64
        let bids: [Level]
        let asks: [Level]
    }

    public let symbol: String
    /// Events kept while waiting for a snapshot, at most.
    public static let bufferLimit = 10_000
    private let levels: L2Book
    private var buffer: [Buffered] = []
    /// The update id the book is at; nil while not in sync.
    public private(set) var updateID: Int64?
    /// The snapshot came before any event: the first event applied must straddle it (`U <= id + 1 <= u`).
    private var straddleNext = false
    public private(set) var eventsApplied = 0
    public private(set) var gaps = 0

    /// `depth`: how many levels a side to keep (a snapshot's `limit`); the scales: the symbol's price and quantity
    /// decimals (Binance sends them as strings with 8 decimals for most spot pairs).
    public init(symbol: String, depth: Int, priceScale: UInt8 = 8, qtyScale: UInt8 = 8) {
        self.symbol = symbol
        levels = L2Book(depth: depth, priceScale: priceScale, qtyScale: qtyScale)
    }

    /// The book while it is in sync; nil before the first snapshot and after a gap.
    public var book: L2Book? { updateID == nil ? nil : levels }

    /// A JSON `depthUpdate` event (`U`, `u`, `b`, `a`). While not in sync it is buffered; a gap makes a `.gap`.
    public func apply(firstU: Int64, finalU: Int64, bids: JSONValue?, asks: JSONValue?) -> Event? {
        update(firstU: firstU, finalU: finalU, bids: JSONLevels(bids), asks: JSONLevels(asks))
    }

    /// An SBE `@depth` event (concrete, like the JSON one: no unspecialized generic call from another module).
    public func apply(firstU: Int64, finalU: Int64, bids: SBELevels, asks: SBELevels) -> Event? {
        update(firstU: firstU, finalU: finalU, bids: bids, asks: asks)
    }

    /// A diff depth event from any other source of levels.
    public func apply<L: BinanceLevelSource>(firstU: Int64, finalU: Int64, bids: L, asks: L) -> Event? {
        update(firstU: firstU, finalU: finalU, bids: bids, asks: asks)
    }

    /// The procedure, once for every source (specialized per source within this module).
    private func update<L: BinanceLevelSource>(firstU: Int64, finalU: Int64, bids: L, asks: L) -> Event? {
        guard let id = updateID else {
            // Bounded: a snapshot that never comes must not grow memory for ever; the oldest go (a snapshot
            // then has to be newer than what is kept).
            if buffer.count >= Self.bufferLimit { buffer.removeFirst(buffer.count / 2) }
            buffer.append(Buffered(firstU: firstU, finalU: finalU, bids: Self.copy(bids, levels), asks: Self.copy(asks, levels)))
            return nil
        }
        if finalU <= id { return nil }                               // older than the book: ignore
        // Wrapping arithmetic: ids come from the wire (a hostile or broken feed may send Int64.max); a wrapped
        // id simply fails the continuity check.
        guard straddleNext ? firstU <= id &+ 1 : firstU == id &+ 1 else { return lose(expected: id &+ 1, received: firstU) }
        straddleNext = false
        apply(bids, .buy)
        apply(asks, .sell)
        updateID = finalU
        eventsApplied += 1
        return nil
    }

    /// A depth snapshot (`lastUpdateId`, `bids`, `asks` as `[price, qty]` string pairs), then the buffered events.
    public func applySnapshot(lastUpdateID: Int64, bids: JSONValue?, asks: JSONValue?) -> Event {
        applySnapshot(lastUpdateID: lastUpdateID, bids: JSONLevels(bids), asks: JSONLevels(asks))
    }

    /// A depth snapshot from any source of levels, then the buffered events.
    public func applySnapshot<L: BinanceLevelSource>(lastUpdateID: Int64, bids: L, asks: L) -> Event {
        if let first = buffer.first, lastUpdateID < first.firstU &- 1 {
            return .snapshotTooOld(lastUpdateID: lastUpdateID, firstU: first.firstU)
        }
        levels.clear()
        apply(bids, .buy)
        apply(asks, .sell)
        var id = lastUpdateID
        var first = true
        for e in buffer where e.finalU > id {
            // The first event applied must straddle the snapshot; each later one must follow.
            if first ? !(e.firstU <= id &+ 1 && id &+ 1 <= e.finalU) : e.firstU != id &+ 1 {
                buffer.removeAll()
                return lose(expected: id &+ 1, received: e.firstU)
            }
            first = false
            for l in e.bids { levels.apply(.buy, price: l.price, quantity: l.quantity) }
            for l in e.asks { levels.apply(.sell, price: l.price, quantity: l.quantity) }
            id = e.finalU
            eventsApplied += 1
        }
        straddleNext = first                          // nothing buffered was applied
        buffer.removeAll()
        levels.truncate()
        updateID = id
        return .synced(updateID: id)
    }

    private func lose(expected: Int64, received: Int64) -> Event {
        gaps += 1
        updateID = nil
        levels.clear()
        return .gap(expectedU: expected, receivedU: received)
    }

    /// The levels applied in order (quantities absolute; 0 removes).
    private func apply<L: BinanceLevelSource>(_ list: L, _ side: Side) {
        let book = levels
        list.forEachLevel(priceScale: book.priceScale, qtyScale: book.qtyScale) { p, q in book.apply(side, price: p, quantity: q) }
        book.truncate()
    }

    private static func copy<L: BinanceLevelSource>(_ list: L, _ book: L2Book) -> [Level] {
        var out: [Level] = []
        list.forEachLevel(priceScale: book.priceScale, qtyScale: book.qtyScale) { p, q in out.append(Level(price: p, quantity: q)) }
        return out
    }
}

/// Where a depth event's levels come from: each level's price and quantity as integers at the book's scales,
/// in the order sent. A level that cannot be read, or is not exact at the book's scales, is skipped.
public protocol BinanceLevelSource {
    func forEachLevel(priceScale: UInt8, qtyScale: UInt8, _ body: (_ price: Int64, _ quantity: Int64) -> Void)
}

/// The JSON streams' levels: `[["price","qty"], …]`, decimals as strings.
public struct JSONLevels: BinanceLevelSource {
    let list: JSONValue?
    public init(_ list: JSONValue?) { self.list = list }

    public func forEachLevel(priceScale: UInt8, qtyScale: UInt8, _ body: (Int64, Int64) -> Void) {
        list?.forEachElement { pair in
            var price: Int64? = nil, qty: Int64? = nil
            var i = 0
            pair.forEachElement { v in
                if i == 0 { price = v.decimal.flatMap { L2Book.units($0, scale: priceScale) } }
                else if i == 1 { qty = v.decimal.flatMap { L2Book.units($0, scale: qtyScale) } }
                i += 1
                return i < 2
            }
            if let price, let qty, qty >= 0 { body(price, qty) }
            return true
        }
    }
}
