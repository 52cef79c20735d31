/// The latency of one request (definition: docs/benchmarks.md): from just before
/// its frame went to the kernel to the reap of the completion holding the last
/// byte of its response. The time to decode it is kept apart, and so is any time the
/// request waited in the client's rate-limit queue before it was sent.
public struct RequestLatency: Sendable, Equatable, CustomStringConvertible {
    /// Round trip in nanoseconds. For a request that failed after it was sent (timeout, lost connection),
    /// the time from its send to its failure; 0 only for one that never left (`wasSent` false).
    public let nanoseconds: UInt64
    /// From the read that completed the response to its typed form: the frame's checks
    /// (UTF-8 included) and the decoding. The client's own share of the receive side.
    public let decodeNanoseconds: UInt64
    /// Time spent waiting for the rate limit before the frame was sent (a queueing limiter only).
    public let queuedNanoseconds: UInt64
    /// The frame went to the kernel.
    public let wasSent: Bool

    public init(nanoseconds: UInt64, decodeNanoseconds: UInt64, queuedNanoseconds: UInt64 = 0, wasSent: Bool = true) {
        self.nanoseconds = nanoseconds
        self.decodeNanoseconds = decodeNanoseconds
        self.queuedNanoseconds = queuedNanoseconds
        self.wasSent = wasSent
    }

    /// Round trip in µs, with the nanoseconds kept (12.345).
    public var microseconds: Double { Double(nanoseconds) / 1000 }
    public var roundTrip: Duration { .nanoseconds(Int64(clamping: nanoseconds)) }
    /// What the caller waited for in all: queue time plus round trip.
    public var total: Duration { .nanoseconds(Int64(clamping: nanoseconds &+ queuedNanoseconds)) }

    public var description: String {
        var s = Self.format(nanoseconds)
        if !wasSent { s = "not sent" }
        if queuedNanoseconds > 0 { s += " (queued \(Self.format(queuedNanoseconds)) for the rate limit)" }
        return s
    }

    static func format(_ ns: UInt64) -> String {
        let tenths = (ns + 50) / 100
        return "\(tenths / 10).\(tenths % 10)µs"
    }
}
