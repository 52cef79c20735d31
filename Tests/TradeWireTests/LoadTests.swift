import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken
@testable import TradeWireQuotes
@testable import TradeWireSimulator
#if canImport(Glibc)
import Glibc
#endif

/// Percentiles (µs) of a sample set, for the report lines.
private func percentiles(_ ns: [UInt64]) -> String {
    let s = ns.sorted()
    func at(_ q: Double) -> Double { Double(s[min(s.count - 1, Int(Double(s.count) * q))]) / 1000 }
    return String(format: "p50 %.1f µs, p99 %.1f µs, p99.9 %.1f µs, max %.1f µs (n=%d)", at(0.5), at(0.99), at(0.999), at(1), s.count)
}

@Suite("Load", .serialized)
struct LoadTests {
    /// 100 Kraken connections on one loop, each running sequential add_order round trips from its
    /// callback: every request completes once, with an ack.
    @Test func hundredConnectionsOnOneLoop() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let exchange = try ExchangeSimulator(on: serverLoop)
        let connections = 100, perConnection = 200
        let url = WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.krakenPath)
        // Half the connections buy and half sell at one price: orders cross and fill, the book stays small.
        let buy = KrakenRequest.addOrder(KrakenAddOrder(Order.limit("BTC/USD", .buy, quantity: "1", price: "100")))
        let sell = KrakenRequest.addOrder(KrakenAddOrder(Order.limit("BTC/USD", .sell, quantity: "1", price: "100")))
        let results = Locked<(ok: Int, failed: Int, ids: Set<String>, latencies: [UInt64])>((0, 0, [], []))
        var clients: [KrakenClient] = []
        for i in 0..<connections {
            let left = Locked(perConnection)
            let order = i % 2 == 0 ? buy : sell
            let client = KrakenClient(loop: loop, configuration: .init(url: url, token: "t", requestTimeout: .seconds(120), rateLimiter: nil),
                                      handlers: .init(onResponse: { client, done in
                results.withLock { r in
                    if case .success = done.result { r.ok += 1 } else { r.failed += 1 }
                    r.ids.insert("\(i)/\(done.requestID)")
                    r.latencies.append(done.latency.nanoseconds)
                }
                if left.withLock({ $0 -= 1; return $0 }) > 0 { _ = try? client.send(order) }
            }))
            try await client.connect()
            clients.append(client)
        }
        // Start every connection's first order in the same loop turn.
        try loop.runSync { [clients] in for (i, c) in clients.enumerated() { try c.send(i % 2 == 0 ? buy : sell) } }
        let deadline = Date().addingTimeInterval(120)
        while results.withLock({ $0.ok + $0.failed }) < connections * perConnection && Date() < deadline { try? await Task.sleep(for: .milliseconds(5)) }
        let r = results.withLock { $0 }
        #expect(r.ok == connections * perConnection)
        #expect(r.failed == 0)
        #expect(r.ids.count == connections * perConnection)     // none twice
        print("load: \(connections) connections × \(perConnection) add_order round trips on one loop: \(percentiles(r.latencies))")
        for c in clients { await c.close() }
    }

    /// One quotes connection with 10,000 subscriptions and a 10,000 quotes/s stream: every quote the
    /// venue sent arrives (counted against the venue's own count), and pings still answer under load.
    @Test func tenThousandQuoteSubscriptions() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let venue = QuotesVenueSimulator(options: .init(bearer: "b", quotesPerSecond: 10_000))
        let exchange = try ExchangeSimulator(on: serverLoop, quotes: venue)
        let received = Locked(0)
        let seen = Locked(Set<String>())
        let client = QuotesClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.quotesPath),
            bearerToken: "b", rateLimiter: nil), handlers: .init(onQuote: { _, quote in
            received.withLock { $0 += 1 }
            seen.withLock { _ = $0.insert(quote.product.description) }
        }))
        try await client.connect()
        let names = (0..<10_000).map { "\(["ABC", "DEF", "GHI", "JKL"][$0 % 4]).\($0)" }
        let acks = try await client.subscribe(names)
        #expect(acks.count == 100)
        #expect(try await client.subscriptionCount() == 10_000)
        var pings: [UInt64] = []
        for i in 0..<200 {
            pings.append(try await client.ping("load-\(i)").latency.nanoseconds)
            try? await Task.sleep(for: .milliseconds(5))
        }
        try serverLoop.runSync { venue.paused = true }
        let sent = try serverLoop.runSync { venue.quotesSent }
        _ = try await client.ping("after-pause")           // answered after every quote sent before it
        #expect(received.withLock { $0 } == sent)
        #expect(sent > 5_000)
        print("load: 10,000 subscriptions, \(sent) quotes sent and received in the run; subscribe (100 requests): "
              + percentiles(acks.map(\.latency.nanoseconds)) + "; ping under the stream: " + percentiles(pings)
              + "; distinct products quoted: \(seen.withLock { $0.count })")
        await client.close()
    }
}
