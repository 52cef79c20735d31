import TradeWire

/// Writes Kraken WS v2 requests straight into the send buffer.
public enum KrakenEncoder {
    /// Validate what the venue would refuse anyway, before anything is sent.
    public static func check(_ r: KrakenRequest) throws(TradeWireError) {
        switch r {
        case .addOrder(let a):
            if a.order.type.needsLimitPrice && a.order.limitPrice == nil {
                throw TradeWireError(code: .invalidArgument, detail: "a \(a.order.type) order needs a limit price")
            }
            if a.orderUserref != nil && a.order.clientOrderID != nil {
                throw TradeWireError(code: .invalidArgument, detail: "Kraken: cl_ord_id cannot be combined with order_userref")
            }
            if a.order.timeInForce == .fok && a.order.type != .limit {
                throw TradeWireError(code: .invalidArgument, detail: "Kraken: fok is available for limit orders only")
            }
            if a.order.timeInForce == .gtd && a.expireTime == nil {
                throw TradeWireError(code: .invalidArgument, detail: "a gtd order needs expireTime")
            }
            if a.order.type.isTriggered && a.order.triggerPrice == nil {
                throw TradeWireError(code: .invalidArgument, detail: "a \(a.order.type) order needs a trigger price (triggers.price)")
            }
            if a.order.type == .trailingStop || a.order.type == .trailingStopLimit {
                // The docs: the distance from the peak, "always a positive value with pct or quote offset".
                guard a.triggerPriceType == .pct || a.triggerPriceType == .quote else {
                    throw TradeWireError(code: .invalidArgument, detail: "a trailing stop's trigger is an offset: triggerPriceType .pct or .quote")
                }
                if let t = a.order.triggerPrice, t.value <= .zero {
                    throw TradeWireError(code: .invalidArgument, detail: "a trailing stop's offset is positive")
                }
            }
        case .amendOrder(let a):
            if a.quantity == nil && a.limitPrice == nil && a.postOnly == nil {
                throw TradeWireError(code: .invalidArgument, detail: "amend_order needs a new quantity, price or post_only")
            }
        case .batchAdd(let symbol, let orders, _, _):
            guard (2...15).contains(orders.count) else {
                throw TradeWireError(code: .invalidArgument, detail: "batch_add takes 2 to 15 orders, not \(orders.count)")
            }
            for o in orders {
                if o.order.symbol != symbol {
                    throw TradeWireError(code: .invalidArgument, detail: "batch_add orders must all be for \(symbol)")
                }
                if o.deadline != nil || o.validate {
                    throw TradeWireError(code: .invalidArgument, detail: "batch_add: deadline and validate are the batch's, not an order's")
                }
                try check(.addOrder(o))
            }
        case .cancelOrder(let t):
            let empty: Bool
            switch t {
            case .orderIDs(let v): empty = v.isEmpty
            case .clientOrderIDs(let v): empty = v.isEmpty
            case .userrefs(let v): empty = v.isEmpty
            }
            if empty { throw TradeWireError(code: .invalidArgument, detail: "cancel_order needs at least one id") }
        case .cancelAllOrdersAfter(let t):
            if t < 0 || t > 86_400 { throw TradeWireError(code: .invalidArgument, detail: "timeout must be 0...86400 s") }
        case .subscribeBook(let symbols, let depth), .unsubscribeBook(let symbols, let depth):
            guard !symbols.isEmpty else { throw TradeWireError(code: .invalidArgument, detail: "book needs at least one symbol") }
            guard [10, 25, 100, 500, 1000].contains(depth) else {
                throw TradeWireError(code: .invalidArgument, detail: "book depth is 10, 25, 100, 500 or 1000, not \(depth)")
            }
        case .subscribeLevel3(let symbols, let depth), .unsubscribeLevel3(let symbols, let depth):
            guard !symbols.isEmpty else { throw TradeWireError(code: .invalidArgument, detail: "level3 needs at least one symbol") }
            guard [10, 100, 1000].contains(depth) else {
                throw TradeWireError(code: .invalidArgument, detail: "level3 depth is 10, 100 or 1000, not \(depth)")
            }
        case .subscribeChannel(let channel, let symbols), .unsubscribeChannel(let channel, let symbols):
            guard !symbols.isEmpty else { throw TradeWireError(code: .invalidArgument, detail: "\(channel.name) needs at least one symbol") }
            if case .ohlc(let interval) = channel, ![1, 5, 15, 30, 60, 240, 1440, 10080, 21600].contains(interval) {
                throw TradeWireError(code: .invalidArgument, detail: "ohlc interval is 1, 5, 15, 30, 60, 240, 1440, 10080 or 21600 minutes, not \(interval)")
            }
        case .cancelAll, .ping, .subscribeExecutions, .subscribeInstruments:
            break
        }
    }

    /// `{"method":…,"params":{…,"token":…},"req_id":id}`
    public static func encode(_ r: KrakenRequest, id: UInt64, token: String?, into w: inout JSONWriter) {
        w.beginObject()
        w.key("method"); w.value(r.method.wireName)
        switch r {
        case .ping:
            break
        case .addOrder(let a):
            w.key("params"); w.beginObject()
            orderFields(a, symbol: true, into: &w)
            token.map { w.key("token"); w.string($0) }
            w.endObject()
        case .amendOrder(let a):
            w.key("params"); w.beginObject()
            switch a.target {
            case .orderID(let id): w.key("order_id"); w.string(id)
            case .clientOrderID(let c): w.key("cl_ord_id"); w.string(c)
            }
            if let q = a.quantity { w.key("order_qty"); w.value(q.value) }
            if let p = a.limitPrice { w.key("limit_price"); w.value(p.value) }
            if let p = a.postOnly { w.key("post_only"); w.value(p) }
            token.map { w.key("token"); w.string($0) }
            w.endObject()
        case .batchAdd(let symbol, let orders, let validate, let deadline):
            w.key("params"); w.beginObject()
            w.key("symbol"); w.string(symbol)
            w.key("validate"); w.value(validate)       // batch-level, as the docs' example sends it
            if let deadline { w.key("deadline"); w.string(deadline) }
            w.key("orders"); w.beginArray()
            for o in orders { w.beginObject(); orderFields(o, symbol: false, into: &w); w.endObject() }
            w.endArray()
            token.map { w.key("token"); w.string($0) }
            w.endObject()
        case .subscribeExecutions(let snapOrders, let snapTrades):
            w.key("params"); w.beginObject()
            w.key("channel"); w.value("executions")
            w.key("snap_orders"); w.value(snapOrders)
            w.key("snap_trades"); w.value(snapTrades)
            token.map { w.key("token"); w.string($0) }
            w.endObject()
        case .subscribeInstruments:
            w.key("params"); w.beginObject(); w.key("channel"); w.value("instrument"); w.endObject()
        case .subscribeBook(let symbols, let depth), .unsubscribeBook(let symbols, let depth):
            w.key("params"); w.beginObject()
            w.key("channel"); w.value("book")
            w.key("symbol"); w.beginArray(); symbols.forEach { w.string($0) }; w.endArray()
            w.key("depth"); w.value(depth)
            if case .subscribeBook = r { w.key("snapshot"); w.value(true) }
            w.endObject()                  // a public channel: no token
        case .subscribeLevel3(let symbols, let depth), .unsubscribeLevel3(let symbols, let depth):
            w.key("params"); w.beginObject()
            w.key("channel"); w.value("level3")
            w.key("symbol"); w.beginArray(); symbols.forEach { w.string($0) }; w.endArray()
            w.key("depth"); w.value(depth)           // the unsubscribe names it too: its default (10) may not be ours
            if case .subscribeLevel3 = r { w.key("snapshot"); w.value(true) }
            token.map { w.key("token"); w.string($0) }
            w.endObject()
        case .subscribeChannel(let channel, let symbols), .unsubscribeChannel(let channel, let symbols):
            w.key("params"); w.beginObject()
            w.key("channel"); w.value(channel.name)
            w.key("symbol"); w.beginArray(); symbols.forEach { w.string($0) }; w.endArray()
            switch channel {
            case .ohlc(let interval): w.key("interval"); w.value(interval)
            case .trade(let snapshot): if case .subscribeChannel = r { w.key("snapshot"); w.value(snapshot) }
            case .ticker: break
            }
            w.endObject()                  // a public channel: no token
        case .cancelOrder(let t):
            w.key("params"); w.beginObject()
            switch t {
            case .orderIDs(let ids): w.key("order_id"); w.beginArray(); ids.forEach { w.string($0) }; w.endArray()
            case .clientOrderIDs(let ids): w.key("cl_ord_id"); w.beginArray(); ids.forEach { w.string($0) }; w.endArray()
            case .userrefs(let refs): w.key("order_userref"); w.beginArray(); refs.forEach { w.value($0) }; w.endArray()
            }
            token.map { w.key("token"); w.string($0) }
            w.endObject()
        case .cancelAll:
            w.key("params"); w.beginObject()
            token.map { w.key("token"); w.string($0) }
            w.endObject()
        case .cancelAllOrdersAfter(let timeout):
            w.key("params"); w.beginObject()
            w.key("timeout"); w.value(timeout)
            token.map { w.key("token"); w.string($0) }
            w.endObject()
        }
        w.key("req_id"); w.value(Int64(bitPattern: id))
        w.endObject()
    }

    /// The fields of one order (add_order params, or a batch_add entry, which has no symbol).
    static func orderFields(_ a: KrakenAddOrder, symbol: Bool, into w: inout JSONWriter) {
        let o = a.order
        w.key("order_type"); w.value(o.type.krakenName)
        w.key("side"); w.value(o.side == .buy ? "buy" : "sell")
        w.key("order_qty"); w.value(o.quantity.value)
        if symbol { w.key("symbol"); w.string(o.symbol) }
        if let p = o.limitPrice { w.key("limit_price"); w.value(p.value) }
        if let t = o.triggerPrice {
            w.key("triggers"); w.beginObject()
            w.key("reference"); w.string(a.triggerReference.rawValue)
            w.key("price"); w.value(t.value)
            if let pt = a.triggerPriceType { w.key("price_type"); w.string(pt.rawValue) }
            w.endObject()
        }
        switch o.timeInForce {
        case .gtc: break                     // the venue's default: not sent
        case .ioc: w.key("time_in_force"); w.value("ioc")
        case .gtd: w.key("time_in_force"); w.value("gtd")
        case .fok: w.key("time_in_force"); w.value("fok")   // limit orders only (check())
        }
        if o.postOnly { w.key("post_only"); w.value(true) }
        if o.reduceOnly { w.key("reduce_only"); w.value(true) }
        if let c = o.clientOrderID { w.key("cl_ord_id"); w.string(c) }
        if let u = a.orderUserref { w.key("order_userref"); w.value(u) }
        if symbol {                           // a single order's; a batch has its own (check() refuses them per order)
            if let d = a.deadline { w.key("deadline"); w.string(d) }
            if a.validate { w.key("validate"); w.value(true) }
        }
        if let t = a.limitPriceType { w.key("limit_price_type"); w.string(t.rawValue) }
        if let q = a.displayQty { w.key("display_qty"); w.value(q.value) }
        if let f = a.feePreference { w.key("fee_preference"); w.string(f.rawValue) }
        if a.noMPP { w.key("no_mpp"); w.value(true) }
        if let s = a.selfTradePrevention { w.key("stp_type"); w.string(s.rawValue) }
        if let t = a.effectiveTime { w.key("effective_time"); w.string(t) }
        if let t = a.expireTime { w.key("expire_time"); w.string(t) }
        if let q = a.cashOrderQty { w.key("cash_order_qty"); w.value(q.value) }
        if a.margin { w.key("margin"); w.value(true) }
        if let c = a.conditional {
            w.key("conditional"); w.beginObject()
            w.key("order_type"); w.value(c.orderType.krakenName)
            if let p = c.limitPrice { w.key("limit_price"); w.value(p.value) }
            if let p = c.triggerPrice { w.key("trigger_price"); w.value(p.value) }
            w.endObject()
        }
    }
}
