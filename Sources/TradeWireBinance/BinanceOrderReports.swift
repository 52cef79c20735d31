import TradeWire

/// An order's state (enums.md › Order status). A value this version does not know is kept as `.unknown`,
/// not refused: a report of a fill must reach the caller even when Binance adds a state.
public enum BinanceOrderStatus: RawRepresentable, Sendable, Hashable {
    case new, pendingNew, partiallyFilled, filled, canceled, pendingCancel, rejected, expired, expiredInMatch
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "NEW": self = .new
        case "PENDING_NEW": self = .pendingNew
        case "PARTIALLY_FILLED": self = .partiallyFilled
        case "FILLED": self = .filled
        case "CANCELED": self = .canceled
        case "PENDING_CANCEL": self = .pendingCancel
        case "REJECTED": self = .rejected
        case "EXPIRED": self = .expired
        case "EXPIRED_IN_MATCH": self = .expiredInMatch
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .new: "NEW"
        case .pendingNew: "PENDING_NEW"
        case .partiallyFilled: "PARTIALLY_FILLED"
        case .filled: "FILLED"
        case .canceled: "CANCELED"
        case .pendingCancel: "PENDING_CANCEL"
        case .rejected: "REJECTED"
        case .expired: "EXPIRED"
        case .expiredInMatch: "EXPIRED_IN_MATCH"
        case .unknown(let s): s
        }
    }
}

/// An order as the trading and query answers show it (`order.place` ACK/RESULT/FULL, `order.cancel`,
/// `order.status`, `openOrders.status`, the legs of `order.cancelReplace`, `order.amend.keepPriority`'s
/// `amendedOrder`). Fields a response type or an order does not carry are nil.
public struct BinanceOrderReport: Sendable {
    /// One fill of a FULL answer.
    public struct Fill: Sendable, Hashable {
        public let price: FixedDecimal
        public let qty: FixedDecimal
        public let commission: FixedDecimal
        public let commissionAsset: String?
        /// -1 for SOR fills (no trade of this account's own).
        public let tradeID: Int64?
    }
    public let symbol: String
    public let orderID: Int64
    /// -1 when the order is not part of an order list.
    public let orderListID: Int64?
    /// The order's client id; on a cancel, the cancel's own (`newClientOrderId`).
    public let clientOrderID: String
    /// On a cancel or an amend: the client id the order had before.
    public let origClientOrderID: String?
    public let transactTime: Int64?
    public let price: FixedDecimal?
    /// `origQty` (`qty` in an amend's answer).
    public let origQty: FixedDecimal?
    public let executedQty: FixedDecimal?
    /// `origQuoteOrderQty` (`quoteOrderQty` in an amend's answer).
    public let origQuoteOrderQty: FixedDecimal?
    /// `cummulativeQuoteQty` (`cumulativeQuoteQty` in an amend's answer); negative for some historical orders.
    public let cummulativeQuoteQty: FixedDecimal?
    public let status: BinanceOrderStatus?
    /// Descriptive fields, kept as sent.
    public let timeInForce: String?
    public let type: String?
    public let side: Side?
    public let stopPrice: FixedDecimal?
    public let icebergQty: FixedDecimal?
    public let trailingDelta: Int64?
    public let trailingTime: Int64?
    public let strategyID: Int64?
    public let strategyType: Int64?
    public let selfTradePreventionMode: String?
    public let workingTime: Int64?
    /// `order.status`: creation and last update time, and whether the order is on the book.
    public let time: Int64?
    public let updateTime: Int64?
    public let isWorking: Bool?
    public let preventedMatchID: Int64?
    /// `preventedQuantity` (`preventedQty` in an amend's answer).
    public let preventedQuantity: FixedDecimal?
    public let pegPriceType: String?
    public let pegOffsetType: String?
    public let pegOffsetValue: Int64?
    public let peggedPrice: FixedDecimal?
    public let fills: [Fill]

    static func side(_ s: String?) -> Side? { s == "BUY" ? .buy : s == "SELL" ? .sell : nil }

    static func decode(_ v: JSONValue) throws(TradeWireError) -> BinanceOrderReport {
        guard v.kind == .object, let symbol = v["symbol"]?.string, let orderID = v["orderId"]?.int64,
              let cl = v["clientOrderId"]?.string else { throw BinanceDecoder.malformed("an order without symbol/orderID/clientOrderId") }
        var status: BinanceOrderStatus? = nil
        if let s = v["status"]?.string {
            status = BinanceOrderStatus(rawValue: s)
        }
        var fills: [Fill] = []
        var badFill = false
        v["fills"]?.forEachElement { f in
            guard let p = f["price"]?.decimal, let q = f["qty"]?.decimal else { badFill = true; return false }
            fills.append(Fill(price: p, qty: q, commission: f["commission"]?.decimal ?? .zero, commissionAsset: f["commissionAsset"]?.string,
                              tradeID: f["tradeId"]?.int64))
            return true
        }
        if badFill { throw BinanceDecoder.malformed("a fill without price/qty") }
        return BinanceOrderReport(
            symbol: symbol, orderID: orderID, orderListID: v["orderListId"]?.int64, clientOrderID: cl,
            origClientOrderID: v["origClientOrderId"]?.string, transactTime: v["transactTime"]?.int64, price: v["price"]?.decimal,
            origQty: (v["origQty"] ?? v["qty"])?.decimal, executedQty: v["executedQty"]?.decimal,
            origQuoteOrderQty: (v["origQuoteOrderQty"] ?? v["quoteOrderQty"])?.decimal,
            cummulativeQuoteQty: (v["cummulativeQuoteQty"] ?? v["cumulativeQuoteQty"])?.decimal, status: status,
            timeInForce: v["timeInForce"]?.string, type: v["type"]?.string, side: side(v["side"]?.string),
            stopPrice: v["stopPrice"]?.decimal, icebergQty: v["icebergQty"]?.decimal, trailingDelta: v["trailingDelta"]?.int64,
            trailingTime: v["trailingTime"]?.int64, strategyID: v["strategyId"]?.int64, strategyType: v["strategyType"]?.int64,
            selfTradePreventionMode: v["selfTradePreventionMode"]?.string, workingTime: v["workingTime"]?.int64,
            time: v["time"]?.int64, updateTime: v["updateTime"]?.int64, isWorking: v["isWorking"]?.bool,
            preventedMatchID: v["preventedMatchId"]?.int64, preventedQuantity: (v["preventedQuantity"] ?? v["preventedQty"])?.decimal,
            pegPriceType: v["pegPriceType"]?.string, pegOffsetType: v["pegOffsetType"]?.string, pegOffsetValue: v["pegOffsetValue"]?.int64,
            peggedPrice: v["peggedPrice"]?.decimal, fills: fills)
    }
}

/// An order list as the cancel answers show it (`contingencyType`, `listOrderStatus`, its orders).
public struct BinanceOrderListReport: Sendable {
    public let orderListID: Int64
    /// OCO, OTO, …: kept as sent.
    public let contingencyType: String
    public let listStatusType: String?
    public let listOrderStatus: String?
    public let listClientOrderID: String?
    public let transactionTime: Int64?
    public let symbol: String
    /// (symbol, orderID, clientOrderID) of each order in the list.
    public let orders: [(symbol: String, orderID: Int64, clientOrderID: String)]
    /// The full report of each order, when the answer has them.
    public let orderReports: [BinanceOrderReport]

    static func decode(_ v: JSONValue) throws(TradeWireError) -> BinanceOrderListReport {
        guard let id = v["orderListId"]?.int64, let ct = v["contingencyType"]?.string, let symbol = v["symbol"]?.string else {
            throw BinanceDecoder.malformed("an order list without orderListID/contingencyType/symbol")
        }
        var orders: [(symbol: String, orderID: Int64, clientOrderID: String)] = []
        v["orders"]?.forEachElement { o in
            if let s = o["symbol"]?.string, let i = o["orderId"]?.int64, let c = o["clientOrderId"]?.string { orders.append((s, i, c)) }
            return true
        }
        var reports: [BinanceOrderReport] = []
        var failure: TradeWireError?
        v["orderReports"]?.forEachElement { o in
            do throws(TradeWireError) { reports.append(try BinanceOrderReport.decode(o)) } catch { failure = error; return false }
            return true
        }
        if let failure { throw failure }
        return BinanceOrderListReport(orderListID: id, contingencyType: ct, listStatusType: v["listStatusType"]?.string,
                                      listOrderStatus: v["listOrderStatus"]?.string, listClientOrderID: v["listClientOrderId"]?.string,
                                      transactionTime: v["transactionTime"]?.int64, symbol: symbol, orders: orders, orderReports: reports)
    }
}

/// What one cancel did: an order, or a whole order list (cancelling one order of a list cancels the list).
public enum BinanceCancelResult: Sendable {
    case order(BinanceOrderReport)
    case orderList(BinanceOrderListReport)

    static func decode(_ v: JSONValue) throws(TradeWireError) -> BinanceCancelResult {
        guard v.kind == .object else { throw BinanceDecoder.malformed("a cancel result is not an object") }
        return v["contingencyType"] != nil ? .orderList(try BinanceOrderListReport.decode(v)) : .order(try BinanceOrderReport.decode(v))
    }
}

/// `order.cancelReplace`'s two legs.
public struct BinanceCancelReplaceResult: Sendable {
    public enum Outcome: String, Sendable { case success = "SUCCESS", failure = "FAILURE", notAttempted = "NOT_ATTEMPTED" }
    /// A leg's answer: the order, or Binance's error for that leg.
    public enum Leg: Sendable {
        case order(BinanceOrderReport)
        case error(code: Int, message: String)
    }
    public let cancelResult: Outcome
    public let newOrderResult: Outcome
    public let cancelResponse: Leg?
    /// nil when the new order was not attempted.
    public let newOrderResponse: Leg?

    static func leg(_ v: JSONValue?) throws(TradeWireError) -> Leg? {
        guard let v, v.kind == .object else { return nil }
        if let code = v["code"]?.int64 { return .error(code: Int(code), message: v["msg"]?.string ?? "") }
        return .order(try BinanceOrderReport.decode(v))
    }

    static func decode(_ v: JSONValue) throws(TradeWireError) -> BinanceCancelReplaceResult {
        guard let c = v["cancelResult"]?.string.flatMap(Outcome.init(rawValue:)),
              let n = v["newOrderResult"]?.string.flatMap(Outcome.init(rawValue:)) else {
            throw BinanceDecoder.malformed("cancelReplace without cancelResult/newOrderResult")
        }
        return BinanceCancelReplaceResult(cancelResult: c, newOrderResult: n, cancelResponse: try leg(v["cancelResponse"]),
                                          newOrderResponse: try leg(v["newOrderResponse"]))
    }
}

/// `order.amend.keepPriority`'s answer.
public struct BinanceAmendResult: Sendable {
    public let transactTime: Int64
    /// The amend's execution id (the `I` of its `REPLACED` executionReport).
    public let executionID: Int64
    /// The order after the amend (its `qty` reads as `origQty`).
    public let amendedOrder: BinanceOrderReport
    /// The order's list, when it is part of one.
    public let listStatus: BinanceOrderListReport?

    static func decode(_ v: JSONValue) throws(TradeWireError) -> BinanceAmendResult {
        guard let t = v["transactTime"]?.int64, let e = v["executionId"]?.int64, let o = v["amendedOrder"] else {
            throw BinanceDecoder.malformed("amend without transactTime/executionID/amendedOrder")
        }
        let list = v["listStatus"]
        return BinanceAmendResult(transactTime: t, executionID: e, amendedOrder: try BinanceOrderReport.decode(o),
                                  listStatus: list == nil ? nil : try BinanceOrderListReport.decode(list!))
    }
}
