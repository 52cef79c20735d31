// The RFC 6455 frame parser over server text frames held in memory, UTF-8
// validation included, one core. Throughput is frames/s; MB/s = frames/s × size.
import Benchmark
import CTradeWire

/// Back-to-back unmasked server text frames carrying ASCII JSON-like payloads of `size` bytes.
func frames(size: Int, count: Int) -> [UInt8] {
    let payload = Array(String(repeating: #"{"a":"b","c":1}"#, count: size / 15 + 1).utf8.prefix(size))
    var frame: [UInt8] = [0x81]
    if size < 126 { frame.append(UInt8(size)) } else { frame += [127] + (0..<8).reversed().map { UInt8((size >> (8 * $0)) & 0xff) } }
    frame += payload
    return Array([[UInt8]](repeating: frame, count: count).joined())
}

/// Parses every frame of `buffer`; returns how many.
func parseAll(_ ws: OpaquePointer, _ buffer: inout [UInt8]) -> Int {
    buffer.withUnsafeMutableBufferPointer { b in
        var off = 0, consumed = 0, n = 0
        var m = tw_ws_message()
        while off < b.count, tw_ws_next(ws, b.baseAddress! + off, b.count - off, &consumed, &m) == 1 {
            off += consumed
            n += 1
        }
        return n
    }
}

let benchmarks: @Sendable () -> Void = {
    for (size, scaling) in [(64, BenchmarkScalingFactor.kilo), (65_536, .one)] {
        Benchmark("FrameParse text \(size == 64 ? "64 B" : "64 KiB")",
                  configuration: .init(metrics: [.throughput, .wallClock, .mallocCountTotal],
                                       scalingFactor: scaling, maxDuration: .seconds(3),
                                       thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])) { benchmark in
            var buffer = frames(size: size, count: scaling.rawValue)
            let ws = tw_ws_new(TW_ROLE_CLIENT, tw_limits(max_frame: 1 << 20, max_message: 1 << 20))!
            defer { tw_ws_free(ws) }
            benchmark.startMeasurement()
            let n = parseAll(ws, &buffer)
            benchmark.stopMeasurement()
            precondition(n == scaling.rawValue, "parsed \(n) of \(scaling.rawValue) frames")
        }
    }
}
