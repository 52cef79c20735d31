// Kraken add_order round trips against the simulator in another process, over
// ws:// and wss://, with the client loop waiting or busy-polling. Each iteration
// is 1,000 sequential round trips driven on the loop thread (each ack's callback
// sends the next order); every round trip's send -> callback time goes into the
// custom metric `roundTripNs` (its p50/p99/p99.9 are the latency figures), and
// mallocCountTotal counts the client process's allocations (shown per round trip:
// the suite divides by the scaling factor). The tool runs each benchmark in its
// own process.
import Benchmark
import Dispatch
import Foundation
import TradeWire
import TradeWireKraken

let roundTripNs = BenchmarkMetric.custom("roundTripNs", polarity: .prefersSmaller, useScalingFactor: false)

/// One client connected to one venue process, driven in chunks.
final class OrderRoundTrips: @unchecked Sendable {
    let venue: VenueProcess
    let loop: EventLoop
    let client: KrakenClient
    let tls: Bool
    let request = KrakenRequest.addOrder(KrakenAddOrder(Order.limit("BTC/USD", .buy, quantity: "1.25", price: "26500.4")))
    var samples: [UInt64] = []
    private var remaining = 0
    private var issuedAt: UInt64 = 0
    private(set) var failure: String?
    let chunkDone = DispatchSemaphore(value: 0)

    private init(venue: VenueProcess, busyPoll: Bool, tls: Bool) throws {
        self.venue = venue
        self.tls = tls
        loop = try EventLoop(configuration: .init(waitMode: busyPoll ? .busyPoll : .wait, cpu: 0))
        var trust = TLSConfiguration.default
        if let ca = venue.caFile { trust.additionalTrust.append(.caFile(ca)) }
        let url = WebSocketURL(secure: tls, host: tls ? "localhost" : "127.0.0.1", port: venue.port, target: "/v2")
        client = KrakenClient(loop: loop, configuration: .init(url: url, token: VenueProcess.token, tls: trust, rateLimiter: nil))
        samples.reserveCapacity(1_000)
        client.onResponse = { [unowned self] _, _, _, result, _ in
            let now = MonotonicClock.nanoseconds()
            if case .failure(let e) = result { failure = "\(e)" }
            samples.append(now - issuedAt)
            remaining -= 1
            if remaining > 0 && failure == nil { issue() } else { chunkDone.signal() }
        }
        client.onConnection = { [unowned self] up, close in
            if !up { failure = close.map { "\($0)" } ?? "connection lost"; chunkDone.signal() }
        }
    }

    /// A venue process and a connected client.
    static func start(tls: Bool, busyPoll: Bool) async throws -> OrderRoundTrips {
        let venue = try VenueProcess(tls: tls)
        do {
            let h = try OrderRoundTrips(venue: venue, busyPoll: busyPoll, tls: tls)
            try await h.client.connect()
            return h
        } catch {
            venue.stop()
            throw error
        }
    }

    private func issue() {
        issuedAt = MonotonicClock.nanoseconds()
        do { try client.send(request) } catch { failure = "\(error)"; chunkDone.signal() }
    }

    /// n round trips on the loop thread; returns their send -> callback times (ns).
    func run(_ n: Int) throws -> [UInt64] {
        loop.execute { [self] in
            samples.removeAll(keepingCapacity: true)
            remaining = n
            issue()
        }
        guard chunkDone.wait(timeout: .now() + 30) == .success else { throw BenchmarkSetupError("the venue stalled") }
        let (s, f) = try loop.runSync { [self] in (samples, failure) }
        if let f { throw BenchmarkSetupError("round trip failed: \(f)") }
        return s
    }

    func stop() {
        venue.stop()
        // The wss:// loop thread is left running to the process's end: its exit frees OpenSSL's thread
        // state through glibc's arena cleanup, which crashes under the benchmark's malloc interposer.
        if !tls { loop.shutdown() }
    }
}

/// wss:// harnesses whose loops are left running (see `stop`), kept alive for their callbacks.
nonisolated(unsafe) var stillRunning: [OrderRoundTrips] = []

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.timeUnits = .microseconds
    for tls in [false, true] {
        for busyPoll in [false, true] {
            let name = "OrderRoundTrip \(tls ? "wss" : "ws") \(busyPoll ? "busy-poll" : "wait")"
            nonisolated(unsafe) var harness: OrderRoundTrips?
            Benchmark(
                name,
                configuration: .init(
                    metrics: [.wallClock, .mallocCountTotal, roundTripNs],
                    scalingFactor: .kilo,
                    maxDuration: .seconds(10),
                    maxIterations: 30,
                    thresholds: [
                        // Allocations per round trip: none on ws://; OpenSSL's own 4 on wss://. One more is a regression.
                        .mallocCountTotal: .init(absolute: [.p90: 0]),
                        roundTripNs: .init(relative: [.p50: 25, .p99: 50]),
                    ]),
                closure: { benchmark in
                    let samples = try harness!.run(benchmark.scaledIterations.count)
                    benchmark.stopMeasurement()
                    for s in samples { benchmark.measurement(roundTripNs, Int(s)) }
                },
                setup: {
                    let h = try await OrderRoundTrips.start(tls: tls, busyPoll: busyPoll)
                    do { _ = try h.run(1_000) } catch {      // warm-up
                        h.stop()
                        FileHandle.standardError.write("\(name): \(error)\n".data(using: .utf8)!)
                        throw error
                    }
                    harness = h
                },
                teardown: {
                    harness?.stop()
                    if let h = harness, h.tls { stillRunning.append(h) }   // its loop still calls it
                    harness = nil
                })
        }
    }
}
