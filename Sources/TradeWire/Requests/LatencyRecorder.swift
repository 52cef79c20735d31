import Histogram

/// Percentiles of one method's round trips, in µs.
public struct LatencyStats: Sendable, CustomStringConvertible {
    public let method: String
    public let count: UInt64
    public let p50, p90, p99, p999, max: Double

    public var description: String {
        func f(_ v: Double) -> String { String(Int((v * 10).rounded()) / 10) + "." + String(Int((v * 10).rounded()) % 10) }
        return "\(method): n=\(count) p50=\(f(p50))µs p90=\(f(p90))µs p99=\(f(p99))µs p99.9=\(f(p999))µs max=\(f(max))µs"
    }
}

/// One HDR histogram per method (1 ns .. 60 s, 3 significant digits), plus one
/// per method for decode time. Methods are registered up front and addressed by
/// index, so recording is an array access and a histogram increment: no
/// hashing, no allocation.
/// Loop-confined (not Sendable): a client records on its loop and answers `latencyStats` from there.
public final class LatencyRecorder {
    public private(set) var methods: [String] = []
    // Recorded on every completion, on the owner's loop thread: no runtime exclusivity tracking.
    @exclusivity(unchecked) private var roundTrip: [Histogram<UInt64>] = []
    @exclusivity(unchecked) private var decode: [Histogram<UInt64>] = []

    public init() {}

    /// The index for a method name (registering it the first time; off the hot path).
    public func index(of method: String) -> Int {
        for i in methods.indices where methods[i] == method { return i }   // a plain loop: no generic call on the order path
        methods.append(method)
        roundTrip.append(Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three))
        decode.append(Histogram<UInt64>(lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000_000, numberOfSignificantValueDigits: .three))
        return methods.count - 1
    }

    @inline(__always)
    public func record(method: Int, roundTripNanoseconds: UInt64, decodeNanoseconds: UInt64) {
        _ = roundTrip[method].record(Swift.max(1, roundTripNanoseconds))
        _ = decode[method].record(Swift.max(1, decodeNanoseconds))
    }

    /// Round-trip percentiles of a method, nil if it never completed a request.
    public func stats(for method: String) -> LatencyStats? {
        guard let i = methods.firstIndex(of: method) else { return nil }
        return Self.stats(method, roundTrip[i])
    }

    /// Decode-time percentiles of a method.
    public func decodeStats(for method: String) -> LatencyStats? {
        guard let i = methods.firstIndex(of: method) else { return nil }
        return Self.stats(method, decode[i])
    }

    public var allStats: [LatencyStats] { methods.indices.compactMap { Self.stats(methods[$0], roundTrip[$0]) } }

    public func reset() {
        for i in roundTrip.indices { roundTrip[i].reset(); decode[i].reset() }
    }

    private static func stats(_ m: String, _ h: Histogram<UInt64>) -> LatencyStats? {
        guard h.totalCount > 0 else { return nil }
        func us(_ p: Double) -> Double { Double(h.valueAtPercentile(p)) / 1000 }
        return LatencyStats(method: m, count: h.totalCount, p50: us(50), p90: us(90), p99: us(99), p999: us(99.9),
                            max: Double(h.max) / 1000)
    }
}
