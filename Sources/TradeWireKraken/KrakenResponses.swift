import TradeWire

/// A response to a Kraken request, decoded without allocation.
public struct KrakenResponse: Sendable, Equatable {
    public let method: KrakenMethod
    /// The echoed `req_id`; 0 when the answer carried none (TradeWire's requests always carry one, from 1).
    public let requestID: UInt64
    /// `success` (a missing or non-boolean `success` reads as false, as the SDK does).
    public let success: Bool
    public let orderUserref: Int64?
    /// `cancel_all`: how many orders were cancelled.
    public let count: Int64?
    /// The venue sent `warnings` in the result.
    public let hasWarnings: Bool
    /// Per-order outcomes: `batch_add`'s rows (one per order, in request order; a partly placed batch has
    /// the live orders' ids even when `success` is false), or a multi-id `cancel_order`'s answers (one per
    /// order, in arrival order). nil for single-order requests.
    public var orders: [KrakenOrderRow]? = nil
    /// The venue's error text in full when it was longer than an inline text (64 bytes); see `errorText`.
    public var fullError: String? = nil
    /// The text fields, packed (see `InlineTextPack`): this struct is copied on its way from the
    /// decoder to the callback, and with six `InlineText?` members it was 544 bytes (now 256).
    var texts: InlineTextPack

    /// Field numbers in `texts`.
    enum Text {
        static let error = 0, orderID = 1, clientOrderID = 2, timeIn = 3, timeOut = 4, amendID = 5
        static let currentTime = 6, triggerTime = 7
    }

    /// The venue's error string, e.g. `EOrder:Insufficient funds` (cut at 64 bytes: `errorText` is whole).
    public var error: InlineText? { texts[Text.error] }
    /// The venue's error string, never cut.
    public var errorText: String? { fullError ?? error?.description }
    /// `cancel_all_orders_after`: the engine's time, and when the orders will be cancelled (RFC 3339).
    public var currentTime: InlineText? {
        get { texts[Text.currentTime] }
        set { texts[Text.currentTime] = newValue }
    }
    public var triggerTime: InlineText? {
        get { texts[Text.triggerTime] }
        set { texts[Text.triggerTime] = newValue }
    }
    public var orderID: InlineText? { texts[Text.orderID] }
    public var clientOrderID: InlineText? { texts[Text.clientOrderID] }
    public var timeIn: InlineText? { texts[Text.timeIn] }
    public var timeOut: InlineText? { texts[Text.timeOut] }
    /// `amend_order`: the venue's amend id.
    public var amendID: InlineText? {
        get { texts[Text.amendID] }
        set { texts[Text.amendID] = newValue }
    }

    public init(method: KrakenMethod, requestID: UInt64, success: Bool, error: InlineText?, orderID: InlineText?,
                clientOrderID: InlineText?, orderUserref: Int64?, count: Int64?, timeIn: InlineText?,
                timeOut: InlineText?, hasWarnings: Bool, amendID: InlineText? = nil, orders: [KrakenOrderRow]? = nil) {
        var t = InlineTextPack()
        t[Text.error] = error
        t[Text.orderID] = orderID
        t[Text.clientOrderID] = clientOrderID
        t[Text.timeIn] = timeIn
        t[Text.timeOut] = timeOut
        t[Text.amendID] = amendID
        self.init(method: method, requestID: requestID, success: success, orderUserref: orderUserref, count: count,
                  hasWarnings: hasWarnings, texts: t, orders: orders)
    }

    /// With the texts already packed (the decoders write them straight from the message).
    init(method: KrakenMethod, requestID: UInt64, success: Bool, orderUserref: Int64?, count: Int64?,
         hasWarnings: Bool, texts: InlineTextPack, orders: [KrakenOrderRow]? = nil) {
        self.method = method
        self.requestID = requestID
        self.success = success
        self.orderUserref = orderUserref
        self.count = count
        self.hasWarnings = hasWarnings
        self.texts = texts
        self.orders = orders
    }
}

/// One order's outcome in a multi-order answer: a `batch_add` row or one answer of a multi-id `cancel_order`.
/// An order id means the order is (or was, for a cancel) at the venue; `error` says why this one failed.
public struct KrakenOrderRow: Sendable, Equatable {
    public let orderID: InlineText?
    public let orderUserref: Int64?
    public let clientOrderID: InlineText?
    public let error: String?

    public init(orderID: InlineText?, orderUserref: Int64?, clientOrderID: InlineText?, error: String?) {
        self.orderID = orderID
        self.orderUserref = orderUserref
        self.clientOrderID = clientOrderID
        self.error = error
    }

    /// This order's request succeeded.
    public var succeeded: Bool { error == nil }
}

/// Messages Kraken pushes that do not answer a request.
public enum KrakenPush: Sendable {
    case status(system: InlineText, version: InlineText)
    case heartbeat
    case executions(KrakenExecutions)
    case pong(requestID: UInt64?)
    /// The public `instrument` channel: pairs and their precisions (they also feed the book's checksum).
    case instruments(KrakenInstruments)
    /// The public `ticker`, `trade` and `ohlc` channels.
    case ticker(KrakenMarketMessage<KrakenTicker>)
    case trades(KrakenMarketMessage<KrakenTrade>)
    case ohlc(KrakenMarketMessage<KrakenCandle>)
    case other(channel: InlineText)
}

/// A Kraken message, decoded.
public enum KrakenInbound: Sendable {
    case response(KrakenResponse)
    case push(KrakenPush)
}
