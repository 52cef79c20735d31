import TradeWire

/// An `order.place` / `order.test` order (and the new order of `order.cancelReplace`), with every parameter the
/// Trading requests section documents. `validate()` applies the docs' mandatory-parameter table before anything is
/// sent; the encoder calls it.
public struct BinanceOrder: Sendable {
    public enum OrderType: String, Sendable {
        case limit = "LIMIT", limitMaker = "LIMIT_MAKER", market = "MARKET", stopLoss = "STOP_LOSS"
        case stopLossLimit = "STOP_LOSS_LIMIT", takeProfit = "TAKE_PROFIT", takeProfitLimit = "TAKE_PROFIT_LIMIT"

        /// Triggered types: they need `stopPrice` or `trailingDelta`.
        // Switches, not `[…].contains`: validation runs on every order, and an array literal is an allocation.
        public var isTriggered: Bool {
            switch self {
            case .stopLoss, .stopLossLimit, .takeProfit, .takeProfitLimit: return true
            case .limit, .limitMaker, .market: return false
            }
        }
        /// Types with a limit price and a time in force.
        var takesTimeInForce: Bool {
            switch self {
            case .limit, .stopLossLimit, .takeProfitLimit: return true
            case .limitMaker, .market, .stopLoss, .takeProfit: return false
            }
        }
        /// Types with a limit price (iceberg and pegged orders need one).
        var hasLimitPrice: Bool {
            switch self {
            case .limit, .limitMaker, .stopLossLimit, .takeProfitLimit: return true
            case .market, .stopLoss, .takeProfit: return false
            }
        }
    }
    public enum TimeInForce: String, Sendable { case gtc = "GTC", ioc = "IOC", fok = "FOK" }
    /// `newOrderRespType`. Binance's default: FULL for MARKET and LIMIT, ACK for the others.
    public enum ResponseType: String, Sendable { case ack = "ACK", result = "RESULT", full = "FULL" }
    /// `selfTradePreventionMode` (enums.md); which ones a symbol allows is in its `allowedSelfTradePreventionModes`.
    public enum SelfTradePreventionMode: String, Sendable {
        case none = "NONE", expireTaker = "EXPIRE_TAKER", expireMaker = "EXPIRE_MAKER", expireBoth = "EXPIRE_BOTH"
        case decrement = "DECREMENT", transfer = "TRANSFER"
    }
    /// `pegPriceType`: peg the limit price to the same side's best price or to the other side's.
    public enum PegPriceType: String, Sendable { case primaryPeg = "PRIMARY_PEG", marketPeg = "MARKET_PEG" }
    /// `pegOffsetType`: only price levels.
    public enum PegOffsetType: String, Sendable { case priceLevel = "PRICE_LEVEL" }

    public var symbol: String
    public var side: Side
    public var type: OrderType
    /// Base quantity; a MARKET order takes it or `quoteOrderQty`.
    public var quantity: Quantity?
    /// MARKET only: spend (BUY) or receive (SELL) this much of the quote asset.
    public var quoteOrderQty: Quantity?
    public var price: Price?
    public var timeInForce: TimeInForce?
    public var newClientOrderID: ClientOrderID?
    public var responseType: ResponseType?
    /// Trigger price of STOP_LOSS(_LIMIT) / TAKE_PROFIT(_LIMIT).
    public var stopPrice: Price?
    /// Trailing stop distance in BIPS (STOP_LOSS(_LIMIT) / TAKE_PROFIT(_LIMIT)), sent as a JSON number.
    public var trailingDelta: Int64?
    /// Visible part of an iceberg (LIMIT, LIMIT_MAKER and the stop-limit types, time in force GTC).
    public var icebergQty: Quantity?
    public var strategyID: Int64?
    /// At least 1000000 (smaller values are reserved: -1134).
    public var strategyType: Int64?
    public var selfTradePreventionMode: SelfTradePreventionMode?
    /// Pegged orders: with a peg the price may be left out.
    public var pegPriceType: PegPriceType?
    /// 0...100 price levels; given with `pegOffsetType`.
    public var pegOffsetValue: Int?
    public var pegOffsetType: PegOffsetType?
    /// Milliseconds the request stays valid (≤ 60000; the venue's default is 5000).
    public var recvWindow: Int?

    public init(symbol: String, side: Side, type: OrderType, quantity: Quantity? = nil, price: Price? = nil,
                timeInForce: TimeInForce? = nil, newClientOrderID: ClientOrderID? = nil, responseType: ResponseType? = nil,
                recvWindow: Int? = nil, quoteOrderQty: Quantity? = nil, stopPrice: Price? = nil, trailingDelta: Int64? = nil,
                icebergQty: Quantity? = nil, strategyID: Int64? = nil, strategyType: Int64? = nil,
                selfTradePreventionMode: SelfTradePreventionMode? = nil, pegPriceType: PegPriceType? = nil,
                pegOffsetValue: Int? = nil, pegOffsetType: PegOffsetType? = nil) {
        self.symbol = symbol
        self.side = side
        self.type = type
        self.quantity = quantity
        self.price = price
        self.timeInForce = timeInForce
        self.newClientOrderID = newClientOrderID
        self.responseType = responseType
        self.recvWindow = recvWindow
        self.quoteOrderQty = quoteOrderQty
        self.stopPrice = stopPrice
        self.trailingDelta = trailingDelta
        self.icebergQty = icebergQty
        self.strategyID = strategyID
        self.strategyType = strategyType
        self.selfTradePreventionMode = selfTradePreventionMode
        self.pegPriceType = pegPriceType
        self.pegOffsetValue = pegOffsetValue
        self.pegOffsetType = pegOffsetType
    }

    public static func limit(_ symbol: String, _ side: Side, quantity: Quantity, price: Price, timeInForce: TimeInForce = .gtc,
                             clientOrderID: ClientOrderID? = nil) -> BinanceOrder {
        BinanceOrder(symbol: symbol, side: side, type: .limit, quantity: quantity, price: price, timeInForce: timeInForce,
                     newClientOrderID: clientOrderID)
    }

    public static func market(_ symbol: String, _ side: Side, quantity: Quantity, clientOrderID: ClientOrderID? = nil) -> BinanceOrder {
        BinanceOrder(symbol: symbol, side: side, type: .market, quantity: quantity, newClientOrderID: clientOrderID)
    }

    /// A STOP_LOSS (market once triggered) at `stopPrice`.
    public static func stopLoss(_ symbol: String, _ side: Side, quantity: Quantity, stopPrice: Price,
                                clientOrderID: ClientOrderID? = nil) -> BinanceOrder {
        BinanceOrder(symbol: symbol, side: side, type: .stopLoss, quantity: quantity, newClientOrderID: clientOrderID, stopPrice: stopPrice)
    }

    /// A STOP_LOSS_LIMIT: at `stopPrice` a limit order at `price` is placed.
    public static func stopLossLimit(_ symbol: String, _ side: Side, quantity: Quantity, price: Price, stopPrice: Price,
                                     timeInForce: TimeInForce = .gtc, clientOrderID: ClientOrderID? = nil) -> BinanceOrder {
        BinanceOrder(symbol: symbol, side: side, type: .stopLossLimit, quantity: quantity, price: price, timeInForce: timeInForce,
                     newClientOrderID: clientOrderID, stopPrice: stopPrice)
    }

    static func invalid(_ detail: String) -> TradeWireError { TradeWireError(code: .invalidArgument, detail: "Binance order: \(detail)") }

    /// The docs' rules for `order.place` (mandatory parameters by type, iceberg, trigger, strategy and peg rules,
    /// recvWindow), checked before anything is sent.
    public func validate() throws(TradeWireError) {
        let t = type.rawValue
        let pegged = pegPriceType != nil
        if let q = quantity, q.value <= .zero { throw Self.invalid("quantity must be above 0") }
        if let p = price, p.value <= .zero { throw Self.invalid("price must be above 0") }
        switch type {
        case .market:
            guard (quantity == nil) != (quoteOrderQty == nil) else { throw Self.invalid("a MARKET order needs quantity or quoteOrderQty (one of them)") }
        default:
            guard quantity != nil else { throw Self.invalid("a \(t) order needs quantity") }
            guard quoteOrderQty == nil else { throw Self.invalid("quoteOrderQty is for MARKET orders only") }
        }
        switch type {
        case .limit, .limitMaker, .stopLossLimit, .takeProfitLimit:
            guard price != nil || pegged else { throw Self.invalid("a \(t) order needs price (or pegPriceType)") }
        case .market, .stopLoss, .takeProfit:
            guard price == nil else { throw Self.invalid("a \(t) order takes no price") }
        }
        if type.takesTimeInForce {
            guard timeInForce != nil else { throw Self.invalid("a \(t) order needs timeInForce") }
        } else if type == .limitMaker, timeInForce != nil {
            throw Self.invalid("a LIMIT_MAKER order takes no timeInForce")
        }
        if type.isTriggered {
            guard stopPrice != nil || trailingDelta != nil else { throw Self.invalid("a \(t) order needs stopPrice or trailingDelta") }
        } else if stopPrice != nil || trailingDelta != nil {
            throw Self.invalid("stopPrice and trailingDelta are for STOP_LOSS(_LIMIT) and TAKE_PROFIT(_LIMIT) orders")
        }
        if let s = stopPrice, s.value <= .zero { throw Self.invalid("stopPrice must be above 0") }
        if let d = trailingDelta, d <= 0 { throw Self.invalid("trailingDelta (BIPS) must be above 0") }
        if let i = icebergQty {
            guard type.hasLimitPrice else {
                throw Self.invalid("icebergQty is for LIMIT, LIMIT_MAKER and the stop-limit types")
            }
            guard i.value > .zero else { throw Self.invalid("icebergQty must be above 0") }
            if let tif = timeInForce, tif != .gtc { throw Self.invalid("an order with icebergQty must have timeInForce GTC") }
        }
        if let s = strategyType, s < 1_000_000 { throw Self.invalid("strategyType must be at least 1000000 (smaller values are reserved)") }
        if pegged || pegOffsetType != nil || pegOffsetValue != nil {
            guard pegged else { throw Self.invalid("pegOffsetType/pegOffsetValue need pegPriceType") }
            guard type.hasLimitPrice else {
                throw Self.invalid("pegged orders are LIMIT, LIMIT_MAKER, STOP_LOSS_LIMIT or TAKE_PROFIT_LIMIT")
            }
            guard (pegOffsetType == nil) == (pegOffsetValue == nil) else { throw Self.invalid("pegOffsetType and pegOffsetValue go together") }
            if let v = pegOffsetValue, !(0...100).contains(v) { throw Self.invalid("pegOffsetValue must be 0...100") }
            if type == .limitMaker, pegPriceType != .primaryPeg { throw Self.invalid("a LIMIT_MAKER order can only be PRIMARY_PEG") }
            if type == .limit, pegPriceType == .primaryPeg, timeInForce != .gtc { throw Self.invalid("a PRIMARY_PEG LIMIT order must be GTC") }
        }
        if let r = recvWindow, !(1...60_000).contains(r) { throw Self.invalid("recvWindow must be 1...60000 ms") }
    }
}
