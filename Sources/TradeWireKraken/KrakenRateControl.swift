import TradeWire

/// What each Kraken request costs in the venue's per-pair rate counter ("Spot rate limits" guide), from
/// the pair and age of the orders it touches: add +1 and batch add +n/2 on their pair; amend +1 plus
/// 3/2/1 by age on the order's pair; cancel 8…1 by age on each order's pair. The ages are learned from
/// the client's own acknowledgements (placed, amended: the age restarts; cancelled: forgotten), so an
/// order placed elsewhere has no known age and its cancel or amend is charged as an old order's.
/// Loop-confined (the client's loop).
///
/// Adds, batch adds and amends may be held back (the client's `RateLimitPolicy`); cancels never are:
/// they only reduce risk, and the venue, not a local model, decides whether it takes them.
struct KrakenRateControl {
    struct Charge: Equatable {
        let pair: String
        let cost: Double
    }

    /// Order id or "cl:" + client order id → (pair, since placed or last amended).
    private var ages: [String: (pair: String, since: UInt64)] = [:]
    /// More orders than any account keeps open: past it the oldest half of the memory is dropped.
    static let memory = 65_536

    /// The charge that may be refused, and the charges that go out regardless.
    func costs(of r: KrakenRequest, now: UInt64) -> (refusable: Charge?, always: [Charge]) {
        switch r {
        case .addOrder(let a):
            return (a.validate ? nil : Charge(pair: a.order.symbol, cost: 1), [])
        case .batchAdd(let symbol, let orders, let validate, _):
            return (validate ? nil : Charge(pair: symbol, cost: KrakenOrderCounter.batchAddCost(orders: orders.count)), [])
        case .amendOrder(let a):
            guard let known = ages[Self.key(a.target)] else { return (nil, []) }
            return (Charge(pair: known.pair, cost: KrakenOrderCounter.amendCost(orderAgeSeconds: Self.seconds(now, known.since))), [])
        case .cancelOrder(let target):
            var charges: [Charge] = []
            for k in Self.keys(target) {
                guard let known = ages[k] else { continue }
                let cost = KrakenOrderCounter.cancelCost(orderAgeSeconds: Self.seconds(now, known.since))
                if cost > 0 { charges.append(Charge(pair: known.pair, cost: cost)) }
            }
            return (nil, charges)
        case .cancelAll, .cancelAllOrdersAfter, .ping, .subscribeExecutions, .subscribeBook, .unsubscribeBook, .subscribeInstruments,
             .subscribeChannel, .unsubscribeChannel, .subscribeLevel3, .unsubscribeLevel3:
            // Not in the guide's table: nothing is charged (docs/venues.md records the choice).
            return (nil, [])
        }
    }

    /// The pair a request's refusal by the venue (`EOrder:Rate limit exceeded`) is about, if known.
    func pair(of r: KrakenRequest) -> String? {
        switch r {
        case .addOrder(let a): return a.order.symbol
        case .batchAdd(let symbol, _, _, _): return symbol
        case .amendOrder(let a): return ages[Self.key(a.target)]?.pair
        case .cancelOrder(let t): return Self.keys(t).lazy.compactMap { ages[$0]?.pair }.first
        default: return nil
        }
    }

    /// A request's acknowledged answer: learn or forget the ages it tells of.
    mutating func acknowledged(_ r: KrakenRequest, _ response: KrakenResponse, now: UInt64) {
        switch r {
        case .addOrder(let a) where !a.validate:
            remember(orderID: response.orderID?.description, clientOrderID: a.order.clientOrderID?.description, pair: a.order.symbol, now: now)
        case .batchAdd(let symbol, let orders, let validate, _) where !validate:
            for (i, row) in (response.orders ?? []).enumerated() where row.orderID != nil {
                let cl = row.clientOrderID?.description ?? (i < orders.count ? orders[i].order.clientOrderID?.description : nil)
                remember(orderID: row.orderID?.description, clientOrderID: cl, pair: symbol, now: now)
            }
        case .amendOrder(let a):
            let k = Self.key(a.target)
            if let known = ages[k] {
                remember(orderID: response.orderID?.description ?? (k.hasPrefix("cl:") ? nil : k),
                         clientOrderID: response.clientOrderID?.description ?? (k.hasPrefix("cl:") ? String(k.dropFirst(3)) : nil),
                         pair: known.pair, now: now)
            }
        case .cancelOrder(let t):
            for k in Self.keys(t) { ages[k] = nil }
        default:
            break
        }
    }

    private mutating func remember(orderID: String?, clientOrderID: String?, pair: String, now: UInt64) {
        if ages.count >= Self.memory {
            for (k, _) in ages.sorted(by: { $0.value.since < $1.value.since }).prefix(Self.memory / 2) { ages[k] = nil }
        }
        if let orderID, !orderID.isEmpty { ages[orderID] = (pair, now) }
        if let clientOrderID { ages["cl:" + clientOrderID] = (pair, now) }
    }

    static func key(_ t: KrakenAmendOrder.Target) -> String {
        switch t {
        case .orderID(let id): return id
        case .clientOrderID(let c): return "cl:" + c.description
        }
    }

    static func keys(_ t: KrakenCancelTarget) -> [String] {
        switch t {
        case .orderIDs(let ids): return ids
        case .clientOrderIDs(let ids): return ids.map { "cl:" + $0.description }
        case .userrefs: return []          // a userref names no one order
        }
    }

    static func seconds(_ now: UInt64, _ since: UInt64) -> Double { now > since ? Double(now - since) / 1e9 : 0 }
}
