import TradeWire

/// `add_order` (protocols.md §1.4): a venue-neutral order plus Kraken's options.
public struct KrakenAddOrder: Sendable {
    public var order: Order
    /// Legacy numeric tag; cannot be combined with a client order id.
    public var orderUserref: Int64?
    /// RFC 3339; the engine will not match after it (0.5–60 s ahead).
    public var deadline: String?
    /// Validate only: nothing is placed.
    public var validate: Bool

    public init(_ order: Order, orderUserref: Int64? = nil, deadline: String? = nil, validate: Bool = false) {
        self.order = order
        self.orderUserref = orderUserref
        self.deadline = deadline
        self.validate = validate
    }
}

/// Which orders a `cancel_order` names: exactly one kind of identifier.
public enum KrakenCancelTarget: Sendable {
    case orderIDs([String])
    case clientOrderIDs([ClientOrderID])
    case userrefs([Int64])
}

/// A Kraken request, typed.
public enum KrakenRequest: Sendable {
    case addOrder(KrakenAddOrder)
    case cancelOrder(KrakenCancelTarget)
    case cancelAll
    case cancelAllOrdersAfter(timeoutSeconds: Int)
    case ping

    public var method: KrakenMethod {
        switch self {
        case .addOrder: return .addOrder
        case .cancelOrder: return .cancelOrder
        case .cancelAll: return .cancelAll
        case .cancelAllOrdersAfter: return .cancelAllOrdersAfter
        case .ping: return .ping
        }
    }

    /// The pair a request counts against in Kraken's per-pair rate counter.
    var rateKey: String? {
        if case .addOrder(let a) = self { return a.order.symbol }
        return nil
    }
}
