import TradeWire

/// `exec_type` (§1.12). Descriptive: an unknown value is kept, not refused.
public enum KrakenExecType: Sendable, Equatable {
    case pendingNew, new, trade, filled, icebergRefill, canceled, expired, restated, status, amended, rejected
    case unknown(InlineText)

    init(json v: JSONValue) {
        if v.stringEquals("pending_new") { self = .pendingNew }
        else if v.stringEquals("new") { self = .new }
        else if v.stringEquals("trade") { self = .trade }
        else if v.stringEquals("filled") { self = .filled }
        else if v.stringEquals("iceberg_refill") { self = .icebergRefill }
        else if v.stringEquals("canceled") { self = .canceled }
        else if v.stringEquals("expired") { self = .expired }
        else if v.stringEquals("restated") { self = .restated }
        else if v.stringEquals("status") { self = .status }
        else if v.stringEquals("amended") { self = .amended }
        else if v.stringEquals("rejected") { self = .rejected }
        else { self = .unknown(InlineText(json: v) ?? InlineText()) }
    }
}

/// `order_status` (§1.12). An unknown value is kept (`.unknown` with the venue's text), never guessed
/// and never a reason to drop the report: the venue documents new states before clients learn them.
public enum KrakenOrderStatus: Sendable, Equatable {
    case pendingNew, new, partiallyFilled, filled, canceled, expired, pendingCancel, triggered, rejected
    case unknown(InlineText)

    init(json v: JSONValue) {
        if v.stringEquals("pending_new") { self = .pendingNew }
        else if v.stringEquals("new") { self = .new }
        else if v.stringEquals("partially_filled") { self = .partiallyFilled }
        else if v.stringEquals("filled") { self = .filled }
        else if v.stringEquals("canceled") { self = .canceled }
        else if v.stringEquals("expired") { self = .expired }
        else if v.stringEquals("pending_cancel") { self = .pendingCancel }
        else if v.stringEquals("triggered") { self = .triggered }
        else if v.stringEquals("rejected") { self = .rejected }
        else { self = .unknown(InlineText(json: v) ?? InlineText()) }
    }
}

/// One fee of a fill (`fees[]`): the asset and the amount.
public struct KrakenFee: Sendable, Equatable {
    public let asset: InlineText
    public let quantity: FixedDecimal
}

/// One execution report or fill. Every field but `execType` is optional, as the docs say: which fields
/// are set depends on the event (a `new` report can carry five fields).
public struct KrakenExecution: Sendable {
    public var execType: KrakenExecType
    public var orderID: InlineText?
    public var clientOrderID: InlineText?
    public var orderUserref: Int64?
    public var symbol: InlineText?
    public var side: Side?
    /// `order_type` as sent (`limit`, `stop-loss`, …).
    public var orderType: InlineText?
    /// `time_in_force` as sent (the venue writes it upper-case: `GTC`).
    public var timeInForce: InlineText?
    public var orderStatus: KrakenOrderStatus?
    public var orderQty: FixedDecimal?
    public var limitPrice: FixedDecimal?
    /// Cumulative executed quantity and value, and the average fill price.
    public var cumQty: FixedDecimal?
    public var cumCost: FixedDecimal?
    public var avgPrice: FixedDecimal?
    /// This fill: quantity, price and value.
    public var lastQty: FixedDecimal?
    public var lastPrice: FixedDecimal?
    public var cost: FixedDecimal?
    public var execID: InlineText?
    public var tradeID: Int64?
    /// true = maker (`liquidity_ind` `m`), false = taker (`t`).
    public var isMaker: Bool?
    /// This fill's fees (the docs: in the quote currency for now), and their total in USD.
    public var fees: [KrakenFee]?
    public var feeUSDEquivalent: FixedDecimal?
    public var postOnly: Bool?
    public var reduceOnly: Bool?
    public var margin: Bool?
    public var amended: Bool?
    public var displayQty: FixedDecimal?
    public var effectiveTime: InlineText?
    public var expireTime: InlineText?
    /// `reason` (or the deprecated `cancel_reason`).
    public var reason: InlineText?
    public var timestamp: InlineText?
    /// Fields that were present but not of their documented type: kept out, named here.
    public var malformedFields: [String] = []

    public init(execType: KrakenExecType) { self.execType = execType }
}

/// An `executions` frame: a snapshot (after subscribing) or an update.
public struct KrakenExecutions: Sendable {
    public let isSnapshot: Bool
    /// Increases by one per frame; a gap means a frame was lost (see `KrakenClient.onSequenceGap`).
    public let sequence: Int64?
    public let reports: [KrakenExecution]
    /// Entries that could not be read at all (not an object, no `exec_type`): what was wrong with each.
    /// The frame's other entries are reported regardless.
    public let unreadable: [String]
}

extension KrakenDecoder {
    static func executions(_ top: JSONCapturedMembers) throws(TradeWireError) -> KrakenExecutions {
        guard let data = top[Top.data], data.kind == .array else { throw malformed("executions without a data array") }
        var reports: [KrakenExecution] = []
        var unreadable: [String] = []
        data.forEachElement { e in
            do throws(TradeWireError) { reports.append(try execution(e)) } catch { unreadable.append(error.detail) }
            return true
        }
        let seq = top[Top.sequence]
        if let seq, seq.int64 == nil { throw malformed("sequence is not an integer") }
        return KrakenExecutions(isSnapshot: top[Top.type]?.stringEquals("snapshot") ?? false, sequence: seq?.int64,
                                reports: reports, unreadable: unreadable)
    }

    static let executionKeys = JSONKeySet([
        "exec_type", "order_id", "order_status", "cl_ord_id", "order_userref", "symbol", "side", "order_qty",
        "limit_price", "cum_qty", "avg_price", "last_qty", "last_price", "cost", "exec_id", "trade_id",
        "liquidity_ind", "reason", "cancel_reason", "timestamp", "cum_cost", "fees", "fee_usd_equiv", "order_type",
        "time_in_force", "post_only", "reduce_only", "margin", "amended", "display_qty", "effective_time", "expire_time",
    ])

    /// One execution report, decoded in a single pass over its members. Throws only when the entry cannot be
    /// a report at all; a field of the wrong type is left out and named in `malformedFields`.
    static func execution(_ e: JSONValue) throws(TradeWireError) -> KrakenExecution {
        guard e.kind == .object else { throw malformed("execution entry is not an object") }
        var execType: JSONValue? = nil
        var x = KrakenExecution(execType: .unknown(InlineText()))
        var reason: InlineText? = nil, cancelReason: InlineText? = nil
        var bad: [String] = []
        func dec(_ v: JSONValue, _ name: String) -> FixedDecimal? {
            guard let d = v.decimal else { bad.append(name); return nil }
            return d
        }
        func text(_ v: JSONValue, _ name: String) -> InlineText? {
            guard let t = InlineText(json: v) else { bad.append(name); return nil }
            return t
        }
        func flag(_ v: JSONValue, _ name: String) -> Bool? {
            guard let b = v.bool else { bad.append(name); return nil }
            return b
        }
        e.forEachMember(in: executionKeys) { k, v in
            switch k {
            case 0: execType = v
            case 1: x.orderID = text(v, "order_id")
            case 2: if v.kind == .string { x.orderStatus = KrakenOrderStatus(json: v) } else { bad.append("order_status") }
            case 3: x.clientOrderID = text(v, "cl_ord_id")
            case 4: if let n = v.int64 { x.orderUserref = n } else { bad.append("order_userref") }
            case 5: x.symbol = text(v, "symbol")
            case 6: x.side = v.stringEquals("buy") ? .buy : v.stringEquals("sell") ? .sell : nil
            case 7: x.orderQty = dec(v, "order_qty")
            case 8: x.limitPrice = dec(v, "limit_price")
            case 9: x.cumQty = dec(v, "cum_qty")
            case 10: x.avgPrice = dec(v, "avg_price")
            case 11: x.lastQty = dec(v, "last_qty")
            case 12: x.lastPrice = dec(v, "last_price")
            case 13: x.cost = dec(v, "cost")
            case 14: x.execID = text(v, "exec_id")
            case 15: if let n = v.int64 { x.tradeID = n } else { bad.append("trade_id") }
            case 16: x.isMaker = v.stringEquals("m") ? true : v.stringEquals("t") ? false : nil
            case 17: reason = text(v, "reason")
            case 18: cancelReason = text(v, "cancel_reason")
            case 19: x.timestamp = text(v, "timestamp")
            case 20: x.cumCost = dec(v, "cum_cost")
            case 21:
                guard v.kind == .array else { bad.append("fees"); break }
                var fees: [KrakenFee] = []
                v.forEachElement { f in
                    if let a = f["asset"].flatMap({ InlineText(json: $0) }), let q = f["qty"]?.decimal {
                        fees.append(KrakenFee(asset: a, quantity: q))
                    } else {
                        bad.append("fees[]")
                    }
                    return true
                }
                x.fees = fees
            case 22: x.feeUSDEquivalent = dec(v, "fee_usd_equiv")
            case 23: x.orderType = text(v, "order_type")
            case 24: x.timeInForce = text(v, "time_in_force")
            case 25: x.postOnly = flag(v, "post_only")
            case 26: x.reduceOnly = flag(v, "reduce_only")
            case 27: x.margin = flag(v, "margin")
            case 28: x.amended = flag(v, "amended")
            case 29: x.displayQty = dec(v, "display_qty")
            case 30: x.effectiveTime = text(v, "effective_time")
            default: x.expireTime = text(v, "expire_time")
            }
        }
        guard let t = execType, t.kind == .string else { throw malformed("execution without exec_type") }
        x.execType = KrakenExecType(json: t)
        x.reason = reason ?? cancelReason
        x.malformedFields = bad
        return x
    }
}
