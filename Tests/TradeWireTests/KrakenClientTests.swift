import CMallocCounter
import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken
@testable import TradeWireSimulator

/// A simulator Kraken venue on its own loop, and a client loop.
final class KrakenRig: @unchecked Sendable {
    let serverLoop: EventLoop
    let loop: EventLoop
    let server: WebSocketServer
    let client: KrakenClient
    let outcomes = Locked<[(UInt64, KrakenMethod, Result<KrakenResponse, TradeWireError>, RequestLatency)]>([])

    init(backend: Backend = .automatic, mode: WaitMode = .wait, ackDelay: Duration = .zero,
         timeout: Duration = .seconds(5), limiter: VenueRateLimiter? = nil,
         handlers: KrakenClient.Handlers = .init()) throws {
        serverLoop = try EventLoop.forTest(backend)
        loop = try EventLoop.forTest(backend, mode)
        let venue = KrakenVenueSimulator(options: .init(ackDelay: ackDelay))
        server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"),
            token: "test-token", requestTimeout: timeout, rateLimiter: limiter),
            handlers: Self.recording(handlers, into: outcomes))
    }

    /// The test's handlers; without an `onResponse` of its own, one that records every outcome.
    private static func recording(_ handlers: KrakenClient.Handlers,
                                  into outcomes: Locked<[(UInt64, KrakenMethod, Result<KrakenResponse, TradeWireError>, RequestLatency)]>) -> KrakenClient.Handlers {
        var h = handlers
        if h.onResponse == nil {
            h.onResponse = { _, done in outcomes.withLock { $0.append((done.requestID, done.method, done.result, done.latency)) } }
        }
        return h
    }

    func connect() async throws { try await client.connect() }

    func waitOutcomes(_ n: Int, seconds: Double = 10) -> [(UInt64, KrakenMethod, Result<KrakenResponse, TradeWireError>, RequestLatency)] {
        let deadline = Date().addingTimeInterval(seconds)
        while outcomes.withLock({ $0.count }) < n && Date() < deadline { usleep(1000) }
        return outcomes.withLock { $0 }
    }

    deinit {
        loop.shutdown()
        serverLoop.shutdown()
    }
}

@Suite("Kraken client against the simulator", .serialized)
struct KrakenClientTests {
    let order = Order.limit("BTC/USD", .buy, quantity: "1.25", price: "26500.4")

    @Test(arguments: allBackends)
    func placeAndCancelWithTypedAcksAndLatency(_ backend: Backend) async throws {
        let rig = try KrakenRig(backend: backend)
        try await rig.connect()
        let ack = try await rig.client.placeOrder(Order.limit("BTC/USD", .buy, quantity: "1.25", price: "26500.4",
                                                              clientOrderID: ClientOrderID("my-order-1")))
        #expect(ack.response.success)
        #expect(ack.response.orderID?.hasPrefix("O") == true)
        #expect(ack.response.clientOrderID?.description == "my-order-1")
        #expect(ack.latency.nanoseconds > 0)
        let cancel = try await rig.client.cancelOrder(.orderIDs([ack.response.orderID!.description]))
        #expect(cancel.response.orderID == ack.response.orderID)
        // The callback saw both, in the seed's (id, method, request, response, latency) form.
        let seen = rig.waitOutcomes(2)
        #expect(seen.map(\.1) == [.addOrder, .cancelOrder])
        #expect(seen.map(\.0) == [ack.requestID, cancel.requestID])
        #expect(await rig.client.latencyStats(for: .addOrder)?.count == 1)
        #expect(await rig.client.latencyStats(for: .cancelOrder)?.count == 1)
    }

    @Test func venueErrorsAreTypedAndCompleteTheRequest() async throws {
        let rig = try KrakenRig()
        try await rig.connect()
        await #expect { _ = try await rig.client.cancelOrder(.orderIDs(["NOPE-NOPE-NOPE"])) } throws: { e in
            let t = e as? TradeWireError
            return t?.code == .venueRejected && t?.venueError?.code == "EOrder:Invalid order"
        }
        let bad = Order.limit("BTCUSD", .buy, quantity: "1", price: "1")   // no slash: the venue refuses the symbol
        await #expect { _ = try await rig.client.placeOrder(bad) } throws: { ($0 as? TradeWireError)?.code == .venueRejected }
        #expect(rig.waitOutcomes(2).count == 2)
    }

    @Test func aKnownAckDelayShowsUpInEveryLatency() async throws {
        let rig = try KrakenRig(ackDelay: .milliseconds(3))
        try await rig.connect()
        for _ in 0..<5 {
            let ack = try await rig.client.placeOrder(order)
            #expect(ack.latency.nanoseconds >= 3_000_000)
        }
        #expect((await rig.client.latencyStats(for: .addOrder)?.p50 ?? 0) >= 3000)
    }

    @Test func timeoutCompletesOnceAndTheLateAckIsIgnored() async throws {
        let rig = try KrakenRig(ackDelay: .milliseconds(400), timeout: .milliseconds(100))
        try await rig.connect()
        await #expect { _ = try await rig.client.placeOrder(order) } throws: { ($0 as? TradeWireError)?.code == .requestTimeout }
        try await Task.sleep(for: .milliseconds(600))      // the ack arrives late
        let seen = rig.outcomes.withLock { $0 }
        #expect(seen.count == 1)
        if case .failure(let e) = seen.first?.2 { #expect(e.code == .requestTimeout) } else { Issue.record("expected a timeout") }
    }

    /// A request's own timeout, shorter than the client's, is kept: the expiry timer is moved
    /// up for it (it used to fire only once per client timeout, after the ack had come).
    @Test func aShorterPerRequestTimeoutExpiresBeforeTheAck() async throws {
        let rig = try KrakenRig(ackDelay: .milliseconds(400), timeout: .seconds(30))
        try await rig.connect()
        let id = try rig.loop.runSync { [rig, order] in
            try rig.client.send(.addOrder(KrakenAddOrder(order)), timeout: .milliseconds(50))
        }
        let seen = rig.waitOutcomes(1)
        try await Task.sleep(for: .milliseconds(600))      // the ack arrives late and completes nothing
        #expect(rig.outcomes.withLock { $0.count } == 1)
        #expect(seen.first?.0 == id)
        if case .failure(let e) = seen.first?.2 { #expect(e.code == .requestTimeout) } else { Issue.record("expected a timeout") }
    }

    @Test func connectionLossCompletesEveryInFlightRequestOnce() async throws {
        let rig = try KrakenRig(ackDelay: .seconds(2))
        try await rig.connect()
        let ids = try rig.loop.runSync { [rig, order] in
            try (0..<5).map { _ in try rig.client.send(.addOrder(KrakenAddOrder(order))) }
        }
        rig.server.close()
        rig.serverLoop.shutdown()           // the venue goes away with five orders in flight
        let seen = rig.waitOutcomes(5)
        #expect(seen.count == 5)
        #expect(Set(seen.map(\.0)) == Set(ids))
        for s in seen {
            if case .failure(let e) = s.2 { #expect(e.code == .connectionLost) } else { Issue.record("expected connectionLost") }
        }
        try await Task.sleep(for: .milliseconds(100))
        #expect(rig.outcomes.withLock { $0.count } == 5)  // never twice
    }

    @Test func rateLimitFailFastNamesTheLimit() async throws {
        let limiter = VenueRateLimiter(TokenBucket(name: "test bucket 1/s", capacity: 1, ratePerSecond: 0.001), policy: .failFast)
        let rig = try KrakenRig(limiter: limiter)
        try await rig.connect()
        _ = try await rig.client.placeOrder(order)
        await #expect { _ = try await rig.client.placeOrder(order) } throws: { e in
            let t = e as? TradeWireError
            return t?.code == .rateLimited && t?.detail.contains("test bucket 1/s") == true
        }
    }

    @Test func rateLimitWaitKeepsIssueOrder() async throws {
        let limiter = VenueRateLimiter(TokenBucket(name: "bucket", capacity: 1, ratePerSecond: 50), policy: .wait)
        let rig = try KrakenRig(limiter: limiter)
        try await rig.connect()
        let ids = try rig.loop.runSync { [rig, order] in
            try (0..<4).map { _ in try rig.client.send(.addOrder(KrakenAddOrder(order))) }
        }
        let seen = rig.waitOutcomes(4)
        #expect(seen.map(\.0) == ids)       // acks in issue order: the held ones left in order
        #expect(seen.allSatisfy { if case .success = $0.2 { true } else { false } })
    }

    /// Zero heap allocations per steady-state add_order round trip on the client's
    /// loop thread: encode into the send buffer, send, receive, parse, decode,
    /// match by req_id, record latency, callback.
    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"),
          arguments: [(Backend.ioUring, WaitMode.wait), (.ioUring, .busyPoll), (.posix, .wait)])
    func zeroAllocationsPerAddOrderRoundTrip(_ backend: Backend, _ mode: WaitMode) async throws {
        // A request timeout longer than the measured window: the expiry timer's own re-arm (a few
        // allocations once per timeout period, not per round trip) stays out of the count.
        let result = Locked<UInt64?>(nil)
        let request = KrakenRequest.addOrder(KrakenAddOrder(order))
        let warmup = 300, measured = 2000
        // The handler's counters (loop thread only; a Mutex, no allocation).
        let counters = Locked<(done: Int, start: UInt64)>((0, 0))
        let rig = try KrakenRig(backend: backend, mode: mode, timeout: .seconds(300), handlers: .init(onResponse: { client, completion in
            guard case .success = completion.result else { result.withLock { $0 = .max }; return }
            let done = counters.withLock { c in
                c.done += 1
                if c.done == warmup { c.start = tw_test_thread_allocations() }
                return c.done
            }
            if done == warmup + measured {
                let n = tw_test_thread_allocations() - counters.withLock { $0.start }
                result.withLock { $0 = n }
                return
            }
            _ = try? client.send(request)
        }))
        try await rig.connect()
        let client = rig.client
        rig.loop.execute { _ = try? client.send(request) }
        for _ in 0..<3000 where result.withLock({ $0 }) == nil { usleep(10_000) }
        #expect(result.withLock { $0 } == 0, "allocations over \(measured) add_order round trips")
        #expect(await client.latencyStats(for: .addOrder)?.count == UInt64(warmup + measured))
    }
}

@Suite("Registry", .serialized)
struct RegistryTests {
    @Test func createOnceFetchAnywhere() throws {
        TradeWire.removeAll()
        defer { TradeWire.removeAll() }
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        #expect { _ = try TradeWire.client(.kraken) } throws: { ($0 as? TradeWireError)?.code == .notCreated }
        let cfg = KrakenClient.Configuration(url: try WebSocketURL("ws://127.0.0.1:1/v2"))
        let c = try TradeWire.create(.kraken, loop: loop, configuration: cfg)
        #expect(try TradeWire.client(.kraken) === c)
        #expect { try TradeWire.create(.kraken, loop: loop, configuration: cfg) } throws: { ($0 as? TradeWireError)?.code == .alreadyCreated }
    }

    @Test func createAllFromASeedShapedConfig() throws {
        TradeWire.removeAll()
        defer { TradeWire.removeAll() }
        KrakenClient.registerFactory()
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let config = #"{"service.mm_demo":{"class_name":"MMDemoService","setting":{"ws_apis":[{"exchange":"kraken","api_key":"k","api_secret":"s","url":"ws://127.0.0.1:9/v2"}]}}}"#
        let dir = try TempDir()
        let path = dir.path + "/service.json"
        try config.write(toFile: path, atomically: true, encoding: .utf8)
        let made = try TradeWire.createAll(configFile: path, loop: loop)
        #expect(made == ["kraken"])
        #expect(try TradeWire.client(.kraken).configuration.url.port == 9)
        #expect(throws: TradeWireError.self) {
            try TradeWire.createAll(configJSON: Array(#"{"ws_apis":[{"exchange":"nowhere"}]}"#.utf8), loop: loop)
        }
    }

    @Test func credentialsNeverPrintTheSecret() {
        let c = Credentials(apiKey: "AKIAEXAMPLEKEY", apiSecret: "super-secret-value")
        var dumped = ""
        dump(c, to: &dumped)
        for text in ["\(c)", String(reflecting: c), dumped, "\([c])"] {
            #expect(!text.contains("super-secret-value"), "\(text)")
            #expect(!text.contains("AKIAEXAMPLEKEY"), "\(text)")      // only a prefix of the key
        }
    }
}
