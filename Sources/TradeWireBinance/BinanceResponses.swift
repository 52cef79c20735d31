import TradeWire

/// A Binance response: `{id, status, result | error, rateLimits?}` (WS API › Response format).
public struct BinanceResponse: Sendable, Equatable {
    /// The request's id as sent (`""` when the venue sent `null`: not an answer to any request).
    public let id: String
    /// HTTP-like: 200, 400, 401, 403, 409 (partial success), 418 (IP ban), 429 (rate limited), 5xx (unknown outcome).
    public let status: Int
    /// `result` for a success (raw JSON text); typed: `orderReport()`, `cancelReplace()`, `accountStatus()`, ….
    public let resultJSON: String?
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
    public let rateLimits: [(interval: String, count: Int, limit: Int)]
    /// On a connection answered in SBE: the success's `result` message, header included (`resultJSON` is nil);
    /// the typed accessors read it.
    public let resultSBE: [UInt8]?
    /// On a connection answered in SBE: an error's nested `data` message (a failed `order.cancelReplace`'s legs).
    public let errorDataSBE: [UInt8]?

    public static func == (a: BinanceResponse, b: BinanceResponse) -> Bool {
        a.id == b.id && a.status == b.status && a.resultJSON == b.resultJSON && a.orderID == b.orderID
            && a.clientOrderID == b.clientOrderID && a.origClientOrderID == b.origClientOrderID && a.orderStatus == b.orderStatus
            && a.executedQty == b.executedQty && a.subscriptionID == b.subscriptionID && a.errorCode == b.errorCode
            && a.errorMessage == b.errorMessage && a.errorDataJSON == b.errorDataJSON && a.retryAfterMs == b.retryAfterMs
            && a.serverTimeMs == b.serverTimeMs && a.resultSBE == b.resultSBE && a.errorDataSBE == b.errorDataSBE
            && a.rateLimits.elementsEqual(b.rateLimits) { $0.interval == $1.interval && $0.count == $1.count && $0.limit == $1.limit }
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

    static func parse<T>(_ text: String?, _ what: StaticString, _ body: (JSONValue) throws(TradeWireError) -> T) throws(TradeWireError) -> T {
        guard let text else { throw BinanceDecoder.malformed(what) }
        let result: Result<T, TradeWireError> = Array(text.utf8).withUnsafeBytes { b in
            let doc: JSONDocument
            do { doc = try JSONDocument(validating: b) } catch {
                return .failure(BinanceDecoder.malformed(what))
            }
            do throws(TradeWireError) { return .success(try body(doc.root)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The order of an `order.place` (ACK/RESULT/FULL), `order.cancel` or `order.status` answer.
    public func orderReport() throws(TradeWireError) -> BinanceOrderReport {
        if let resultSBE { return try Self.sbeOrderReport(resultSBE) }
        return try Self.parse(resultJSON, "result is not an order") { v throws(TradeWireError) in try BinanceOrderReport.decode(v) }
    }

    /// An `order.cancel` answer: one order, or a whole order list when the order was part of one.
    public func cancelResult() throws(TradeWireError) -> BinanceCancelResult {
        if let resultSBE { return .order(try Self.sbeOrderReport(resultSBE)) }
        return try Self.parse(resultJSON, "result is not a cancel") { v throws(TradeWireError) in try BinanceCancelResult.decode(v) }
    }

    static func sbeOrderReport(_ bytes: [UInt8]) throws(TradeWireError) -> BinanceOrderReport {
        let result: Result<BinanceOrderReport, TradeWireError> = bytes.withUnsafeBytes { b in
            do throws(TradeWireError) { return .success(try BinanceSBEAnswers.orderReport(b)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// The orders of an `openOrders.status` answer.
    public func openOrderReports() throws(TradeWireError) -> [BinanceOrderReport] {
        if let resultSBE {
            let result: Result<[BinanceOrderReport], TradeWireError> = resultSBE.withUnsafeBytes { b in
                do throws(TradeWireError) { return .success(try BinanceSBEAnswers.orderReports(b)) } catch { return .failure(error) }
            }
            return try result.get()
        }
        return try Self.parse(resultJSON, "result is not an order array") { v throws(TradeWireError) in
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
        try Self.parse(resultJSON, "result is not an array") { v throws(TradeWireError) in
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
        if let sbe = status == 200 ? resultSBE : errorDataSBE {
            let result: Result<BinanceCancelReplaceResult, TradeWireError> = sbe.withUnsafeBytes { b in
                do throws(TradeWireError) { return .success(try BinanceSBEAnswers.cancelReplace(b)) } catch { return .failure(error) }
            }
            return try result.get()
        }
        return try Self.parse(status == 200 ? resultJSON : errorDataJSON, "no cancelReplace result") { v throws(TradeWireError) in
            try BinanceCancelReplaceResult.decode(v)
        }
    }

    /// An `order.amend.keepPriority` answer.
    public func amendResult() throws(TradeWireError) -> BinanceAmendResult {
        try Self.parse(resultJSON, "result is not an amend") { v throws(TradeWireError) in try BinanceAmendResult.decode(v) }
    }

    /// An `account.status` answer.
    public func accountStatus() throws(TradeWireError) -> BinanceAccountStatus {
        try Self.parse(resultJSON, "result is not an account") { v throws(TradeWireError) in try BinanceAccountStatus.decode(v) }
    }

    /// An `account.rateLimits.orders` answer: the unfilled order count of each ORDERS window.
    public func orderRateLimits() throws(TradeWireError) -> [BinanceRateLimit] {
        try Self.parse(resultJSON, "result is not a rate limit array") { v throws(TradeWireError) in
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

    /// The windows every answer on the order path reports, keyed by texts that need no allocation.
    private static let documentedWindows: [(type: StaticString, interval: StaticString, num: Int64, key: String)] = [
        ("REQUEST_WEIGHT", "MINUTE", 1, "REQUEST_WEIGHT/MINUTE/1"), ("ORDERS", "SECOND", 10, "ORDERS/SECOND/10"),
        ("ORDERS", "DAY", 1, "ORDERS/DAY/1"), ("RAW_REQUESTS", "MINUTE", 5, "RAW_REQUESTS/MINUTE/5"),
    ]

    /// "TYPE/INTERVAL/NUM" from the texts as sent (unescaped).
    static func windowKey(type: UnsafeRawBufferPointer, interval: UnsafeRawBufferPointer, num: Int64) -> String {
        func same(_ b: UnsafeRawBufferPointer, _ s: StaticString) -> Bool {
            guard b.count == s.utf8CodeUnitCount else { return false }
            for i in 0..<b.count where b[i] != s.utf8Start[i] { return false }
            return true
        }
        for i in documentedWindows.indices {     // indexed: no generic iterator on the answer path
            let w = documentedWindows[i]
            if num == w.num && same(type, w.type) && same(interval, w.interval) { return w.key }
        }
        return "\(String(decoding: type, as: UTF8.self))/\(String(decoding: interval, as: UTF8.self))/\(num)"
    }

    /// An entry as `BinanceResponse.rateLimits` keeps it: ("TYPE/INTERVAL/NUM", count, limit).
    static func window(_ l: JSONValue) -> (interval: String, count: Int, limit: Int)? {
        guard let m = members(l), let t = m.type.string, let i = m.interval.string else { return nil }
        var t2 = t, i2 = i
        let key = t2.withUTF8 { tb in i2.withUTF8 { ib in windowKey(type: UnsafeRawBufferPointer(tb), interval: UnsafeRawBufferPointer(ib), num: m.num) } }
        return (key, Int(m.count), Int(m.limit))
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
