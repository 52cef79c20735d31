/// How a venue client keeps its connection: reconnect with exponential backoff
/// and jitter, drop a connection that went silent, and replace a connection
/// before a venue's age limit ends it (Binance: 24 h).
public struct ReconnectPolicy: Sendable {
    /// Delay before the first attempt after a loss.
    public var initialDelay: Duration
    /// Ceiling of the delay.
    public var maxDelay: Duration
    /// Growth per failed attempt.
    public var multiplier: Double
    /// Share of each delay drawn at random: the delay is uniform in `[d·(1−jitter), d]`,
    /// so many clients that lost the same venue do not come back in one burst.
    public var jitter: Double
    /// Consecutive failed attempts before giving up; nil = keep trying.
    public var maxAttempts: Int?
    /// No bytes for this long (heartbeats, pings and quotes count) → the connection
    /// is stale: drop it (and reconnect). nil = no staleness check.
    public var staleAfter: Duration?
    /// Open a replacement and retire the old connection once it is this old. nil = never.
    public var maxConnectionAge: Duration?

    public init(initialDelay: Duration = .milliseconds(100), maxDelay: Duration = .seconds(10), multiplier: Double = 2,
                jitter: Double = 0.5, maxAttempts: Int? = nil, staleAfter: Duration? = nil, maxConnectionAge: Duration? = nil) {
        precondition(multiplier >= 1 && (0...1).contains(jitter))
        self.initialDelay = initialDelay
        self.maxDelay = maxDelay
        self.multiplier = multiplier
        self.jitter = jitter
        self.maxAttempts = maxAttempts
        self.staleAfter = staleAfter
        self.maxConnectionAge = maxConnectionAge
    }

    /// 100 ms doubling to 10 s, half jitter, forever.
    public static let standard = ReconnectPolicy()

    /// A staleness bound from a venue's heartbeat period: `multiple` periods of silence.
    public static func staleAfter(heartbeat: Duration, multiple: Int) -> Duration { heartbeat * multiple }

    /// The delay before attempt `attempt` (1-based); `random` is uniform in [0, 1).
    public func delay(attempt: Int, random: Double) -> Duration {
        let base = initialDelay / .nanoseconds(1)
        let cap = maxDelay / .nanoseconds(1)
        var d = base
        for _ in 1..<max(attempt, 1) where d < cap { d *= multiplier }
        d = min(d, cap)
        return .nanoseconds(Int64(d * (1 - jitter * random)))
    }
}
