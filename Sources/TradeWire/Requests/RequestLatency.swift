/// The latency of one request (definition: docs/benchmarking.md): from just before
/// its frame went to the kernel to the reap of the completion holding the last
/// byte of its response. The time to decode it is kept apart.
public struct RequestLatency: Sendable, CustomStringConvertible {
    public let nanoseconds: UInt64
    /// From the read that completed the response to its typed form: the frame's checks
    /// (UTF-8 included) and the decoding. The client's own share of the receive side.
    public let decodeNanoseconds: UInt64
    public var microseconds: UInt64 { nanoseconds / 1000 }
    public init(nanoseconds: UInt64, decodeNanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
        self.decodeNanoseconds = decodeNanoseconds
    }
    public var description: String { "\(microseconds)µs" }
}
