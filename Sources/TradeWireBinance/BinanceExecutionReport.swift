import TradeWire

/// `executionReport` from the user data stream (User Data Stream › Order Update). Keys are case-sensitive single
/// letters (`c` and `C`, `n` and `N`, `z` and `Z` are different fields).
public struct BinanceExecutionReport: Sendable {
    /// `X`: order state (`.unknown` for a state this version does not know).
    public typealias Status = BinanceOrderStatus

    /// The user data stream subscription it came on (`subscriptionId` of the wrapper; absent in older streams).
    public let subscriptionID: Int64?
    /// `E`
    public let eventTime: Int64?
    public let symbol: String
    /// `c`: the client id of the request that caused this report: on a cancel, the cancel's own id
    /// (the `newClientOrderId` sent with `order.cancel`, or one Binance made up).
    public let clientOrderID: String
    /// `C`: on a cancel, the client id of the order that was cancelled (nil when empty, as on every other report).
    public let originalClientOrderID: String?
    /// The client id the order was placed with: `C` when the report is a cancel's, else `c`. Correlate by this.
    public var orderClientOrderID: String { originalClientOrderID ?? clientOrderID }
    /// On a cancel's report, the cancel's own client id (`c`); nil on other reports.
    public var cancelClientOrderID: String? { originalClientOrderID == nil ? nil : clientOrderID }
    public let side: Side?
    /// `o`, `f`: descriptive, kept as sent.
    public let orderType: String
    public let timeInForce: String?
    /// `x`: descriptive (NEW, TRADE, CANCELED, REPLACED, REJECTED, EXPIRED, TRADE_PREVENTION), kept as sent.
    public let executionType: String
    public let status: Status
    public let orderID: Int64
    /// `g`: -1 when the order is not part of an order list.
    public let orderListID: Int64?
    /// `q`, `p`, `P` (stop price), `F` (iceberg quantity), `Q` (quote order quantity).
    public let quantity: FixedDecimal?
    public let price: FixedDecimal?
    public let stopPrice: FixedDecimal?
    public let icebergQty: FixedDecimal?
    public let quoteOrderQty: FixedDecimal?
    /// `l`, `L`: this execution's quantity and price.
    public let lastQty: FixedDecimal?
    public let lastPrice: FixedDecimal?
    /// `z`: filled so far.
    public let cumQty: FixedDecimal?
    /// `Z`: quote asset transacted so far (`Z / z` is the average price).
    public let cumQuoteQty: FixedDecimal?
    /// `Y`: this execution's quote quantity (`L × l`).
    public let lastQuoteQty: FixedDecimal?
    /// `n`: commission of this execution.
    public let commission: FixedDecimal?
    /// `N`: its asset (null in the docs when there is none).
    public let commissionAsset: String?
    /// `t`: nil unless the report is a trade (Binance sends -1 then).
    public let tradeID: Int64?
    /// `I`: execution id.
    public let executionID: Int64?
    /// `T`: transaction time; `O`: order creation time; `W`: working time (once on the book).
    public let transactionTime: Int64?
    public let orderCreationTime: Int64?
    public let workingTime: Int64?
    /// `w`: is the order on the book?
    public let isWorking: Bool?
    public let isMaker: Bool?
    /// `r`: NONE or why the order was rejected, kept as sent.
    public let rejectReason: String?
    /// `V`: the order's self-trade prevention mode, kept as sent.
    public let selfTradePreventionMode: String?
    /// `v`: set when the order expired for self-trade prevention.
    public let preventedMatchID: Int64?
    /// `d`, `j`, `J`: trailing delta, strategy id and type, when the order has them.
    public let trailingDelta: Int64?
    public let strategyID: Int64?
    public let strategyType: Int64?
    /// `eR`: why the order expired, kept as sent.
    public let expiryReason: String?
    /// Pegged orders: `gP`, `gOT`, `gOV`, `gp`.
    public let pegPriceType: String?
    public let pegOffsetType: String?
    public let pegOffsetValue: Int64?
    public let peggedPrice: FixedDecimal?

    static func decode(_ e: JSONValue, subscriptionID: Int64?) throws(TradeWireError) -> BinanceExecutionReport {
        guard let s = e["s"]?.string, let c = e["c"]?.string, let x = e["x"]?.string, let X = e["X"]?.string,
              let i = e["i"]?.int64, let o = e["o"]?.string else { throw BinanceDecoder.malformed("executionReport without s/c/x/X/i/o") }
        let status = Status(rawValue: X)
        let side = e["S"]?.string
        // `t` is -1 on reports that are no trade (the docs' NEW example); only a TRADE carries a trade id.
        let t = e["t"]?.int64
        return BinanceExecutionReport(
            subscriptionID: subscriptionID, eventTime: e["E"]?.int64, symbol: s, clientOrderID: c,
            originalClientOrderID: e["C"]?.string.flatMap { $0.isEmpty ? nil : $0 },
            side: side == "BUY" ? .buy : side == "SELL" ? .sell : nil, orderType: o, timeInForce: e["f"]?.string,
            executionType: x, status: status, orderID: i, orderListID: e["g"]?.int64,
            quantity: e["q"]?.decimal, price: e["p"]?.decimal, stopPrice: e["P"]?.decimal, icebergQty: e["F"]?.decimal,
            quoteOrderQty: e["Q"]?.decimal, lastQty: e["l"]?.decimal, lastPrice: e["L"]?.decimal, cumQty: e["z"]?.decimal,
            cumQuoteQty: e["Z"]?.decimal, lastQuoteQty: e["Y"]?.decimal, commission: e["n"]?.decimal,
            commissionAsset: e["N"]?.string, tradeID: t.flatMap { $0 < 0 ? nil : $0 }, executionID: e["I"]?.int64,
            transactionTime: e["T"]?.int64, orderCreationTime: e["O"]?.int64, workingTime: e["W"]?.int64,
            isWorking: e["w"]?.bool, isMaker: e["m"]?.bool, rejectReason: e["r"]?.string,
            selfTradePreventionMode: e["V"]?.string, preventedMatchID: e["v"]?.int64, trailingDelta: e["d"]?.int64,
            strategyID: e["j"]?.int64, strategyType: e["J"]?.int64, expiryReason: e["eR"]?.string,
            pegPriceType: e["gP"]?.string, pegOffsetType: e["gOT"]?.string, pegOffsetValue: e["gOV"]?.int64,
            peggedPrice: e["gp"]?.decimal)
    }
}
