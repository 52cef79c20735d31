import TradeWire
#if canImport(Glibc)
import Glibc
#endif

/// The broker order gateway of seed 000 (protocols.md §4.5): `connection`
/// greeting, ping/pong, `orders_subscribe`, `send_order` with `clOrdId`
/// answered by `order_ack`, order reports (the first flat, with `wsClOrdId`;
/// later ones in Primary's raw `{"type":"or","orderReport":{…}}` shape, without
/// the client id, as the real gateway relays them), fills through a
/// price-time book, and instrument ticks. Loop-confined.
public final class GatewayVenueSimulator: @unchecked Sendable {
    public struct Options: Sendable {
        public var ticksPerSecond: Int
        public init(ticksPerSecond: Int = 10) { self.ticksPerSecond = ticksPerSecond }
    }

    final class Session {
        let conn: WebSocketConnection
        var account: String?
        var instruments: [String] = []
        var open = true
        init(_ c: WebSocketConnection) { conn = c }
    }

    public let options: Options
    var books: [String: OrderBook] = [:]
    var sessions: [Int: Session] = [:]
    var nextSession = 0
    var nextOrder = 12_344
    var orderOwner: [String: (session: Int, account: String?, clientOrderID: String, symbol: String, size: FixedDecimal, price: FixedDecimal?, side: Side)] = [:]
    var usedClOrdIds: Set<String> = []          // orderOwner keeps every order, so a clOrdId is never reused
    /// The account each session subscribed, kept after it closed: bytes read late (the hold-inbound fault)
    /// still place orders for that account.
    var accountOf: [Int: String] = [:]

    public init(options: Options = .init()) { self.options = options }

    public func handler() -> any WebSocketHandler { Connection(venue: self) }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec / 1000) / 1e6
    }

    final class Connection: WebSocketHandler, @unchecked Sendable {
        let venue: GatewayVenueSimulator
        var id = -1
        init(venue: GatewayVenueSimulator) { self.venue = venue }

        func webSocketDidOpen(_ c: WebSocketConnection) {
            id = venue.nextSession
            venue.nextSession += 1
            venue.sessions[id] = Session(c)
            c.sendAll([simJSON { w in
                w.beginObject(); w.key("type"); w.value("connection"); w.key("status"); w.value("connected")
                w.key("timestamp"); w.value(FixedDecimal(String(GatewayVenueSimulator.now()))!)
                w.key("message"); w.value("Connected to the TradeWire simulator gateway"); w.endObject()
            }])
            scheduleTicks(c)
        }

        func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
            venue.sessions[id]?.open = false
            venue.sessions[id] = nil
        }

        func scheduleTicks(_ c: WebSocketConnection) {
            guard venue.options.ticksPerSecond > 0 else { return }
            c.loop.schedule(after: .nanoseconds(Int64(1_000_000_000 / venue.options.ticksPerSecond))) { [self] in
                guard let s = venue.sessions[id], s.open else { return }
                for sym in s.instruments { c.sendAll([venue.tick(sym)]) }
                scheduleTicks(c)
            }
        }

        func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
            guard let doc = try? JSONDocument(validating: m.bytes), let type = doc.root["type"]?.string else {
                return c.sendAll([GatewayVenueSimulator.error("invalid message")])
            }
            venue.handle(type, doc.root, session: id, conn: c)
        }
    }

    static func error(_ message: String) -> [UInt8] {
        simJSON { w in w.beginObject(); w.key("type"); w.value("error"); w.key("message"); w.string(message); w.endObject() }
    }

    func tick(_ symbol: String) -> [UInt8] {
        let b = books[symbol]
        let bid = b?.bestBid?.price ?? FixedDecimal("1500.0")!
        let offer = b?.bestAsk?.price ?? FixedDecimal("1501.0")!
        return simJSON { w in
            w.beginObject(); w.key("type"); w.value("tick"); w.key("symbol"); w.string(symbol)
            w.key("bid"); w.value(bid); w.key("bid_size"); w.value(1000)
            w.key("offer"); w.value(offer); w.key("offer_size"); w.value(500)
            w.key("ts_ms"); w.value(Int64(GatewayVenueSimulator.now() * 1000)); w.endObject()
        }
    }

    /// A report to every session subscribed to the order's account (its order reports are the account's).
    func report(_ orderID: String, status: String, cum: FixedDecimal, last: (FixedDecimal, FixedDecimal)?, first: Bool) {
        guard let o = orderOwner[orderID], let account = o.account else { return }
        let subscribed = sessions.values.filter { $0.account == account }
        guard !subscribed.isEmpty else { return }
        let message = reportMessage(orderID, status: status, cum: cum, last: last, first: first, account: account)
        for s in subscribed { s.conn.sendAll([message]) }
    }

    /// An `orders_subscribe` snapshot: the account's live orders, in the flat shape with their client ids
    /// (as Primary's `os` snapshot of active orders), so a client that reconnected can settle what it lost.
    func snapshot(account: String, session: Int, to c: WebSocketConnection) {
        // The account's orders left by connections that are gone now report to this one (the trader reconnected).
        for (id, o) in orderOwner where o.account == account && sessions[o.session] == nil { orderOwner[id]!.session = session }
        let live = orderOwner.filter { $0.value.account == account && books[$0.value.symbol]?.find(id: $0.key) != nil }
            .sorted { $0.key < $1.key }
        c.sendAll(live.map { (id, o) in
            let cum = books[o.symbol]?.find(id: id)?.filled ?? .zero
            return reportMessage(id, status: cum > .zero ? "PARTIALLY_FILLED" : "NEW", cum: cum, last: nil, first: true, account: account)
        })
    }

    func reportMessage(_ orderID: String, status: String, cum: FixedDecimal, last: (FixedDecimal, FixedDecimal)?, first: Bool,
                       account: String) -> [UInt8] {
        let o = orderOwner[orderID]!
        return simJSON { w in
            w.beginObject(); w.key("type"); w.value("order_report"); w.key("report"); w.beginObject()
            if first {
                // The flat shape with the client id, as the gateway's first relay shows it.
                w.key("wsClOrdId"); w.string(o.clientOrderID); w.key("orderId"); w.string(orderID)
                w.key("status"); w.string(status); w.key("side"); w.value(o.side == .buy ? "BUY" : "SELL")
                w.key("size"); w.value(o.size); if let p = o.price { w.key("price"); w.value(p) }
                w.key("instrument"); w.beginObject(); w.key("symbol"); w.string(o.symbol); w.key("marketId"); w.value("ROFX"); w.endObject()
                VenueClock.withRFC3339 { w.key("timestamp"); w.string($0) }
            } else {
                // Primary's raw frame; the client id is not repeated.
                w.key("type"); w.value("or"); w.key("orderReport"); w.beginObject()
                w.key("orderId"); w.string(orderID); w.key("proprietary"); w.value("api")
                w.key("accountId"); w.beginObject(); w.key("id"); w.string(account); w.endObject()
                w.key("instrumentId"); w.beginObject(); w.key("marketId"); w.value("ROFX"); w.key("symbol"); w.string(o.symbol); w.endObject()
                if let p = o.price { w.key("price"); w.value(p) }
                w.key("orderQty"); w.value(o.size); w.key("side"); w.value(o.side == .buy ? "BUY" : "SELL")
                w.key("cumQty"); w.value(cum); w.key("leavesQty"); w.value(o.size - cum)
                if let (q, p) = last { w.key("lastQty"); w.value(q); w.key("lastPx"); w.value(p) }
                w.key("status"); w.string(status)
                w.endObject()
            }
            w.endObject(); w.endObject()
        }
    }

    func handle(_ type: String, _ root: JSONValue, session: Int, conn c: WebSocketConnection) {
        switch type {
        case "ping":
            c.sendAll([simJSON { w in w.beginObject(); w.key("type"); w.value("pong")
                w.key("timestamp"); w.value(FixedDecimal(String(GatewayVenueSimulator.now()))!); w.endObject() }])
        case "subscribe":
            var list: [String] = []
            root["instruments"]?.forEachElement { v in v.string.map { list.append($0) }; return true }
            guard !list.isEmpty else { return c.sendAll([Self.error("missing instruments")]) }
            sessions[session]?.instruments += list
        case "orders_subscribe":
            guard let account = root["account"]?.string, !account.isEmpty else { return c.sendAll([Self.error("missing account")]) }
            sessions[session]?.account = account
            accountOf[session] = account
            c.sendAll([simJSON { w in
                w.beginObject(); w.key("type"); w.value("orders_subscribed"); w.key("account"); w.string(account)
                w.key("result"); w.beginObject(); w.key("status"); w.value("ok"); w.endObject(); w.endObject()
            }])
            snapshot(account: account, session: session, to: c)
        case "send_order":
            sendOrder(root, session: session, conn: c)
        default:
            c.sendAll([Self.error("unknown message type: \(type)")])
        }
    }

    func sendOrder(_ root: JSONValue, session: Int, conn c: WebSocketConnection) {
        let cl = root["clOrdId"]?.string
        let o = root["order"]
        func ack(ok: Bool, orderID: String? = nil, message: String? = nil) -> [UInt8] {
            simJSON { w in
                w.beginObject(); w.key("type"); w.value("order_ack")
                w.key("request"); w.beginObject()
                // The client's own order object, as it sent it, with its client order id (the seed's ORDER_ACK).
                o?.forEachMember { k, v in
                    if let name = k.string { w.key(dynamic: name); w.rawValue(v) }
                    return true
                }
                if let cl { w.key("client_order_id"); w.string(cl) }
                w.endObject()
                w.key("result"); w.beginObject(); w.key("status"); w.value(ok ? "ok" : "error")
                if ok, let orderID {
                    w.key("response"); w.beginObject(); w.key("orderId"); w.string(orderID); w.key("status"); w.value("NEW"); w.endObject()
                }
                if let message { w.key("message"); w.string(message) }
                w.endObject(); w.endObject()
            }
        }
        guard let cl, !cl.isEmpty else { return c.sendAll([ack(ok: false, message: "missing clOrdId")]) }
        guard let o, o.kind == .object, let symbol = o["symbol"]?.string, !symbol.isEmpty,
              let sideText = o["side"]?.string, sideText == "BUY" || sideText == "SELL",
              let size = o["size"]?.decimal, size > .zero else {
            return c.sendAll([ack(ok: false, message: "invalid order")])
        }
        let isMarket = o["order_type"]?.string?.uppercased() == "MARKET"
        let price = o["price"]?.decimal
        if !isMarket && price == nil { return c.sendAll([ack(ok: false, message: "invalid order: LIMIT needs a price")]) }
        if !usedClOrdIds.insert(cl).inserted { return c.sendAll([ack(ok: false, message: "duplicate clOrdId")]) }
        nextOrder += 1
        let orderID = String(nextOrder)
        let side: Side = sideText == "BUY" ? .buy : .sell
        orderOwner[orderID] = (session, sessions[session]?.account ?? accountOf[session], cl, symbol, size, price, side)
        c.sendAll([ack(ok: true, orderID: orderID)])
        report(orderID, status: "NEW", cum: .zero, last: nil, first: true)
        let book = books[symbol] ?? OrderBook(symbol: symbol)
        books[symbol] = book
        let (fills, left) = book.match(side: side, limit: isMarket ? nil : price, quantity: size)
        var cum = FixedDecimal.zero
        for f in fills {
            cum = cum + f.quantity
            report(orderID, status: left == .zero && cum == size ? "FILLED" : "PARTIALLY_FILLED", cum: cum, last: (f.quantity, f.price), first: false)
            if let maker = orderOwner[f.makerID] {
                let makerCum = book.find(id: f.makerID)?.filled ?? maker.size
                report(f.makerID, status: f.makerDone ? "FILLED" : "PARTIALLY_FILLED", cum: makerCum, last: (f.quantity, f.price), first: false)
            }
        }
        if left > .zero {
            if isMarket { report(orderID, status: "CANCELLED", cum: cum, last: nil, first: false) }
            else { book.rest(id: orderID, owner: session, clOrdID: cl, userref: nil, side: side, price: price!, quantity: size, filled: cum) }
        }
    }
}
