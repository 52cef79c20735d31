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
    public var quantity: Int64 { orders.reduce(0) { $0 + $1.quantity } }
}

/// An order-by-order (L3) book, venue-neutral: per side, price levels best first, each with its orders in queue
/// order; prices and quantities are integers at fixed scales, as in `L2Book`. An add goes to the back of its
/// level's queue, a change of quantity keeps the order's place, a change of price sends it to the back of the new
/// level, a delete removes it. `truncate()` keeps the best `depth` levels a side (a venue sends no delete for the
/// orders that fall out of a subscription's depth). Orders are found by id through an index. Loop-confined.
public final class L3Book {
    public let depth: Int
    public let priceScale: UInt8
    public let qtyScale: UInt8
    /// Best first: bids highest price first, asks lowest first.
    @exclusivity(unchecked) public private(set) var bids: [L3Level] = []
    @exclusivity(unchecked) public private(set) var asks: [L3Level] = []
    /// Where each order rests.
    @exclusivity(unchecked) private var index: [InlineText: (side: Side, price: Int64)] = [:]

    public init(depth: Int, priceScale: UInt8, qtyScale: UInt8) {
        self.depth = depth
        self.priceScale = priceScale
        self.qtyScale = qtyScale
    }

    public var orderCount: Int { index.count }
    public var bestBid: L3Level? { bids.first }
    public var bestAsk: L3Level? { asks.first }

    public func clear() {
        bids.removeAll(keepingCapacity: true)
        asks.removeAll(keepingCapacity: true)
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
            if let i = level.orders.firstIndex(where: { $0.id == id }) { level.orders[i].quantity = quantity }
        }
        return true
    }

    /// An order left the book (filled or cancelled). False if the book does not hold it.
    @discardableResult
    public func delete(id: InlineText) -> Bool {
        guard let at = index.removeValue(forKey: id) else { return false }
        update(at.side, price: at.price) { level in level.orders.removeAll { $0.id == id } }
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
        levels.removeAll { l in
            if l.orders.isEmpty || l.quantity == 0 {
                for o in l.orders { index.removeValue(forKey: o.id) }
                return true
            }
            return false
        }
        while levels.count > depth {
            for o in levels.removeLast().orders { index.removeValue(forKey: o.id) }
        }
    }

    private func append(_ side: Side, _ order: L3Order, price: Int64) {
        index[order.id] = (side, price)
        let descending = side == .buy
        if side == .buy { Self.insert(order, price: price, into: &bids, descending: descending) }
        else { Self.insert(order, price: price, into: &asks, descending: descending) }
    }

    private static func insert(_ order: L3Order, price: Int64, into levels: inout [L3Level], descending: Bool) {
        // Binary search for the level (best first).
        var lo = 0, hi = levels.count
        while lo < hi {
            let mid = (lo + hi) / 2
            let p = levels[mid].price
            if p == price { levels[mid].orders.append(order); return }
            if descending ? p > price : p < price { lo = mid + 1 } else { hi = mid }
        }
        levels.insert(L3Level(price: price, orders: [order]), at: lo)
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
