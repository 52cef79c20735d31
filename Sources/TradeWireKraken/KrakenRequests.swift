import TradeWire

/// `add_order` (protocols.md §1.4): a venue-neutral order plus Kraken's options.
public struct KrakenAddOrder: Sendable {
    /// How a price is read: an absolute price, a percentage offset, or an offset in the quote currency.
    public enum PriceType: String, Sendable { case `static`, pct, quote }
    /// What a trigger watches: the last trade on Kraken's book, or the broader market's index price.
    public enum TriggerReference: String, Sendable { case last, index }
    public enum FeePreference: String, Sendable { case base, quote }
    public enum SelfTradePrevention: String, Sendable {
        case cancelNewest = "cancel_newest", cancelOldest = "cancel_oldest", cancelBoth = "cancel_both"
    }
    /// The one-triggers-other close leg (`conditional`).
    public struct Conditional: Sendable {
        public var orderType: OrderType
        public var limitPrice: Price?
        public var triggerPrice: Price?
        public init(orderType: OrderType, limitPrice: Price? = nil, triggerPrice: Price? = nil) {
            self.orderType = orderType
            self.limitPrice = limitPrice
            self.triggerPrice = triggerPrice
        }
    }

    public var order: Order
    /// Legacy numeric tag; cannot be combined with a client order id.
    public var orderUserref: Int64?
    /// RFC 3339; the engine will not match after it (0.5–60 s ahead). Single orders only: a batch has one
    /// deadline for all (`KrakenRequest.batchAdd(deadline:)`).
    public var deadline: String?
    /// Validate only: nothing is placed. Single orders only (a batch validates as a whole).
    public var validate: Bool
    /// `triggers.reference` of a triggered order (`order.triggerPrice` is `triggers.price`). Default: last.
    public var triggerReference: TriggerReference
    /// `triggers.price_type`: `order.triggerPrice` as a price (`static`, the venue's default), or as an offset
    /// from the reference (`pct`, `quote`; signed, or the distance from the peak for trailing stops).
    public var triggerPriceType: PriceType?
    public var limitPriceType: PriceType?
    /// Iceberg: the visible quantity.
    public var displayQty: Quantity?
    public var feePreference: FeePreference?
    /// No market price protection.
    public var noMPP: Bool
    public var selfTradePrevention: SelfTradePrevention?
    /// RFC 3339 start time; `expireTime` ends a `gtd` order.
    public var effectiveTime: String?
    public var expireTime: String?
    /// Buy market orders by quote amount instead of `order_qty`.
    public var cashOrderQty: Quantity?
    /// Margin funding.
    public var margin: Bool
    public var conditional: Conditional?

    public init(_ order: Order, orderUserref: Int64? = nil, deadline: String? = nil, validate: Bool = false,
                limitPriceType: PriceType? = nil, displayQty: Quantity? = nil, feePreference: FeePreference? = nil,
                noMPP: Bool = false, selfTradePrevention: SelfTradePrevention? = nil, effectiveTime: String? = nil,
                expireTime: String? = nil, cashOrderQty: Quantity? = nil, margin: Bool = false, conditional: Conditional? = nil,
                triggerReference: TriggerReference = .last, triggerPriceType: PriceType? = nil) {
        self.order = order
        self.triggerReference = triggerReference
        self.triggerPriceType = triggerPriceType
        self.orderUserref = orderUserref
        self.deadline = deadline
        self.validate = validate
        self.limitPriceType = limitPriceType
        self.displayQty = displayQty
        self.feePreference = feePreference
        self.noMPP = noMPP
        self.selfTradePrevention = selfTradePrevention
        self.effectiveTime = effectiveTime
        self.expireTime = expireTime
        self.cashOrderQty = cashOrderQty
        self.margin = margin
        self.conditional = conditional
    }
}

/// Which orders a `cancel_order` names: exactly one kind of identifier.
public enum KrakenCancelTarget: Sendable {
    case orderIDs([String])
    case clientOrderIDs([ClientOrderID])
    case userrefs([Int64])

    /// How many identifiers: the venue answers once per order named (a userref may name several).
    public var count: Int {
        switch self {
        case .orderIDs(let v): return v.count
        case .clientOrderIDs(let v): return v.count
        case .userrefs(let v): return v.count
        }
    }
}

/// `amend_order` (§1.6): in place, keeping queue priority where it can.
public struct KrakenAmendOrder: Sendable {
    public enum Target: Sendable { case orderID(String), clientOrderID(ClientOrderID) }
    public var target: Target
    public var quantity: Quantity?
    public var limitPrice: Price?
    public var postOnly: Bool?
    public init(_ target: Target, quantity: Quantity? = nil, limitPrice: Price? = nil, postOnly: Bool? = nil) {
        self.target = target
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.postOnly = postOnly
    }
}

/// A Kraken request, typed.
public enum KrakenRequest: Sendable {
    case addOrder(KrakenAddOrder)
    case amendOrder(KrakenAmendOrder)
    /// 2 to 15 orders for one pair (§1.8). `validate` and `deadline` (RFC 3339) are the batch's, not per order.
    case batchAdd(symbol: String, orders: [KrakenAddOrder], validate: Bool = false, deadline: String? = nil)
    /// The `executions` channel (§1.12).
    case subscribeExecutions(snapOrders: Bool, snapTrades: Bool)
    /// The public `instrument` channel: every pair's precisions (a snapshot, then updates).
    case subscribeInstruments
    /// The public `book` channel: `depth` 10, 25, 100, 500 or 1000 levels a side, a snapshot first.
    case subscribeBook(symbols: [String], depth: Int)
    case unsubscribeBook(symbols: [String], depth: Int)
    /// The authenticated `level3` channel (orders one by one): `depth` 10, 100 or 1000 price levels a side, a snapshot
    /// first; the token goes with the subscribe and the unsubscribe.
    case subscribeLevel3(symbols: [String], depth: Int)
    case unsubscribeLevel3(symbols: [String], depth: Int)
    /// The public `ticker`, `trade` and `ohlc` channels (one answer per symbol).
    case subscribeChannel(KrakenPublicChannel, symbols: [String])
    case unsubscribeChannel(KrakenPublicChannel, symbols: [String])
    case cancelOrder(KrakenCancelTarget)
    case cancelAll
    case cancelAllOrdersAfter(timeoutSeconds: Int)
    case ping

    /// How many answers the venue sends, all with the request's `req_id`: one per order of a multi-id
    /// `cancel_order`, one per symbol of a channel subscription.
    var answers: Int {
        switch self {
        case .cancelOrder(let t): return t.count
        case .subscribeBook(let symbols, _), .unsubscribeBook(let symbols, _): return symbols.count
        case .subscribeLevel3(let symbols, _), .unsubscribeLevel3(let symbols, _): return symbols.count
        case .subscribeChannel(_, let symbols), .unsubscribeChannel(_, let symbols): return symbols.count
        default: return 1
        }
    }

    public var method: KrakenMethod {
        switch self {
        case .addOrder: return .addOrder
        case .amendOrder: return .amendOrder
        case .batchAdd: return .batchAdd
        case .subscribeExecutions, .subscribeBook, .subscribeInstruments, .subscribeChannel, .subscribeLevel3: return .subscribe
        case .unsubscribeBook, .unsubscribeChannel, .unsubscribeLevel3: return .unsubscribe
        case .cancelOrder: return .cancelOrder
        case .cancelAll: return .cancelAll
        case .cancelAllOrdersAfter: return .cancelAllOrdersAfter
        case .ping: return .ping
        }
    }

}
