import TradeWire

/// The simulator's Kraken `book` channel: the books it matches orders against, published as Kraken
/// documents them (websocket-v2/book, "Book checksum (WebSocket v2)" guide). One acknowledgement per
/// symbol; a snapshot of `depth` levels a side; then, after each request that changed a book, an update
/// with the levels that changed (quantity 0: gone) and the CRC-32 of the top 10 levels. Prices and
/// quantities are written at the pair's precision, trailing zeros kept. The checksum is computed here from
/// the published levels' text, independently of the client's `KrakenBookChecksum`.
final class KrakenBookSubscription {
    let depth: Int
    var bids: [(price: FixedDecimal, quantity: FixedDecimal)] = []
    var asks: [(price: FixedDecimal, quantity: FixedDecimal)] = []
    init(depth: Int) { self.depth = depth }
}

extension KrakenVenueSimulator {
    /// A pair's precision: digits after the point of its prices and quantities.
    func precision(_ symbol: String) -> (price: UInt8, quantity: UInt8) {
        options.pairPrecision[symbol] ?? options.defaultPrecision
    }

    /// Kraken refuses a price or quantity finer than the pair allows.
    func precisionProblem(_ p: JSONValue, symbol: String) -> String? {
        let (pp, qp) = precision(symbol)
        if let px = p["limit_price"]?.decimal, px.scale > pp, L2Book.units(px, scale: pp) == nil {
            return "EOrder:Invalid price:\(symbol) price can only be specified up to \(pp) decimals."
        }
        if let q = p["order_qty"]?.decimal, q.scale > qp, L2Book.units(q, scale: qp) == nil {
            return "EGeneral:Invalid arguments:order_qty can only be specified up to \(qp) decimals."
        }
        return nil
    }

    /// A channel request's symbols and the session asking, or nil after answering with Kraken's error (no symbol, or a
    /// connection already gone).
    func subscriptionTarget(_ params: JSONValue, method: String, reqID: Int64?, session: Int, out: inout [[UInt8]])
        -> (symbols: [String], session: Session)? {
        var symbols: [String] = []
        params["symbol"]?.forEachElement { v in v.string.map { symbols.append($0) }; return true }
        guard !symbols.isEmpty, let s = sessions[session] else {
            out.append(Self.envelope(method: method, reqID: reqID, error: "EGeneral:Invalid arguments:symbol"))
            return nil
        }
        return (symbols, s)
    }

    /// `subscribe` / `unsubscribe` to `book`: one answer per symbol; a snapshot after each subscribe.
    func bookSubscription(_ params: JSONValue, subscribe: Bool, method: String, reqID: Int64?, session: Int, out: inout [[UInt8]]) {
        let depth = Int(params["depth"]?.int64 ?? 10)
        guard [10, 25, 100, 500, 1000].contains(depth) else {
            return out.append(Self.envelope(method: method, reqID: reqID, error: "EGeneral:Invalid arguments:depth"))
        }
        guard let (symbols, s) = subscriptionTarget(params, method: method, reqID: reqID, session: session, out: &out) else { return }
        for symbol in symbols {
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject(); w.key("channel"); w.value("book"); w.key("depth"); w.value(depth)
                if subscribe { w.key("snapshot"); w.value(true) }
                w.key("symbol"); w.string(symbol); w.endObject()
            })
            if let flow = bookFlow, flow.symbol == symbol {
                // The moving book of the background flow, not a matching book.
                if subscribe { out.append(flow.subscribe(s.conn)) } else { flow.unsubscribe(s.conn) }
                continue
            }
            if subscribe {
                let sub = KrakenBookSubscription(depth: depth)
                s.books[symbol] = sub
                sub.bids = book(symbol).depth(.buy, levels: depth)
                sub.asks = book(symbol).depth(.sell, levels: depth)
                out.append(bookMessage(symbol, type: "snapshot", bids: sub.bids, asks: sub.asks, all: sub))
            } else {
                s.books[symbol] = nil
            }
        }
    }

    /// `subscribe` to `instrument`: the ack, then a snapshot of the pairs the venue knows (those with a
    /// configured precision and those it has a book for) with their precisions.
    func instrumentSnapshot(method: String, reqID: Int64?, out: inout [[UInt8]]) {
        out.append(Self.envelope(method: method, reqID: reqID) { w in
            w.beginObject(); w.key("channel"); w.value("instrument"); w.key("snapshot"); w.value(true); w.endObject()
        })
        let symbols = Set(options.pairPrecision.keys).union(books.keys).sorted()
        out.append(simJSON { w in
            w.beginObject()
            w.key("channel"); w.value("instrument"); w.key("type"); w.value("snapshot")
            w.key("data"); w.beginObject()
            w.key("assets"); w.beginArray(); w.endArray()
            w.key("pairs"); w.beginArray()
            for s in symbols {
                let (pp, qp) = precision(s)
                let parts = s.split(separator: "/")
                w.beginObject()
                w.key("symbol"); w.string(s)
                w.key("base"); w.string(String(parts.first ?? "")); w.key("quote"); w.string(String(parts.last ?? ""))
                w.key("status"); w.value("online")
                w.key("qty_precision"); w.value(Int64(qp)); w.key("price_precision"); w.value(Int64(pp))
                w.key("tick_size"); w.value(FixedDecimal(mantissa: 1, scale: pp))
                w.key("qty_increment"); w.value(FixedDecimal(mantissa: 1, scale: qp))
                w.endObject()
            }
            w.endArray()
            w.endObject()
            w.endObject()
        })
    }

    /// After a request: an update to every subscriber of each book that changed (one diff per subscription).
    func publishBookChanges(from session: Int, out: inout [[UInt8]], pushes: inout [(Int, [UInt8])]) {
        for (sid, s) in sessions where !s.books.isEmpty {
            for (symbol, sub) in s.books {
                let bids = book(symbol).depth(.buy, levels: sub.depth), asks = book(symbol).depth(.sell, levels: sub.depth)
                let changedBids = Self.changes(from: sub.bids, to: bids), changedAsks = Self.changes(from: sub.asks, to: asks)
                guard !changedBids.isEmpty || !changedAsks.isEmpty else { continue }
                sub.bids = bids
                sub.asks = asks
                let message = bookMessage(symbol, type: "update", bids: changedBids, asks: changedAsks, all: sub)
                if sid == session { out.append(message) } else { pushes.append((sid, message)) }
            }
        }
    }

    /// Levels that differ: new or changed quantities, and removed levels with quantity 0.
    static func changes(from old: [(price: FixedDecimal, quantity: FixedDecimal)], to new: [(price: FixedDecimal, quantity: FixedDecimal)])
        -> [(price: FixedDecimal, quantity: FixedDecimal)] {
        var out: [(price: FixedDecimal, quantity: FixedDecimal)] = []
        for n in new where !old.contains(where: { $0.price == n.price && $0.quantity == n.quantity }) { out.append(n) }
        for o in old where !new.contains(where: { $0.price == o.price }) { out.append((o.price, .zero)) }
        return out
    }

    func bookMessage(_ symbol: String, type: StaticString, bids: [(price: FixedDecimal, quantity: FixedDecimal)],
                     asks: [(price: FixedDecimal, quantity: FixedDecimal)], all: KrakenBookSubscription) -> [UInt8] {
        let (pp, qp) = precision(symbol)
        func at(_ d: FixedDecimal, _ scale: UInt8) -> FixedDecimal { FixedDecimal(mantissa: L2Book.units(d, scale: scale) ?? 0, scale: scale) }
        var checksum = bookChecksum(all, pp, qp)
        if let every = options.corruptBookChecksumEvery, every > 0 {
            bookUpdatesSent += 1
            if bookUpdatesSent % every == 0 { checksum ^= 0x5A5A_5A5A }     // the fault: a checksum the book does not have
        }
        return simJSON { w in
            w.beginObject()
            w.key("channel"); w.value("book"); w.key("type"); w.value(type)
            w.key("data"); w.beginArray(); w.beginObject()
            w.key("symbol"); w.string(symbol)
            for (key, levels) in [("bids", bids), ("asks", asks)] {
                w.key(dynamic: key); w.beginArray()
                for l in levels {
                    w.beginObject(); w.key("price"); w.value(at(l.price, pp)); w.key("qty"); w.value(at(l.quantity, qp)); w.endObject()
                }
                w.endArray()
            }
            w.key("checksum"); w.value(Int64(checksum))
            VenueClock.withRFC3339 { w.key("timestamp"); w.string($0) }
            w.endObject(); w.endArray()
            w.endObject()
        }
    }

    /// The guide's recipe, on text: top 10 asks then top 10 bids, "price" then "qty" at the pair's
    /// precision, point and leading zeros removed, CRC-32.
    func bookChecksum(_ sub: KrakenBookSubscription, _ pp: UInt8, _ qp: UInt8) -> UInt32 {
        var s = ""
        for l in sub.asks.prefix(10) { s += Self.checksumText(l.price, pp) + Self.checksumText(l.quantity, qp) }
        for l in sub.bids.prefix(10) { s += Self.checksumText(l.price, pp) + Self.checksumText(l.quantity, qp) }
        return CRC32.checksum(Array(s.utf8))
    }

    /// A number as Kraken's checksums write it: its digits at `scale` places, no point, no leading zeros.
    static func checksumText(_ d: FixedDecimal, _ scale: UInt8) -> String { String(L2Book.units(d, scale: scale) ?? 0) }
}
