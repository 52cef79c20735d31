/// One price level: price and quantity as integers at the book's scales (`L2Book.priceScale`, `.qtyScale`).
public struct L2Level: Sendable, Equatable {
    public var price: Int64
    public var quantity: Int64
    public init(price: Int64, quantity: Int64) {
        self.price = price
        self.quantity = quantity
    }
}

/// A venue-neutral price-level (L2) order book: bids best (highest) first, asks best (lowest) first.
///
/// Prices and quantities are exact integers at fixed scales (the pair's precision), so comparing and
/// formatting them is integer work. Each side is a sorted array reserved up front for `depth` plus a
/// margin: once it has grown to its depth, applying a level allocates nothing (a level is found by binary
/// search and inserted or removed in place). `truncate()` keeps `depth` levels a side, as venues do after
/// each update. Views (`bids`, `asks`) are slices of the storage, not copies. Loop-confined.
public final class L2Book {
    public let depth: Int
    /// Digits after the point of prices and quantities.
    public let priceScale: UInt8
    public let qtyScale: UInt8
    // Loop-confined and touched on every update: no runtime exclusivity tracking (it cost ~5 % of an update).
    @exclusivity(unchecked) public private(set) var bids: ContiguousArray<L2Level> = []
    @exclusivity(unchecked) public private(set) var asks: ContiguousArray<L2Level> = []
    /// Levels applied since the book was created (snapshot levels included).
    public private(set) var levelsApplied = 0

    public init(depth: Int, priceScale: UInt8, qtyScale: UInt8) {
        precondition(depth > 0 && priceScale <= FixedDecimal.maxScale && qtyScale <= FixedDecimal.maxScale)
        self.depth = depth
        self.priceScale = priceScale
        self.qtyScale = qtyScale
        // Updates may add levels beyond the depth before the truncation that follows them.
        bids.reserveCapacity(depth * 2 + 16)
        asks.reserveCapacity(depth * 2 + 16)
    }

    /// Empty both sides (before a snapshot), keeping the storage.
    public func clear() {
        bids.removeAll(keepingCapacity: true)
        asks.removeAll(keepingCapacity: true)
    }

    public var bestBid: L2Level? { bids.first }
    public var bestAsk: L2Level? { asks.first }

    /// Set a level's quantity; 0 removes the level.
    @inline(__always)
    public func apply(_ side: Side, price: Int64, quantity: Int64) {
        levelsApplied &+= 1
        if side == .buy { Self.set(&bids, price, quantity, descending: true) } else { Self.set(&asks, price, quantity, descending: false) }
    }

    /// Keep the best `depth` levels of each side.
    public func truncate() {
        if bids.count > depth { bids.removeLast(bids.count - depth) }
        if asks.count > depth { asks.removeLast(asks.count - depth) }
    }

    /// The best `n` levels of a side (a view, not a copy).
    public func top(_ side: Side, _ n: Int) -> ArraySlice<L2Level> {
        side == .buy ? bids.prefix(n) : asks.prefix(n)
    }

    /// A binary feed's `mantissa × 10^exponent` as an integer at `scale` decimals; nil if it is not exact
    /// there or does not fit. One multiply or divide: no loop, no table, no allocation.
    @inlinable @inline(__always)
    public static func units(mantissa: Int64, exponent: Int8, scale: UInt8) -> Int64? {
        let shift = Int(scale) + Int(exponent)
        if shift == 0 { return mantissa }
        if shift > 0 {
            guard let p = powerOfTen(shift) else { return nil }
            let (r, o) = mantissa.multipliedReportingOverflow(by: p)
            return o ? nil : r
        }
        guard let p = powerOfTen(-shift) else { return mantissa == 0 ? 0 : nil }
        return mantissa % p == 0 ? mantissa / p : nil
    }

    @usableFromInline @inline(__always)
    static func powerOfTen(_ n: Int) -> Int64? {
        switch n {
        case 0: 1
        case 1: 10
        case 2: 100
        case 3: 1_000
        case 4: 10_000
        case 5: 100_000
        case 6: 1_000_000
        case 7: 10_000_000
        case 8: 100_000_000
        case 9: 1_000_000_000
        case 10: 10_000_000_000
        case 11: 100_000_000_000
        case 12: 1_000_000_000_000
        case 13: 10_000_000_000_000
        case 14: 100_000_000_000_000
        case 15: 1_000_000_000_000_000
        case 16: 10_000_000_000_000_000
        case 17: 100_000_000_000_000_000
        case 18: 1_000_000_000_000_000_000
        default: nil
        }
    }

    /// `d` as an integer at `scale`, or nil when it has more digits than the scale keeps (a venue sent a finer
    /// price than its declared precision: the book cannot hold it exactly) or does not fit.
    public static func units(_ d: FixedDecimal, scale: UInt8) -> Int64? {
        var m = d.mantissa
        var s = d.scale
        while s < scale {
            let (r, o) = m.multipliedReportingOverflow(by: 10)
            if o { return nil }
            m = r
            s += 1
        }
        while s > scale {
            guard m % 10 == 0 else { return nil }
            m /= 10
            s -= 1
        }
        return m
    }

    /// A price or quantity of this book as a decimal.
    public func price(_ units: Int64) -> FixedDecimal { FixedDecimal(mantissa: units, scale: priceScale) }
    public func quantity(_ units: Int64) -> FixedDecimal { FixedDecimal(mantissa: units, scale: qtyScale) }

    private static func set(_ levels: inout ContiguousArray<L2Level>, _ price: Int64, _ quantity: Int64, descending: Bool) {
        // Binary search for the first level not better than `price`.
        var lo = 0, hi = levels.count
        while lo < hi {
            let mid = (lo + hi) >> 1
            let p = levels[mid].price
            if descending ? p > price : p < price { lo = mid + 1 } else { hi = mid }
        }
        // Shifts by hand: `insert(_:at:)` and `remove(at:)` allocated in an unoptimized build.
        if lo < levels.count && levels[lo].price == price {
            if quantity != 0 {
                levels[lo].quantity = quantity
            } else {
                levels.withUnsafeMutableBufferPointer { b in
                    let p = b.baseAddress!
                    (p + lo).update(from: p + lo + 1, count: b.count - lo - 1)      // overlapping: a memmove
                }
                levels.removeLast()
            }
        } else if quantity != 0 {
            let new = L2Level(price: price, quantity: quantity)
            levels.append(new)                                                      // within the reserved capacity
            levels.withUnsafeMutableBufferPointer { b in
                let p = b.baseAddress!
                (p + lo + 1).update(from: p + lo, count: b.count - lo - 1)
                p[lo] = new
            }
        }
    }
}

/// A copy of an `L2Book` at one moment, to hand to another thread (`L2Book` itself is loop-confined).
public struct L2BookSnapshot: Sendable, Equatable {
    public let bids: [L2Level]
    public let asks: [L2Level]
    public let priceScale: UInt8
    public let qtyScale: UInt8
    public var bestBid: L2Level? { bids.first }
    public var bestAsk: L2Level? { asks.first }
}

extension L2Book {
    /// A copy of the book now (allocates: for readers off the loop, not the update path).
    public func snapshot() -> L2BookSnapshot {
        L2BookSnapshot(bids: Array(bids), asks: Array(asks), priceScale: priceScale, qtyScale: qtyScale)
    }
}
