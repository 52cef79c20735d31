import TradeWire

/// Requests to the broker order gateway of seed 000 (protocols.md §4.5).
public enum GatewayRequest: Sendable {
    case ping
    /// Market data ticks for these instruments (no answer; ticks follow).
    case subscribe(instruments: [String])
    case ordersSubscribe(account: String)
    /// `send_order` with its client order id.
    case sendOrder(clientOrderID: ClientOrderID, order: GatewayOrder)

    public var method: GatewayMethod {
        switch self {
        case .ping: return .ping
        case .subscribe: return .subscribe
        case .ordersSubscribe: return .ordersSubscribe
        case .sendOrder: return .sendOrder
        }
    }
}

/// A gateway request's method, as sent in `type` (latency statistics and metrics are kept per method).
public enum GatewayMethod: String, Sendable, CaseIterable {
    case ping
    case subscribe
    case ordersSubscribe = "orders_subscribe"
    case sendOrder = "send_order"

    /// Its place in `allCases`: an index into per-method tables.
    var slot: Int {
        switch self {
        case .ping: return 0
        case .subscribe: return 1
        case .ordersSubscribe: return 2
        case .sendOrder: return 3
        }
    }
}

/// The `order` object of `send_order`.
public struct GatewayOrder: Sendable {
    public enum TimeInForce: String, Sendable { case day = "DAY", ioc = "IOC", fok = "FOK", gtd = "GTD" }
    public var symbol: String
    public var side: Side
    public var size: Quantity
    public var price: Price?
    /// `LIMIT` or `MARKET`.
    public var type: OrderType
    public var tif: TimeInForce
    public var market: String

    public init(symbol: String, side: Side, size: Quantity, price: Price?, type: OrderType = .limit,
                tif: TimeInForce = .day, market: String = "ROFX") {
        self.symbol = symbol
        self.side = side
        self.size = size
        self.price = price
        self.type = type
        self.tif = tif
        self.market = market
    }
}

/// Broker order status (Primary's values). A value this version does not know is kept as `.unknown`, not
/// refused: the report (a fill, perhaps) still reaches the caller.
public enum GatewayOrderStatus: RawRepresentable, Sendable, Hashable {
    case pendingNew, new, partiallyFilled, filled, cancelled, pendingCancel, rejected, replaced, expired
    case unknown(String)

    public init(rawValue: String) {
        switch rawValue {
        case "PENDING_NEW": self = .pendingNew
        case "NEW": self = .new
        case "PARTIALLY_FILLED": self = .partiallyFilled
        case "FILLED": self = .filled
        case "CANCELLED": self = .cancelled
        case "PENDING_CANCEL": self = .pendingCancel
        case "REJECTED": self = .rejected
        case "REPLACED": self = .replaced
        case "EXPIRED": self = .expired
        default: self = .unknown(rawValue)
        }
    }

    public var rawValue: String {
        switch self {
        case .pendingNew: "PENDING_NEW"
        case .new: "NEW"
        case .partiallyFilled: "PARTIALLY_FILLED"
        case .filled: "FILLED"
        case .cancelled: "CANCELLED"
        case .pendingCancel: "PENDING_CANCEL"
        case .rejected: "REJECTED"
        case .replaced: "REPLACED"
        case .expired: "EXPIRED"
        case .unknown(let s): s
        }
    }
}

/// An order report, from either shape the gateway sends (flat, or Primary's raw `or`).
public struct GatewayOrderReport: Sendable {
    /// The client id, from `wsClOrdId`, `clOrdId`, `clientId` or `client_order_id` (first report only, in the raw shape).
    public let clientOrderID: String?
    public let orderID: String?
    public let status: GatewayOrderStatus
    public let side: Side?
    public let symbol: String?
    public let size: FixedDecimal?
    public let price: FixedDecimal?
    public let cumQty: FixedDecimal?
    public let lastQty: FixedDecimal?
    public let lastPrice: FixedDecimal?
    public let text: String?
    /// true for `{"type":"or","orderReport":{…}}`.
    public let rawPrimaryShape: Bool
}

/// An `order_ack`: the gateway took (or refused) the order.
public struct GatewayOrderAck: Sendable, Equatable {
    public let ok: Bool
    public let orderID: String?
    public let status: String?
    /// The reason of a refusal (`ws_not_connected`, …).
    public let message: String?
    public let clientOrderID: String?
}

/// A market data tick.
public struct GatewayTick: Sendable {
    public let symbol: InlineText
    public let bid: FixedDecimal?
    public let bidSize: FixedDecimal?
    public let offer: FixedDecimal?
    public let offerSize: FixedDecimal?
    public let last: FixedDecimal?
    public let lastSize: FixedDecimal?
    public let tsMs: Int64?
}

/// Every message the gateway sends.
public enum GatewayInbound: Sendable {
    case connection(status: String)
    case pong
    case ordersSubscribed(account: String, ok: Bool)
    case orderAck(GatewayOrderAck)
    case orderReport(GatewayOrderReport)
    case tick(GatewayTick)
    case error(message: String)
}
