import TradeWire

/// A price-time-priority limit order book for one symbol: limit orders rest or
/// cross, market orders take liquidity, amends keep priority when they only
/// reduce quantity at the same price.
final class OrderBook {
    struct Resting {
        let id: String
        let owner: Int              // session id, to route the maker's reports
        let clOrdID: String?
        let userref: Int64?
        let side: Side
        var price: FixedDecimal
        var quantity: FixedDecimal  // original
        var filled: FixedDecimal
        let seq: UInt64             // time priority
        var remaining: FixedDecimal { quantity - filled }
    }

    struct Fill {
        let makerID: String
        let makerOwner: Int
        let price: FixedDecimal
        let quantity: FixedDecimal
        let makerDone: Bool
    }

    let symbol: String
    private(set) var bids: [Resting] = []   // best (highest) first, then oldest
    private(set) var asks: [Resting] = []   // best (lowest) first, then oldest
    private var seq: UInt64 = 0

    init(symbol: String) { self.symbol = symbol }

    private func crosses(_ side: Side, _ limit: FixedDecimal?, _ other: FixedDecimal) -> Bool {
        guard let limit else { return true }          // market
        return side == .buy ? other <= limit : other >= limit
    }

    /// Would a limit order at this price take liquidity (post-only check)?
    func wouldCross(side: Side, price: FixedDecimal) -> Bool {
        let opp = side == .buy ? asks : bids
        return opp.first.map { crosses(side, price, $0.price) } ?? false
    }

    /// Match an incoming order; returns the fills and the unfilled remainder.
    func match(side: Side, limit: FixedDecimal?, quantity: FixedDecimal) -> (fills: [Fill], remaining: FixedDecimal) {
        var left = quantity
        var fills: [Fill] = []
        while left > .zero {
            let best = side == .buy ? asks.first : bids.first
            guard var maker = best, crosses(side, limit, maker.price) else { break }
            let q = min(left, maker.remaining)
            maker.filled = maker.filled + q
            left = left - q
            let done = maker.remaining == .zero
            fills.append(Fill(makerID: maker.id, makerOwner: maker.owner, price: maker.price, quantity: q, makerDone: done))
            if side == .buy {
                if done { asks.removeFirst() } else { asks[0] = maker }
            } else {
                if done { bids.removeFirst() } else { bids[0] = maker }
            }
        }
        return (fills, left)
    }

    func rest(id: String, owner: Int, clOrdID: String?, userref: Int64?, side: Side,
              price: FixedDecimal, quantity: FixedDecimal, filled: FixedDecimal) {
        seq += 1
        let o = Resting(id: id, owner: owner, clOrdID: clOrdID, userref: userref, side: side, price: price,
                        quantity: quantity, filled: filled, seq: seq)
        insert(o)
    }

    private func insert(_ o: Resting) {
        if o.side == .buy {
            let i = bids.firstIndex { $0.price < o.price || ($0.price == o.price && $0.seq > o.seq) } ?? bids.count
            bids.insert(o, at: i)
        } else {
            let i = asks.firstIndex { $0.price > o.price || ($0.price == o.price && $0.seq > o.seq) } ?? asks.count
            asks.insert(o, at: i)
        }
    }

    func find(id: String) -> Resting? { bids.first { $0.id == id } ?? asks.first { $0.id == id } }
    func find(clOrdID: String) -> Resting? { bids.first { $0.clOrdID == clOrdID } ?? asks.first { $0.clOrdID == clOrdID } }

    func remove(id: String) -> Resting? {
        if let i = bids.firstIndex(where: { $0.id == id }) { return bids.remove(at: i) }
        if let i = asks.firstIndex(where: { $0.id == id }) { return asks.remove(at: i) }
        return nil
    }

    /// Amend in place. Keeps time priority for a pure size reduction; a new price
    /// or a larger size goes to the back of its level.
    func amend(id: String, quantity: FixedDecimal?, price: FixedDecimal?) -> Resting? {
        guard var o = remove(id: id) else { return nil }
        let keepsPriority = (price == nil || price! == o.price) && (quantity == nil || quantity! <= o.quantity)
        if let q = quantity { o.quantity = q }
        if let p = price { o.price = p }
        if o.remaining <= .zero { return o }          // amended below the filled qty: the rest is gone
        if keepsPriority {
            insert(o)
        } else {
            seq += 1
            insert(Resting(id: o.id, owner: o.owner, clOrdID: o.clOrdID, userref: o.userref, side: o.side, price: o.price,
                           quantity: o.quantity, filled: o.filled, seq: seq))
        }
        return o
    }

    func removeAll(owner: Int) -> [Resting] {
        let gone = bids.filter { $0.owner == owner } + asks.filter { $0.owner == owner }
        bids.removeAll { $0.owner == owner }
        asks.removeAll { $0.owner == owner }
        return gone
    }

    var openOrders: [Resting] { bids + asks }
}

