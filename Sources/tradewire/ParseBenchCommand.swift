import ArgumentParser
import CTradeWire
import Foundation

/// Frames/s and MB/s of the RFC 6455 message state machine (header decode,
/// checks, UTF-8 validation of text) over server text frames held in memory.
struct ParseBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "parse-bench", abstract: "Throughput of the frame parser (UTF-8 validation included), one core.")

    @Option(help: "Seconds per payload size.") var seconds = 2.0

    func run() throws {
        print("frame parser, text frames, UTF-8 validated, one core, \(seconds) s per size")
        for size in [64, 65_536] {
            // A buffer of unmasked server text frames with ASCII JSON-like payloads.
            let payload = Array(String(repeating: #"{"a":"b","c":1}"#, count: size / 15 + 1).utf8.prefix(size))
            var frame: [UInt8] = [0x81]
            if size < 126 { frame.append(UInt8(size)) }
            else { frame += [127] + (0..<8).reversed().map { UInt8((size >> (8 * $0)) & 0xff) } }
            frame += payload
            let perBuffer = max(1, (16 << 20) / frame.count)
            var buffer = [UInt8]()
            buffer.reserveCapacity(perBuffer * frame.count)
            for _ in 0..<perBuffer { buffer += frame }
            let ws = tw_ws_new(TW_ROLE_CLIENT, tw_limits(max_frame: 1 << 20, max_message: 1 << 20))
            defer { tw_ws_free(ws) }
            var frames = 0
            var checksum = 0
            let start = Date()
            while Date().timeIntervalSince(start) < seconds {
                buffer.withUnsafeMutableBufferPointer { b in
                    var off = 0
                    var consumed = 0
                    var m = tw_ws_message()
                    while off < b.count {
                        let r = tw_ws_next(ws, b.baseAddress! + off, b.count - off, &consumed, &m)
                        guard r == 1 else { break }
                        off += consumed
                        checksum &+= m.len
                        frames += 1
                    }
                }
            }
            let elapsed = Date().timeIntervalSince(start)
            let fps = Double(frames) / elapsed
            let mbps = Double(frames) * Double(size) / elapsed / 1e6
            print(String(format: "%6d B payload: %12.0f frames/s  %9.1f MB/s  (checksum %d)", size, fps, mbps, checksum % 1000))
        }
    }
}
