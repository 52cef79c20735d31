/// The one timer that expires a request table's entries, kept armed for the table's earliest
/// deadline: moved earlier when a request with a shorter timeout comes, left alone otherwise.
/// Loop-confined (the client's event loop).
public struct ExpiryTimer {
    private var timer: Int?
    /// When the armed timer fires (`.max`: none armed).
    private var firesAt: UInt64 = .max

    public init() {}

    /// Whether the timer must be armed again to fire by `deadline`. One comparison: call `arm`
    /// only then, so that a send whose deadline is later than the armed one builds no closure.
    @inline(__always) public func needsArming(by deadline: UInt64) -> Bool { deadline < firesAt }

    /// Arm for `deadline`, replacing the armed timer. `fire` runs on the loop then; it calls
    /// `fired()` first.
    public mutating func arm(at deadline: UInt64, on loop: EventLoop, _ fire: @escaping () -> Void) {
        if let t = timer { loop.cancelTimer(t) }
        firesAt = deadline
        let now = MonotonicClock.nanoseconds()
        timer = loop.schedule(after: .nanoseconds(Int64(deadline > now ? deadline - now : 0)), fire)
    }

    /// The timer went off: none is armed now.
    public mutating func fired() {
        timer = nil
        firesAt = .max
    }
}
