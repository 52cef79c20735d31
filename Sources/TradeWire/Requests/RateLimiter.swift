import Synchronization

/// Why a request may not leave now.
public struct RateLimitExceeded: Sendable {
    /// Which limit, e.g. "kraken order counter (BTC/USD)".
    public let limit: String
    /// How long until it would pass.
    public let retryAfterNs: UInt64
}

/// A rate-control model. Called on the venue client's loop thread.
public protocol RateLimitModel: Sendable {
    /// Would a request of this cost on this key pass at `now`? If so, account for it.
    mutating func acquire(cost: Double, key: String?, now: UInt64) -> RateLimitExceeded?
    /// Feed what the venue reported (e.g. Binance `rateLimits`); default: nothing.
    mutating func observe(usage: [(interval: String, count: Int, limit: Int)], now: UInt64)
}

extension RateLimitModel {
    public mutating func observe(usage: [(interval: String, count: Int, limit: Int)], now: UInt64) {}
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

/// Kraken's per-pair order counter (protocols.md §1.14): each add costs 1, each
/// cancel or amend costs more the younger the order; the counter decays at a
/// tier-dependent rate and must stay under the tier's threshold.
public struct KrakenOrderCounter: RateLimitModel {
    public let threshold: Double
    public let decayPerSecond: Double
    private var counters: [String: (value: Double, last: UInt64)] = [:]

    /// Defaults: the Starter tier (threshold 60, decay 1/s).
    public init(threshold: Double = 60, decayPerSecond: Double = 1) {
        self.threshold = threshold
        self.decayPerSecond = decayPerSecond
    }

    public mutating func acquire(cost: Double, key: String?, now: UInt64) -> RateLimitExceeded? {
        let k = key ?? "*"
        var c = counters[k] ?? (0, now)
        c.value = Swift.max(0, c.value - Double(now - c.last) / 1e9 * decayPerSecond)
        c.last = now
        if c.value + cost > threshold {
            counters[k] = c
            let wait = (c.value + cost - threshold) / decayPerSecond * 1e9
            return RateLimitExceeded(limit: "kraken order counter (\(k)): \(threshold)", retryAfterNs: UInt64(wait.rounded(.up)))
        }
        c.value += cost
        counters[k] = c
        return nil
    }

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
    public mutating func observe(usage: [(interval: String, count: Int, limit: Int)], now: UInt64) {
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

    public func observe(usage: [(interval: String, count: Int, limit: Int)], now: UInt64 = MonotonicClock.nanoseconds()) {
        model.withLock { $0.observe(usage: usage, now: now) }
    }
}
