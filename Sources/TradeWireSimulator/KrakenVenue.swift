import TradeWire

/// The Kraken Spot WS v2 dialect of the simulator (protocols.md §1): answers
/// trading requests with Kraken's response shapes and error strings.
/// One instance per server; `handler()` makes one per connection.
public final class KrakenVenue: @unchecked Sendable {
    public struct Options: Sendable {
        /// Every ack waits this long (to test latency accounting); zero = answer at once.
        public var ackDelay: Duration
        /// If set, requests must carry this token (`EAPI:Invalid token` otherwise).
        public var token: String?
        public init(ackDelay: Duration = .zero, token: String? = nil) {
            self.ackDelay = ackDelay
            self.token = token
        }
    }

    public let options: Options
    /// Resting orders by id (loop thread only).
    var orders: [String: (symbol: String, clOrdID: String?)] = [:]
    var nextOrder: UInt64 = 0

    public init(options: Options = .init()) { self.options = options }

    public func handler() -> any WebSocketHandler { Connection(venue: self) }

    func newOrderID() -> String {
        nextOrder += 1
        // Kraken ids look like OXXXXX-XXXXX-XXXXXX.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var v = nextOrder &* 0x9E37_79B9_7F4A_7C15
        var s = "O"
        for i in 0..<17 {
            if i == 5 || i == 10 { s.append("-") }
            s.append(alphabet[Int(v & 31)])
            v >>= 5
            if v == 0 { v = nextOrder &* 0xC2B2_AE3D_27D4_EB4F }
        }
        return s
    }

    final class Connection: WebSocketHandler, @unchecked Sendable {
        let venue: KrakenVenue
        init(venue: KrakenVenue) { self.venue = venue }

        func webSocketDidOpen(_ c: WebSocketConnection) {
            // Kraken greets every connection with a status frame.
            _ = try? c.send(text: #"{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.0"}]}"#)
        }

        func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
            guard m.opcode == .text else { return }
            let reply: Reply
            do {
                let doc = try JSONDocument(validating: m.bytes)
                reply = venue.answer(doc.root)
            } catch {
                reply = Reply(method: "", reqID: nil, error: "EGeneral:Invalid arguments", result: nil)
            }
            if venue.options.ackDelay == .zero {
                reply.send(on: c)
            } else {
                c.loop.schedule(after: venue.options.ackDelay) { reply.send(on: c) }
            }
        }
    }

    /// What to answer: a response envelope with an optional result object.
    struct Reply {
        enum Result {
            case order(orderID: String, clOrdID: String?)
            case count(Int)
            case deadman(trigger: String)
        }
        let method: String
        let reqID: Int64?
        let error: String?
        let result: Result?
        var isPong = false

        func send(on c: WebSocketConnection) {
            _ = try? c.send(.text, capacity: 512) { buf in
                var w = JSONWriter(buf)
                w.beginObject()
                if isPong {
                    w.key("method"); w.value("pong")
                } else {
                    if let error { w.key("error"); w.string(error) }
                    w.key("method"); w.string(method)
                }
                if let reqID { w.key("req_id"); w.value(reqID) }
                if let result {
                    w.key("result"); w.beginObject()
                    switch result {
                    case .order(let id, let cl):
                        w.key("order_id"); w.string(id)
                        if let cl { w.key("cl_ord_id"); w.string(cl) }
                    case .count(let n):
                        w.key("count"); w.value(n)
                    case .deadman(let trigger):
                        VenueClock.withRFC3339 { w.key("currentTime"); w.string($0) }
                        w.key("triggerTime"); w.string(trigger)
                    }
                    w.endObject()
                }
                if !isPong { w.key("success"); w.value(error == nil) }
                VenueClock.withRFC3339 { t in
                    w.key("time_in"); w.string(t)
                    w.key("time_out"); w.string(t)
                }
                w.endObject()
                return w.overflowed ? 0 : w.count
            }
        }
    }

    static let addOrderFields: Set<String> = [
        "order_type", "side", "order_qty", "symbol", "limit_price", "limit_price_type", "time_in_force", "post_only",
        "reduce_only", "margin", "cl_ord_id", "order_userref", "deadline", "triggers", "conditional", "display_qty",
        "fee_preference", "no_mpp", "stp_type", "effective_time", "expire_time", "cash_order_qty", "validate", "token",
    ]

    func answer(_ root: JSONValue) -> Reply {
        let reqID = root["req_id"]?.int64
        guard let method = root["method"]?.string else {
            return Reply(method: "", reqID: reqID, error: "EGeneral:Invalid arguments", result: nil)
        }
        func fail(_ e: String) -> Reply { Reply(method: method, reqID: reqID, error: e, result: nil) }
        let params = root["params"]
        if method != "ping", let want = options.token, params?["token"]?.string != want {
            return fail("EAPI:Invalid token")
        }
        switch method {
        case "ping":
            var r = Reply(method: method, reqID: reqID, error: nil, result: nil)
            r.isPong = true
            return r
        case "add_order":
            guard let p = params, p.kind == .object else { return fail("EGeneral:Invalid arguments") }
            var unknown: String? = nil
            p.forEachMember { k, _ in
                if let name = k.string, !Self.addOrderFields.contains(name) { unknown = name; return false }
                return true
            }
            if let unknown { return fail("EGeneral:Invalid arguments:Unsupported field: '\(unknown)'") }
            guard let type = p["order_type"]?.string,
                  ["limit", "market", "iceberg", "stop-loss", "stop-loss-limit", "take-profit", "take-profit-limit",
                   "trailing-stop", "trailing-stop-limit", "settle-position"].contains(type) else {
                return fail("EGeneral:Invalid arguments:order_type")
            }
            guard let side = p["side"]?.string, side == "buy" || side == "sell" else { return fail("EGeneral:Invalid arguments:side") }
            guard let qty = p["order_qty"]?.decimal, qty.mantissa > 0 else { return fail("EGeneral:Invalid arguments:order_qty") }
            guard let symbol = p["symbol"]?.string, symbol.contains("/") else { return fail("EGeneral:Invalid arguments:symbol") }
            if type.hasSuffix("limit") || type == "iceberg" {
                guard let px = p["limit_price"]?.decimal, px.mantissa > 0 else { return fail("EGeneral:Invalid arguments:limit_price") }
            }
            let cl = p["cl_ord_id"]?.string
            if cl != nil && p["order_userref"] != nil { return fail("EGeneral:Invalid arguments:cl_ord_id and order_userref") }
            if p["validate"]?.bool == true {
                return Reply(method: method, reqID: reqID, error: nil, result: .order(orderID: "", clOrdID: cl))
            }
            let id = newOrderID()
            orders[id] = (symbol, cl)
            return Reply(method: method, reqID: reqID, error: nil, result: .order(orderID: id, clOrdID: cl))
        case "cancel_order":
            guard let p = params else { return fail("EGeneral:Invalid arguments") }
            if let ids = p["order_id"] {
                var first: String? = nil
                ids.forEachElement { first = $0.string; return false }
                guard let id = first, orders.removeValue(forKey: id) != nil else { return fail("EOrder:Invalid order") }
                return Reply(method: method, reqID: reqID, error: nil, result: .order(orderID: id, clOrdID: nil))
            }
            if let cls = p["cl_ord_id"] {
                var first: String? = nil
                cls.forEachElement { first = $0.string; return false }
                guard let cl = first, let hit = orders.first(where: { $0.value.clOrdID == cl }) else { return fail("EOrder:Invalid order") }
                orders[hit.key] = nil
                return Reply(method: method, reqID: reqID, error: nil, result: .order(orderID: hit.key, clOrdID: cl))
            }
            return fail("EGeneral:Invalid arguments")
        case "cancel_all":
            let n = orders.count
            orders.removeAll()
            return Reply(method: method, reqID: reqID, error: nil, result: .count(n))
        case "cancel_all_orders_after":
            guard let t = params?["timeout"]?.int64, t >= 0 else { return fail("EGeneral:Invalid arguments:timeout") }
            return Reply(method: method, reqID: reqID, error: nil, result: .deadman(trigger: t == 0 ? "0" : "armed"))
        default:
            return fail("EGeneral:Invalid arguments:Unknown method")
        }
    }
}
