/// The latency of one request (definition: docs/benchmarking.md): from just before
/// its frame went to the kernel to the reap of the completion holding the last
/// byte of its response. Decode time is kept apart.
public struct RequestLatency: Sendable, CustomStringConvertible {
    public let nanoseconds: UInt64
    /// Time spent decoding the response into its typed form.
    public let decodeNanoseconds: UInt64
    public var microseconds: UInt64 { nanoseconds / 1000 }
    public init(nanoseconds: UInt64, decodeNanoseconds: UInt64) {
        self.nanoseconds = nanoseconds
        self.decodeNanoseconds = decodeNanoseconds
    }
    public var description: String { "\(microseconds)µs" }
}
