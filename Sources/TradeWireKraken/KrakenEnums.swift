import TradeWire

/// Kraken Spot WS v2 request methods.
public enum KrakenMethod: String, Sendable, CaseIterable {
    case addOrder = "add_order"
    case amendOrder = "amend_order"
    case cancelOrder = "cancel_order"
    case cancelAll = "cancel_all"
    case cancelAllOrdersAfter = "cancel_all_orders_after"
    case batchAdd = "batch_add"
    case ping = "ping"
    case subscribe = "subscribe"
    case unsubscribe = "unsubscribe"

    /// The wire name as a static string (for the writer; no allocation).
    public var wireName: StaticString {
        switch self {
        case .addOrder: return "add_order"
        case .amendOrder: return "amend_order"
        case .cancelOrder: return "cancel_order"
        case .cancelAll: return "cancel_all"
        case .cancelAllOrdersAfter: return "cancel_all_orders_after"
        case .batchAdd: return "batch_add"
        case .ping: return "ping"
        case .subscribe: return "subscribe"
        case .unsubscribe: return "unsubscribe"
        }
    }

    /// Position in `allCases`, without building the array (no allocation).
    var ordinal: Int {
        switch self {
        case .addOrder: return 0
        case .amendOrder: return 1
        case .cancelOrder: return 2
        case .cancelAll: return 3
        case .cancelAllOrdersAfter: return 4
        case .batchAdd: return 5
        case .ping: return 6
        case .subscribe: return 7
        case .unsubscribe: return 8
        }
    }

    static func at(ordinal i: Int) -> KrakenMethod? {
        switch i {
        case 0: return .addOrder
        case 1: return .amendOrder
        case 2: return .cancelOrder
        case 3: return .cancelAll
        case 4: return .cancelAllOrdersAfter
        case 5: return .batchAdd
        case 6: return .ping
        case 7: return .subscribe
        case 8: return .unsubscribe
        default: return nil
        }
    }

    /// The wire names by ordinal, then `pong` (a reply, not a request method).
    static let wireNames = JSONKeySet(["add_order", "amend_order", "cancel_order", "cancel_all", "cancel_all_orders_after",
                                       "batch_add", "ping", "subscribe", "unsubscribe", "pong"])
    static let pongOrdinal = 9
}

extension OrderType {
    /// Kraken's spelling (protocols.md §1.4).
    var krakenName: StaticString {
        switch self {
        case .market: return "market"
        case .limit: return "limit"
        case .stopLoss: return "stop-loss"
        case .stopLossLimit: return "stop-loss-limit"
        case .takeProfit: return "take-profit"
        case .takeProfitLimit: return "take-profit-limit"
        case .trailingStop: return "trailing-stop"
        case .trailingStopLimit: return "trailing-stop-limit"
        case .iceberg: return "iceberg"
        }
    }

    /// Types that rest until a trigger fires (`triggers` required).
    var isTriggered: Bool {
        switch self {
        case .stopLoss, .stopLossLimit, .takeProfit, .takeProfitLimit, .trailingStop, .trailingStopLimit: return true
        case .market, .limit, .iceberg: return false
        }
    }

    var needsLimitPrice: Bool {
        switch self {
        case .limit, .stopLossLimit, .takeProfitLimit, .trailingStopLimit, .iceberg: return true
        default: return false
        }
    }
}
