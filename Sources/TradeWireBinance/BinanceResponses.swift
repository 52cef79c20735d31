import TradeWire

/// A Binance response: `{id, status, result | error, rateLimits?}` (WS API › Response format).
public struct BinanceResponse: Sendable, Equatable {
    /// The request's id as sent (`""` when the venue sent `null`: not an answer to any request).
    public let id: String
    /// HTTP-like: 200, 400, 401, 403, 409 (partial success), 418 (IP ban), 429 (rate limited), 5xx (unknown outcome).
    public let status: Int
    /// A success's `result` as the venue sent it: JSON text, or on a connection answered in SBE the nested result
    /// message, header included (see `resultFormat`). Typed: `orderReport()`, `cancelReplace()`, `accountStatus()`, ….
    /// Kept without an allocation per answer (`RecycledBytes`).
    public let result: RecycledBytes?
    /// How `result` (and `errorDataSBE`) are encoded: the connection's response format.
    public let resultFormat: BinanceClient.Configuration.ResponseFormat
    public let orderID: Int64?
    /// The order's client id; on a cancel, the cancel's own (`newClientOrderId`).
    public let clientOrderID: String?
    /// On a cancel, the client id of the order that was cancelled.
    public let origClientOrderID: String?
    public let orderStatus: String?
    public let executedQty: FixedDecimal?
    public let subscriptionID: Int64?
    /// `error` for a failure.
    public let errorCode: Int?
    public let errorMessage: String?
    /// `error.data` as raw JSON (per-leg results of a failed `order.cancelReplace`; `retryAfter` of a 418/429).
    public let errorDataJSON: String?
    /// `error.data.retryAfter`: epoch ms when the request may be retried (the end of a ban for a 418).
    public let retryAfterMs: Int64?
    /// `error.data.serverTime`: the venue's clock when it answered (epoch ms).
    public let serverTimeMs: Int64?
    /// Every limit the request counted against: "TYPE/INTERVAL/NUM" (e.g. "ORDERS/SECOND/10"), count, limit.
    public let rateLimits: RateLimitUsage
    /// On a connection answered in SBE: an error's nested `data` message (a failed `order.cancelReplace`'s legs).
    public let errorDataSBE: [UInt8]?

    init(id: String, status: Int, result: RecycledBytes?, resultFormat: BinanceClient.Configuration.ResponseFormat,
         orderID: Int64? = nil, clientOrderID: String? = nil, origClientOrderID: String? = nil, orderStatus: String? = nil,
         executedQty: FixedDecimal? = nil, subscriptionID: Int64? = nil, errorCode: Int? = nil, errorMessage: String? = nil,
         errorDataJSON: String? = nil, retryAfterMs: Int64? = nil, serverTimeMs: Int64? = nil, rateLimits: RateLimitUsage,
         errorDataSBE: [UInt8]? = nil) {
        self.id = id
        self.status = status
        self.result = result
        self.resultFormat = resultFormat
        self.orderID = orderID
        self.clientOrderID = clientOrderID
        self.origClientOrderID = origClientOrderID
        self.orderStatus = orderStatus
        self.executedQty = executedQty
        self.subscriptionID = subscriptionID
        self.errorCode = errorCode
        self.errorMessage = errorMessage
        self.errorDataJSON = errorDataJSON
        self.retryAfterMs = retryAfterMs
        self.serverTimeMs = serverTimeMs
        self.rateLimits = rateLimits
        self.errorDataSBE = errorDataSBE
    }

    /// `result` as JSON text (a copy; nil on an SBE connection or without a result).
    public var resultJSON: String? { resultFormat == .json ? result?.text : nil }
    /// `result` as an SBE message (a copy; nil on a JSON connection or without a result).
    public var resultSBE: [UInt8]? { resultFormat == .sbe ? result?.array : nil }

    public static func == (a: BinanceResponse, b: BinanceResponse) -> Bool {
        a.id == b.id && a.status == b.status && a.result == b.result && a.resultFormat == b.resultFormat && a.orderID == b.orderID
            && a.clientOrderID == b.clientOrderID && a.origClientOrderID == b.origClientOrderID && a.orderStatus == b.orderStatus
            && a.executedQty == b.executedQty && a.subscriptionID == b.subscriptionID && a.errorCode == b.errorCode
            && a.errorMessage == b.errorMessage && a.errorDataJSON == b.errorDataJSON && a.retryAfterMs == b.retryAfterMs
            && a.serverTimeMs == b.serverTimeMs && a.errorDataSBE == b.errorDataSBE && a.rateLimits == b.rateLimits
    }

    /// Did `rateLimits` report the ORDERS windows (so the venue's count already includes this order)?
    var reportsOrderCount: Bool {
        for i in rateLimits.indices where rateLimits[i].interval.hasPrefix("ORDERS/") { return true }
        return false
    }

    /// The orders of an `openOrders.status` result: (clientOrderID, orderID, status).
    public var openOrders: [(clientOrderID: String, orderID: String, status: String)] {
        (try? openOrderReports().map { ($0.clientOrderID, String($0.orderID), $0.status?.rawValue ?? "NEW") }) ?? []
    }

    // MARK: typed results

    /// A JSON result read in place.
    static func parse<T>(_ bytes: RecycledBytes?, _ what: StaticString, _ body: (JSONValue) throws(TradeWireError) -> T) throws(TradeWireError) -> T {
        guard let bytes else { throw BinanceDecoder.malformed(what) }
        return try bytes.withUnsafeBytes { (b) throws(TradeWireError) -> T in
            let doc: JSONDocument
            do { doc = try JSONDocument(validating: b) } catch { throw BinanceDecoder.malformed(what) }
            return try body(doc.root)
        }
    }

    /// `result` when it is JSON text.
    var jsonResult: RecycledBytes? { resultFormat == .json ? result : nil }
    /// `result` when it is an SBE message.
    var sbeResult: RecycledBytes? { resultFormat == .sbe ? result : nil }

    /// The order of an `order.place` (ACK/RESULT/FULL), `order.cancel` or `order.status` answer.
    public func orderReport() throws(TradeWireError) -> BinanceOrderReport {
        if let sbe = sbeResult { return try sbe.withUnsafeBytes(BinanceSBEAnswers.orderReport) }
        return try Self.parse(jsonResult, "result is not an order") { v throws(TradeWireError) in try BinanceOrderReport.decode(v) }
    }

    /// An `order.cancel` answer: one order, or a whole order list when the order was part of one.
    public func cancelResult() throws(TradeWireError) -> BinanceCancelResult {
        if let sbe = sbeResult { return .order(try sbe.withUnsafeBytes(BinanceSBEAnswers.orderReport)) }
        return try Self.parse(jsonResult, "result is not a cancel") { v throws(TradeWireError) in try BinanceCancelResult.decode(v) }
    }

    /// The orders of an `openOrders.status` answer.
    public func openOrderReports() throws(TradeWireError) -> [BinanceOrderReport] {
        if let sbe = sbeResult { return try sbe.withUnsafeBytes(BinanceSBEAnswers.orderReports) }
        return try Self.parse(jsonResult, "result is not an order array") { v throws(TradeWireError) in
            guard v.kind == .array else { throw BinanceDecoder.malformed("result is not an order array") }
            var out: [BinanceOrderReport] = []
            var failure: TradeWireError?
            v.forEachElement { e in
                do throws(TradeWireError) { out.append(try BinanceOrderReport.decode(e)) } catch { failure = error; return false }
                return true
            }
            if let failure { throw failure }
            return out
        }
    }

    /// An `openOrders.cancelAll` answer: each cancelled order, and each order list with its orders.
    public func cancelAllResults() throws(TradeWireError) -> [BinanceCancelResult] {
        try Self.parse(jsonResult, "result is not an array") { v throws(TradeWireError) in
            guard v.kind == .array else { throw BinanceDecoder.malformed("result is not an array") }
            var out: [BinanceCancelResult] = []
            var failure: TradeWireError?
            v.forEachElement { e in
                do throws(TradeWireError) { out.append(try BinanceCancelResult.decode(e)) } catch { failure = error; return false }
                return true
            }
            if let failure { throw failure }
            return out
        }
    }

    /// An `order.cancelReplace` answer, from `result` (200) or from `error.data` (400 -2022, 409 -2021).
    public func cancelReplace() throws(TradeWireError) -> BinanceCancelReplaceResult {
        if resultFormat == .sbe {
            guard let sbe = status == 200 ? result : errorDataSBE.map(RecycledBytes.init) else {
                throw BinanceDecoder.malformed("no cancelReplace result")
            }
            return try sbe.withUnsafeBytes(BinanceSBEAnswers.cancelReplace)
        }
        return try Self.parse(status == 200 ? jsonResult : errorDataJSON.map { RecycledBytes(Array($0.utf8)) }, "no cancelReplace result") { v throws(TradeWireError) in
            try BinanceCancelReplaceResult.decode(v)
        }
    }

    /// An `order.amend.keepPriority` answer.
    public func amendResult() throws(TradeWireError) -> BinanceAmendResult {
        try Self.parse(jsonResult, "result is not an amend") { v throws(TradeWireError) in try BinanceAmendResult.decode(v) }
    }

    /// An `account.status` answer.
    public func accountStatus() throws(TradeWireError) -> BinanceAccountStatus {
        try Self.parse(jsonResult, "result is not an account") { v throws(TradeWireError) in try BinanceAccountStatus.decode(v) }
    }

    /// An `account.rateLimits.orders` answer: the unfilled order count of each ORDERS window.
    public func orderRateLimits() throws(TradeWireError) -> [BinanceRateLimit] {
        try Self.parse(jsonResult, "result is not a rate limit array") { v throws(TradeWireError) in
            guard v.kind == .array else { throw BinanceDecoder.malformed("result is not a rate limit array") }
            var out: [BinanceRateLimit] = []
            var failure: TradeWireError?
            v.forEachElement { e in
                guard let l = BinanceRateLimit.decode(e) else { failure = BinanceDecoder.malformed("rate limit without type/interval/count"); return false }
                out.append(l)
                return true
            }
            if let failure { throw failure }
            return out
        }
    }
}

/// One `rateLimits` entry: `{rateLimitType, interval, intervalNum, limit, count}`.
public struct BinanceRateLimit: Sendable, Hashable {
    /// REQUEST_WEIGHT, ORDERS (RAW_REQUESTS and CONNECTIONS appear elsewhere in the docs): kept as sent.
    public let rateLimitType: String
    /// SECOND, MINUTE, HOUR, DAY: kept as sent.
    public let interval: String
    public let intervalNum: Int
    public let limit: Int
    public let count: Int

    /// "TYPE/INTERVAL/NUM", the key `BinanceRateLimits` keeps windows by.
    public var key: String { "\(rateLimitType)/\(interval)/\(intervalNum)" }

    static let keys = JSONKeySet(["rateLimitType", "interval", "intervalNum", "limit", "count"])

    /// One pass over an entry's members.
    static func members(_ l: JSONValue) -> (type: JSONValue, interval: JSONValue, num: Int64, limit: Int64, count: Int64)? {
        guard l.kind == .object else { return nil }
        var t: JSONValue?, i: JSONValue?, n: Int64?, lim: Int64?, c: Int64?
        l.forEachMember(in: keys) { k, v in
            switch k {
            case 0: t = v
            case 1: i = v
            case 2: n = v.int64
            case 3: lim = v.int64
            default: c = v.int64
            }
        }
        guard let t, let i, let n, let lim, let c else { return nil }
        return (t, i, n, lim, c)
    }

    static func decode(_ l: JSONValue) -> BinanceRateLimit? {
        guard let m = members(l), let t = m.type.string, let i = m.interval.string else { return nil }
        return BinanceRateLimit(rateLimitType: t, interval: i, intervalNum: Int(m.num), limit: Int(m.limit), count: Int(m.count))
    }

    /// The windows every answer on the order path reports, in `RateLimitUsage.knownWindows`' order.
    private static let documentedWindows: [(type: StaticString, interval: StaticString, num: Int64)] = [
        ("REQUEST_WEIGHT", "MINUTE", 1), ("ORDERS", "SECOND", 10), ("ORDERS", "DAY", 1), ("RAW_REQUESTS", "MINUTE", 5),
    ]

    /// An entry from the texts as sent (unescaped) into `usage`: a documented window by its index, another by its
    /// "TYPE/INTERVAL/NUM".
    static func append(to usage: inout RateLimitUsage, type: UnsafeRawBufferPointer, interval: UnsafeRawBufferPointer, num: Int64,
                       count: Int, limit: Int) {
        func same(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
            guard b.count == s.utf8CodeUnitCount else { return false }
            for i in 0..<b.count where b[i] != s.utf8Start[i] { return false }
            return true
        }
        for i in documentedWindows.indices {     // indexed: no generic iterator on the answer path
            let w = documentedWindows[i]
            if num == w.num && same(type, w.type) && same(interval, w.interval) {
                return usage.append(knownWindow: i, count: count, limit: limit)
            }
        }
        usage.append(("\(String(decoding: type, as: UTF8.self))/\(String(decoding: interval, as: UTF8.self))/\(num)", count, limit))
    }

    /// An entry into `usage` as `BinanceResponse.rateLimits` keeps it.
    static func append(to usage: inout RateLimitUsage, _ l: JSONValue) {
        guard let m = members(l), var t = m.type.string, var i = m.interval.string else { return }
        t.withUTF8 { tb in
            i.withUTF8 { ib in
                append(to: &usage, type: UnsafeRawBufferPointer(tb), interval: UnsafeRawBufferPointer(ib), num: m.num,
                       count: Int(m.count), limit: Int(m.limit))
            }
        }
    }
}

/// `account.status` (Account requests › Account information).
public struct BinanceAccountStatus: Sendable {
    public struct Balance: Sendable, Hashable {
        public let asset: String
        public let free: FixedDecimal
        public let locked: FixedDecimal
    }
    public struct CommissionRates: Sendable, Hashable {
        public let maker: FixedDecimal, taker: FixedDecimal, buyer: FixedDecimal, seller: FixedDecimal
    }
    public let makerCommission: Int64, takerCommission: Int64, buyerCommission: Int64, sellerCommission: Int64
    public let canTrade: Bool, canWithdraw: Bool, canDeposit: Bool
    public let commissionRates: CommissionRates?
    public let brokered: Bool?
    public let requireSelfTradePrevention: Bool?
    public let preventSor: Bool?
    public let updateTime: Int64
    public let accountType: String
    public let balances: [Balance]
    public let permissions: [String]
    public let uid: Int64?

    static func decode(_ v: JSONValue) throws(TradeWireError) -> BinanceAccountStatus {
        guard v.kind == .object, let mc = v["makerCommission"]?.int64, let tc = v["takerCommission"]?.int64,
              let canTrade = v["canTrade"]?.bool, let canWithdraw = v["canWithdraw"]?.bool, let canDeposit = v["canDeposit"]?.bool,
              let updateTime = v["updateTime"]?.int64, let accountType = v["accountType"]?.string, let b = v["balances"], b.kind == .array else {
            throw BinanceDecoder.malformed("account.status without commissions/flags/balances")
        }
        var balances: [Balance] = []
        var bad = false
        b.forEachElement { e in
            guard let a = e["asset"]?.string, let f = e["free"]?.decimal, let l = e["locked"]?.decimal else { bad = true; return false }
            balances.append(Balance(asset: a, free: f, locked: l))
            return true
        }
        if bad { throw BinanceDecoder.malformed("a balance without asset/free/locked") }
        var permissions: [String] = []
        v["permissions"]?.forEachElement { e in if let s = e.string { permissions.append(s) }; return true }
        var rates: CommissionRates? = nil
        if let r = v["commissionRates"], let m = r["maker"]?.decimal, let t = r["taker"]?.decimal, let by = r["buyer"]?.decimal,
           let s = r["seller"]?.decimal { rates = CommissionRates(maker: m, taker: t, buyer: by, seller: s) }
        return BinanceAccountStatus(
            makerCommission: mc, takerCommission: tc, buyerCommission: v["buyerCommission"]?.int64 ?? 0,
            sellerCommission: v["sellerCommission"]?.int64 ?? 0, canTrade: canTrade, canWithdraw: canWithdraw, canDeposit: canDeposit,
            commissionRates: rates, brokered: v["brokered"]?.bool, requireSelfTradePrevention: v["requireSelfTradePrevention"]?.bool,
            preventSor: v["preventSor"]?.bool, updateTime: updateTime, accountType: accountType, balances: balances,
            permissions: permissions, uid: v["uid"]?.int64)
    }
}
