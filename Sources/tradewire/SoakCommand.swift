import ArgumentParser
import Foundation
import TradeWire
import TradeWireKraken
import TradeWireQuotes
import TradeWireSimulator

/// Continuous order round trips with a quotes stream on the same loop, reported
/// per window: do latency percentiles and resident memory hold steady?
struct Soak: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Order round trips for a while with a quotes stream on the same loop: percentiles and RSS per window.",
        discussion: """
        The venue (`tradewire simulator`) runs in a child process, so the resident memory reported is the \
        client's alone. Orders alternate buy and sell at one price, so each sell fills the previous buy and \
        the venue's book stays flat however long the run.
        """)

    @Option(help: "Seconds to run.") var seconds = 60
    @Option(help: "Seconds per report window.") var window = 10
    @Option(help: "Quotes per second the venue streams to the client.") var quotesPerSecond = 10_000
    @Flag(help: "Busy-poll the client loop.") var busyPoll = false
    @Option(help: "Pin the client loop to this CPU (the venue runs on the other one).") var cpu = 0
    @Flag(inversion: .prefixedNo, help: "Busy-poll the venue's loop.") var venueBusyPoll = false
    @Option(help: """
        The same client also keeps a Kraken book (CRC-verified on every update) that the venue moves at this many \
        updates per second (0: none).
        """) var bookRate = 0

    func run() throws {
        let venue = try SimulatorProcess(executable: "/proc/self/exe", arguments: [
            "--quotes-per-second", String(quotesPerSecond), "--token", "soak-token", "--cpu", cpu == 0 ? "1" : "0",
        ] + (venueBusyPoll ? ["--busy-poll"] : []) + (bookRate > 0 ? ["--kraken-book-flow", String(bookRate)] : []))
        defer { venue.stop() }
        let loop = try EventLoop(configuration: .init(waitMode: busyPoll ? .busyPoll : .wait, cpu: cpu))
        let (driver, kraken) = VenueRoundTrips.kraken(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: venue.port, target: "/v2"), token: "soak-token", rateLimiter: nil),
            requests: [Side.buy, .sell].map { .addOrder(KrakenAddOrder(Order.limit("BTC/USD", $0, quantity: "0.5", price: "26500.4"))) },
            capacity: 1_000)
        defer { withExtendedLifetime(driver) { loop.shutdown() } }   // its callbacks run until the loop stops
        let received = Locked(0)
        let quotes = QuotesClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: venue.port, target: "/quotewebsocket/1.0.0"),
            bearerToken: "demo-bearer", rateLimiter: nil), handlers: .init(onQuote: { _, _ in received.withLock { $0 += 1 } }))
        try blockingAwait {
            try await kraken.connect()
            try await quotes.connect()
            _ = try await quotes.subscribe((0..<100).map { "SOK.\($0)" })
        }
        if bookRate > 0 {
            try blockingAwait {
                _ = try await kraken.subscribeBook(["FLOW/USD"], depth: 10, precisions: [
                    "FLOW/USD": .init(price: KrakenBookFlow.precision.price, quantity: KrakenBookFlow.precision.quantity)])
            }
        }
        /// Book updates applied and checksum failures so far (0, 0 without a book).
        func bookCounts() throws -> (updates: Int, failures: Int) {
            try loop.runSync { (kraken.bookFeed?.updatesApplied ?? 0, kraken.bookFeed?.checksumFailures ?? 0) }
        }
        var lastBook = 0

        print("soak: \(seconds) s of Kraken add_order round trips (send -> callback) with a \(quotesPerSecond) quotes/s stream"
              + (bookRate > 0 ? " and a \(bookRate) updates/s Kraken book" : "")
              + " on the same \(busyPoll ? "busy-polling" : "waiting") loop; venue pid \(venue.process.processIdentifier)")
        print("window       round trips   quotes/s  book upd/s      p50      p99    p99.9      max (µs)   RSS (MiB)")
        let start = Date()
        var windowStart = start
        var windowSamples: [UInt64] = []
        windowSamples.reserveCapacity(window * 100_000)   // the harness's own buffer must not grow RSS mid-run
        var lastQuotes = 0
        var rows: [(p50: Double, p999: Double, rss: Double)] = []
        let box = UnsafeBox(driver)
        while Date().timeIntervalSince(start) < Double(seconds) {
            loop.execute { box.value.start(1_000, record: true) }
            guard driver.chunkDone.wait(seconds: 30) else { throw BenchFailure("no ack for 30 s: the venue stalled") }
            if driver.errors > 0 { throw BenchFailure("\(driver.errors) requests failed (\(driver.lastError ?? "connection lost"))") }
            windowSamples += try loop.runSync { box.value.takeUserSamples() }
            let now = Date()
            let last = now.timeIntervalSince(start) >= Double(seconds)
            if now.timeIntervalSince(windowStart) >= Double(window) || (last && !windowSamples.isEmpty) {
                let q = received.withLock { $0 }
                let s = LatencySummary(windowSamples)
                let rss = Self.residentMiB()
                let t = Int(now.timeIntervalSince(start).rounded())
                let book = try bookCounts()
                let span = now.timeIntervalSince(windowStart)
                print(String(format: "%4d s  %16d %10.0f %11.0f %8.1f %8.1f %8.1f %10.1f %11.1f", t, s.count,
                             Double(q - lastQuotes) / span, Double(book.updates - lastBook) / span, s.p50, s.p99, s.p999, s.max, rss))
                lastBook = book.updates
                rows.append((s.p50, s.p999, rss))
                lastQuotes = q
                windowStart = now
                windowSamples.removeAll(keepingCapacity: true)
            }
        }
        if rows.count >= 2 {
            let later = rows.dropFirst()     // the first window includes warm-up
            let p50s = later.map(\.p50), p999s = later.map(\.p999), rss = later.map(\.rss)
            print(String(format: "after the first window: p50 %.1f-%.1f µs, p99.9 %.1f-%.1f µs, RSS %.1f-%.1f MiB",
                         p50s.min()!, p50s.max()!, p999s.min()!, p999s.max()!, rss.min()!, rss.max()!))
        }
        print("quotes received: \(received.withLock { $0 })")
        if bookRate > 0 {
            let book = try bookCounts()
            print("book updates applied: \(book.updates), checksum failures: \(book.failures)")
            if book.failures > 0 { throw ExitCode(1) }
        }
    }

    /// This process's resident set, from /proc/self/statm.
    static func residentMiB() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8),
              let pages = text.split(separator: " ").dropFirst().first.flatMap({ Double($0) }) else { return 0 }
        return pages * Double(sysconf(Int32(_SC_PAGESIZE))) / 1_048_576
    }
}
