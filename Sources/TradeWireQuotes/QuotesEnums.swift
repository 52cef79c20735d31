import TradeWire

/// The requests of the product-quotes stream (seed 002, protocols.md §3).
public enum QuotesOp: String, Sendable {
    case subscribe, unsubscribe, unsubscribeAll, ping
}

/// `status` of a subscribed/unsubscribed answer: WARN means some names were not taken. A status this version
/// does not know is kept (`.unknown`), so the answer still completes its request.
public enum QuotesStatus: Sendable, Equatable {
    case ok, warn
    case unknown(String)
}

/// The seed's error codes; others are kept as text.
public enum QuotesErrorCode: Sendable, Equatable {
    case emptyMessageReceived
    case messageNotRecognized
    case productNotValid
    case maxProductSubscriptionsReached
    case other(String)

    init(_ s: String) {
        switch s {
        case "EMPTY_MESSAGE_RECEIVED": self = .emptyMessageReceived
        case "MESSAGE_NOT_RECOGNIZED": self = .messageNotRecognized
        case "PRODUCT_NOT_VALID": self = .productNotValid
        case "MAX_PRODUCT_SUBSCRIPTIONS_REACHED": self = .maxProductSubscriptionsReached
        default: self = .other(s)
        }
    }

    public var wireName: String {
        switch self {
        case .emptyMessageReceived: return "EMPTY_MESSAGE_RECEIVED"
        case .messageNotRecognized: return "MESSAGE_NOT_RECOGNIZED"
        case .productNotValid: return "PRODUCT_NOT_VALID"
        case .maxProductSubscriptionsReached: return "MAX_PRODUCT_SUBSCRIPTIONS_REACHED"
        case .other(let s): return s
        }
    }
}

/// Limits of the stream, enforced on the client side.
public enum QuotesLimits {
    /// Names per subscribe frame (frames may not exceed 65,536 bytes).
    public static let namesPerRequest = 100
    /// Subscriptions per connection.
    public static let maxSubscriptions = 10_000
    /// Requests per minute.
    public static let requestsPerMinute = 50
}
