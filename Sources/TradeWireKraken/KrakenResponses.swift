import TradeWire

/// A response to a Kraken request, decoded without allocation.
public struct KrakenResponse: Sendable, Equatable {
    public let method: KrakenMethod
    public let requestID: UInt64
    /// `success` (a missing or non-boolean `success` reads as false, as the SDK does).
    public let success: Bool
    /// The venue's error string, e.g. `EOrder:Insufficient funds`.
    public let error: InlineText?
    public let orderID: InlineText?
    public let clientOrderID: InlineText?
    public let orderUserref: Int64?
    /// `cancel_all`: how many orders were cancelled.
    public let count: Int64?
    public let timeIn: InlineText?
    public let timeOut: InlineText?
    /// The venue sent `warnings` in the result.
    public let hasWarnings: Bool
    /// `amend_order`: the venue's amend id.
    public var amendID: InlineText? = nil
    /// `batch_add`: one row per order, in request order.
    public var batch: [KrakenBatchRow]? = nil
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
