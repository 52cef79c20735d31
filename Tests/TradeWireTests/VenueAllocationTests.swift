import CMallocCounter
import Foundation
import Synchronization
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireGateway
@testable import TradeWireQuotes
import TradeWireSimulator

/// Heap allocations per steady-state round trip on each venue client's loop thread (Kraken's has its own test in
/// KrakenClientTests): encode, send, receive, decode, correlate, record latency, callback. The requests are made
/// before the count starts, as a caller has its orders ready; each callback sends the next. Debug builds count
/// too (unspecialized generic calls allocate there), so the order path avoids them.
@Suite("Allocations per round trip, every venue", .serialized)
struct VenueAllocationTests {
    static let warmup = 300, measured = 2000

    /// Counts the loop thread's allocations between the warm-up's last answer and the measured run's last.
    final class Counter: Sendable {
        let state = Mutex<(done: Int, start: UInt64, result: UInt64?)>((0, 0, nil))
        /// An answer came: true while more round trips are wanted.
        func answered(ok: Bool) -> Bool {
            state.withLock { s in
                guard ok else { s.result = .max; return false }
                s.done += 1
                if s.done == warmup { s.start = tw_test_thread_allocations() }
                if s.done == warmup + measured { s.result = tw_test_thread_allocations() - s.start; return false }
                return true
            }
        }
        var next: Int { state.withLock { $0.done } }
        func wait() -> UInt64? {
            for _ in 0..<3000 where state.withLock({ $0.result }) == nil { usleep(10_000) }
            return state.withLock { $0.result }
        }
    }

    /// The client's loop waits, or busy-polls: then the client's warm-up (`OrderPathWarmer`) runs between round trips.
    final class Rig: @unchecked Sendable {
        let serverLoop: EventLoop
        let loop: EventLoop
        let simulator: ExchangeSimulator
        init(_ waitMode: WaitMode = .wait) throws {
            serverLoop = try EventLoop.forTest(.automatic)
            loop = try EventLoop.forTest(waitMode == .busyPoll ? .posix : .automatic, waitMode)
            simulator = try ExchangeSimulator(on: serverLoop, binance: BinanceVenueSimulator(options: .init(
                apiKey: "k", apiSecret: "s", ordersPer10s: nil, ordersPerDay: 10_000_000)))
        }
        func url(_ path: String) -> WebSocketURL { WebSocketURL(secure: false, host: "127.0.0.1", port: simulator.port, target: path) }
        deinit {
            loop.shutdown()
            serverLoop.shutdown()
        }
    }

    static let total = warmup + measured + 1

    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"),
          arguments: [(BinanceClient.Configuration.ResponseFormat.json, false, WaitMode.wait), (.sbe, false, .wait), (.json, true, .wait),
                      (.sbe, true, .wait), (.json, true, .busyPoll), (.sbe, true, .busyPoll)])
    func binanceOrderPlace(_ format: BinanceClient.Configuration.ResponseFormat, limited: Bool, waitMode: WaitMode) async throws {
        let rig = try Rig(waitMode)
        let counter = Counter()
        let orders = (0..<Self.total).map { n in
            BinanceRequest.orderPlace(BinanceOrder(symbol: "BTCUSDT", side: n % 2 == 0 ? .buy : .sell, type: .limit, quantity: "0.01000000",
                                                   price: "26500.00", timeInForce: .gtc,
                                                   newClientOrderID: ClientOrderID("A\(100_000 + n)")!, responseType: .ack))
        }
        var configuration = BinanceClient.Configuration(
            url: rig.url(ExchangeSimulator.binancePath), credentials: BinanceCredentials(apiKey: "k", key: .hmac(secret: "s")),
            requestTimeout: .seconds(300),
            rateLimiter: limited ? VenueRateLimiter(BinanceRateLimits(), policy: .failFast) : nil)
        configuration.responseFormat = format
        let client = BinanceClient(loop: rig.loop, configuration: configuration, handlers: .init(onResponse: { client, c in
                guard counter.answered(ok: { if case .success = c.result { true } else { false } }()) else { return }
                _ = try? client.send(orders[counter.next])
            }))
        try await client.connect()
        rig.loop.execute { _ = try? client.send(orders[0]) }
        let n = counter.wait()
        // The answer keeps its result in the client's recycled storage and its rate limits inline; with a limiter,
        // each answer's `rateLimits` also updates the limiter's windows.
        #expect(n == 0, "allocations over \(Self.measured) order.place round trips: \(n.map(String.init) ?? "none")")
        await client.close()
    }

    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"),
          arguments: [WaitMode.wait, .busyPoll])
    func gatewaySendOrder(_ waitMode: WaitMode) async throws {
        let rig = try Rig(waitMode)
        let counter = Counter()
        let orders = (0..<Self.total).map { n in
            GatewayRequest.sendOrder(clientOrderID: ClientOrderID("G\(100_000 + n)")!,
                                     order: GatewayOrder(symbol: "GGAL", side: n % 2 == 0 ? .buy : .sell, size: "100", price: "1500.0"))
        }
        let client = GatewayClient(loop: rig.loop, configuration: .init(url: rig.url(ExchangeSimulator.gatewayPath), requestTimeout: .seconds(300)),
                                   handlers: .init(onResponse: { client, c in
            guard counter.answered(ok: { if case .success = c.result { true } else { false } }()) else { return }
            _ = try? client.send(orders[counter.next])
        }))
        try await client.connect()
        rig.loop.execute { _ = try? client.send(orders[0]) }
        let n = counter.wait()
        #expect(n == 0, "allocations over \(Self.measured) send_order round trips: \(n.map(String.init) ?? "none")")
        await client.close()
    }

    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"),
          arguments: [WaitMode.wait, .busyPoll])
    func quotesPing(_ waitMode: WaitMode) async throws {
        let rig = try Rig(waitMode)
        let counter = Counter()
        let ping = QuotesRequest.ping("1234")
        let client = QuotesClient(loop: rig.loop, configuration: .init(url: rig.url(ExchangeSimulator.quotesPath), bearerToken: "t",
                                                                       requestTimeout: .seconds(300), rateLimiter: nil),
                                  handlers: .init(onResponse: { client, c in
            guard counter.answered(ok: { if case .success = c.result { true } else { false } }()) else { return }
            _ = try? client.send(ping)
        }))
        try await client.connect()
        rig.loop.execute { _ = try? client.send(ping) }
        let n = counter.wait()
        #expect(n == 0, "allocations over \(Self.measured) ping round trips: \(n.map(String.init) ?? "none")")
        await client.close()
    }
}
