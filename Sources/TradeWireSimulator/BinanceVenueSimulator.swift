import TradeWire
#if canImport(Glibc)
import Glibc
#endif

/// The Binance Spot WebSocket API dialect (protocols.md §2) at /ws-api/v3:
/// signed requests checked (HMAC-SHA256 with the configured secret, Ed25519
/// with a configured public key), Binance's error codes, `rateLimits` in every
/// response, a price-time book per symbol, and `executionReport`s on the user
/// data stream after an Ed25519 `session.logon`. Loop-confined.
public final class BinanceVenueSimulator: @unchecked Sendable {
    public struct Options: Sendable {
        public var apiKey: String
        /// HMAC secret (the simulator's `--api-secret`).
        public var apiSecret: String
        /// Ed25519 public key (PEM) of `apiKey`, for Ed25519-signed requests and session.logon.
        public var ed25519PublicKeyPEM: String?
        public var recvWindowMs: Int64
        /// New orders per 10 seconds (Binance's ORDERS/SECOND/10); nil = no limit.
        public var ordersPer10s: Int?
        public init(apiKey: String, apiSecret: String, ed25519PublicKeyPEM: String? = nil, recvWindowMs: Int64 = 5000,
                    ordersPer10s: Int? = nil) {
            self.ordersPer10s = ordersPer10s
            self.apiKey = apiKey
            self.apiSecret = apiSecret
            self.ed25519PublicKeyPEM = ed25519PublicKeyPEM
            self.recvWindowMs = recvWindowMs
        }
    }

    final class Session {
        /// Weak: the connection's handler keeps this session after the close (see `Connection`), and a
        /// strong reference back would keep all three alive for ever. Nil once the connection is gone.
        weak var conn: WebSocketConnection?
        var loggedOn = false
        var userStream = false
        var requestsThisMinute = 0
        var minute: Int64 = 0
        var ordersThisWindow = 0
        var window: Int64 = 0
        init(_ c: WebSocketConnection?) { conn = c }
    }

    public let options: Options
    var sessions: [Int: Session] = [:]
    var nextSession = 0
    var nextOrderId: Int64 = 12_569_099_453
    var books: [String: OrderBook] = [:]
    var orders: [Int64: (session: Int, symbol: String, clientOrderId: String, side: Side, type: String, qty: FixedDecimal, price: FixedDecimal?)] = [:]
    /// Every order placed, with its latest status, for `order.status` (which knows ended orders too).
    var history: [Int64: (symbol: String, clientOrderId: String, status: String, executed: FixedDecimal)] = [:]

    public init(options: Options) { self.options = options }
    public func handler() -> any WebSocketHandler { Connection(venue: self) }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }

    final class Connection: WebSocketHandler, @unchecked Sendable {
        let venue: BinanceVenueSimulator
        var id = -1
        /// Kept after the close: bytes read late (the hold-inbound fault) still act, and their answers go nowhere.
        var session: Session?
        init(venue: BinanceVenueSimulator) { self.venue = venue }
        func webSocketDidOpen(_ c: WebSocketConnection) {
            id = venue.nextSession
            venue.nextSession += 1
            session = Session(c)
            venue.sessions[id] = session
        }
        func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) { venue.sessions[id] = nil }
        func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
            guard let s = session else { return }
            guard let doc = try? JSONDocument(validating: m.bytes), doc.root.kind == .object else {
                return c.sendAll([venue.reply(s, id: nil, error: (-1100, "Illegal characters found in a parameter."), status: 400)])
            }
            venue.handle(doc.root, session: s, sessionID: id)
        }
    }

    /// `{"id", "status", "result" | "error", "rateLimits"}`
    func reply(_ s: Session, id: JSONValue?, result: ((inout JSONWriter) -> Void)? = nil, error: (Int, String)? = nil, status: Int = 200) -> [UInt8] {
        let minute = Self.nowMs() / 60_000
        if minute != s.minute { s.minute = minute; s.requestsThisMinute = 0 }
        s.requestsThisMinute += 1
        let weight = s.requestsThisMinute
        return simJSON { w in
            w.beginObject()
            w.key("id"); if let id { w.rawValue(id) } else { w.null() }
            w.key("status"); w.value(error == nil ? 200 : status)
            if let error {
                w.key("error"); w.beginObject(); w.key("code"); w.value(error.0); w.key("msg"); w.string(error.1); w.endObject()
            } else {
                w.key("result"); if let result { result(&w) } else { w.beginObject(); w.endObject() }
            }
            w.key("rateLimits"); w.beginArray()
            w.beginObject(); w.key("rateLimitType"); w.value("REQUEST_WEIGHT"); w.key("interval"); w.value("MINUTE")
            w.key("intervalNum"); w.value(1); w.key("limit"); w.value(6000); w.key("count"); w.value(weight); w.endObject()
            w.endArray()
            w.endObject()
        }
    }

    /// nil if the signature (or the session) vouches for the request, else Binance's error.
    func checkSigned(_ p: JSONValue?, session s: Session) -> (Int, String, Int)? {
        guard let p, p.kind == .object else { return (-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.", 400) }
        guard let ts = p["timestamp"]?.int64 else { return (-1102, "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.", 400) }
        let now = Self.nowMs()
        if ts > now + 1000 || now - ts > options.recvWindowMs { return (-1021, "Timestamp for this request is outside of the recvWindow.", 400) }
        guard let sig = p["signature"]?.string else {
            return s.loggedOn ? nil : (-1102, "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.", 400)
        }
        guard p["apiKey"]?.string == options.apiKey else { return (-2015, "Invalid API-key, IP, or permissions for action.", 401) }
        var pairs: [(String, String)] = []
        p.forEachMember { k, v in
            if let key = k.string, key != "signature" {
                pairs.append((key, v.string ?? String(decoding: v.rawBytes, as: UTF8.self)))
            }
            return true
        }
        let payload = pairs.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        if let hmac = try? Signing.hmacSHA256Hex(key: options.apiSecret, message: payload), hmac.lowercased() == sig.lowercased() { return nil }
        if let pub = options.ed25519PublicKeyPEM, Signing.ed25519Verify(publicKeyPEM: pub, message: payload, signatureBase64: sig) { return nil }
        return (-1022, "Signature for this request is not valid.", 400)
    }

    func handle(_ root: JSONValue, session s: Session, sessionID: Int) {
        let id = root["id"]
        guard let method = root["method"]?.string.map({ $0.hasPrefix("v3/") ? String($0.dropFirst(3)) : $0 }) else {
            s.conn?.sendAll([reply(s, id: id, error: (-1102, "Mandatory parameter 'method' was not sent."), status: 400)]); return
        }
        let p = root["params"]
        func fail(_ e: (Int, String, Int)) { s.conn?.sendAll([reply(s, id: id, error: (e.0, e.1), status: e.2)]) }
        switch method {
        case "ping":
            s.conn?.sendAll([reply(s, id: id)])
        case "session.logon":
            guard options.ed25519PublicKeyPEM != nil, p?["signature"] != nil else { return fail((-4001, "Invalid API key type: session.logon needs an Ed25519 key.", 400)) }
            if let e = checkSigned(p, session: Session(s.conn)) { return fail(e) }   // a logon must carry its own signature
            s.loggedOn = true
            let apiKey = options.apiKey
            s.conn?.sendAll([reply(s, id: id, result: { w in
                w.beginObject(); w.key("apiKey"); w.string(apiKey); w.key("authorizedSince"); w.value(Self.nowMs())
                w.key("returnRateLimits"); w.value(true); w.key("serverTime"); w.value(Self.nowMs())
                w.key("userDataStream"); w.value(false); w.endObject()
            })])
        case "userDataStream.subscribe":
            guard s.loggedOn else { return fail((-2015, "Invalid API-key, IP, or permissions for action.", 401)) }
            s.userStream = true
            s.conn?.sendAll([reply(s, id: id, result: { w in w.beginObject(); w.key("subscriptionId"); w.value(0); w.endObject() })])
        case "order.place", "order.test":
            if let e = checkSigned(p, session: s) { return fail(e) }
            let p = p!
            guard let symbol = p["symbol"]?.string, symbol.count >= 5, symbol.allSatisfy({ $0.isUppercase || $0.isNumber }) else {
                return fail((-1121, "Invalid symbol.", 400))
            }
            guard let sideText = p["side"]?.string, sideText == "BUY" || sideText == "SELL" else {
                return fail((-1102, "Mandatory parameter 'side' was not sent, was empty/null, or malformed.", 400))
            }
            guard let type = p["type"]?.string, ["LIMIT", "LIMIT_MAKER", "MARKET"].contains(type) else {
                return fail((-1116, "Invalid orderType.", 400))
            }
            guard let qty = p["quantity"]?.decimal, qty > .zero else {
                return fail((-1102, "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.", 400))
            }
            let price = p["price"]?.decimal
            if type != "MARKET" && price == nil { return fail((-1102, "Mandatory parameter 'price' was not sent, was empty/null, or malformed.", 400)) }
            if type == "LIMIT" && p["timeInForce"] == nil { return fail((-1102, "Mandatory parameter 'timeInForce' was not sent, was empty/null, or malformed.", 400)) }
            if method == "order.test" { s.conn?.sendAll([reply(s, id: id)]); return }
            if let limit = options.ordersPer10s {
                let w = Self.nowMs() / 10_000                    // intervals reset on clock boundaries
                if w != s.window { s.window = w; s.ordersThisWindow = 0 }
                if s.ordersThisWindow >= limit {
                    return fail((-1015, "Too many new orders; current limit is \(limit) orders per TEN_SECONDS.", 429))
                }
                s.ordersThisWindow += 1
            }
            let side: Side = sideText == "BUY" ? .buy : .sell
            let book = books[symbol] ?? OrderBook(symbol: symbol)
            books[symbol] = book
            if type == "LIMIT_MAKER", let px = price, book.wouldCross(side: side, price: px) {
                return fail((-2010, "Order would immediately match and take.", 400))
            }
            nextOrderId += 1
            let orderId = nextOrderId
            let cl = p["newClientOrderId"]?.string ?? "sim\(orderId)"
            orders[orderId] = (sessionID, symbol, cl, side, type, qty, price)
            let (fills, left) = book.match(side: side, limit: type == "MARKET" ? nil : price, quantity: qty)
            let executed = qty - left
            let status = left == .zero ? "FILLED" : executed > .zero ? "PARTIALLY_FILLED" : "NEW"
            s.conn?.sendAll([reply(s, id: id, result: { w in
                w.beginObject(); w.key("symbol"); w.string(symbol); w.key("orderId"); w.value(orderId)
                w.key("orderListId"); w.value(-1); w.key("clientOrderId"); w.string(cl); w.key("transactTime"); w.value(Self.nowMs())
                if let price { w.key("price"); w.quoted(price) }
                w.key("origQty"); w.quoted(qty); w.key("executedQty"); w.quoted(executed); w.key("status"); w.string(status)
                w.key("type"); w.string(type); w.key("side"); w.string(sideText); w.endObject()
            })])
            report(orderId, x: "NEW", X: "NEW", last: nil, cum: .zero)
            var cum = FixedDecimal.zero
            for f in fills {
                cum = cum + f.quantity
                report(orderId, x: "TRADE", X: cum == qty ? "FILLED" : "PARTIALLY_FILLED", last: (f.quantity, f.price), cum: cum, maker: false)
                if let m = orders[Int64(f.makerID) ?? -1] {
                    let mc = book.find(id: f.makerID)?.filled ?? m.qty
                    report(Int64(f.makerID)!, x: "TRADE", X: f.makerDone ? "FILLED" : "PARTIALLY_FILLED", last: (f.quantity, f.price), cum: mc, maker: true)
                }
            }
            if left > .zero && type != "MARKET" {
                book.rest(id: String(orderId), owner: sessionID, clOrdID: cl, userref: nil, side: side, price: price!, quantity: qty, filled: executed)
            }
        case "order.cancel":
            if let e = checkSigned(p, session: s) { return fail(e) }
            let p = p!
            guard let symbol = p["symbol"]?.string else { return fail((-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.", 400)) }
            var orderId = p["orderId"]?.int64
            if orderId == nil, let orig = p["origClientOrderId"]?.string { orderId = orders.first { $0.value.clientOrderId == orig && $0.value.symbol == symbol }?.key }
            guard let oid = orderId, let o = orders[oid], let gone = books[symbol]?.remove(id: String(oid)) else {
                return fail((-2011, "Unknown order sent.", 400))
            }
            s.conn?.sendAll([reply(s, id: id, result: { w in
                w.beginObject(); w.key("symbol"); w.string(symbol); w.key("origClientOrderId"); w.string(o.clientOrderId)
                w.key("orderId"); w.value(oid); w.key("executedQty"); w.quoted(gone.filled); w.key("status"); w.value("CANCELED"); w.endObject()
            })])
            report(oid, x: "CANCELED", X: "CANCELED", last: nil, cum: gone.filled)
            orders[oid] = nil
        case "openOrders.status":
            if let e = checkSigned(p, session: s) { return fail(e) }
            let only = p?["symbol"]?.string
            let open = orders.filter { (oid, o) in (only == nil || o.symbol == only) && books[o.symbol]?.find(id: String(oid)) != nil }
                .sorted { $0.key < $1.key }
            s.conn?.sendAll([reply(s, id: id, result: { w in
                w.beginArray()
                for (oid, o) in open {
                    let filled = self.books[o.symbol]?.find(id: String(oid))?.filled ?? .zero
                    w.beginObject(); w.key("symbol"); w.string(o.symbol); w.key("orderId"); w.value(oid)
                    w.key("clientOrderId"); w.string(o.clientOrderId); w.key("origQty"); w.quoted(o.qty)
                    w.key("executedQty"); w.quoted(filled)
                    w.key("status"); w.string(filled > .zero ? "PARTIALLY_FILLED" : "NEW"); w.endObject()
                }
                w.endArray()
            })])
        case "order.status":
            if let e = checkSigned(p, session: s) { return fail(e) }
            guard let symbol = p?["symbol"]?.string else { return fail((-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.", 400)) }
            let byId = p?["orderId"]?.int64, orig = p?["origClientOrderId"]?.string
            guard byId != nil || orig != nil else {
                return fail((-1102, "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!", 400))
            }
            // The newest order of that client id (Binance allows reusing an id once the order has ended).
            let found = history.filter { e in e.value.symbol == symbol && (byId.map { e.key == $0 } ?? (e.value.clientOrderId == orig)) }
                .max { $0.key < $1.key }
            guard let (oid, h) = found else { return fail((-2013, "Order does not exist.", 400)) }
            s.conn?.sendAll([reply(s, id: id, result: { w in
                w.beginObject(); w.key("symbol"); w.string(symbol); w.key("orderId"); w.value(oid)
                w.key("clientOrderId"); w.string(h.clientOrderId); w.key("executedQty"); w.quoted(h.executed)
                w.key("status"); w.string(h.status); w.endObject()
            })])
        default:
            fail((-1020, "This operation is not supported.", 400))
        }
    }

    /// Tell every session the server is going down (`serverShutdown`), as Binance does before it drops them. Loop thread.
    public func announceShutdown() {
        let now = Self.nowMs()
        for s in sessions.values { s.conn?.sendAll([Array(#"{"event":{"e":"serverShutdown","E":\#(now)}}"#.utf8)]) }
    }

    /// An executionReport to the account's user data streams (every connection of the one API key that
    /// subscribed: the stream is the account's, not the connection's), and the order's state for `order.status`.
    func report(_ orderId: Int64, x: String, X: String, last: (FixedDecimal, FixedDecimal)?, cum: FixedDecimal, maker: Bool = false) {
        guard let o = orders[orderId] else { return }
        history[orderId] = (o.symbol, o.clientOrderId, X, cum)
        let streams = sessions.values.filter(\.userStream)
        guard !streams.isEmpty else { return }
        let frame = simJSON { w in
            w.beginObject(); w.key("subscriptionId"); w.value(0); w.key("event"); w.beginObject()
            w.key("e"); w.value("executionReport"); w.key("E"); w.value(Self.nowMs()); w.key("s"); w.string(o.symbol)
            w.key("c"); w.string(o.clientOrderId); w.key("S"); w.value(o.side == .buy ? "BUY" : "SELL"); w.key("o"); w.string(o.type)
            w.key("f"); w.value("GTC"); w.key("q"); w.quoted(o.qty); w.key("p"); w.quoted(o.price ?? .zero)
            w.key("x"); w.string(x); w.key("X"); w.string(X); w.key("r"); w.value("NONE"); w.key("i"); w.value(orderId)
            w.key("l"); w.quoted(last?.0 ?? .zero); w.key("z"); w.quoted(cum); w.key("L"); w.quoted(last?.1 ?? .zero)
            w.key("t"); w.value(last == nil ? -1 : Int64(orderId % 1_000_000)); w.key("m"); w.value(maker)
            w.key("T"); w.value(Self.nowMs())
            w.endObject(); w.endObject()
        }
        for s in streams { s.conn?.sendAll([frame]) }
    }
}
