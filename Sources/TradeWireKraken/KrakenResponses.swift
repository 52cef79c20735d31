import TradeWire

/// A response to a Kraken request, decoded without allocation.
public struct KrakenResponse: Sendable, Equatable {
    public let method: KrakenMethod
    public let requestID: UInt64
    /// `success` (a missing or non-boolean `success` reads as false, as the SDK does).
    public let success: Bool
    public let orderUserref: Int64?
    /// `cancel_all`: how many orders were cancelled.
    public let count: Int64?
    /// The venue sent `warnings` in the result.
    public let hasWarnings: Bool
    /// `batch_add`: one row per order, in request order.
    public var batch: [KrakenBatchRow]? = nil
    /// The text fields, packed (see `InlineTextPack`): this struct is copied on its way from the
    /// decoder to the callback, and with six `InlineText?` members it was 544 bytes (now 256).
    var texts: InlineTextPack

    /// Field numbers in `texts`.
    enum Text {
        static let error = 0, orderID = 1, clientOrderID = 2, timeIn = 3, timeOut = 4, amendID = 5
    }

    /// The venue's error string, e.g. `EOrder:Insufficient funds`.
    public var error: InlineText? { texts[Text.error] }
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
                timeOut: InlineText?, hasWarnings: Bool, amendID: InlineText? = nil, batch: [KrakenBatchRow]? = nil) {
        var t = InlineTextPack()
        t[Text.error] = error
        t[Text.orderID] = orderID
        t[Text.clientOrderID] = clientOrderID
        t[Text.timeIn] = timeIn
        t[Text.timeOut] = timeOut
        t[Text.amendID] = amendID
        self.init(method: method, requestID: requestID, success: success, orderUserref: orderUserref, count: count,
                  hasWarnings: hasWarnings, texts: t, batch: batch)
    }

    /// With the texts already packed (the decoders write them straight from the message).
    init(method: KrakenMethod, requestID: UInt64, success: Bool, orderUserref: Int64?, count: Int64?,
         hasWarnings: Bool, texts: InlineTextPack, batch: [KrakenBatchRow]? = nil) {
        self.method = method
        self.requestID = requestID
        self.success = success
        self.orderUserref = orderUserref
        self.count = count
        self.hasWarnings = hasWarnings
        self.texts = texts
        self.batch = batch
    }
}

/// One row of a `batch_add` result.
public struct KrakenBatchRow: Sendable, Equatable {
    public let orderID: InlineText?
    public let orderUserref: Int64?
    public let clientOrderID: InlineText?
    public let error: InlineText?
}

/// Messages Kraken pushes that do not answer a request.
public enum KrakenPush: Sendable {
    case status(system: InlineText, version: InlineText)
    case heartbeat
    case executions(KrakenExecutions)
    case pong(requestID: UInt64?)
    case other(channel: InlineText)
}

/// A Kraken message, decoded.
public enum KrakenInbound: Sendable {
    case response(KrakenResponse)
    case push(KrakenPush)
}
