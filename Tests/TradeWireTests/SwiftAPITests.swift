import Foundation
import MetricsTestKit
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireKraken
@testable import TradeWireLifecycle
@testable import TradeWireQuotes
@testable import TradeWireSimulator

/// The Swift API's promises: streams that tell a lagging consumer what it skipped, a registry typed by venue,
/// venue errors as data, metrics through swift-metrics, an awaitable close, services for swift-service-lifecycle.
@Suite("Swift API", .serialized)
struct SwiftAPITests {
    // MARK: EventStream's overflow policy

    @Test func aLaggingConsumerIsToldWhatItSkippedAtThePointItWasSkipped() async {
        let hub = StreamHub<Int>(defaultBufferSize: 3)
        let stream = hub.stream()
        for i in 0..<10 { hub.yield(i) }          // nobody reads: 3 kept, 7 skipped
        var it = stream.makeAsyncIterator()
        var seen: [String] = []
        for _ in 0..<4 {
            switch await it.next() {
            case .event(let e)?: seen.append("\(e)")
            case .gap(let n)?: seen.append("gap \(n)")
            case nil: seen.append("end")
            }
        }
        #expect(seen == ["0", "1", "2", "gap 7"])
        hub.yield(10)                             // after the gap, in order
        hub.finish()
        #expect(await it.next()?.value == 10)
        #expect(await it.next() == nil)           // finished once drained
    }

    @Test func aGapWhileEventsAreBufferedComesBeforeLaterEvents() async {
        let hub = StreamHub<Int>(defaultBufferSize: 2)
        let stream = hub.stream()
        var it = stream.makeAsyncIterator()
        hub.yield(0); hub.yield(1); hub.yield(2)  // 2 is skipped
        #expect(await it.next()?.value == 0)      // room for one more now
        hub.yield(3)                              // must not overtake the gap
        var rest: [String] = []
        for _ in 0..<3 {
            switch await it.next() {
            case .event(let e)?: rest.append("\(e)")
            case .gap(let n)?: rest.append("gap \(n)")
            case nil: rest.append("end")
            }
        }
        #expect(rest == ["1", "gap 1", "3"])
    }

    @Test func eventsOnlyThrowsAtAGapAndEachSubscriptionGetsEveryEvent() async {
        let hub = StreamHub<Int>(defaultBufferSize: 2)
        let a = hub.stream(), b = hub.stream(bufferSize: 16)
        for i in 0..<5 { hub.yield(i) }
        hub.finish()
        var got: [Int] = []
        do {
            for try await e in a.events { got.append(e) }
            Issue.record("no gap reported")
        } catch {
            #expect(error == StreamGapError(skipped: 3))
        }
        #expect(got == [0, 1])
        var all: [Int] = []
        for await item in b { if let e = item.value { all.append(e) } }
        #expect(all == [0, 1, 2, 3, 4])
    }

    @Test func aWaitingConsumerIsResumedAndAReleasedStreamUnsubscribes() async throws {
        let hub = StreamHub<Int>()
        var stream: EventStream<Int>? = hub.stream()
        #expect(hub.hasSubscribers)
        let reader = Task { [stream] in
            var n = 0
            for await item in stream! { if item.value != nil { n += 1 }; if n == 3 { break } }
            return n
        }
        try await Task.sleep(for: .milliseconds(50))
        for i in 0..<3 { hub.yield(i) }
        #expect(await reader.value == 3)
        stream = nil
        #expect(!hub.hasSubscribers)
        // A cancelled reader ends instead of waiting for ever.
        let waiting = Task { [s = hub.stream()] in for await _ in s {}; return true }
        try await Task.sleep(for: .milliseconds(20))
        waiting.cancel()
        #expect(await waiting.value)
    }

    // MARK: clients against the simulator

    final class Venue: @unchecked Sendable {
        let serverLoop: EventLoop
        let loop: EventLoop
        let exchange: ExchangeSimulator
        init() throws {
            serverLoop = try EventLoop.forTest(.automatic)
            loop = try EventLoop.forTest(.automatic)
            exchange = try ExchangeSimulator(on: serverLoop, quotes: QuotesVenueSimulator(options: .init(quotesPerSecond: 500)))
        }
        func url(_ path: String) -> WebSocketURL { WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: path) }
        deinit { loop.shutdown(); serverLoop.shutdown() }
    }

    @Test func metricsReachASwiftMetricsBackend() async throws {
        let venue = try Venue()
        let metrics = TestMetrics()
        var config = KrakenClient.Configuration(url: venue.url(ExchangeSimulator.krakenPath), token: "t", rateLimiter: nil)
        config.metricsFactory = metrics
        let kraken = KrakenClient(loop: venue.loop, configuration: config)
        try await kraken.connect()
        for _ in 0..<3 { _ = try await kraken.placeOrder(.limit("BTC/USD", .buy, quantity: "0.01", price: "20000")) }
        await #expect(throws: TradeWireError.self) {
            _ = try await kraken.amendOrder(KrakenAmendOrder(.orderID("NO-SUCH-ORDER"), quantity: "1"))
        }
        await kraken.close()
        let dims = [("venue", "kraken"), ("method", "add_order")]
        let amend = [("venue", "kraken"), ("method", "amend_order")]
        #expect(metrics.counterTotal(label: "tradewire_requests_total", dimensions: dims) == 3)
        #expect(metrics.counterTotal(label: "tradewire_request_errors_total", dimensions: dims) == 0)
        #expect(metrics.counterTotal(label: "tradewire_request_errors_total", dimensions: amend) == 1)
        let timer = try metrics.expectTimer("tradewire_request_duration", dims)
        #expect(timer.values.count == 3)
        #expect(timer.values.allSatisfy { $0 > 0 })
        #expect(metrics.counterTotal(label: "tradewire_messages_out_total", dimensions: [("venue", "kraken")]) >= 4)
        #expect(metrics.counterTotal(label: "tradewire_messages_in_total", dimensions: [("venue", "kraken")]) >= 4)
    }

    @Test func venueErrorsAreDataAndTheRegistryIsTypedByVenue() async throws {
        let venue = try Venue()
        TradeWire.removeAll()
        defer { TradeWire.removeAll() }
        let created = try TradeWire.create(.binance, loop: venue.loop, configuration: .init(
            url: venue.url(ExchangeSimulator.binancePath),
            credentials: BinanceCredentials(apiKey: "demo-api-key", key: .hmac(secret: "not-the-secret")), rateLimiter: nil))
        let fetched: BinanceClient = try TradeWire.client(.binance)     // typed: no cast, no string
        #expect(fetched === created)
        #expect(throws: TradeWireError.self) {
            try TradeWire.create(.binance, loop: venue.loop, configuration: .init(url: venue.url(ExchangeSimulator.binancePath)))
        }
        try await fetched.connect()
        do {
            _ = try await fetched.placeOrder(.limit("BTCUSDT", .buy, quantity: "0.01", price: "1.00"))
            Issue.record("a bad signature was accepted")
        } catch {
            #expect(error.code == .venueRejected)
            #expect(error.venueError?.venue == "binance")
            #expect(error.venueError?.numericCode == -1022)
            #expect(error.venueError?.message.contains("Signature") == true)
        }
        await fetched.close()
    }

    @Test func krakenErrorsCarryTheirCodeAndCategory() {
        let v = VenueError.kraken("EOrder:Insufficient funds")
        #expect(v.code == "EOrder:Insufficient funds")
        #expect(v.category == "EOrder")
        #expect(v.message == "Insufficient funds")
        #expect(v.numericCode == nil)
    }

    @Test func quotesArriveAsAnAsyncSequenceAndCloseIsAwaitable() async throws {
        let venue = try Venue()
        let quotes = QuotesClient(loop: venue.loop, configuration: .init(
            url: venue.url(ExchangeSimulator.quotesPath), bearerToken: "any", rateLimiter: nil))
        let stream = quotes.quotes
        let events = quotes.connectionEvents
        try await quotes.connect()
        _ = try await quotes.subscribe(["DWC.4.20"])
        var n = 0
        for await item in stream {
            if case .event(let q) = item { #expect(q.product.description == "DWC.4.20"); n += 1 }
            if n == 5 { break }
        }
        #expect(n == 5)
        await quotes.close()                       // returns once closed: no request is left in flight
        #expect(!quotes.isConnected)
        await #expect(throws: TradeWireError.self) { _ = try await quotes.ping("after close") }
        var seen: [String] = []
        for await item in events {                 // ends after close, once drained
            switch item.value {
            case .connected?: seen.append("connected")
            case .disconnected?: seen.append("disconnected")
            default: break
            }
        }
        #expect(seen == ["connected", "disconnected"])
    }

    @Test func clientsRunAsServicesAndCloseAtGracefulShutdown() async throws {
        let venue = try Venue()
        let kraken = KrakenClient(loop: venue.loop, configuration: .init(
            url: venue.url(ExchangeSimulator.krakenPath), token: "t", rateLimiter: nil))
        let cancelledAll = Locked(false)
        let service = VenueClientService(kraken) { client in
            _ = try? await client.cancelAll()
            cancelledAll.withLock { $0 = true }
        }
        let events = kraken.connectionEvents
        try await testGracefulShutdown { trigger in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await service.run() }
                for await e in events where e.value?.isConnected == true { break }
                _ = try await kraken.placeOrder(.limit("BTC/USD", .buy, quantity: "0.01", price: "20000"))
                trigger.triggerGracefulShutdown()
                try await group.waitForAll()
            }
        }
        #expect(cancelledAll.withLock { $0 })
        #expect(!kraken.isConnected)
    }

    // MARK: error texts

    @Test func errorTextsSayThingsOnceAndAMissingCAFileIsNamed() async throws {
        func count(_ word: String, in text: String) -> Int { text.lowercased().components(separatedBy: word).count - 1 }
        let venue = try Venue()
        // A closed port: the system's reason once.
        let refused = QuotesClient(loop: venue.loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: 1, target: "/q"), bearerToken: "t"))
        do { try await refused.connect(); Issue.record("connected to port 1") } catch {
            #expect(count("connection refused", in: "\(error)") == 1, "\(error)")
        }
        // A refused upgrade: status and body, said once.
        let quotesVenue = try WebSocketServer.listen(on: venue.serverLoop) { r in
            QuotesVenueSimulator(options: .init(bearer: "right")).decide(r)
        }
        let wrongBearer = QuotesClient(loop: venue.loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: quotesVenue.port, target: "/q"), bearerToken: "wrong"))
        do { try await wrongBearer.connect(); Issue.record("a wrong bearer was accepted") } catch {
            #expect(error.code == .upgradeRejected && error.httpStatus == 401)
            #expect(count("upgrade refused", in: error.detail) <= 1, "\(error.detail)")
            #expect(count("401", in: error.detail) == 1, "\(error.detail)")
        }
        // A CA file that is not there: the error names it.
        var tls = TLSConfiguration.default
        tls.additionalTrust = [.caFile("/nonexistent/tradewire-ca.pem")]
        let missingCA = QuotesClient(loop: venue.loop, configuration: .init(
            url: WebSocketURL(secure: true, host: "127.0.0.1", port: venue.exchange.port, target: "/q"), bearerToken: "t", tls: tls))
        do { try await missingCA.connect(); Issue.record("connected without its CA file") } catch {
            #expect(error.code == .invalidArgument)
            #expect(error.detail.contains("/nonexistent/tradewire-ca.pem"), "\(error.detail)")
        }
    }
}
