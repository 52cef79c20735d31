import TradeWire
#if canImport(Glibc)
import Glibc
#endif

/// Binance's limits (WS API › Rate limits; faqs/order_count_decrement.md) as a `RateLimitModel`:
///
/// - Windows are fixed intervals on the clock, not rolling: a 10 SECOND window resets at :00, :10, :20 …, a 1 MINUTE
///   window every minute, a 1 DAY window at 00:00 UTC. A request waits for the window that is full even when a shorter
///   one has room.
/// - REQUEST_WEIGHT counts every request by its documented weight (`acquire`'s cost).
/// - ORDERS (the unfilled order count) counts only orders the venue placed: `orderPlaced` after the answer, unless the
///   answer's `rateLimits` already reported the count. Only requests that place orders (key `Key.order`) are held back
///   by a full ORDERS window: a cancel, a ping, `session.logon` and a subscribe never are.
/// - A 429's or 418's `retryAfter` (`error.data`) is honoured (`refused`): a 418 is a ban of everything until then;
///   a 429 -1015 (too many orders) holds back orders, another 429 every request. Without `retryAfter`, until the next
///   boundary of the shortest window of that kind.
///
/// Limits and counts are learned from each answer's `rateLimits` (the venue's count wins), or preset. Fills lower
/// Binance's unfilled order count; the model does not follow fills, so between answers it may count high.
public struct BinanceRateLimits: RateLimitModel {
    /// `acquire`'s key: which requests a full ORDERS window holds back.
    public enum Key {
        /// A request that places an order (`order.place`, `order.cancelReplace`).
        public static let order = "binance.order"
    }

    /// A window: an array of a few entries, searched by key and changed in place by index (the answer path neither
    /// hashes nor copies, nor allocates).
    struct Window {
        enum Kind { case orders, requestWeight, other }
        /// "TYPE/INTERVAL/NUM", e.g. "ORDERS/SECOND/10".
        let key: String
        let kind: Kind
        var limit: Int
        var count: Int
        /// Window length in ms, and which window (`wallMs / periodMs`) `count` belongs to.
        let periodMs: Int64
        var index: Int64
        mutating func roll(_ wallMs: Int64) {
            let i = wallMs / periodMs
            if i != index { index = i; count = 0 }
        }
        func nextBoundary(_ wallMs: Int64) -> Int64 { (wallMs / periodMs + 1) * periodMs }
    }

    private var windows: [Window] = []
    /// Wall-clock ms before which requests (all) or new orders are held back, and whether the venue banned the IP.
    private var requestsBlockedUntilMs: Int64 = 0
    private var ordersBlockedUntilMs: Int64 = 0
    private var bannedUntilMs: Int64 = 0
    /// Wall clock = the monotonic `now` given to the model + this (Binance's windows are on the UTC clock).
    let wallClockOffsetNs: Int64

    /// The limits in the docs' examples (authoritative values come from `exchangeInfo` and each answer).
    public static let documentedExamples: [BinanceRateLimit] = [
        BinanceRateLimit(rateLimitType: "REQUEST_WEIGHT", interval: "MINUTE", intervalNum: 1, limit: 6000, count: 0),
        BinanceRateLimit(rateLimitType: "ORDERS", interval: "SECOND", intervalNum: 10, limit: 50, count: 0),
        BinanceRateLimit(rateLimitType: "ORDERS", interval: "DAY", intervalNum: 1, limit: 160_000, count: 0),
    ]

    /// - Parameters:
    ///   - presets: limits known before the first answer (none: learned from `rateLimits`).
    ///   - wallClockOffsetNs: wall clock minus `MonotonicClock` (measured when nil; tests pass 0 and give wall time).
    public init(presets: [BinanceRateLimit] = [], wallClockOffsetNs: Int64? = nil) {
        if let o = wallClockOffsetNs {
            self.wallClockOffsetNs = o
        } else {
            var ts = timespec()
            clock_gettime(CLOCK_REALTIME, &ts)
            self.wallClockOffsetNs = Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec) - Int64(MonotonicClock.nanoseconds())
        }
        for p in presets { set(p.key, count: p.count, limit: p.limit, wallMs: 0) }
    }

    func wallMs(_ now: UInt64) -> Int64 { (Int64(now) + wallClockOffsetNs) / 1_000_000 }

    static func periodMs(_ key: String) -> Int64? {
        let parts = key.split(separator: "/")
        guard parts.count == 3, let n = Int64(parts[2]), n > 0 else { return nil }
        switch parts[1] {
        case "SECOND": return 1000 * n
        case "MINUTE": return 60_000 * n
        case "HOUR": return 3_600_000 * n
        case "DAY": return 86_400_000 * n
        default: return nil
        }
    }

    private mutating func set(_ key: String, count: Int, limit: Int, wallMs: Int64) {
        for i in 0..<windows.count where windows[i].key == key {
            windows[i].limit = limit
            windows[i].count = count
            windows[i].index = wallMs / windows[i].periodMs
            return
        }
        guard let period = Self.periodMs(key) else { return }
        let kind: Window.Kind = key.hasPrefix("ORDERS/") ? .orders : key.hasPrefix("REQUEST_WEIGHT/") ? .requestWeight : .other
        windows.append(Window(key: key, kind: kind, limit: limit, count: count, periodMs: period, index: wallMs / period))
    }

    static func exceeded(_ what: String, untilMs: Int64, wallMs: Int64) -> RateLimitExceeded {
        RateLimitExceeded(limit: what, retryAfterNs: UInt64(max(0, untilMs - wallMs)) * 1_000_000)
    }

    /// Would a request of weight `cost` pass now? Requests that place orders (`key == Key.order`) also need room in
    /// every ORDERS window (not counted here: see `orderPlaced`). Counts the weight when it passes.
    public mutating func acquire(cost: Double, key: String?, now: UInt64) -> RateLimitExceeded? {
        let w = wallMs(now)
        if w < bannedUntilMs { return Self.exceeded("binance IP ban (418)", untilMs: bannedUntilMs, wallMs: w) }
        if w < requestsBlockedUntilMs { return Self.exceeded("binance REQUEST_WEIGHT (429 retryAfter)", untilMs: requestsBlockedUntilMs, wallMs: w) }
        let placesOrder = key == Key.order
        if placesOrder && w < ordersBlockedUntilMs { return Self.exceeded("binance ORDERS (429 retryAfter)", untilMs: ordersBlockedUntilMs, wallMs: w) }
        let weight = Int(cost.rounded(.up))
        var wait: (String, Int64)? = nil
        for i in 0..<windows.count {
            windows[i].roll(w)
            let win = windows[i]
            let full: Bool
            switch win.kind {
            case .orders: full = placesOrder && win.count + 1 > win.limit
            case .requestWeight: full = win.count + weight > win.limit
            case .other: full = false
            }
            // The longest wait wins: a full day window holds orders back even when the 10 s one has room.
            if full, wait == nil || win.nextBoundary(w) > wait!.1 { wait = ("binance \(win.key): \(win.limit)", win.nextBoundary(w)) }
        }
        if let (what, until) = wait { return Self.exceeded(what, untilMs: until, wallMs: w) }
        for i in 0..<windows.count where windows[i].kind == .requestWeight { windows[i].count += weight }
        return nil
    }

    /// What an answer's `rateLimits` says: the venue's count and limit for each window ("TYPE/INTERVAL/NUM").
    public mutating func observe(usage: RateLimitUsage, now: UInt64) {
        let w = wallMs(now)
        for i in 0..<usage.count {              // indexed: no generic iterator on the answer path
            let u = usage[i]
            set(u.interval, count: u.count, limit: u.limit, wallMs: w)
        }
    }

    /// The venue placed an order and its answer did not report the ORDERS count: count it in every ORDERS window.
    public mutating func orderPlaced(now: UInt64) {
        let w = wallMs(now)
        for i in 0..<windows.count where windows[i].kind == .orders {
            windows[i].roll(w)
            windows[i].count += 1
        }
    }

    /// The venue refused a request for a rate limit (429) or banned the IP (418): hold back what it covers until
    /// `retryAfterMs` (epoch ms; taken relative to `serverTimeMs` when given, so clock skew does not matter), or
    /// until the next boundary of the shortest window of that kind. Returns how long that is.
    @discardableResult
    public mutating func refused(status: Int, code: Int?, retryAfterMs: Int64?, serverTimeMs: Int64?, now: UInt64) -> Duration {
        let w = wallMs(now)
        let ordersOnly = status == 429 && code == -1015
        var until: Int64
        if let r = retryAfterMs {
            until = serverTimeMs.map { w + max(0, r - $0) } ?? r
        } else {
            let kind: Window.Kind = ordersOnly ? .orders : .requestWeight
            let shortest = windows.filter { $0.kind == kind }.min { $0.periodMs < $1.periodMs }
            until = shortest?.nextBoundary(w) ?? (w / (ordersOnly ? 10_000 : 60_000) + 1) * (ordersOnly ? 10_000 : 60_000)
        }
        until = max(until, w)
        if status == 418 { bannedUntilMs = max(bannedUntilMs, until) }
        else if ordersOnly { ordersBlockedUntilMs = max(ordersBlockedUntilMs, until) }
        else { requestsBlockedUntilMs = max(requestsBlockedUntilMs, until) }
        return .milliseconds(until - w)
    }

    /// Is the IP banned (a 418) at `now`?
    public func isBanned(now: UInt64) -> Bool { wallMs(now) < bannedUntilMs }

    /// The count and limit of a window ("ORDERS/SECOND/10") at `now`, as the model sees it.
    public func window(_ key: String, now: UInt64) -> (count: Int, limit: Int)? {
        guard var win = windows.first(where: { $0.key == key }) else { return nil }
        win.roll(wallMs(now))
        return (win.count, win.limit)
    }
}
