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
    static func executions(_ root: JSONValue) throws(TradeWireError) -> KrakenExecutions {
        guard let data = root["data"], data.kind == .array else { throw malformed("executions without a data array") }
        var reports: [KrakenExecution] = []
        var problem: TradeWireError? = nil
        data.forEachElement { e in
            do throws(TradeWireError) { reports.append(try execution(e)) } catch { problem = error; return false }
            return true
        }
        if let problem { throw problem }
        let seq = root["sequence"]
        if let seq, seq.int64 == nil { throw malformed("sequence is not an integer") }
        return KrakenExecutions(isSnapshot: root["type"]?.stringEquals("snapshot") ?? false, sequence: seq?.int64, reports: reports)
    }

    static func execution(_ e: JSONValue) throws(TradeWireError) -> KrakenExecution {
        guard e.kind == .object else { throw malformed("execution entry is not an object") }
        guard let t = e["exec_type"], t.kind == .string else { throw malformed("execution without exec_type") }
        guard let oid = e["order_id"].flatMap({ InlineText(json: $0) }) else { throw malformed("execution without order_id") }
        func dec(_ k: StaticString) throws(TradeWireError) -> FixedDecimal? {
            guard let v = e[k] else { return nil }
            guard let d = v.decimal else { throw malformed("\(k) is not a number") }
            return d
        }
        var x = KrakenExecution(execType: KrakenExecType(json: t), orderID: oid)
        if let s = e["order_status"] {
            guard let st = KrakenOrderStatus(json: s) else { throw malformed("unknown order_status") }
            x.orderStatus = st
        }
        x.clientOrderID = e["cl_ord_id"].flatMap { InlineText(json: $0) }
        x.orderUserref = e["order_userref"]?.int64
        x.symbol = e["symbol"].flatMap { InlineText(json: $0) }
        if let s = e["side"] { x.side = s.stringEquals("buy") ? .buy : s.stringEquals("sell") ? .sell : nil }
        x.orderQty = try dec("order_qty")
        x.limitPrice = try dec("limit_price")
        x.cumQty = try dec("cum_qty")
        x.avgPrice = try dec("avg_price")
        x.lastQty = try dec("last_qty")
        x.lastPrice = try dec("last_price")
        x.cost = try dec("cost")
        x.execID = e["exec_id"].flatMap { InlineText(json: $0) }
        x.tradeID = e["trade_id"]?.int64
        if let l = e["liquidity_ind"] { x.isMaker = l.stringEquals("m") ? true : l.stringEquals("t") ? false : nil }
        x.reason = (e["reason"] ?? e["cancel_reason"]).flatMap { InlineText(json: $0) }
        x.timestamp = e["timestamp"].flatMap { InlineText(json: $0) }
        return x
    }
}
