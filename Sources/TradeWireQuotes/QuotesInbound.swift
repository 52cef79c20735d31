import TradeWire

/// A product and its quote, as `subscribed` reports it.
public struct QuotesProduct: Sendable, Equatable {
    public let name: String
    public let quote: FixedDecimal?
}

/// An answer to a request.
public enum QuotesResponse: Sendable, Equatable {
    case subscribed(status: QuotesStatus, timestamp: Int64, products: [QuotesProduct])
    case unsubscribed(status: QuotesStatus, timestamp: Int64, productNames: [String])
    case pong(msg: String, timestamp: Int64)
}

/// An error the stream reported (`{"op":"error",…}`).
public struct QuotesError: Sendable, Error, Equatable {
    public let opRequest: String?
    public let code: QuotesErrorCode
    public let msg: String
    public let timestamp: Int64?
}

/// Every message the stream sends.
public enum QuotesInbound: Sendable, Equatable {
    case response(QuotesResponse)
    case error(QuotesError)
    /// `pq`: decoded without allocation.
    case quote(product: InlineText, quote: FixedDecimal, timestamp: Int64)
    case heartbeat(timestamp: Int64)
}
