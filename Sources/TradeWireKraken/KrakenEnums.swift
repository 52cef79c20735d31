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
        }
    }

    init?(json v: JSONValue) {
        for m in Self.allCases where v.stringEquals(m.wireName) { self = m; return }
        return nil
    }
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

    var needsLimitPrice: Bool {
        switch self {
        case .limit, .stopLossLimit, .takeProfitLimit, .trailingStopLimit, .iceberg: return true
        default: return false
        }
    }
}
