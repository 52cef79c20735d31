import TradeWire

/// The Kraken Spot WS v2 dialect of the simulator (protocols.md §1): trading
/// requests answered with Kraken's shapes and error strings, a price-time book
/// per symbol, and order reports and fills on the `executions` channel.
/// One instance is one venue; `handler()` makes one per connection. Loop-confined.
public final class KrakenVenueSimulator: @unchecked Sendable {
    public struct Options: Sendable {
        /// Every answer waits this long (to test latency accounting); zero = at once.
        public var ackDelay: Duration
        /// If set, requests must carry this token (`EAPI:Invalid token` otherwise).
        public var token: String?
        /// Further tokens requests may carry, as `token` (`tradewire simulator --token A --token B`).
        public var additionalTokens: [String] = []
        /// Accept every private request whatever its token, or without one (`--any-token`), as a venue without
        /// `token` or REST credentials does; the REST endpoint still issues tokens.
        public var acceptAnyToken = false
        /// Kraken's per-pair order counter (§1.14); nil = no limit (benchmarks, load tests).
        public var rateCounter: KrakenOrderCounter?
        /// REST credentials for `GetWebSocketsToken` (the secret is base64, as Kraken's are).
        /// When set, WebSocket requests must carry a token the endpoint issued (or `token`).
        public var apiKey: String?
        public var apiSecretBase64: String?
        /// The account's funds, as the largest order quantity the engine takes: a larger order fails the
        /// engine's pre-match check with `EOrder:Insufficient funds` (in a batch, that order alone). nil: no limit.
        public var fundsLimit: FixedDecimal?
        /// Digits after the point of a pair's prices and quantities (its `book` is published at them, and a
        /// finer order is refused); pairs not listed get `defaultPrecision`.
        public var pairPrecision: [String: (price: UInt8, quantity: UInt8)] = [:]
        public var defaultPrecision: (price: UInt8, quantity: UInt8) = (5, 10)
        /// Fault: every Nth `book` message carries a wrong checksum (nil: never).
        public var corruptBookChecksumEvery: Int?
        public init(ackDelay: Duration = .zero, token: String? = nil, rateCounter: KrakenOrderCounter? = nil,
                    apiKey: String? = nil, apiSecretBase64: String? = nil, fundsLimit: FixedDecimal? = nil) {
            self.fundsLimit = fundsLimit
            self.ackDelay = ackDelay
            self.token = token
            self.rateCounter = rateCounter
            self.apiKey = apiKey
            self.apiSecretBase64 = apiSecretBase64
        }
    }

    final class Session {
        let conn: WebSocketConnection
        var executions = false
        var sequence = 0
        /// `book` subscriptions by symbol, with what was last published to this connection.
        var books: [String: KrakenBookSubscription] = [:]
        /// `level3` subscriptions by symbol, with the orders last published to this connection.
        var level3: [String: KrakenLevel3Subscription] = [:]
        /// `ticker` and `trade` subscriptions.
        var tickers: Set<String> = []
        var trades: Set<String> = []
        /// `ohlc` subscriptions, by symbol and interval.
        var candles: Set<KrakenCandleKey> = []
        init(_ c: WebSocketConnection) { conn = c }
    }

    struct OrderInfo {
        let symbol: String
        let owner: Int
        let clOrdID: String?
        let userref: Int64?
        let side: Side
        let type: String
        let quantity: FixedDecimal
        let price: FixedDecimal?
    }

    public let options: Options
    var books: [String: OrderBook] = [:]
    /// A book that moves on its own at a set rate (`KrakenBookFlow`), for a client's book subscription to that
    /// symbol. Set before serving; then loop-confined like the rest.
    public var bookFlow: KrakenBookFlow?
    /// The `trade` and `ticker` channels' state: the last 50 trades and the last ticker published, by symbol.
    var recentTrades: [String: [KrakenSimTrade]] = [:]
    var lastTradePrice: [String: FixedDecimal] = [:]
    var lastTickers: [String: KrakenSimTicker] = [:]
    var nextPublicTradeID: Int64 = 4_665_000
    /// The `ohlc` channel's candles (the last few), by symbol and interval, from the first subscription on.
    var candles: [KrakenCandleKey: [KrakenSimCandle]] = [:]
    var orders = LiveOrders<OrderInfo>(clOrdID: \.clOrdID)
    var sessions: [Int: Session] = [:]
    /// The account each session trades for: the token its requests carry (kept after it closed). Kraken's
    /// `executions` belong to the account, so every connection subscribed on it sees its orders' reports;
    /// a connection without a token is an account of its own.
    var accountOf: [Int: String] = [:]
    var nextSession = 0
    var nextOrder: UInt64 = 0
    var nextExec: UInt64 = 0
    var nextTrade: Int64 = 1_000_000

    var counter: KrakenOrderCounter?
    var bookUpdatesSent = 0
    /// Tokens the WebSocket side accepts: the configured one and those the REST endpoint issued.
    var tokens: Set<String> = []
    var lastNonce: UInt64 = 0

    public init(options: Options = .init()) {
        self.options = options
        counter = options.rateCounter
        if let t = options.token { tokens.insert(t) }
        tokens.formUnion(options.additionalTokens)
    }

    /// `POST /0/private/GetWebSocketsToken` (§1.3): API-Key, API-Sign over the nonce and body, increasing nonces.
    public func restToken(_ r: WebSocketServer.UpgradeRequest) -> WebSocketServer.Decision {
        func answer(_ errors: [String], token: String? = nil) -> WebSocketServer.Decision {
            let body = String(decoding: simJSON { w in
                w.beginObject(); w.key("error"); w.beginArray(); errors.forEach { w.string($0) }; w.endArray()
                if let token { w.key("result"); w.beginObject(); w.key("token"); w.string(token); w.key("expires"); w.value(900); w.endObject() }
                w.endObject()
            }, as: UTF8.self)
            return .respond(status: 200, contentType: "application/json", body: body)
        }
        guard r.method == "POST" else { return .reject(status: 405, body: "POST only\n") }
        guard let key = options.apiKey, let secret = options.apiSecretBase64 else { return answer(["EGeneral:Permission denied"]) }
        guard r.header("API-Key") == key else { return answer(["EAPI:Invalid key"]) }
        let post = String(decoding: r.body, as: UTF8.self)
        let nonceText = post.split(separator: "&").first { $0.hasPrefix("nonce=") }.map { String($0.dropFirst(6)) } ?? ""
        guard let nonce = UInt64(nonceText) else { return answer(["EAPI:Invalid nonce"]) }
        guard let sign = r.header("API-Sign"),
              let expected = try? Signing.krakenSignature(secretBase64: secret, path: r.path, nonce: nonceText, postData: post),
              sign == expected else { return answer(["EAPI:Invalid signature"]) }
        guard nonce > lastNonce else { return answer(["EAPI:Invalid nonce"]) }
        lastNonce = nonce
        // Kraken tokens are 43 base64url-ish characters.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
        let token = String((0..<43).map { _ in alphabet[Int.random(in: 0..<alphabet.count)] })
        tokens.insert(token)
        return answer([], token: token)
    }

    /// Make every token issued so far stale (as a session Kraken has expired): requests carrying one are
    /// answered `EAPI:Invalid token` until the client fetches a new one from the REST endpoint.
    public func invalidateTokens() { tokens.removeAll() }

    /// Charge the pair's counter; Kraken's error when it is over.
    func charge(_ symbol: String, _ cost: Double) -> String? {
        guard counter != nil else { return nil }
        return counter!.acquire(cost: cost, key: symbol, now: MonotonicClock.nanoseconds()) == nil ? nil : "EOrder:Rate limit exceeded"
    }

    public func handler() -> any WebSocketHandler { Connection(venue: self) }

    func book(_ symbol: String) -> OrderBook {
        if let b = books[symbol] { return b }
        let b = OrderBook(symbol: symbol)
        books[symbol] = b
        return b
    }

    static func krakenID(_ prefix: Character, _ n: UInt64) -> String {
        // Kraken ids look like OXXXXX-XXXXX-XXXXXX.
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
        var v = n &* 0x9E37_79B9_7F4A_7C15
        var s = String(prefix)
        for i in 0..<16 {
            if i == 5 || i == 10 { s.append("-") }
            s.append(alphabet[Int(v & 31)])
            v >>= 5
            if v == 0 { v = n &* 0xC2B2_AE3D_27D4_EB4F }
        }
        return s
    }

    final class Connection: WebSocketHandler, @unchecked Sendable {
        let venue: KrakenVenueSimulator
        var session = -1
        init(venue: KrakenVenueSimulator) { self.venue = venue }

        func webSocketDidOpen(_ c: WebSocketConnection) {
            session = venue.nextSession
            venue.nextSession += 1
            venue.sessions[session] = Session(c)
            // Kraken greets every connection with a status frame.
            c.sendAll([Array(#"{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":\#(session),"system":"online","version":"2.0.10"}]}"#.utf8)])
        }

        func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
            guard m.opcode == .text else { return }
            var out: [[UInt8]] = []
            var pushes: [(Int, [UInt8])] = []
            // Bytes read after their connection died (the hold-inbound fault) still act: their answers go
            // nowhere, their executions to the account's live connections.
            do {
                let doc = try JSONDocument(validating: m.bytes)
                venue.answer(doc.root, session: session, out: &out, pushes: &pushes)
                venue.publishBookChanges(from: session, out: &out, pushes: &pushes)
                venue.publishLevel3Changes(from: session, out: &out, pushes: &pushes)
                venue.publishTickerChanges(from: session, out: &out, pushes: &pushes)
            } catch {
                out.append(KrakenVenueSimulator.envelope(method: nil, reqID: nil, error: "EGeneral:Invalid arguments"))
            }
            let deliver = { [venue] in
                c.sendAll(out)
                for (owner, msg) in pushes { venue.sessions[owner]?.conn.sendAll([msg]) }
            }
            if venue.options.ackDelay == .zero { deliver() } else { c.loop.schedule(after: venue.options.ackDelay, deliver) }
        }

        func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
            venue.sessions[session] = nil
        }
    }

    // MARK: messages

    /// `{"error"?, "method", "req_id"?, "result"?, "success", "time_in", "time_out"}`
    static func envelope(method: String?, reqID: Int64?, error: String? = nil,
                         result: ((inout JSONWriter) -> Void)? = nil) -> [UInt8] {
        simJSON { w in
            w.beginObject()
            if let error { w.key("error"); w.string(error) }
            if let method { w.key("method"); w.string(method) }
            if let reqID { w.key("req_id"); w.value(reqID) }
            if let result { w.key("result"); result(&w) }
            w.key("success"); w.value(error == nil)
            VenueClock.withRFC3339 { t in w.key("time_in"); w.string(t); w.key("time_out"); w.string(t) }
            w.endObject()
        }
    }

    struct Exec {
        var type: StaticString
        var status: StaticString
        var orderID: String
        var info: OrderInfo
        var cumQty: FixedDecimal
        var lastQty: FixedDecimal? = nil
        var lastPrice: FixedDecimal? = nil
        var liquidity: StaticString? = nil
        var reason: String? = nil
    }

    func execEntry(_ e: Exec, into w: inout JSONWriter) {
        w.beginObject()
        w.key("exec_type"); w.value(e.type)
        w.key("order_id"); w.string(e.orderID)
        if let cl = e.info.clOrdID { w.key("cl_ord_id"); w.string(cl) }
        w.key("order_userref"); w.value(e.info.userref ?? 0)
        w.key("symbol"); w.string(e.info.symbol)
        w.key("side"); w.value(e.info.side == .buy ? "buy" : "sell")
        w.key("order_type"); w.string(e.info.type)
        w.key("order_qty"); w.value(e.info.quantity)
        if let p = e.info.price { w.key("limit_price"); w.value(p) }
        w.key("order_status"); w.value(e.status)
        w.key("cum_qty"); w.value(e.cumQty)
        if let q = e.lastQty, let p = e.lastPrice {
            nextExec += 1
            w.key("exec_id"); w.string(Self.krakenID("T", nextExec))
            nextTrade += 1
            w.key("trade_id"); w.value(nextTrade)
            w.key("last_qty"); w.value(q)
            w.key("last_price"); w.value(p)
            w.key("cost"); w.value(q * p)
            if let l = e.liquidity { w.key("liquidity_ind"); w.value(l) }
        }
        if let r = e.reason { w.key("reason"); w.string(r) }
        VenueClock.withRFC3339 { w.key("timestamp"); w.string($0) }
        w.endObject()
    }

    /// The live sessions that see the executions of `owner`'s orders: those subscribed on its account.
    func audience(_ owner: Int) -> [Int] {
        sessions.filter { $0.value.executions && sameAccount($0.key, owner) }.keys.sorted()
    }

    func sameAccount(_ a: Int, _ b: Int) -> Bool { a == b || (accountOf[a] != nil && accountOf[a] == accountOf[b]) }

    /// An `executions` update of `owner`'s orders for each session of its audience: answers of the session
    /// that caused it go out with its answer, the others as pushes.
    func executions(_ owner: Int, _ entries: [Exec], from session: Int, out: inout [[UInt8]], pushes: inout [(Int, [UInt8])]) {
        for s in audience(owner) {
            let frame = executionsFrame(sessions[s]!, "update", entries)
            if s == session { out.append(frame) } else { pushes.append((s, frame)) }
        }
    }

    /// One `executions` frame for one session, with its next sequence number.
    func executionsFrame(_ s: Session, _ type: StaticString, _ entries: [Exec]) -> [UInt8] {
        s.sequence += 1
        return simJSON { w in
            w.beginObject()
            w.key("channel"); w.value("executions")
            w.key("type"); w.value(type)
            w.key("sequence"); w.value(s.sequence)
            w.key("data"); w.beginArray()
            for e in entries { execEntry(e, into: &w) }
            w.endArray()
            w.endObject()
        }
    }

    // MARK: requests

    static let batchLevelFields: Set<String> = ["symbol", "deadline", "validate", "token"]

    static let addOrderFields: Set<String> = [
        "order_type", "side", "order_qty", "symbol", "limit_price", "limit_price_type", "time_in_force", "post_only",
        "reduce_only", "margin", "cl_ord_id", "order_userref", "deadline", "triggers", "conditional", "display_qty",
        "fee_preference", "no_mpp", "stp_type", "effective_time", "expire_time", "cash_order_qty", "validate", "token",
    ]

    func answer(_ root: JSONValue, session: Int, out: inout [[UInt8]], pushes: inout [(Int, [UInt8])]) {
        let reqID = root["req_id"]?.int64
        guard let method = root["method"]?.string else {
            out.append(Self.envelope(method: nil, reqID: reqID, error: "EGeneral:Invalid arguments"))
            return
        }
        func fail(_ e: String) { out.append(Self.envelope(method: method, reqID: reqID, error: e)) }
        let params = root["params"]
        if let token = params?["token"]?.string, accountOf[session] == nil { accountOf[session] = token }
        let publicChannel = (method == "subscribe" || method == "unsubscribe")
            && (params?["channel"]?.stringEquals("book") == true || params?["channel"]?.stringEquals("instrument") == true)
        if method != "ping", !publicChannel, !options.acceptAnyToken, !tokens.isEmpty || options.apiKey != nil, !(params?["token"]?.string.map { tokens.contains($0) } ?? false) {
            return fail("EAPI:Invalid token")
        }
        switch method {
        case "ping":
            out.append(simJSON { w in
                w.beginObject(); w.key("method"); w.value("pong")
                if let reqID { w.key("req_id"); w.value(reqID) }
                VenueClock.withRFC3339 { t in w.key("time_in"); w.string(t); w.key("time_out"); w.string(t) }
                w.endObject()
            })
        case "subscribe", "unsubscribe":
            guard let ch = params?["channel"]?.string else { return fail("EGeneral:Invalid arguments:channel") }
            if ch == "instrument", method == "subscribe" { return instrumentSnapshot(method: method, reqID: reqID, out: &out) }
            if ch == "book" {
                return bookSubscription(params!, subscribe: method == "subscribe", method: method, reqID: reqID, session: session, out: &out)
            }
            if ch == "level3" {
                return level3Subscription(params!, subscribe: method == "subscribe", method: method, reqID: reqID, session: session, out: &out)
            }
            if ch == "ohlc" {
                return candleSubscription(params!, subscribe: method == "subscribe", method: method, reqID: reqID, session: session, out: &out)
            }
            if ch == "ticker" || ch == "trade" {
                return marketSubscription(ch, params!, subscribe: method == "subscribe", method: method, reqID: reqID, session: session, out: &out)
            }
            guard ch == "executions", method == "subscribe" else { return fail("Channel \(ch) not supported by the simulator") }
            sessions[session]?.executions = true
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject(); w.key("channel"); w.value("executions"); w.key("maxratecount"); w.value(60)
                w.key("snap_orders"); w.value(true); w.endObject()
            })
            // The account is the token (a connection without one is an account of its own). A new connection
            // adopts the orders of its account's connections that are gone (of tokenless ones, any: the same
            // trader reconnecting), so its snapshot shows them.
            for (id, o) in orders where sessions[o.owner] == nil && accountOf[o.owner] == accountOf[session] {
                orders[id] = OrderInfo(symbol: o.symbol, owner: session, clOrdID: o.clOrdID, userref: o.userref, side: o.side,
                                       type: o.type, quantity: o.quantity, price: o.price)
            }
            // Snapshot: the account's open orders.
            let open = orders.filter { sameAccount($0.value.owner, session) }.sorted { $0.key < $1.key }.map { id, info -> Exec in
                let filled = book(info.symbol).find(id: id)?.filled ?? .zero
                return Exec(type: "new", status: filled > .zero ? "partially_filled" : "new", orderID: id, info: info, cumQty: filled)
            }
            if let s = sessions[session] { out.append(executionsFrame(s, "snapshot", open)) }
        case "add_order":
            guard let p = params, p.kind == .object else { return fail("EGeneral:Invalid arguments") }
            var none: [(String, Int64?, String?)] = []
            addOrder(p, symbolOverride: nil, method: method, reqID: reqID, session: session, out: &out, pushes: &pushes,
                     inBatch: false, batchRows: &none)
        case "batch_add":
            guard let p = params, let symbol = p["symbol"]?.string, let list = p["orders"], list.kind == .array else {
                return fail("EGeneral:Invalid arguments")
            }
            let n = list.elementCount
            guard (2...15).contains(n) else { return fail("EGeneral:Invalid arguments:orders must hold 2 to 15 entries") }
            // Validate all first: one invalid order rejects the whole batch.
            var problem: String? = nil
            list.forEachElement { o in problem = validateOrder(o, symbolOverride: symbol); return problem == nil }
            if let problem { return fail(problem) }
            if let limited = charge(symbol, Double(n)) { return fail(limited) }
            var rows: [(String, Int64?, String?)] = []
            var failures: [Int: String] = [:]                 // row → the engine's per-order refusal
            let validateOnly = p["validate"]?.bool == true
            list.forEachElement { o in
                // The docs: an order that fails pre-match checks (funding) is rejected alone; the rest is processed.
                if !validateOnly, let problem = preMatchProblem(o) {
                    failures[rows.count] = problem
                    rows.append(("", o["order_userref"]?.int64, o["cl_ord_id"]?.string))
                    return true
                }
                addOrder(o, symbolOverride: symbol, method: method, reqID: reqID, session: session, out: &out, pushes: &pushes,
                         inBatch: true, batchRows: &rows, validateOnly: validateOnly)
                return true
            }
            let firstFailure = failures.keys.min().map { failures[$0]! }
            // A partly placed batch: success false with the first refusal, and every row, the live orders' with their ids.
            out.insert(simJSON { w in
                w.beginObject()
                if let firstFailure { w.key("error"); w.string(firstFailure) }
                w.key("method"); w.string(method)
                if let reqID { w.key("req_id"); w.value(reqID) }
                w.key("result"); w.beginArray()
                for (i, (id, ref, cl)) in rows.enumerated() {
                    w.beginObject()
                    if failures[i] == nil { w.key("order_id"); w.string(id) }
                    if let ref { w.key("order_userref"); w.value(ref) }
                    if let cl { w.key("cl_ord_id"); w.string(cl) }
                    if let f = failures[i] { w.key("error"); w.string(f) }
                    w.endObject()
                }
                w.endArray()
                w.key("success"); w.value(firstFailure == nil)
                VenueClock.withRFC3339 { t in w.key("time_in"); w.string(t); w.key("time_out"); w.string(t) }
                w.endObject()
            }, at: 0)
        case "amend_order":
            guard let p = params else { return fail("EGeneral:Invalid arguments") }
            let id = p["order_id"]?.string ?? p["cl_ord_id"]?.string.flatMap { orders.id(clOrdID: $0) }
            guard let id, let info = orders[id] else { return fail("EOrder:Unknown order") }
            let q = p["order_qty"]?.decimal, px = p["limit_price"]?.decimal
            guard q != nil || px != nil else { return fail("EGeneral:Invalid arguments:nothing to amend") }
            guard let amended = book(info.symbol).amend(id: id, quantity: q, price: px) else { return fail("EOrder:Unknown order") }
            let newInfo = OrderInfo(symbol: info.symbol, owner: info.owner, clOrdID: info.clOrdID, userref: info.userref,
                                    side: info.side, type: info.type, quantity: amended.quantity, price: amended.price)
            nextExec += 1
            let amendID = Self.krakenID("A", nextExec)
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject(); w.key("amend_id"); w.string(amendID); w.key("order_id"); w.string(id); w.endObject()
            })
            if amended.remaining <= .zero {
                orders[id] = nil
                executions(info.owner, [Exec(type: "canceled", status: "canceled", orderID: id, info: newInfo, cumQty: amended.filled, reason: "Order quantity below filled quantity")], from: session, out: &out, pushes: &pushes)
            } else {
                orders[id] = newInfo
                executions(info.owner, [Exec(type: "amended", status: amended.filled > .zero ? "partially_filled" : "new", orderID: id, info: newInfo, cumQty: amended.filled)], from: session, out: &out, pushes: &pushes)
            }
        case "cancel_order":
            guard let p = params else { return fail("EGeneral:Invalid arguments") }
            var ids: [(String, String?)] = []
            if let list = p["order_id"] { list.forEachElement { v in v.string.map { ids.append(($0, nil)) }; return true } }
            else if let list = p["cl_ord_id"] {
                list.forEachElement { v in
                    if let cl = v.string { ids.append((orders.id(clOrdID: cl) ?? "", cl)) }
                    return true
                }
            } else if let list = p["order_userref"] {
                list.forEachElement { v in
                    if let r = v.int64 { for (k, o) in orders where o.userref == r { ids.append((k, nil)) } }
                    return true
                }
            } else { return fail("EGeneral:Invalid arguments") }
            guard !ids.isEmpty else { return fail("EOrder:Invalid order") }
            for (id, cl) in ids {
                guard let info = orders[id], let gone = book(info.symbol).remove(id: id) else { fail("EOrder:Invalid order"); continue }
                orders[id] = nil
                out.append(Self.envelope(method: method, reqID: reqID) { w in
                    w.beginObject()
                    if let cl { w.key("cl_ord_id"); w.string(cl) } else { w.key("order_id"); w.string(id) }
                    w.endObject()
                })
                executions(info.owner, [Exec(type: "canceled", status: "canceled", orderID: id, info: info, cumQty: gone.filled, reason: "User requested")], from: session, out: &out, pushes: &pushes)
            }
        case "cancel_all":
            let mine = orders.filter { sameAccount($0.value.owner, session) }   // the account's orders
            var entries: [Exec] = []
            for (id, info) in mine.sorted(by: { $0.key < $1.key }) {
                let filled = book(info.symbol).remove(id: id)?.filled ?? .zero
                orders[id] = nil
                entries.append(Exec(type: "canceled", status: "canceled", orderID: id, info: info, cumQty: filled, reason: "User requested"))
            }
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject(); w.key("count"); w.value(mine.count); w.endObject()
            })
            if !entries.isEmpty { executions(session, entries, from: session, out: &out, pushes: &pushes) }
        case "cancel_all_orders_after":
            guard let t = params?["timeout"]?.int64, t >= 0, t <= 86_400 else { return fail("EGeneral:Invalid arguments:timeout") }
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject()
                VenueClock.withRFC3339 { w.key("currentTime"); w.string($0) }
                w.key("triggerTime"); w.string(t == 0 ? "0" : "armed")
                w.endObject()
            })
        default:
            fail("EGeneral:Invalid arguments:Unknown method")
        }
    }

    /// nil if the order is acceptable, else Kraken's error string.
    func validateOrder(_ p: JSONValue, symbolOverride: String?) -> String? {
        var unknown: String? = nil
        p.forEachMember { k, _ in
            // A batch entry has no symbol, deadline, validate or token of its own: they are the batch's.
            if let name = k.string, !Self.addOrderFields.contains(name)
                || (symbolOverride != nil && Self.batchLevelFields.contains(name)) { unknown = name; return false }
            return true
        }
        if let unknown { return "EGeneral:Invalid arguments:Unsupported field: '\(unknown)'" }
        guard let type = p["order_type"]?.string,
              ["limit", "market", "iceberg", "stop-loss", "stop-loss-limit", "take-profit", "take-profit-limit",
               "trailing-stop", "trailing-stop-limit", "settle-position"].contains(type) else {
            return "EGeneral:Invalid arguments:order_type"
        }
        guard let side = p["side"]?.string, side == "buy" || side == "sell" else { return "EGeneral:Invalid arguments:side" }
        guard let qty = p["order_qty"]?.decimal, qty > .zero else { return "EGeneral:Invalid arguments:order_qty" }
        guard let symbol = symbolOverride ?? p["symbol"]?.string, symbol.contains("/") else { return "EQuery:Unknown asset pair" }
        if let problem = precisionProblem(p, symbol: symbol) { return problem }
        if type.hasSuffix("limit") || type == "iceberg" {
            guard let px = p["limit_price"]?.decimal, px > .zero else { return "EGeneral:Invalid arguments:limit_price" }
        }
        if p["cl_ord_id"] != nil && p["order_userref"] != nil { return "EGeneral:Invalid arguments:cl_ord_id and order_userref" }
        if let cl = p["cl_ord_id"]?.string, orders.id(clOrdID: cl) != nil {
            return "EOrder:Duplicate cl_ord_id"
        }
        return nil
    }

    /// The engine's pre-match check (funding) of one order: nil if it passes.
    func preMatchProblem(_ p: JSONValue) -> String? {
        guard let limit = options.fundsLimit, let q = p["order_qty"]?.decimal, q > limit else { return nil }
        return "EOrder:Insufficient funds"
    }

    /// Place one order: ack (unless part of a batch), then its executions, and the makers' fills.
    func addOrder(_ p: JSONValue, symbolOverride: String?, method: String, reqID: Int64?, session: Int,
                  out: inout [[UInt8]], pushes: inout [(Int, [UInt8])], inBatch: Bool,
                  batchRows: inout [(String, Int64?, String?)], validateOnly batchValidate: Bool = false) {
        if !inBatch, let problem = validateOrder(p, symbolOverride: symbolOverride) {
            out.append(Self.envelope(method: method, reqID: reqID, error: problem))
            return
        }
        if !inBatch, p["validate"]?.bool != true, let problem = preMatchProblem(p) {
            out.append(Self.envelope(method: method, reqID: reqID, error: problem))
            return
        }
        if !inBatch, let limited = charge(symbolOverride ?? p["symbol"]!.string!, 1) {
            out.append(Self.envelope(method: method, reqID: reqID, error: limited))
            return
        }
        let symbol = symbolOverride ?? p["symbol"]!.string!
        let side: Side = p["side"]!.stringEquals("buy") ? .buy : .sell
        let type = p["order_type"]!.string!
        let qty = p["order_qty"]!.decimal!
        let price = p["limit_price"]?.decimal
        let cl = p["cl_ord_id"]?.string
        let userref = p["order_userref"]?.int64
        let validateOnly = batchValidate || p["validate"]?.bool == true
        nextOrder += 1
        let id = validateOnly ? "" : Self.krakenID("O", nextOrder)
        if inBatch { batchRows.append((id, userref, cl)) } else {
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject(); w.key("order_id"); w.string(id)
                if let cl { w.key("cl_ord_id"); w.string(cl) }
                if let userref { w.key("order_userref"); w.value(userref) }
                w.endObject()
            })
        }
        if validateOnly { return }
        let info = OrderInfo(symbol: symbol, owner: session, clOrdID: cl, userref: userref, side: side, type: type, quantity: qty, price: price)
        let b = book(symbol)
        var mine: [Exec] = [Exec(type: "pending_new", status: "pending_new", orderID: id, info: info, cumQty: .zero)]
        if p["post_only"]?.bool == true, let px = price, b.wouldCross(side: side, price: px) {
            mine.append(Exec(type: "canceled", status: "canceled", orderID: id, info: info, cumQty: .zero, reason: "Post only order"))
            executions(session, mine, from: session, out: &out, pushes: &pushes)
            return
        }
        mine.append(Exec(type: "new", status: "new", orderID: id, info: info, cumQty: .zero))
        let (fills, left) = b.match(side: side, limit: type == "market" ? nil : price, quantity: qty)
        var cum = FixedDecimal.zero
        for f in fills {
            recordTrade(symbol, takerSide: side, price: f.price, qty: f.quantity, orderType: type, from: session, out: &out, pushes: &pushes)
            cum = cum + f.quantity
            mine.append(Exec(type: "trade", status: cum == qty ? "filled" : "partially_filled", orderID: id, info: info,
                             cumQty: cum, lastQty: f.quantity, lastPrice: f.price, liquidity: "t"))
            if let maker = orders[f.makerID] {
                let makerCum = (b.find(id: f.makerID)?.filled) ?? maker.quantity
                var reports = [Exec(type: "trade", status: f.makerDone ? "filled" : "partially_filled", orderID: f.makerID, info: maker,
                                    cumQty: makerCum, lastQty: f.quantity, lastPrice: f.price, liquidity: "m")]
                if f.makerDone {
                    reports.append(Exec(type: "filled", status: "filled", orderID: f.makerID, info: maker, cumQty: maker.quantity))
                    orders[f.makerID] = nil
                }
                executions(maker.owner, reports, from: session, out: &out, pushes: &pushes)
            }
        }
        if left == .zero {
            mine.append(Exec(type: "filled", status: "filled", orderID: id, info: info, cumQty: qty))
        } else if type == "market" || p["time_in_force"]?.stringEquals("ioc") == true {
            mine.append(Exec(type: "canceled", status: "canceled", orderID: id, info: info, cumQty: cum, reason: "No remaining liquidity"))
        } else {
            b.rest(id: id, owner: session, clOrdID: cl, userref: userref, side: side, price: price!, quantity: qty, filled: cum)
            orders[id] = info
        }
        executions(session, mine, from: session, out: &out, pushes: &pushes)
    }
}
