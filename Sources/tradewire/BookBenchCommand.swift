import ArgumentParser
import CTradeWire
import Foundation
import TradeWire
import TradeWireKraken
import TradeWireSimulator

/// `tradewire book-bench`: Kraken `book` updates decoded, applied and checksum-verified per second on one
/// core, beside the raw frame walk (frames only, the floor) and simdjson's On-Demand parse of the same
/// messages (parse only, every field visited; `make book-bench` builds it), all in the same run.
struct BookBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "book-bench",
        abstract: "Book updates decoded + applied per second on one core: Kraken (CRC-verified, against the frame walk and simdjson), Binance JSON and SBE.")

    @Option(help: "Update messages in the stream.") var messages = 20_000
    @Option(help: "Seconds per measurement.") var seconds = 3.0
    @Option(help: "The simdjson reference binary (make book-bench builds it); skipped if absent.")
    var simdjson = ".build/simdjson/kraken_book_parse"
    @Flag(help: "End with one JSON line of the figures.") var json = false
    @Flag(help: "Measure TradeWire's feed only (for a profile: make perf-style runs of one path).") var onlyFeed = false
    @Flag(help: "Measure the Binance part only (for a profile).") var onlyBinance = false

    func run() throws {
        let stream = Self.generate(count: messages)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("tradewire-book-\(getpid()).jsonl").path
        try Data(stream.map { String(decoding: $0, as: UTF8.self) }.joined(separator: "\n").utf8).write(to: URL(fileURLWithPath: file))
        defer { try? FileManager.default.removeItem(atPath: file) }
        let bytes = stream.reduce(0) { $0 + $1.count }
        print("Kraken book: \(stream.count) messages (1 snapshot, depth 10), \(bytes / stream.count) bytes each on average, one core")

        if onlyBinance {
            let b = BinanceBookBench.run(events: messages, seconds: seconds)
            print(String(format: "  SBE @depth %.1f ns, SBE @bestBidAsk %.1f ns, JSON @depth %.1f ns", b.sbeDepthNs, b.sbeBestBidAskNs, b.jsonDepthNs))
            return
        }
        if onlyFeed {
            print(String(format: "  TradeWire decode+apply+CRC %8.1f ns/message", Self.feed(stream, seconds: seconds)))
            return
        }
        let floor = Self.frameWalk(stream, seconds: seconds)
        let feed = Self.feed(stream, seconds: seconds)
        print(String(format: "  frame walk (floor)        %8.1f ns/message  %6.2f M/s", floor, 1e3 / floor))
        print(String(format: "  TradeWire decode+apply+CRC %8.1f ns/message  %6.2f M/s", feed, 1e3 / feed))
        var reference: Double? = nil
        if FileManager.default.isExecutableFile(atPath: simdjson) {
            let p = Process()
            p.executableURL = URL(fileURLWithPath: simdjson)
            p.arguments = [file, String(seconds)]
            let out = Pipe()
            p.standardOutput = out
            try p.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            p.waitUntilExit()
            reference = text.split(separator: " ").dropFirst().first.flatMap { Double($0) }
            if let r = reference {
                print(String(format: "  simdjson On-Demand parse  %8.1f ns/message  %6.2f M/s", r, 1e3 / r))
                print(String(format: "  TradeWire's rate / simdjson's: %.2fx (goal >= 1.0)", r / feed))
            }
        } else {
            print("  simdjson reference not built (make book-bench builds \(simdjson))")
        }
        let b = BinanceBookBench.run(events: messages, seconds: seconds)
        print("Binance BTCUSDT: \(b.events) diff depth events (1-3 levels each) into an in-sync book, one core")
        print(String(format: "  SBE @depth decode+apply      %8.1f ns/event  %6.2f M/s (goal >= 20 M/s)", b.sbeDepthNs, 1e3 / b.sbeDepthNs))
        print(String(format: "  SBE @bestBidAsk decode       %8.1f ns/event  %6.2f M/s (goal >= 20 M/s)", b.sbeBestBidAskNs, 1e3 / b.sbeBestBidAskNs))
        print(String(format: "  JSON @depth parse+apply      %8.1f ns/event  %6.2f M/s", b.jsonDepthNs, 1e3 / b.jsonDepthNs))
        if json {
            print("{\"messages\":\(stream.count),\"frame_walk_ns\":\(String(format: "%.1f", floor)),\"tradewire_ns\":\(String(format: "%.1f", feed)),"
                  + "\"simdjson_ns\":\(reference.map { String(format: "%.1f", $0) } ?? "null"),"
                  + "\"ratio_vs_simdjson\":\(reference.map { String(format: "%.3f", $0 / feed) } ?? "null"),"
                  + "\"binance_sbe_depth_ns\":\(String(format: "%.1f", b.sbeDepthNs)),\"binance_sbe_best_bid_ask_ns\":\(String(format: "%.1f", b.sbeBestBidAskNs)),"
                  + "\"binance_json_depth_ns\":\(String(format: "%.1f", b.jsonDepthNs))}")
        }
    }

    /// A snapshot and `count` updates of BTC/USD (precisions 1 and 8), each with the checksum of the book after
    /// it: the simulator's book flow, the same stream `tradewire bench --book-rate` publishes.
    static func generate(count: Int) -> [[UInt8]] { KrakenBookFlow.generate(symbol: "BTC/USD", count: count, seed: 2026) }

    /// The floor: the same messages as server text frames through the frame parser (UTF-8 checked), nothing else.
    static func frameWalk(_ stream: [[UInt8]], seconds: Double) -> Double {
        var buffer: [UInt8] = []
        for m in stream {
            buffer.append(0x81)
            if m.count < 126 { buffer.append(UInt8(m.count)) } else { buffer += [126, UInt8(m.count >> 8), UInt8(m.count & 0xFF)] }
            buffer += m
        }
        let ws = tw_ws_new(TW_ROLE_CLIENT, tw_limits(max_frame: 1 << 20, max_message: 1 << 20))
        defer { tw_ws_free(ws) }
        var frames = 0, sink = 0
        let start = MonotonicClock.nanoseconds()
        var elapsed: UInt64 = 0
        repeat {
            buffer.withUnsafeMutableBufferPointer { b in
                var off = 0, consumed = 0
                var m = tw_ws_message()
                while off < b.count, tw_ws_next(ws, b.baseAddress! + off, b.count - off, &consumed, &m) == 1 {
                    off += consumed
                    sink &+= m.len
                    frames += 1
                }
            }
            elapsed = MonotonicClock.nanoseconds() - start
        } while Double(elapsed) < seconds * 1e9
        precondition(sink > 0)
        return Double(elapsed) / Double(frames)
    }

    /// TradeWire: validate, decode, apply, truncate and verify the checksum of each message, as the client does.
    static func feed(_ stream: [[UInt8]], seconds: Double) -> Double {
        let feed = KrakenBookFeed(depth: 10, precisions: ["BTC/USD": .init(price: 1, quantity: 8)])
        var applied = 0
        let start = MonotonicClock.nanoseconds()
        var elapsed: UInt64 = 0
        repeat {
            for m in stream { m.withUnsafeBytes { try? feed.apply(message: $0) } }
            applied += stream.count
            elapsed = MonotonicClock.nanoseconds() - start
        } while Double(elapsed) < seconds * 1e9
        precondition(feed.checksumFailures == 0, "the generated stream must verify")
        return Double(elapsed) / Double(applied)
    }
}
