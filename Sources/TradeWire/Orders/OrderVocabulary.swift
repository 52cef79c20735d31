/// Buy or sell.
public enum Side: Sendable, Hashable {
    case buy, sell
}

/// Venue-neutral order types; each venue maps them to its own spelling and
/// refuses the ones it lacks with a typed error.
public enum OrderType: Sendable, Hashable {
    case market
    case limit
    case stopLoss
    case stopLossLimit
    case takeProfit
    case takeProfitLimit
    case trailingStop
    case trailingStopLimit
    case iceberg
}

public enum TimeInForce: Sendable, Hashable {
    /// Good till cancelled.
    case gtc
    /// Immediate or cancel.
    case ioc
    /// Fill or kill.
    case fok
    /// Good till date (the venue's `expire_time`).
    case gtd
}

/// A client order id, stored inline (up to 48 printable ASCII bytes, no quote or
/// backslash): no allocation to make, copy or encode.
public struct ClientOrderID: Sendable, Hashable, CustomStringConvertible {
    public static let maxLength = 48
    private let text: InlineText

    /// nil if longer than 48 bytes or not printable ASCII.
    public init?(_ s: String) {
        var s = s
        guard let t = s.withUTF8({ ClientOrderID.validated(UnsafeRawBufferPointer($0)) }) else { return nil }
        text = t
    }

    /// From raw bytes (e.g. a JSON string view); same rules.
    public init?(bytes: UnsafeRawBufferPointer) {
        guard let t = Self.validated(bytes) else { return nil }
        text = t
    }

    private static func validated(_ b: UnsafeRawBufferPointer) -> InlineText? {
        guard b.count <= maxLength,
              b.allSatisfy({ $0 >= 0x21 && $0 <= 0x7E && $0 != UInt8(ascii: "\"") && $0 != UInt8(ascii: "\\") }) else { return nil }
        return InlineText(bytes: b)
    }

    public var count: Int { text.count }

    /// The bytes, lent.
    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R { try text.withBytes(body) }

    public var description: String { text.description }
}

/// A venue-neutral order. Venues add their own options on their request types.
public struct Order: Sendable {
    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var quantity: Quantity
    public var limitPrice: Price?
    public var triggerPrice: Price?
    public var timeInForce: TimeInForce
    public var postOnly: Bool
    public var reduceOnly: Bool
    public var clientOrderID: ClientOrderID?

    public init(symbol: String, side: Side, type: OrderType, quantity: Quantity, limitPrice: Price? = nil,
                triggerPrice: Price? = nil, timeInForce: TimeInForce = .gtc, postOnly: Bool = false,
                reduceOnly: Bool = false, clientOrderID: ClientOrderID? = nil) {
        self.symbol = symbol
        self.side = side
        self.type = type
        self.quantity = quantity
        self.limitPrice = limitPrice
        self.triggerPrice = triggerPrice
        self.timeInForce = timeInForce
        self.postOnly = postOnly
        self.reduceOnly = reduceOnly
        self.clientOrderID = clientOrderID
    }

    /// A limit order.
    public static func limit(_ symbol: String, _ side: Side, quantity: Quantity, price: Price,
                             timeInForce: TimeInForce = .gtc, postOnly: Bool = false,
                             clientOrderID: ClientOrderID? = nil) -> Order {
        Order(symbol: symbol, side: side, type: .limit, quantity: quantity, limitPrice: price,
              timeInForce: timeInForce, postOnly: postOnly, clientOrderID: clientOrderID)
    }

    /// A market order.
    public static func market(_ symbol: String, _ side: Side, quantity: Quantity, clientOrderID: ClientOrderID? = nil) -> Order {
        Order(symbol: symbol, side: side, type: .market, quantity: quantity, clientOrderID: clientOrderID)
    }
}
