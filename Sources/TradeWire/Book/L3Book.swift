/// One resting order of an order-by-order book: its id and remaining quantity (an integer at the book's `qtyScale`).
public struct L3Order: Sendable, Equatable {
    public var id: InlineText
    public var quantity: Int64
    public init(id: InlineText, quantity: Int64) {
        self.id = id
        self.quantity = quantity
    }
}

/// One price level of an order-by-order book: its orders in queue order (first in, first filled).
public struct L3Level: Sendable, Equatable {
    public var price: Int64
    public var orders: [L3Order]
    /// The level's total quantity.
    public var quantity: Int64 {
        // An index loop: a generic `reduce` allocates its iterator in an unoptimized build.
        var total: Int64 = 0
        var i = 0
        while i < orders.count { total += orders[i].quantity; i += 1 }
        return total
    }

    /// Where the order of this id is in the queue.
    func position(of id: InlineText) -> Int? {
        var i = 0
        while i < orders.count {
            if orders[i].id == id { return i }
            i += 1
        }
        return nil
    }
}

/// An order-by-order (L3) book, venue-neutral: per side, price levels best first, each with its orders in queue
/// order; prices and quantities are integers at fixed scales, as in `L2Book`. An add goes to the back of its
/// level's queue, a change of quantity keeps the order's place, a change of price sends it to the back of the new
/// level, a delete removes it. `truncate()` keeps the best `depth` levels a side (a venue sends no delete for the
/// orders that fall out of a subscription's depth). Orders are found by id through an index. Loop-confined.
///
/// No allocation once the book has grown: a level that goes keeps its queue's storage for the next level that
/// comes (`spareQueues`), and the index and the sides keep their capacity. A queue starts with room for
/// `initialQueueCapacity` orders; storage is allocated again only when a queue outgrows what it was given.
public final class L3Book {
    public let depth: Int
    public let priceScale: UInt8
    public let qtyScale: UInt8
    /// Best first: bids highest price first, asks lowest first.
    @exclusivity(unchecked) public private(set) var bids: [L3Level] = []
    @exclusivity(unchecked) public private(set) var asks: [L3Level] = []
    /// Where each order rests.
    @exclusivity(unchecked) private var index: [InlineText: (side: Side, price: Int64)] = [:]
    public static let initialQueueCapacity = 16
    /// Emptied queues of levels that went, kept for the levels that come.
    @exclusivity(unchecked) private var spareQueues: [[L3Order]] = []

    public init(depth: Int, priceScale: UInt8, qtyScale: UInt8) {
        self.depth = depth
        self.priceScale = priceScale
        self.qtyScale = qtyScale
    }

    public var orderCount: Int { index.count }
    public var bestBid: L3Level? { bids.first }
    public var bestAsk: L3Level? { asks.first }

    public func clear() {
        retire(&bids, from: 0)
        retire(&asks, from: 0)
        index.removeAll(keepingCapacity: true)
    }

    /// A new order (or one entering the window the book keeps) at the back of its level. An order already in the
    /// book under this id is removed first: the venue's view replaces a copy the book should not still hold.
    public func add(_ side: Side, id: InlineText, price: Int64, quantity: Int64) {
        if index[id] != nil { delete(id: id) }
        append(side, L3Order(id: id, quantity: quantity), price: price)
    }

    /// An order's remaining quantity changed (a fill): it keeps its place. At another price it goes to the back of
    /// the new level. None left (0): it leaves the book, as a delete. False if the book does not hold the order.
    @discardableResult
    public func modify(id: InlineText, price: Int64, quantity: Int64) -> Bool {
        guard let at = index[id] else { return false }
        if quantity == 0 { return delete(id: id) }
        if at.price != price {
            delete(id: id)
            append(at.side, L3Order(id: id, quantity: quantity), price: price)
            return true
        }
        update(at.side, price: price) { level in
            if let i = level.position(of: id) { level.orders[i].quantity = quantity }
        }
        return true
    }

    /// An order left the book (filled or cancelled). False if the book does not hold it.
    @discardableResult
    public func delete(id: InlineText) -> Bool {
        guard let at = index.removeValue(forKey: id) else { return false }
        update(at.side, price: at.price) { level in
            if let i = level.position(of: id) { level.orders.remove(at: i) }
        }
        return true
    }

    /// Remove levels left without orders or quantity, then keep the best `depth` levels a side.
    public func truncate() {
        prune(&bids)
        prune(&asks)
    }

    /// The best `n` levels of a side.
    public func top(_ side: Side, _ n: Int) -> ArraySlice<L3Level> {
        let levels = side == .buy ? bids : asks
        return levels.prefix(n)
    }

    private func prune(_ levels: inout [L3Level]) {
        // Compact in place: the levels that stay move up, the empty ones gather at the end.
        var kept = 0
        var i = 0
        while i < levels.count {
            if !levels[i].orders.isEmpty && levels[i].quantity != 0 {
                if kept != i { Self.exchange(&levels, kept, i) }
                kept += 1
            }
            i += 1
        }
        retire(&levels, from: Swift.min(kept, depth))
    }

    /// Remove `levels[from...]`: their orders leave the index, their queues go to the spares.
    private func retire(_ levels: inout [L3Level], from: Int) {
        var i = from
        while i < levels.count {
            var queue = [L3Order]()
            swap(&queue, &levels[i].orders)
            var k = 0
            while k < queue.count { index.removeValue(forKey: queue[k].id); k += 1 }
            queue.removeAll(keepingCapacity: true)
            spareQueues.append(queue)
            i += 1
        }
        if levels.count > from { levels.removeLast(levels.count - from) }
    }

    private func append(_ side: Side, _ order: L3Order, price: Int64) {
        index.updateValue((side, price), forKey: order.id)
        let descending = side == .buy
        if side == .buy { insert(order, price: price, into: &bids, descending: descending) }
        else { insert(order, price: price, into: &asks, descending: descending) }
    }

    private func insert(_ order: L3Order, price: Int64, into levels: inout [L3Level], descending: Bool) {
        // Binary search for the level (best first).
        var lo = 0, hi = levels.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let p = levels[mid].price
            if p == price { levels[mid].orders.append(order); return }
            if descending ? p > price : p < price { lo = mid + 1 } else { hi = mid }
        }
        var queue: [L3Order]
        if let spare = spareQueues.popLast() { queue = spare } else {
            queue = []
            queue.reserveCapacity(Self.initialQueueCapacity)
        }
        queue.append(order)
        // Append and shift down to `lo` by hand: `insert(_:at:)` allocates in an unoptimized build.
        levels.append(L3Level(price: price, orders: queue))
        var j = levels.count - 1
        while j > lo { Self.exchange(&levels, j, j - 1); j -= 1 }
    }

    /// Swap two levels (`swapAt` goes through a generic path that allocates in an unoptimized build).
    @inline(__always)
    private static func exchange(_ levels: inout [L3Level], _ a: Int, _ b: Int) {
        let t = levels[a]
        levels[a] = levels[b]
        levels[b] = t
    }

    private func update(_ side: Side, price: Int64, _ body: (inout L3Level) -> Void) {
        if side == .buy { Self.update(&bids, price: price, descending: true, body) }
        else { Self.update(&asks, price: price, descending: false, body) }
    }

    private static func update(_ levels: inout [L3Level], price: Int64, descending: Bool, _ body: (inout L3Level) -> Void) {
        var lo = 0, hi = levels.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let p = levels[mid].price
            if p == price { body(&levels[mid]); return }
            if descending ? p > price : p < price { lo = mid + 1 } else { hi = mid }
        }
    }

    public func price(_ units: Int64) -> FixedDecimal { FixedDecimal(mantissa: units, scale: priceScale) }
    public func quantity(_ units: Int64) -> FixedDecimal { FixedDecimal(mantissa: units, scale: qtyScale) }
}

/// A copy of an `L3Book` at one moment, to hand to another thread (`L3Book` itself is loop-confined).
public struct L3BookSnapshot: Sendable, Equatable {
    public let bids: [L3Level]
    public let asks: [L3Level]
    public let priceScale: UInt8
    public let qtyScale: UInt8
    public var bestBid: L3Level? { bids.first }
    public var bestAsk: L3Level? { asks.first }
}

extension L3Book {
    public func snapshot() -> L3BookSnapshot { L3BookSnapshot(bids: bids, asks: asks, priceScale: priceScale, qtyScale: qtyScale) }
}
