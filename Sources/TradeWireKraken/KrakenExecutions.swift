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

/// `order_status` (§1.12). Order state: an unknown value is an error, never guessed.
public enum KrakenOrderStatus: Sendable, Equatable {
    case pendingNew, new, partiallyFilled, filled, canceled, expired, pendingCancel, triggered, rejected

    init?(json v: JSONValue) {
        if v.stringEquals("pending_new") { self = .pendingNew }
        else if v.stringEquals("new") { self = .new }
        else if v.stringEquals("partially_filled") { self = .partiallyFilled }
        else if v.stringEquals("filled") { self = .filled }
        else if v.stringEquals("canceled") { self = .canceled }
        else if v.stringEquals("expired") { self = .expired }
        else if v.stringEquals("pending_cancel") { self = .pendingCancel }
        else if v.stringEquals("triggered") { self = .triggered }
        else if v.stringEquals("rejected") { self = .rejected }
        else { return nil }
    }
}

/// One execution report or fill. Entries are sparse: which fields are set depends on `execType`.
public struct KrakenExecution: Sendable {
    public var execType: KrakenExecType
    public var orderID: InlineText
    public var clientOrderID: InlineText?
    public var orderUserref: Int64?
    public var symbol: InlineText?
    public var side: Side?
    public var orderStatus: KrakenOrderStatus?
    public var orderQty: FixedDecimal?
    public var limitPrice: FixedDecimal?
    public var cumQty: FixedDecimal?
    public var avgPrice: FixedDecimal?
    public var lastQty: FixedDecimal?
    public var lastPrice: FixedDecimal?
    public var cost: FixedDecimal?
    public var execID: InlineText?
    public var tradeID: Int64?
    /// true = maker (`m`), false = taker (`t`).
    public var isMaker: Bool?
    public var reason: InlineText?
    public var timestamp: InlineText?
}

/// An `executions` frame: a snapshot (after subscribing) or an update.
public struct KrakenExecutions: Sendable {
    public let isSnapshot: Bool
    /// Increases by one per frame; a gap means a frame was lost (see `KrakenClient.onSequenceGap`).
    public let sequence: Int64?
    public let reports: [KrakenExecution]
}

extension KrakenDecoder {
    static func executions(_ top: JSONCapturedMembers) throws(TradeWireError) -> KrakenExecutions {
        guard let data = top[Top.data], data.kind == .array else { throw malformed("executions without a data array") }
        var reports: [KrakenExecution] = []
        var problem: TradeWireError? = nil
        data.forEachElement { e in
            do throws(TradeWireError) { reports.append(try execution(e)) } catch { problem = error; return false }
            return true
        }
        if let problem { throw problem }
        let seq = top[Top.sequence]
        if let seq, seq.int64 == nil { throw malformed("sequence is not an integer") }
        return KrakenExecutions(isSnapshot: top[Top.type]?.stringEquals("snapshot") ?? false, sequence: seq?.int64, reports: reports)
    }

    static let executionKeys = JSONKeySet([
        "exec_type", "order_id", "order_status", "cl_ord_id", "order_userref", "symbol", "side", "order_qty",
        "limit_price", "cum_qty", "avg_price", "last_qty", "last_price", "cost", "exec_id", "trade_id",
        "liquidity_ind", "reason", "cancel_reason", "timestamp",
    ])

    /// One execution report, decoded in a single pass over its members.
    static func execution(_ e: JSONValue) throws(TradeWireError) -> KrakenExecution {
        guard e.kind == .object else { throw malformed("execution entry is not an object") }
        var execType: JSONValue? = nil
        var orderID: InlineText? = nil
        var x = KrakenExecution(execType: .unknown(InlineText()), orderID: InlineText())
        var reason: InlineText? = nil, cancelReason: InlineText? = nil
        var problem: String? = nil
        func dec(_ v: JSONValue, _ name: StaticString) -> FixedDecimal? {
            guard let d = v.decimal else { problem = "\(name) is not a number"; return nil }
            return d
        }
        e.forEachMember(in: executionKeys) { k, v in
            switch k {
            case 0: execType = v
            case 1: orderID = InlineText(json: v)
            case 2:
                if let st = KrakenOrderStatus(json: v) { x.orderStatus = st } else { problem = "unknown order_status" }
            case 3: x.clientOrderID = InlineText(json: v)
            case 4: x.orderUserref = v.int64
            case 5: x.symbol = InlineText(json: v)
            case 6: x.side = v.stringEquals("buy") ? .buy : v.stringEquals("sell") ? .sell : nil
            case 7: x.orderQty = dec(v, "order_qty")
            case 8: x.limitPrice = dec(v, "limit_price")
            case 9: x.cumQty = dec(v, "cum_qty")
            case 10: x.avgPrice = dec(v, "avg_price")
            case 11: x.lastQty = dec(v, "last_qty")
            case 12: x.lastPrice = dec(v, "last_price")
            case 13: x.cost = dec(v, "cost")
            case 14: x.execID = InlineText(json: v)
            case 15: x.tradeID = v.int64
            case 16: x.isMaker = v.stringEquals("m") ? true : v.stringEquals("t") ? false : nil
            case 17: reason = InlineText(json: v)
            case 18: cancelReason = InlineText(json: v)
            default: x.timestamp = InlineText(json: v)
            }
        }
        guard let t = execType, t.kind == .string else { throw malformed("execution without exec_type") }
        guard let oid = orderID else { throw malformed("execution without order_id") }
        if let problem { throw malformed(problem) }
        x.execType = KrakenExecType(json: t)
        x.orderID = oid
        x.reason = reason ?? cancelReason
        return x
    }
}
