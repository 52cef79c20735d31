import TradeWire

/// What one connection's `level3` subscription to a symbol was last sent: the best `depth` levels a side, each with
/// its orders in time priority.
final class KrakenLevel3Subscription {
    typealias Window = [(price: FixedDecimal, orders: [(id: String, remaining: FixedDecimal)])]
    let depth: Int
    var bids: Window = []
    var asks: Window = []
    init(depth: Int) { self.depth = depth }
}

/// The simulator's Kraken `level3` channel (authenticated: the token check of every private request applies): the
/// orders of the books it matches against, one by one, as the channel page documents them. One acknowledgement per
/// symbol; a snapshot of the best `depth` levels a side in time priority; then, after each request that changed a
/// book, an update: `delete` for an order gone from the venue, `add` for one new to the window (also orders of a
/// level that comes back into it), `modify` for a new remaining quantity; no delete for an order that only fell
/// out of the window. The checksum (top 10 levels, order by order) is computed here from the published text,
/// independently of the client's `KrakenLevel3Checksum`.
extension KrakenVenueSimulator {
    func level3Subscription(_ params: JSONValue, subscribe: Bool, method: String, reqID: Int64?, session: Int, out: inout [[UInt8]]) {
        let depth = Int(params["depth"]?.int64 ?? 10)
        guard [10, 100, 1000].contains(depth) else {
            return out.append(Self.envelope(method: method, reqID: reqID, error: "EGeneral:Invalid arguments:depth"))
        }
        guard let (symbols, s) = subscriptionTarget(params, method: method, reqID: reqID, session: session, out: &out) else { return }
        for symbol in symbols {
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject(); w.key("channel"); w.value("level3"); w.key("depth"); w.value(depth)
                if subscribe { w.key("snapshot"); w.value(true) }
                w.key("symbol"); w.string(symbol); w.endObject()
            })
            guard subscribe else { s.level3[symbol] = nil; continue }
            let sub = KrakenLevel3Subscription(depth: depth)
            s.level3[symbol] = sub
            sub.bids = book(symbol).queues(.buy, levels: depth)
            sub.asks = book(symbol).queues(.sell, levels: depth)
            let events = { (w: Window) in w.flatMap { l in l.orders.map { (event: StaticString?.none, id: $0.id, price: l.price, qty: $0.remaining) } } }
            out.append(level3Message(symbol, type: "snapshot", bids: events(sub.bids), asks: events(sub.asks), sub: sub))
        }
    }
    typealias Window = KrakenLevel3Subscription.Window

    /// After a request: an update to every subscriber of each book whose window changed.
    func publishLevel3Changes(from session: Int, out: inout [[UInt8]], pushes: inout [(Int, [UInt8])]) {
        for (sid, s) in sessions where !s.level3.isEmpty {
            for (symbol, sub) in s.level3 {
                let b = book(symbol)
                let bids = b.queues(.buy, levels: sub.depth), asks = b.queues(.sell, levels: sub.depth)
                let bidEvents = Self.level3Events(from: sub.bids, to: bids, live: { b.find(id: $0) != nil })
                let askEvents = Self.level3Events(from: sub.asks, to: asks, live: { b.find(id: $0) != nil })
                guard !bidEvents.isEmpty || !askEvents.isEmpty else { continue }
                sub.bids = bids
                sub.asks = asks
                let message = level3Message(symbol, type: "update", bids: bidEvents, asks: askEvents, sub: sub)
                if sid == session { out.append(message) } else { pushes.append((sid, message)) }
            }
        }
    }

    /// The events that turn what a subscriber holds into the new window.
    static func level3Events(from old: Window, to new: Window, live: (String) -> Bool)
        -> [(event: StaticString?, id: String, price: FixedDecimal, qty: FixedDecimal)] {
        var held: [String: (price: FixedDecimal, qty: FixedDecimal)] = [:]
        for l in old { for o in l.orders { held[o.id] = (l.price, o.remaining) } }
        var inWindow = Set<String>()
        var out: [(event: StaticString?, id: String, price: FixedDecimal, qty: FixedDecimal)] = []
        for l in new { for o in l.orders { inWindow.insert(o.id) } }
        for l in old { for o in l.orders where !inWindow.contains(o.id) && !live(o.id) { out.append(("delete", o.id, l.price, o.remaining)) } }
        for l in new {
            for o in l.orders {
                if let h = held[o.id] {
                    if h.price != l.price { out.append(("delete", o.id, h.price, h.qty)); out.append(("add", o.id, l.price, o.remaining)) }
                    else if h.qty != o.remaining { out.append(("modify", o.id, l.price, o.remaining)) }
                } else {
                    out.append(("add", o.id, l.price, o.remaining))
                }
            }
        }
        return out
    }

    func level3Message(_ symbol: String, type: StaticString, bids: [(event: StaticString?, id: String, price: FixedDecimal, qty: FixedDecimal)],
                       asks: [(event: StaticString?, id: String, price: FixedDecimal, qty: FixedDecimal)], sub: KrakenLevel3Subscription) -> [UInt8] {
        let (pp, qp) = precision(symbol)
        func at(_ d: FixedDecimal, _ scale: UInt8) -> FixedDecimal { FixedDecimal(mantissa: L2Book.units(d, scale: scale) ?? 0, scale: scale) }
        return simJSON { w in
            w.beginObject()
            w.key("channel"); w.value("level3"); w.key("type"); w.value(type)
            w.key("data"); w.beginArray(); w.beginObject()
            w.key("symbol"); w.string(symbol)
            for (key, side) in [("bids", bids), ("asks", asks)] as [(StaticString, [(event: StaticString?, id: String, price: FixedDecimal, qty: FixedDecimal)])] {
                w.key(key); w.beginArray()
                for o in side {
                    w.beginObject()
                    if let e = o.event { w.key("event"); w.value(e) }
                    w.key("order_id"); w.string(o.id)
                    w.key("limit_price"); w.value(at(o.price, pp)); w.key("order_qty"); w.value(at(o.qty, qp))
                    VenueClock.withRFC3339 { w.key("timestamp"); w.string($0) }
                    w.endObject()
                }
                w.endArray()
            }
            w.key("checksum"); w.value(Int64(level3Checksum(sub, pp, qp)))
            VenueClock.withRFC3339 { w.key("timestamp"); w.string($0) }
            w.endObject(); w.endArray()
            w.endObject()
        }
    }

    /// CRC-32 of the top 10 ask levels then the top 10 bid levels, order by order: price then remaining quantity,
    /// each as its digits at the pair's precision with no point and no leading zeros (the guide's text).
    func level3Checksum(_ sub: KrakenLevel3Subscription, _ pp: UInt8, _ qp: UInt8) -> UInt32 {
        var s = ""
        for l in sub.asks.prefix(10) { for o in l.orders { s += Self.checksumText(l.price, pp) + Self.checksumText(o.remaining, qp) } }
        for l in sub.bids.prefix(10) { for o in l.orders { s += Self.checksumText(l.price, pp) + Self.checksumText(o.remaining, qp) } }
        return CRC32.checksum(Array(s.utf8))
    }
}
