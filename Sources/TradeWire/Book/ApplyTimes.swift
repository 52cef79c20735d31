/// How long the last 4,096 book messages took from their read to their book applied (ns): a fixed ring,
/// no allocation per message, the median on demand.
public struct ApplyTimes: Sendable {
    private var times = [UInt64](repeating: 0, count: 4096)
    private var count = 0

    public init() {}

    public mutating func record(_ ns: UInt64) {
        times[count & (times.count - 1)] = ns
        count &+= 1
    }

    /// The median of what was recorded; nil before anything.
    public var median: UInt64? {
        let n = Swift.min(count, times.count)
        guard n > 0 else { return nil }
        return times.prefix(n).sorted()[n / 2]
    }
}
