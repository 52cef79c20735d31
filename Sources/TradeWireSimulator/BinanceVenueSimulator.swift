import TradeWire
#if canImport(Glibc)
import Glibc
#endif

/// The Binance Spot WebSocket API dialect at /ws-api/v3, as Binance documents it: signed requests checked (HMAC-SHA256
/// with the configured secret, Ed25519 with a configured public key), Binance's error codes, `rateLimits` in every
/// answer (ORDERS windows on the clock's 10 s and UTC day boundaries, counting placed orders, 429 -1015 with
/// `retryAfter` when full), a price-time book per symbol, the trading methods (order.place/test/cancel/cancelReplace/
/// amend.keepPriority, openOrders.cancelAll), the queries (order.status, openOrders.status, account.status,
/// account.rateLimits.orders), `session.logon` (Ed25519), the user data stream by logon or by signature with full
/// `executionReport`s (on a cancel: the cancel's id in `c`, the order's in `C`), and session revocation on demand.
/// Loop-confined. Stop orders rest untriggered; balances are reported as configured and not moved by fills.
public final class BinanceVenueSimulator: @unchecked Sendable {
    public struct Options: Sendable {
        public var apiKey: String
        /// HMAC secret (the simulator's `--api-secret`).
        public var apiSecret: String
        /// Ed25519 public key (PEM) of `apiKey`, for Ed25519-signed requests and session.logon.
        public var ed25519PublicKeyPEM: String?
        /// RSA public key (PEM) of `apiKey`, for RSA-signed requests.
        public var rsaPublicKeyPEM: String?
        public var recvWindowMs: Int64
        /// New orders per 10 seconds (Binance's ORDERS/SECOND/10), for the account; nil = no limit.
        public var ordersPer10s: Int?
        /// New orders per UTC day (ORDERS/DAY/1).
        public var ordersPerDay: Int
        /// Revoke a logged-on session after its N-th request (the `--binance-revoke-after` scenario).
        public var revokeSessionAfterRequests: Int?
        /// Maker and taker commission rate (0.001 = 10 bps); buyers pay in the base asset, sellers in the quote asset.
        public var commissionRate: FixedDecimal
        /// The account's balances as `account.status` reports them (free; fills do not move them).
        public var balances: [String: FixedDecimal]
        /// Market data faults: every Nth diff depth event is not sent (its update ids are skipped: a client sees a
        /// gap), and every Nth SBE frame is cut short. nil: never.
        public var skipDepthEventEvery: Int?
        public var cutSBEFrameEvery: Int?
        /// Market data fault: a stream connection this long after it opened is no longer published to (the venue
        /// forgets it; the socket stays open and silent), as a feed that stalls. nil: never.
        public var stallStreamAfter: Duration?
        public init(apiKey: String, apiSecret: String, ed25519PublicKeyPEM: String? = nil, recvWindowMs: Int64 = 5000,
                    ordersPer10s: Int? = nil, ordersPerDay: Int = 160_000, revokeSessionAfterRequests: Int? = nil,
                    commissionRate: FixedDecimal = FixedDecimal("0.001")!, balances: [String: FixedDecimal] = [:]) {
            self.ordersPer10s = ordersPer10s
            self.apiKey = apiKey
            self.apiSecret = apiSecret
            self.ed25519PublicKeyPEM = ed25519PublicKeyPEM
            self.recvWindowMs = recvWindowMs
            self.ordersPerDay = ordersPerDay
            self.revokeSessionAfterRequests = revokeSessionAfterRequests
            self.commissionRate = commissionRate
            self.balances = balances
        }
    }

    final class Session {
        /// Weak: the connection's handler keeps this session after the close (see `Connection`), and a
        /// strong reference back would keep all three alive for ever. Nil once the connection is gone.
        weak var conn: WebSocketConnection?
        var loggedOn = false
        /// Active user data stream subscriptions (ids), by logon or by signature.
        var subscriptions: [Int64] = []
        var nextSubscriptionId: Int64 = 0
        var requests = 0
        /// `revokeSessions()` was called: the next request revokes the session.
        var revokePending = false
        var userStream: Bool { !subscriptions.isEmpty }
        /// Opened with `responseFormat=sbe`: answers go out in SBE, in binary frames.
        var sbe = false
        init(_ c: WebSocketConnection?) { conn = c }
        /// Send an answer (`reply`'s), in the frame its format takes.
        func answer(_ frame: [UInt8]) { conn?.sendAll([frame], opcode: sbe ? .binary : .text) }
    }

    /// An order at the venue, with its latest state.
    public struct SimOrder: Sendable {
        public let orderID: Int64
        let session: Int
        public let symbol: String
        /// The client id it was placed with.
        public let clientOrderID: String
        /// Its client id now: a cancel's `newClientOrderId` replaces it, an amend's may.
        public var currentClientOrderId: String
        /// The client id before the last cancel or amend (a cancel's report carries it in `C`).
        var previousClientOrderId: String?
        public let side: Side
        public let type: String
        let timeInForce: String?
        public var quantity: FixedDecimal
        public let price: FixedDecimal?
        let stopPrice: FixedDecimal?
        let icebergQty: FixedDecimal?
        let trailingDelta: Int64?
        let strategyID: Int64?
        let strategyType: Int64?
        let selfTradePreventionMode: String
        public var executed: FixedDecimal = .zero
        var cumQuote: FixedDecimal = .zero
        public var status: String = "NEW"
        let time: Int64
        var updateTime: Int64
        var workingTime: Int64 = -1
        var filledOnce = false
    }

    /// Binance's error: code, message, HTTP-like status.
    struct SimError: Error {
        let code: Int, msg: String, status: Int
        /// A rate-limited answer's `retryAfter` (epoch ms).
        var retryAfterMs: Int64?
        init(_ code: Int, _ msg: String, _ status: Int, retryAfterMs: Int64? = nil) {
            self.code = code; self.msg = msg; self.status = status; self.retryAfterMs = retryAfterMs
        }
    }

    public let options: Options
    var sessions: [Int: Session] = [:]
    var nextSession = 0
    var nextOrderId: Int64 = 12_569_099_453
    var nextExecutionId: Int64 = 1
    var nextTradeId: Int64 = 1_650_422_481
    var books: [String: OrderBook] = [:]
    /// Market data: each book's update id and last published levels, and the market-stream connections.
    var depthStates: [String: BinanceDepthState] = [:]
    var streamConnections: [ObjectIdentifier: (connection: WebSocketConnection, stream: BinanceStreamConnection)] = [:]
    /// The public trade ids of `@trade` events.
    var nextPublicTradeId: Int64 = 9_000_000
    /// Counters of the market data faults.
    var depthEventsMade = 0
    var sbeFramesSent = 0
    /// Every order placed, with its latest state (`order.status` knows ended orders too).
    var ledger: [Int64: SimOrder] = [:]
    /// Open stop orders (they rest untriggered, off the book).
    var parked: Set<Int64> = []
    /// The account's unfilled order count per window (window index, count), and the IP's request weight.
    var orders10s: (index: Int64, count: Int) = (0, 0)
    var ordersDay: (index: Int64, count: Int) = (0, 0)
    var weight: (minute: Int64, count: Int) = (0, 0)

    /// Orders placed and not cancelled.
    public var orders: [Int64: SimOrder] { ledger.filter { $0.value.status != "CANCELED" } }

    public init(options: Options) { self.options = options }
    public func handler() -> any WebSocketHandler { Connection(venue: self, sbe: false) }

    /// The WebSocket API's upgrade: answered in SBE when the URL asks (`responseFormat=sbe`), which needs the schema
    /// this simulator encodes (`sbeSchemaId=3`, `sbeSchemaVersion=5`); another is refused with HTTP 400 and a JSON
    /// body, as the SBE FAQ says of an invalid or retired schema.
    public func decide(_ r: WebSocketServer.UpgradeRequest) -> WebSocketServer.Decision {
        let query = r.target.split(separator: "?", maxSplits: 1).dropFirst().first.map { $0.split(separator: "&").map(String.init) } ?? []
        guard query.contains("responseFormat=sbe") else { return .accept(Connection(venue: self, sbe: false)) }
        guard query.contains("sbeSchemaId=\(BinanceSBEAnswerEncoder.schemaId)"), query.contains("sbeSchemaVersion=\(BinanceSBEAnswerEncoder.version)") else {
            return .reject(status: 400, body: #"{"code":-1100,"msg":"Illegal characters found in parameter 'sbeSchemaId'; legal range is '3:5'."}"#)
        }
        return .accept(Connection(venue: self, sbe: true))
    }

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
        let sbe: Bool
        init(venue: BinanceVenueSimulator, sbe: Bool) {
            self.venue = venue
            self.sbe = sbe
        }
        func webSocketDidOpen(_ c: WebSocketConnection) {
            id = venue.nextSession
            venue.nextSession += 1
            session = Session(c)
            session?.sbe = sbe
            venue.sessions[id] = session
        }
        func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) { venue.sessions[id] = nil }
        func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
            guard let s = session else { return }
            guard let doc = try? JSONDocument(validating: m.bytes), doc.root.kind == .object else {
                return s.answer(venue.reply(s, id: nil, error: SimError(-1100, "Illegal characters found in a parameter.", 400)))
            }
            venue.handle(doc.root, session: s, sessionID: id)
            if !venue.streamConnections.isEmpty || !venue.depthStates.isEmpty { venue.publishDepthChanges() }
        }
    }

    // MARK: answers

    static func writeLimit(_ w: inout JSONWriter, _ type: StaticString, _ interval: StaticString, _ n: Int, _ limit: Int, _ count: Int) {
        w.beginObject(); w.key("rateLimitType"); w.value(type); w.key("interval"); w.value(interval)
        w.key("intervalNum"); w.value(n); w.key("limit"); w.value(limit); w.key("count"); w.value(count); w.endObject()
    }

    /// The ORDERS windows, rolled to now.
    func orderCounts() -> (tenSeconds: Int, day: Int) {
        let now = Self.nowMs()
        if now / 10_000 != orders10s.index { orders10s = (now / 10_000, 0) }
        if now / 86_400_000 != ordersDay.index { ordersDay = (now / 86_400_000, 0) }
        return (orders10s.count, ordersDay.count)
    }

    /// `{"id", "status", "result" | "error", "rateLimits"}`; `orders`: the answer reports the ORDERS windows too.
    /// On an SBE session (`sbe`: the answer's message; none for an empty result), the same in SBE.
    func reply(_ s: Session, id: JSONValue?, result: ((inout JSONWriter) -> Void)? = nil, error: SimError? = nil,
               data: ((inout JSONWriter) -> Void)? = nil, orders: Bool = false, sbe: (() -> [UInt8])? = nil) -> [UInt8] {
        let used = weight.count
        let counts = orderCounts()
        if s.sbe {
            return sbeReply(status: error?.status ?? 200, id: id, error: error, result: sbe, hasJSONResult: result != nil,
                            orders: orders, counts: counts, weightUsed: used)
        }
        let per10s = options.ordersPer10s, perDay = options.ordersPerDay
        return simJSON { w in
            w.beginObject()
            w.key("id"); if let id { w.rawValue(id) } else { w.null() }
            w.key("status"); w.value(error?.status ?? 200)
            if let error {
                w.key("error"); w.beginObject(); w.key("code"); w.value(error.code); w.key("msg"); w.string(error.msg)
                if let data { w.key("data"); data(&w) }
                w.endObject()
            } else {
                w.key("result"); if let result { result(&w) } else { w.beginObject(); w.endObject() }
            }
            w.key("rateLimits"); w.beginArray()
            if orders {
                if let per10s { Self.writeLimit(&w, "ORDERS", "SECOND", 10, per10s, counts.tenSeconds) }
                Self.writeLimit(&w, "ORDERS", "DAY", 1, perDay, counts.day)
            }
            Self.writeLimit(&w, "REQUEST_WEIGHT", "MINUTE", 1, 6000, used)
            w.endArray()
            w.endObject()
        }
    }

    static let weights: [String: Int] = [
        "order.amend.keepPriority": 4, "order.status": 4, "account.status": 20, "account.rateLimits.orders": 40,
        "session.logon": 2, "session.status": 2, "session.logout": 2, "userDataStream.subscribe": 2,
        "userDataStream.subscribe.signature": 2, "userDataStream.unsubscribe": 2,
    ]

    static func mandatory(_ name: String) -> SimError { SimError(-1102, "Mandatory parameter '\(name)' was not sent, was empty/null, or malformed.", 400) }

    /// nil if the signature (or, when `sessionMayVouch`, the logged-on session) vouches for the request, else Binance's error.
    func checkSigned(_ p: JSONValue?, session s: Session, sessionMayVouch: Bool = true) -> SimError? {
        guard let p, p.kind == .object, let ts = p["timestamp"]?.int64 else { return Self.mandatory("timestamp") }
        let now = Self.nowMs()
        let window = p["recvWindow"]?.int64 ?? options.recvWindowMs
        if ts > now + 1000 || now - ts > window { return SimError(-1021, "Timestamp for this request is outside of the recvWindow.", 400) }
        guard let sig = p["signature"]?.string else {
            return sessionMayVouch && s.loggedOn ? nil : Self.mandatory("signature")
        }
        guard p["apiKey"]?.string == options.apiKey else { return SimError(-2015, "Invalid API-key, IP, or permissions for action.", 401) }
        var pairs: [(String, String)] = []
        p.forEachMember { k, v in
            if let key = k.string, key != "signature" { pairs.append((key, v.string ?? String(decoding: v.rawBytes, as: UTF8.self))) }
            return true
        }
        let payload = pairs.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
        if let hmac = try? Signing.hmacSHA256Hex(key: options.apiSecret, message: payload), hmac.lowercased() == sig.lowercased() { return nil }
        if let pub = options.ed25519PublicKeyPEM, Signing.ed25519Verify(publicKeyPEM: pub, message: payload, signatureBase64: sig) { return nil }
        if let pub = options.rsaPublicKeyPEM, Signing.rsaSHA256Verify(publicKeyPEM: pub, message: payload, signatureBase64: sig) { return nil }
        return SimError(-1022, "Signature for this request is not valid.", 400)
    }

    // MARK: requests

    func handle(_ root: JSONValue, session s: Session, sessionID: Int) {
        let id = root["id"]
        let minute = Self.nowMs() / 60_000
        if minute != weight.minute { weight = (minute, 0) }
        guard let method = root["method"]?.string.map({ $0.hasPrefix("v3/") ? String($0.dropFirst(3)) : $0 }) else {
            weight.count += 1
            s.answer(reply(s, id: id, error: Self.mandatory("method"))); return
        }
        let p = root["params"]
        weight.count += method == "openOrders.status" ? (p?["symbol"] == nil ? 80 : 6) : Self.weights[method] ?? 1
        s.requests += 1
        if s.loggedOn, s.revokePending || options.revokeSessionAfterRequests.map({ s.requests > $0 }) == true {
            revoke(s)            // "after the next request the session will be revoked"
        }
        func send(_ frame: [UInt8]) { s.answer(frame) }
        func fail(_ e: SimError) { send(reply(s, id: id, error: e)) }
        func object(_ body: @escaping (inout JSONWriter) -> Void) { send(reply(s, id: id, result: { w in w.beginObject(); body(&w); w.endObject() })) }
        switch method {
        case "ping":
            send(reply(s, id: id))
        case "depth":
            guard let symbol = p?["symbol"]?.string, !symbol.isEmpty else {
                return fail(SimError(-1102, "Mandatory parameter 'symbol' was not sent, was empty/null, or malformed.", 400))
            }
            let limit = Int(p?["limit"]?.int64 ?? 100)
            guard (1...5000).contains(limit) else { return fail(SimError(-1100, "Illegal characters found in parameter 'limit'.", 400)) }
            send(reply(s, id: id, result: { w in self.depthSnapshot(symbol, limit: limit, into: &w) }))
        case "session.logon":
            guard options.ed25519PublicKeyPEM != nil, p?["signature"] != nil else { return fail(SimError(-4001, "Invalid API key type: session.logon needs an Ed25519 key.", 400)) }
            if let e = checkSigned(p, session: s, sessionMayVouch: false) { return fail(e) }   // a logon carries its own signature
            s.loggedOn = true
            let apiKey = options.apiKey, stream = s.userStream
            object { w in
                w.key("apiKey"); w.string(apiKey); w.key("authorizedSince"); w.value(Self.nowMs())
                w.key("connectedSince"); w.value(Self.nowMs()); w.key("returnRateLimits"); w.value(true)
                w.key("serverTime"); w.value(Self.nowMs()); w.key("userDataStream"); w.value(stream)
            }
        case "userDataStream.subscribe", "userDataStream.subscribe.signature":
            if method == "userDataStream.subscribe" {
                guard s.loggedOn else { return fail(SimError(-2015, "Invalid API-key, IP, or permissions for action.", 401)) }
            } else if let e = checkSigned(p, session: s, sessionMayVouch: false) {
                return fail(e)
            }
            // "You can have only one active subscription for a given account on a given connection."
            guard !s.userStream else { return fail(SimError(-2210, "User Data Stream subscription already active.", 400)) }
            let sub = s.nextSubscriptionId
            s.nextSubscriptionId += 1
            s.subscriptions.append(sub)
            send(reply(s, id: id, result: { w in w.beginObject(); w.key("subscriptionId"); w.value(sub); w.endObject() },
                       sbe: { BinanceSBEAnswerEncoder.subscribed(sub) }))
        case "userDataStream.unsubscribe":
            let only = p?["subscriptionId"]?.int64
            let gone = s.subscriptions.filter { only == nil || $0 == only }
            s.subscriptions.removeAll { only == nil || $0 == only }
            send(reply(s, id: id, sbe: { BinanceSBEAnswerEncoder.empty(templateId: 504) }))
            for sub in gone {
                send(s.sbe ? BinanceSBEAnswerEncoder.streamTerminated(sub, eventTimeUs: Self.nowMs() * 1000) : Self.streamTerminated(sub))
            }
        case "order.place", "order.test":
            if let e = checkSigned(p, session: s) { return fail(e) }
            switch parseOrder(p!) {
            case .failure(let e): return fail(e)
            case .success(let o) where method == "order.test": _ = o; send(reply(s, id: id, sbe: { BinanceSBEAnswerEncoder.empty(templateId: 303) }))
            case .success(let o):
                if let e = ordersLimitHit() { return send(rateLimited(s, id: id, e)) }
                switch place(o, sessionID: sessionID) {
                case .failure(let e): send(reply(s, id: id, error: e, orders: true))
                case .success(let (order, fills)):
                    let respType = o.respType
                    send(reply(s, id: id, result: { w in self.writeOrder(&w, order, shape: respType, fills: fills) }, orders: true,
                               sbe: { self.sbeOrder(order, shape: respType, fills: fills) }))
                    emitPlacementReports(order.orderID, fills: fills)
                }
            }
        case "order.cancel":
            if let e = checkSigned(p, session: s) { return fail(e) }
            switch cancel(p!, prefix: "") {
            case .failure(let e): fail(e)
            case .success(let (order, cancelID)):
                send(reply(s, id: id, result: { w in self.writeOrder(&w, order, shape: .cancel) }, sbe: { self.sbeOrder(order, shape: .cancel) }))
                _ = cancelID
                reportCancel(order.orderID)
            }
        case "order.cancelReplace":
            if let e = checkSigned(p, session: s) { return fail(e) }
            cancelReplace(p!, session: s, sessionID: sessionID, id: id)
        case "order.amend.keepPriority":
            if let e = checkSigned(p, session: s) { return fail(e) }
            amend(p!, session: s, id: id)
        case "openOrders.cancelAll":
            if let e = checkSigned(p, session: s) { return fail(e) }
            guard let symbol = p?["symbol"]?.string else { return fail(Self.mandatory("symbol")) }
            let open = openOrders(symbol).map(\.orderID)
            guard !open.isEmpty else { return fail(SimError(-2011, "Unknown order sent.", 400)) }
            var gone: [(SimOrder, String)] = []
            for oid in open {
                if case .success(let c) = cancelOrder(oid, newClientOrderID: nil, restrictions: nil) { gone.append(c) }
            }
            send(reply(s, id: id, result: { w in
                w.beginArray()
                for (o, _) in gone { self.writeOrder(&w, o, shape: .cancel) }
                w.endArray()
            }))
            for (o, _) in gone { reportCancel(o.orderID) }
        case "openOrders.status":
            if let e = checkSigned(p, session: s) { return fail(e) }
            let open = openOrders(p?["symbol"]?.string)
            send(reply(s, id: id, result: { w in
                w.beginArray()
                for o in open { self.writeOrder(&w, o, shape: .status) }
                w.endArray()
            }, sbe: { BinanceSBEAnswerEncoder.orders(open) }))
        case "order.status":
            if let e = checkSigned(p, session: s) { return fail(e) }
            guard let symbol = p?["symbol"]?.string else { return fail(Self.mandatory("symbol")) }
            let byId = p?["orderId"]?.int64, orig = p?["origClientOrderId"]?.string
            guard byId != nil || orig != nil else {
                return fail(SimError(-1102, "Param 'origClientOrderID' or 'orderID' must be sent, but both were empty/null!", 400))
            }
            // The newest order of that client id (Binance allows reusing an id once the order has ended).
            let found = ledger.values.filter { o in o.symbol == symbol && (byId.map { o.orderID == $0 } ?? (o.currentClientOrderId == orig)) }
                .max { $0.orderID < $1.orderID }
            guard let o = found else { return fail(SimError(-2013, "Order does not exist.", 400)) }
            send(reply(s, id: id, result: { w in w.beginObject(); self.writeOrderFields(&w, o, shape: .status); w.endObject() },
                       sbe: { BinanceSBEAnswerEncoder.order(o) }))
        case "account.status":
            if let e = checkSigned(p, session: s) { return fail(e) }
            let omitZero = p?["omitZeroBalances"]?.bool ?? false
            let balances = options.balances.filter { !omitZero || $0.value != .zero }.sorted { $0.key < $1.key }
            let rate = options.commissionRate
            let bps = Int64((rate * FixedDecimal(mantissa: 10_000, scale: 0)).description.split(separator: ".").first ?? "0") ?? 0
            object { w in
                w.key("makerCommission"); w.value(bps); w.key("takerCommission"); w.value(bps)
                w.key("buyerCommission"); w.value(0); w.key("sellerCommission"); w.value(0)
                w.key("canTrade"); w.value(true); w.key("canWithdraw"); w.value(true); w.key("canDeposit"); w.value(true)
                w.key("commissionRates"); w.beginObject(); w.key("maker"); w.quoted(rate); w.key("taker"); w.quoted(rate)
                w.key("buyer"); w.value("0.00000000"); w.key("seller"); w.value("0.00000000"); w.endObject()
                w.key("brokered"); w.value(false); w.key("requireSelfTradePrevention"); w.value(false); w.key("preventSor"); w.value(false)
                w.key("updateTime"); w.value(Self.nowMs()); w.key("accountType"); w.value("SPOT")
                w.key("balances"); w.beginArray()
                for (asset, free) in balances {
                    w.beginObject(); w.key("asset"); w.string(asset); w.key("free"); w.quoted(free); w.key("locked"); w.value("0.00000000"); w.endObject()
                }
                w.endArray()
                w.key("permissions"); w.beginArray(); w.value("SPOT"); w.endArray(); w.key("uid"); w.value(354_937_868)
            }
        case "account.rateLimits.orders":
            if let e = checkSigned(p, session: s) { return fail(e) }
            let counts = orderCounts()
            let per10s = options.ordersPer10s, perDay = options.ordersPerDay
            send(reply(s, id: id, result: { w in
                w.beginArray()
                if let per10s { Self.writeLimit(&w, "ORDERS", "SECOND", 10, per10s, counts.tenSeconds) }
                Self.writeLimit(&w, "ORDERS", "DAY", 1, perDay, counts.day)
                w.endArray()
            }))
        default:
            fail(SimError(-1020, "This operation is not supported.", 400))
        }
    }

    // MARK: orders

    struct NewOrder {
        var symbol: String, side: Side, sideText: String, type: String, tif: String?
        var qty: FixedDecimal?, quoteQty: FixedDecimal?, price: FixedDecimal?, stopPrice: FixedDecimal?
        var trailingDelta: Int64?, icebergQty: FixedDecimal?, strategyID: Int64?, strategyType: Int64?
        var stp: String, clientOrderID: String?
        var respType: Shape
    }

    /// The new-order parameters (`order.place`, and `order.cancelReplace`'s second leg), checked as the docs'
    /// mandatory-parameter table says.
    func parseOrder(_ p: JSONValue) -> Result<NewOrder, SimError> {
        guard let symbol = p["symbol"]?.string, symbol.count >= 5, symbol.allSatisfy({ $0.isUppercase || $0.isNumber }) else {
            return .failure(SimError(-1121, "Invalid symbol.", 400))
        }
        guard let sideText = p["side"]?.string, sideText == "BUY" || sideText == "SELL" else { return .failure(Self.mandatory("side")) }
        let types = ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS", "STOP_LOSS_LIMIT", "TAKE_PROFIT", "TAKE_PROFIT_LIMIT"]
        guard let type = p["type"]?.string, types.contains(type) else { return .failure(SimError(-1116, "Invalid orderType.", 400)) }
        let qty = p["quantity"]?.decimal, quoteQty = p["quoteOrderQty"]?.decimal, price = p["price"]?.decimal
        let stop = p["stopPrice"]?.decimal, trailing = p["trailingDelta"]?.int64, tif = p["timeInForce"]?.string
        let limitTypes = ["LIMIT", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"]
        if type == "MARKET" {
            guard (qty ?? quoteQty).map({ $0 > .zero }) == true else { return .failure(Self.mandatory("quantity")) }
        } else {
            guard let q = qty, q > .zero else { return .failure(Self.mandatory("quantity")) }
        }
        if type != "MARKET" && type != "STOP_LOSS" && type != "TAKE_PROFIT" && price == nil { return .failure(Self.mandatory("price")) }
        if limitTypes.contains(type) && tif == nil { return .failure(Self.mandatory("timeInForce")) }
        if let tif, !["GTC", "IOC", "FOK"].contains(tif) { return .failure(SimError(-1115, "Invalid timeInForce.", 400)) }
        if type.hasPrefix("STOP_LOSS") || type.hasPrefix("TAKE_PROFIT") {
            guard stop != nil || trailing != nil else { return .failure(Self.mandatory("stopPrice")) }
        }
        if let s = p["strategyType"]?.int64, s < 1_000_000 { return .failure(SimError(-1134, "strategyType was less than 1000000.", 400)) }
        let shape: Shape
        switch p["newOrderRespType"]?.string {
        case "ACK"?: shape = .ack
        case "RESULT"?: shape = .result
        case "FULL"?: shape = .full
        case nil: shape = type == "MARKET" || type == "LIMIT" ? .full : .ack
        default: return .failure(SimError(-1177, "Invalid newOrderRespType.", 400))
        }
        return .success(NewOrder(symbol: symbol, side: sideText == "BUY" ? .buy : .sell, sideText: sideText, type: type, tif: tif,
                                 qty: qty, quoteQty: quoteQty, price: price, stopPrice: stop, trailingDelta: trailing,
                                 icebergQty: p["icebergQty"]?.decimal, strategyID: p["strategyId"]?.int64,
                                 strategyType: p["strategyType"]?.int64, stp: p["selfTradePreventionMode"]?.string ?? "NONE",
                                 clientOrderID: p["newClientOrderId"]?.string, respType: shape))
    }

    /// The ORDERS window that is full, if one is: Binance's 429 -1015 and when to retry.
    func ordersLimitHit() -> (msg: String, retryAfter: Int64)? {
        let counts = orderCounts()
        let now = Self.nowMs()
        if let limit = options.ordersPer10s, counts.tenSeconds >= limit {
            return ("Too many new orders; current limit is \(limit) orders per 10 SECOND.", (now / 10_000 + 1) * 10_000)
        }
        if counts.day >= options.ordersPerDay {
            return ("Too many new orders; current limit is \(options.ordersPerDay) orders per 1 DAY.", (now / 86_400_000 + 1) * 86_400_000)
        }
        return nil
    }

    /// 429 with `retryAfter` in `error.data`, as the Rate limits section says rate-limited answers carry.
    func rateLimited(_ s: Session, id: JSONValue?, _ e: (msg: String, retryAfter: Int64)) -> [UInt8] {
        reply(s, id: id, error: SimError(-1015, e.msg, 429, retryAfterMs: e.retryAfter), data: { w in
            w.beginObject(); w.key("serverTime"); w.value(Self.nowMs()); w.key("retryAfter"); w.value(e.retryAfter); w.endObject()
        }, orders: true)
    }

    /// Place (the order counts in ORDERS once placed), match, rest or park. The reports follow the answer.
    func place(_ o: NewOrder, sessionID: Int) -> Result<(SimOrder, [OrderBook.Fill]), SimError> {
        let book = books[o.symbol] ?? OrderBook(symbol: o.symbol)
        books[o.symbol] = book
        if o.type == "LIMIT_MAKER", let px = o.price, book.wouldCross(side: o.side, price: px) {
            return .failure(SimError(-2010, "Order would immediately match and take.", 400))
        }
        nextOrderId += 1
        let now = Self.nowMs()
        var order = SimOrder(orderID: nextOrderId, session: sessionID, symbol: o.symbol, clientOrderID: o.clientOrderID ?? "sim\(nextOrderId)",
                             currentClientOrderId: o.clientOrderID ?? "sim\(nextOrderId)", side: o.side, type: o.type, timeInForce: o.tif,
                             quantity: o.qty ?? .zero, price: o.price, stopPrice: o.stopPrice, icebergQty: o.icebergQty,
                             trailingDelta: o.trailingDelta, strategyID: o.strategyID, strategyType: o.strategyType,
                             selfTradePreventionMode: o.stp, time: now, updateTime: now)
        _ = orderCounts()
        orders10s.count += 1                    // "Successfully placed orders update the ORDERS rate limit type."
        ordersDay.count += 1
        var fills: [OrderBook.Fill] = []
        if o.type.hasPrefix("STOP_LOSS") || o.type.hasPrefix("TAKE_PROFIT") {
            parked.insert(order.orderID)           // untriggered
        } else {
            let qty = o.qty ?? .zero
            (fills, _) = book.match(side: o.side, limit: o.type == "MARKET" ? nil : o.price, quantity: qty)
            let executed = fills.reduce(FixedDecimal.zero) { $0 + $1.quantity }
            order.executed = executed
            order.cumQuote = fills.reduce(FixedDecimal.zero) { $0 + $1.quantity * $1.price }
            let left = qty - executed
            order.status = left == .zero ? "FILLED" : executed > .zero ? "PARTIALLY_FILLED" : "NEW"
            if left > .zero && o.type != "MARKET" && o.tif != "IOC" && o.tif != "FOK" {
                book.rest(id: String(order.orderID), owner: sessionID, clOrdID: order.clientOrderID, userref: nil, side: o.side,
                          price: o.price!, quantity: qty, filled: executed)
                order.workingTime = now
            } else if left > .zero {
                order.status = "EXPIRED"
            }
        }
        ledger[order.orderID] = order
        return .success((order, fills))
    }

    /// NEW, then a TRADE per fill for the taker and each maker.
    func emitPlacementReports(_ orderID: Int64, fills: [OrderBook.Fill]) {
        guard let final = ledger[orderID] else { return }
        var o = final
        o.executed = .zero; o.cumQuote = .zero; o.status = "NEW"
        report(o, x: "NEW", last: nil)
        for f in fills {
            publishTrade(final.symbol, price: f.price, quantity: f.quantity, takerSide: final.side)
            o.executed = o.executed + f.quantity
            o.cumQuote = o.cumQuote + f.quantity * f.price
            o.status = o.executed == o.quantity ? "FILLED" : "PARTIALLY_FILLED"
            report(o, x: "TRADE", last: (f.quantity, f.price, false))
            firstFill(orderID)
            if let mid = Int64(f.makerID), var m = ledger[mid] {
                m.executed = m.executed + f.quantity
                m.cumQuote = m.cumQuote + f.quantity * f.price
                m.status = f.makerDone ? "FILLED" : "PARTIALLY_FILLED"
                m.updateTime = Self.nowMs()
                ledger[mid] = m
                report(m, x: "TRADE", last: (f.quantity, f.price, true))
                firstFill(mid)
            }
        }
        if final.status == "EXPIRED" { report(final, x: "EXPIRED", last: nil) }
    }

    /// "When an order is filled for the first time (partially or fully), your unfilled order count is decremented
    /// by one order for all intervals", never below zero.
    func firstFill(_ orderID: Int64) {
        guard var o = ledger[orderID], !o.filledOnce else { return }
        o.filledOnce = true
        ledger[orderID] = o
        _ = orderCounts()
        orders10s.count = max(0, orders10s.count - 1)
        ordersDay.count = max(0, ordersDay.count - 1)
    }

    func isOpen(_ o: SimOrder) -> Bool { parked.contains(o.orderID) || books[o.symbol]?.find(id: String(o.orderID)) != nil }

    func openOrders(_ symbol: String?) -> [SimOrder] {
        ledger.values.filter { (symbol == nil || $0.symbol == symbol) && isOpen($0) }.sorted { $0.orderID < $1.orderID }
    }

    /// Find the order a cancel/amend names (`<prefix>orderId` / `<prefix>origClientOrderId`; both must agree).
    func lookUp(_ p: JSONValue, orderIdKey: StaticString, clientKey: StaticString) -> Result<SimOrder, SimError> {
        guard let symbol = p["symbol"]?.string else { return .failure(Self.mandatory("symbol")) }
        let byId = p[orderIdKey]?.int64, byClient = p[clientKey]?.string
        guard byId != nil || byClient != nil else {
            return .failure(SimError(-1102, "Param 'origClientOrderID' or 'orderID' must be sent, but both were empty/null!", 400))
        }
        let found = ledger.values.filter { o in
            o.symbol == symbol && isOpen(o) && (byId.map { o.orderID == $0 } ?? true) && (byClient.map { o.currentClientOrderId == $0 } ?? true)
        }.first
        guard let o = found else { return .failure(SimError(-2011, "Unknown order sent.", 400)) }
        return .success(o)
    }

    /// Cancel an open order: its client id becomes the cancel's (`newClientOrderId`, or one made up).
    func cancelOrder(_ oid: Int64, newClientOrderID: String?, restrictions: String?) -> Result<(SimOrder, String), SimError> {
        guard var o = ledger[oid], isOpen(o) else { return .failure(SimError(-2011, "Unknown order sent.", 400)) }
        if let r = restrictions {
            guard r == "ONLY_NEW" || r == "ONLY_PARTIALLY_FILLED" else { return .failure(SimError(-1145, "Invalid cancelRestrictions", 400)) }
            if (r == "ONLY_NEW") != (o.status == "NEW") { return .failure(SimError(-2011, "Order was not canceled due to cancel restrictions.", 400)) }
        }
        _ = books[o.symbol]?.remove(id: String(oid))
        parked.remove(oid)
        nextExecutionId += 1
        let cancelID = newClientOrderID ?? "simcxl\(nextExecutionId)"
        o.status = "CANCELED"
        o.previousClientOrderId = o.currentClientOrderId
        o.currentClientOrderId = cancelID
        o.updateTime = Self.nowMs()
        ledger[oid] = o
        return .success((o, cancelID))
    }

    func cancel(_ p: JSONValue, prefix: String) -> Result<(SimOrder, String), SimError> {
        let found = prefix.isEmpty ? lookUp(p, orderIdKey: "orderId", clientKey: "origClientOrderId")
                                   : lookUp(p, orderIdKey: "cancelOrderId", clientKey: "cancelOrigClientOrderId")
        switch found {
        case .failure(let e): return .failure(e)
        case .success(let o):
            let newID = (prefix.isEmpty ? p["newClientOrderId"] : p["cancelNewClientOrderId"])?.string
            return cancelOrder(o.orderID, newClientOrderID: newID, restrictions: p["cancelRestrictions"]?.string)
        }
    }

    /// order.cancelReplace: not atomic. 200 when both legs succeed, 409 -2021 when one fails, 400 -2022 when both do
    /// or the new order is not attempted; with the ORDERS window full, 429 -1015 (DO_NOTHING) or the cancel alone and
    /// 409 (CANCEL_ONLY).
    func cancelReplace(_ p: JSONValue, session s: Session, sessionID: Int, id: JSONValue?) {
        func send(_ frame: [UInt8]) { s.answer(frame) }
        guard let mode = p["cancelReplaceMode"]?.string, mode == "STOP_ON_FAILURE" || mode == "ALLOW_FAILURE" else {
            return send(reply(s, id: id, error: Self.mandatory("cancelReplaceMode")))
        }
        let newOrder: NewOrder
        switch parseOrder(p) {
        case .failure(let e): return send(reply(s, id: id, error: e))
        case .success(let o): newOrder = o
        }
        let limitHit = ordersLimitHit()
        if let hit = limitHit, p["orderRateLimitExceededMode"]?.string != "CANCEL_ONLY" { return send(rateLimited(s, id: id, hit)) }
        let cancelled = cancel(p, prefix: "cancel")
        var placed: Result<(SimOrder, [OrderBook.Fill]), SimError>? = nil
        if let hit = limitHit {
            placed = .failure(SimError(-1015, hit.msg, 429))
        } else if case .success = cancelled {
            placed = place(newOrder, sessionID: sessionID)
        } else if mode == "ALLOW_FAILURE" {
            placed = place(newOrder, sessionID: sessionID)
        } else {
            _ = orderCounts()
            orders10s.count += 1; ordersDay.count += 1    // counts "even if the new order was not attempted"
        }
        let cancelOK: Bool = { if case .success = cancelled { return true } else { return false } }()
        let placedOK: Bool = { if case .success? = placed { return true } else { return false } }()
        func legs(_ w: inout JSONWriter) {
            w.beginObject()
            w.key("cancelResult"); w.value(cancelOK ? "SUCCESS" : "FAILURE")
            w.key("newOrderResult"); w.string(placed == nil ? "NOT_ATTEMPTED" : placedOK ? "SUCCESS" : "FAILURE")
            w.key("cancelResponse")
            switch cancelled {
            case .success(let (o, _)): writeOrder(&w, o, shape: .cancel)
            case .failure(let e): w.beginObject(); w.key("code"); w.value(e.code); w.key("msg"); w.string(e.msg); w.endObject()
            }
            w.key("newOrderResponse")
            switch placed {
            case .success(let (o, fills))?: writeOrder(&w, o, shape: newOrder.respType, fills: fills)
            case .failure(let e)?: w.beginObject(); w.key("code"); w.value(e.code); w.key("msg"); w.string(e.msg); w.endObject()
            case nil: w.null()
            }
            w.endObject()
        }
        func sbeLegs() -> [UInt8] {
            typealias E = BinanceSBEAnswerEncoder
            func failed(_ e: SimError) -> [UInt8] { E.error(code: e.code, message: e.msg, serverTimeUs: nil, retryAfterUs: nil) }
            let cancelMessage: [UInt8]
            switch cancelled {
            case .success(let (o, _)): cancelMessage = sbeOrder(o, shape: .cancel)
            case .failure(let e): cancelMessage = failed(e)
            }
            let newMessage: [UInt8]
            switch placed {
            case .success(let (o, fills))?: newMessage = sbeOrder(o, shape: newOrder.respType, fills: fills)
            case .failure(let e)?: newMessage = failed(e)
            case nil: newMessage = []
            }
            return E.cancelReplace(cancel: cancelOK ? 0 : 1, newOrder: placed == nil ? 2 : placedOK ? 0 : 1,
                                   cancelResponse: cancelMessage, newOrderResponse: newMessage)
        }
        if cancelOK && placedOK {
            send(reply(s, id: id, result: { legs(&$0) }, orders: true, sbe: sbeLegs))
        } else if cancelOK || placedOK {
            send(reply(s, id: id, error: SimError(-2021, "Order cancel-replace partially failed.", 409), data: { legs(&$0) }, orders: true,
                       sbe: sbeLegs))
        } else {
            send(reply(s, id: id, error: SimError(-2022, "Order cancel-replace failed.", 400), data: { legs(&$0) }, orders: true, sbe: sbeLegs))
        }
        if case .success(let (o, _)) = cancelled { reportCancel(o.orderID) }
        if case .success(let (o, fills))? = placed { emitPlacementReports(o.orderID, fills: fills) }
    }

    /// order.amend.keepPriority: a smaller quantity, same place in the queue; a REPLACED report.
    func amend(_ p: JSONValue, session s: Session, id: JSONValue?) {
        func fail(_ e: SimError) { s.answer(reply(s, id: id, error: e)) }
        guard let newQty = p["newQty"]?.decimal, newQty > .zero else { return fail(Self.mandatory("newQty")) }
        let found = lookUp(p, orderIdKey: "orderId", clientKey: "origClientOrderId")
        guard case .success(var o) = found else { if case .failure(let e) = found { fail(e) }; return }
        guard newQty < o.quantity else { return fail(SimError(-2038, "Order amend (quantity increase) is not supported.", 400)) }
        guard !parked.contains(o.orderID), let rest = books[o.symbol]?.amend(id: String(o.orderID), quantity: newQty, price: nil) else {
            return fail(SimError(-2011, "Unknown order sent.", 400))
        }
        let before = o.currentClientOrderId
        nextExecutionId += 1
        o.quantity = newQty
        o.previousClientOrderId = before
        o.currentClientOrderId = p["newClientOrderId"]?.string ?? "simamd\(nextExecutionId)"
        o.updateTime = Self.nowMs()
        if rest.remaining <= .zero { o.status = "FILLED" }
        ledger[o.orderID] = o
        let exec = nextExecutionId, amended = o
        s.answer(reply(s, id: id, result: { w in
            w.beginObject(); w.key("transactTime"); w.value(Self.nowMs()); w.key("executionId"); w.value(exec)
            w.key("amendedOrder"); w.beginObject()
            w.key("symbol"); w.string(amended.symbol); w.key("orderId"); w.value(amended.orderID); w.key("orderListId"); w.value(-1)
            w.key("origClientOrderId"); w.string(before); w.key("clientOrderId"); w.string(amended.currentClientOrderId)
            w.key("price"); w.quoted(amended.price ?? .zero); w.key("qty"); w.quoted(amended.quantity)
            w.key("executedQty"); w.quoted(amended.executed); w.key("preventedQty"); w.value("0.00000000")
            w.key("quoteOrderQty"); w.value("0.00000000"); w.key("cumulativeQuoteQty"); w.quoted(amended.cumQuote)
            w.key("status"); w.string(amended.status); w.key("timeInForce"); w.string(amended.timeInForce ?? "GTC")
            w.key("type"); w.string(amended.type); w.key("side"); w.value(amended.side == .buy ? "BUY" : "SELL")
            w.key("workingTime"); w.value(amended.workingTime); w.key("selfTradePreventionMode"); w.string(amended.selfTradePreventionMode)
            w.endObject(); w.endObject()
        }))
        report(o, x: "REPLACED", last: nil, originalClientOrderID: before)
    }

    // MARK: order shapes

    enum Shape { case ack, result, full, cancel, status }

    /// An order as the answers show it, by response type.
    func writeOrder(_ w: inout JSONWriter, _ o: SimOrder, shape: Shape, fills: [OrderBook.Fill] = []) {
        w.beginObject()
        writeOrderFields(&w, o, shape: shape, fills: fills)
        w.endObject()
    }

    func writeOrderFields(_ w: inout JSONWriter, _ o: SimOrder, shape: Shape, fills: [OrderBook.Fill] = []) {
        w.key("symbol"); w.string(o.symbol)
        if shape == .cancel { w.key("origClientOrderId"); w.string(o.previousClientOrderId ?? o.clientOrderID) }
        w.key("orderId"); w.value(o.orderID); w.key("orderListId"); w.value(-1)
        w.key("clientOrderId"); w.string(o.currentClientOrderId)
        if shape != .status { w.key("transactTime"); w.value(o.updateTime) }
        if shape == .ack { return }
        w.key("price"); w.quoted(o.price ?? .zero); w.key("origQty"); w.quoted(o.quantity); w.key("executedQty"); w.quoted(o.executed)
        w.key("origQuoteOrderQty"); w.value("0.00000000"); w.key("cummulativeQuoteQty"); w.quoted(o.cumQuote)
        w.key("status"); w.string(o.status); w.key("timeInForce"); w.string(o.timeInForce ?? "GTC")
        w.key("type"); w.string(o.type); w.key("side"); w.value(o.side == .buy ? "BUY" : "SELL")
        if let s = o.stopPrice { w.key("stopPrice"); w.quoted(s) } else if shape == .status { w.key("stopPrice"); w.value("0.00000000") }
        if let d = o.trailingDelta { w.key("trailingDelta"); w.value(d) }
        if let i = o.icebergQty { w.key("icebergQty"); w.quoted(i) } else if shape == .status { w.key("icebergQty"); w.value("0.00000000") }
        if let s = o.strategyID { w.key("strategyId"); w.value(s) }
        if let s = o.strategyType { w.key("strategyType"); w.value(s) }
        if shape == .status {
            w.key("time"); w.value(o.time); w.key("updateTime"); w.value(o.updateTime); w.key("isWorking"); w.value(o.workingTime >= 0)
        }
        if o.workingTime >= 0 && shape != .cancel { w.key("workingTime"); w.value(o.workingTime) }
        w.key("selfTradePreventionMode"); w.string(o.selfTradePreventionMode)
        if shape == .full {
            w.key("fills"); w.beginArray()
            for f in fills {
                let (commission, asset) = self.commission(o, qty: f.quantity, price: f.price)
                w.beginObject(); w.key("price"); w.quoted(f.price); w.key("qty"); w.quoted(f.quantity)
                w.key("commission"); w.quoted(commission); w.key("commissionAsset"); w.string(asset)
                nextTradeId += 1
                w.key("tradeId"); w.value(nextTradeId); w.endObject()
            }
            w.endArray()
        }
    }

    static let quoteAssets = ["USDT", "USDC", "FDUSD", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY"]

    /// Buyers pay commission in the base asset they receive, sellers in the quote asset.
    func commission(_ o: SimOrder, qty: FixedDecimal, price: FixedDecimal) -> (FixedDecimal, String) {
        let quote = Self.quoteAssets.first { o.symbol.hasSuffix($0) && o.symbol.count > $0.count } ?? String(o.symbol.suffix(3))
        let base = String(o.symbol.dropLast(quote.count))
        return o.side == .buy ? (qty * options.commissionRate, base) : (qty * price * options.commissionRate, quote)
    }

    // MARK: user data stream

    static func streamTerminated(_ sub: Int64) -> [UInt8] {
        simJSON { w in
            w.beginObject(); w.key("subscriptionId"); w.value(sub)
            w.key("event"); w.beginObject(); w.key("e"); w.value("eventStreamTerminated"); w.key("E"); w.value(nowMs()); w.endObject()
            w.endObject()
        }
    }

    /// Revoke every logged-on session, as Binance does when the API key stops being valid for it: on each session's
    /// next request it is logged out and gets `{"id":null,"status":401,"error":{"code":-2015,…}}`. Loop thread.
    public func revokeSessions() {
        for s in sessions.values where s.loggedOn { s.revokePending = true }
    }

    func revoke(_ s: Session) {
        s.loggedOn = false
        s.revokePending = false
        if s.sbe { return s.answer(reply(s, id: nil, error: SimError(-2015, "Invalid API-key, IP, or permissions for action.", 401))) }
        s.conn?.sendAll([simJSON { w in
            w.beginObject(); w.key("id"); w.null(); w.key("status"); w.value(401)
            w.key("error"); w.beginObject(); w.key("code"); w.value(-2015); w.key("msg"); w.value("Invalid API-key, IP, or permissions for action.")
            w.endObject(); w.endObject()
        }])
    }

    /// Tell every session the server is going down (`serverShutdown`), as Binance does before it drops them. Loop thread.
    public func announceShutdown() {
        let now = Self.nowMs()
        for s in sessions.values {
            s.answer(s.sbe ? BinanceSBEAnswerEncoder.serverShutdown(eventTimeUs: now * 1000) : Array(#"{"event":{"e":"serverShutdown","E":\#(now)}}"#.utf8))
        }
    }

    /// The cancel's report: `c` is the cancel's own client id, `C` the cancelled order's.
    func reportCancel(_ orderID: Int64) {
        guard let o = ledger[orderID] else { return }
        report(o, x: "CANCELED", last: nil, originalClientOrderID: o.previousClientOrderId)
    }

    /// An executionReport to the account's user data streams (every connection of the one API key that subscribed:
    /// the stream is the account's, not the connection's), with the fields of the docs' Order Update.
    func report(_ o: SimOrder, x: String, last: (qty: FixedDecimal, price: FixedDecimal, maker: Bool)?, originalClientOrderID: String? = nil) {
        let streams = sessions.values.filter(\.userStream)
        guard !streams.isEmpty else { return }
        nextExecutionId += 1
        let exec = nextExecutionId
        let trade: Int64? = last == nil ? nil : { nextTradeId += 1; return nextTradeId }()
        let fee = last.map { commission(o, qty: $0.qty, price: $0.price) }
        let now = Self.nowMs()
        let c = o.currentClientOrderId
        for s in streams {
            if s.sbe {
                s.answer(sbeExecutionReport(o, x: x, last: last, originalClientOrderID: originalClientOrderID, fee: fee, trade: trade,
                                            execution: exec, nowMs: now, subscriptionID: s.subscriptions[0]))
                continue
            }
            let frame = simJSON { w in
                w.beginObject(); w.key("subscriptionId"); w.value(s.subscriptions[0]); w.key("event"); w.beginObject()
                w.key("e"); w.value("executionReport"); w.key("E"); w.value(now); w.key("s"); w.string(o.symbol)
                w.key("c"); w.string(c); w.key("S"); w.value(o.side == .buy ? "BUY" : "SELL"); w.key("o"); w.string(o.type)
                w.key("f"); w.string(o.timeInForce ?? "GTC"); w.key("q"); w.quoted(o.quantity); w.key("p"); w.quoted(o.price ?? .zero)
                w.key("P"); w.quoted(o.stopPrice ?? .zero); w.key("F"); w.quoted(o.icebergQty ?? .zero); w.key("g"); w.value(-1)
                w.key("C"); w.string(originalClientOrderID ?? "")
                w.key("x"); w.string(x); w.key("X"); w.string(o.status); w.key("r"); w.value("NONE"); w.key("i"); w.value(o.orderID)
                w.key("l"); w.quoted(last?.qty ?? .zero); w.key("z"); w.quoted(o.executed); w.key("L"); w.quoted(last?.price ?? .zero)
                w.key("n"); if let fee { w.quoted(fee.0) } else { w.value("0") }
                w.key("N"); if let fee { w.string(fee.1) } else { w.null() }
                w.key("T"); w.value(now); w.key("t"); w.value(trade ?? -1); w.key("I"); w.value(exec)
                w.key("w"); w.value(isOpen(o)); w.key("m"); w.value(last?.maker ?? false); w.key("M"); w.value(false)
                w.key("O"); w.value(o.time); w.key("Z"); w.quoted(o.cumQuote)
                w.key("Y"); w.quoted(last.map { $0.qty * $0.price } ?? .zero); w.key("Q"); w.value("0.00000000")
                if o.workingTime >= 0 { w.key("W"); w.value(o.workingTime) }
                w.key("V"); w.string(o.selfTradePreventionMode)
                w.endObject(); w.endObject()
            }
            s.conn?.sendAll([frame])
        }
    }
}
