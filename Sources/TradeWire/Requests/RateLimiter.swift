import Synchronization

/// Why a request may not leave now.
public struct RateLimitExceeded: Sendable {
    /// Which limit, e.g. "kraken order counter (BTC/USD)".
    public let limit: String
    /// How long until it would pass.
    public let retryAfterNs: UInt64

    /// For models outside the core (a venue module's own).
    public init(limit: String, retryAfterNs: UInt64) {
        self.limit = limit
        self.retryAfterNs = retryAfterNs
    }
}

/// A rate-control model. Called on the venue client's loop thread.
public protocol RateLimitModel: Sendable {
    /// Would a request of this cost on this key pass at `now`? If so, account for it.
    mutating func acquire(cost: Double, key: String?, now: UInt64) -> RateLimitExceeded?
    /// Feed what the venue reported (e.g. Binance `rateLimits`); default: nothing.
    mutating func observe(usage: RateLimitUsage, now: UInt64)
    /// Account for a request that goes out whatever the count (a cancel: never held back locally).
    mutating func charge(cost: Double, key: String?, now: UInt64)
    /// The venue refused a request as over its limit on `key`: the model is full there, whatever it counted.
    mutating func saturate(key: String?, now: UInt64)
}

extension RateLimitModel {
    public mutating func observe(usage: RateLimitUsage, now: UInt64) {}
    public mutating func charge(cost: Double, key: String?, now: UInt64) { _ = acquire(cost: cost, key: key, now: now) }
    public mutating func saturate(key: String?, now: UInt64) {}
}

/// A token bucket: `capacity` tokens, refilled at `ratePerSecond`.
public struct TokenBucket: RateLimitModel {
    public let name: String
    public let capacity: Double
    public let ratePerSecond: Double
    private var tokens: Double
    private var last: UInt64 = 0

    public init(name: String, capacity: Double, ratePerSecond: Double) {
        self.name = name
        self.capacity = capacity
        self.ratePerSecond = ratePerSecond
        tokens = capacity
    }

    public mutating func acquire(cost: Double, key: String?, now: UInt64) -> RateLimitExceeded? {
        if last != 0 && now > last { tokens = Swift.min(capacity, tokens + Double(now - last) / 1e9 * ratePerSecond) }
        last = now
        if tokens >= cost { tokens -= cost; return nil }
        let wait = (cost - tokens) / ratePerSecond * 1e9
        return RateLimitExceeded(limit: name, retryAfterNs: UInt64(wait.rounded(.up)))
    }
}

/// Kraken's per-pair order counter (the "Spot rate limits" guide): add +1, batch add +n/2, amend +1 plus
/// 3/2/1 under 5/10/15 s of order age, cancel 8/6/5/4/2/1 under 5/10/15/45/90/300 s; the counter of each
/// pair decays at the tier's rate and must stay at or under the tier's threshold, or the venue answers
/// `EOrder:Rate limit exceeded`.
public struct KrakenOrderCounter: RateLimitModel {
    /// Kraken's verification tiers, with the guide's threshold and decay per second.
    public enum Tier: Sendable {
        case starter, intermediate, pro
        public var threshold: Double { switch self { case .starter: 60; case .intermediate: 125; case .pro: 180 } }
        public var decayPerSecond: Double { switch self { case .starter: 1; case .intermediate: 2.34; case .pro: 3.75 } }
    }

    public let threshold: Double
    public let decayPerSecond: Double
    private var counters: [String: (value: Double, last: UInt64)] = [:]

    /// Defaults: the Starter tier (threshold 60, decay 1/s).
    public init(threshold: Double = 60, decayPerSecond: Double = 1) {
        self.threshold = threshold
        self.decayPerSecond = decayPerSecond
    }

    public init(tier: Tier) { self.init(threshold: tier.threshold, decayPerSecond: tier.decayPerSecond) }

    /// The pair's counter now, decayed.
    private mutating func current(_ k: String, _ now: UInt64) -> (value: Double, last: UInt64) {
        var c = counters[k] ?? (0, now)
        if now > c.last { c.value = Swift.max(0, c.value - Double(now - c.last) / 1e9 * decayPerSecond) }
        c.last = Swift.max(c.last, now)
        return c
    }

    /// The pair's counter at `now` (for tests and monitoring).
    public mutating func count(key: String, now: UInt64) -> Double { current(key, now).value }

    public mutating func acquire(cost: Double, key: String?, now: UInt64) -> RateLimitExceeded? {
        let k = key ?? "*"
        var c = current(k, now)
        if c.value + cost > threshold {
            counters[k] = c
            let wait = (c.value + cost - threshold) / decayPerSecond * 1e9
            return RateLimitExceeded(limit: "kraken order counter (\(k)): \(threshold)", retryAfterNs: UInt64(wait.rounded(.up)))
        }
        c.value += cost
        counters[k] = c
        return nil
    }

    public mutating func charge(cost: Double, key: String?, now: UInt64) {
        let k = key ?? "*"
        var c = current(k, now)
        c.value += cost
        counters[k] = c
    }

    public mutating func saturate(key: String?, now: UInt64) {
        let k = key ?? "*"
        var c = current(k, now)
        c.value = Swift.max(c.value, threshold)
        counters[k] = c
    }

    /// Cost of a batch add of `n` orders: n/2.
    public static func batchAddCost(orders n: Int) -> Double { Double(n) / 2 }

    /// Cost of an amend by order age (seconds): fixed 1 plus 3/2/1 under 5/10/15 s.
    public static func amendCost(orderAgeSeconds age: Double) -> Double {
        switch age {
        case ..<5: return 4
        case ..<10: return 3
        case ..<15: return 2
        default: return 1
        }
    }

    /// Cost of a cancel by order age (seconds), from the published table.
    public static func cancelCost(orderAgeSeconds age: Double) -> Double {
        switch age {
        case ..<5: return 8
        case ..<10: return 6
        case ..<15: return 5
        case ..<45: return 4
        case ..<90: return 2
        case ..<300: return 1
        default: return 0
        }
    }
}

/// Binance limits learned from each response's `rateLimits` (used vs limit per
/// interval): refuses before the venue would, once a window is full.
public struct BinanceReportedLimits: RateLimitModel {
    private var windows: [String: (count: Int, limit: Int, resetAt: UInt64)] = [:]

    public init() {}

    public mutating func acquire(cost: Double, key: String?, now: UInt64) -> RateLimitExceeded? {
        for (name, w) in windows where now < w.resetAt && w.count + Int(cost) > w.limit {
            return RateLimitExceeded(limit: "binance \(name): \(w.limit)", retryAfterNs: w.resetAt - now)
        }
        for (name, var w) in windows where now < w.resetAt {
            w.count += Int(cost)
            windows[name] = w
        }
        return nil
    }

    /// `interval` as Binance names it with its number, e.g. "REQUEST_WEIGHT/MINUTE/1".
    public mutating func observe(usage: RateLimitUsage, now: UInt64) {
        for u in usage {
            let seconds: UInt64
            if u.interval.contains("SECOND") { seconds = 1 } else if u.interval.contains("MINUTE") { seconds = 60 } else { seconds = 86_400 }
            let n = UInt64(u.interval.split(separator: "/").last.flatMap { UInt64($0) } ?? 1)
            windows[u.interval] = (u.count, u.limit, now + seconds * n * 1_000_000_000)
        }
    }
}

/// What to do with a request over the limit.
public enum RateLimitPolicy: Sendable {
    /// Hold it (and every later request, to keep the order) until it passes.
    case wait
    /// Fail it at once with `.rateLimited`.
    case failFast
}

/// One limiter per venue, shared process-wide by every client of that venue.
public final class VenueRateLimiter: Sendable {
    private let model: Mutex<any RateLimitModel>
    public let policy: RateLimitPolicy

    public init(_ model: any RateLimitModel, policy: RateLimitPolicy = .wait) {
        self.model = Mutex(model)
        self.policy = policy
    }

    public func acquire(cost: Double = 1, key: String? = nil, now: UInt64 = MonotonicClock.nanoseconds()) -> RateLimitExceeded? {
        model.withLock { $0.acquire(cost: cost, key: key, now: now) }
    }

    public func observe(usage: RateLimitUsage, now: UInt64 = MonotonicClock.nanoseconds()) {
        model.withLock { $0.observe(usage: usage, now: now) }
    }

    /// Account for a request that goes out regardless (see `RateLimitModel.charge`).
    public func charge(cost: Double, key: String? = nil, now: UInt64 = MonotonicClock.nanoseconds()) {
        model.withLock { $0.charge(cost: cost, key: key, now: now) }
    }

    /// The venue said the limit on `key` is exceeded (see `RateLimitModel.saturate`).
    public func saturate(key: String? = nil, now: UInt64 = MonotonicClock.nanoseconds()) {
        model.withLock { $0.saturate(key: key, now: now) }
    }

    /// Run `body` on the model under the lock when it is an `M` (a venue's own feedback beyond `observe`, e.g. an
    /// order the venue placed or a `retryAfter`); nil when the model is of another type.
    public func withModel<M: RateLimitModel, R>(as type: M.Type, _ body: (inout M) -> R) -> R? {
        model.withLock { m -> R? in
            guard var typed = m as? M else { return nil }
            let r = body(&typed)
            m = typed
            return r
        }
    }
}
