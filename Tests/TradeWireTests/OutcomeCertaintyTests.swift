import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireGateway
@testable import TradeWireKraken
@testable import TradeWireQuotes
@testable import TradeWireSimulator

/// Every awaited request returns, whatever ends it, on all four venues.
@Suite("Outcome certainty: no awaited request hangs", .serialized)
struct AwaitedRequestTests {
    /// One client of each venue against one simulator, on one loop.
    final class Venues: @unchecked Sendable {
        let serverLoop: EventLoop
        let loop: EventLoop
        let exchange: ExchangeSimulator
        let kraken: KrakenClient
        let binance: BinanceClient
        let gateway: GatewayClient
        let quotes: QuotesClient

        init(krakenHandlers: KrakenClient.Handlers = .init()) throws {
            serverLoop = try EventLoop.forTest(.automatic)
            loop = try EventLoop.forTest(.automatic)
            let exchange = try ExchangeSimulator(on: serverLoop, gateway: GatewayVenueSimulator(options: .init(ticksPerSecond: 0)))
            self.exchange = exchange
            let url = { (path: String) in WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: path) }
            kraken = KrakenClient(loop: loop, configuration: .init(url: url(ExchangeSimulator.krakenPath), token: "t", rateLimiter: nil),
                                  handlers: krakenHandlers)
            binance = BinanceClient(loop: loop, configuration: .init(
                url: url(ExchangeSimulator.binancePath), credentials: .init(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret")),
                rateLimiter: nil))
            gateway = GatewayClient(loop: loop, configuration: .init(url: url(ExchangeSimulator.gatewayPath)))
            quotes = QuotesClient(loop: loop, configuration: .init(url: url(ExchangeSimulator.quotesPath), bearerToken: "demo-bearer",
                                                                  rateLimiter: nil))
        }

        func connectAll() async throws {
            try await kraken.connect()
            try await binance.connect()
            try await gateway.connect()
            try await quotes.connect()
        }

        /// One awaited request per venue; the code each ended with (nil: it succeeded).
        func requestEach() async -> [String: TradeWireError.Code?] {
            func code(_ body: () async throws -> Void) async -> TradeWireError.Code? {
                do { try await body(); return nil } catch { return (error as? TradeWireError)?.code ?? .closed }
            }
            var out: [String: TradeWireError.Code?] = [:]
            out["kraken"] = await code { _ = try await kraken.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "10")) }
            out["binance"] = await code { _ = try await binance.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "10")) }
            out["gateway"] = await code {
                _ = try await gateway.sendOrder(GatewayOrder(symbol: "GGAL", side: .buy, size: "1", price: "10"), clientOrderID: ClientOrderID("g-\(UUID().uuidString.prefix(8))")!)
            }
            out["quotes"] = await code { _ = try await quotes.ping("p") }
            return out
        }

        deinit {
            loop.shutdown()
            serverLoop.shutdown()
        }
    }

    /// The reported case: `close()`, then an awaited request at once. The connection is still open while
    /// its close handshake runs; the request is refused at issue and the caller gets `.closed`.
    @Test func anAwaitedRequestAfterCloseReturnsClosed() async throws {
        let v = try Venues()
        try await v.connectAll()
        await v.kraken.close(); await v.binance.close(); await v.gateway.close(); await v.quotes.close()
        let codes = await v.requestEach()
        #expect(codes.count == 4)
        for (venue, code) in codes { #expect(code == .closed, "\(venue): \(String(describing: code))") }
    }

    /// The path behind the report: the connection is closing (the core refuses the frame) while the client
    /// still sees it open, so the request is registered and fails inside its own send. The awaited caller
    /// still gets that failure, and the callback sees it too, once.
    @Test func aSendThatFailsInsideItselfCompletesTheAwaitedRequest() async throws {
        let krakenCalls = Locked<[UInt64]>([])
        let v = try Venues(krakenHandlers: .init(onResponse: { _, done in krakenCalls.withLock { $0.append(done.requestID) } }))
        try await v.connectAll()
        let kraken = v.kraken, binance = v.binance, gateway = v.gateway, quotes = v.quotes
        // The underlying connections start their close handshake behind the clients' backs.
        try v.loop.runSync {
            for c in [kraken.supervisor.connection, binance.supervisor.connection, gateway.supervisor.connection,
                      quotes.supervisor.connection] { try c?.close() }
        }
        let codes = await v.requestEach()
        #expect(codes.count == 4)
        for (venue, code) in codes { #expect(code != nil, "\(venue) should have failed") }
        // Kraken's request had an id: its one outcome reached the callback as well.
        #expect(krakenCalls.withLock { $0.count } <= 1)
    }

    /// A loop that has stopped runs no task: the request is dropped, and its waiter resumes the caller.
    @Test func anAwaitedRequestOnAStoppedLoopReturnsClosed() async throws {
        let v = try Venues()
        try await v.connectAll()
        v.loop.shutdown()
        let codes = await v.requestEach()
        #expect(codes.count == 4)
        for (venue, code) in codes { #expect(code == .closed, "\(venue): \(String(describing: code))") }
    }

    /// Property: four tasks send orders while a fifth drops connections (60 times, 0.5-4 ms apart), starts
    /// close handshakes behind the client's back, makes the venue close or reset, closes the client and stops
    /// the loop; over ws and over wss (TLS write and read failures). Every awaited call returns; no request id
    /// completes twice; every acknowledged order's id reached the callback exactly once.
    @Test(arguments: [(1, false), (2, false), (3, true), (4, true)])
    func hammeredCloseReconnectAndShutdownLeaveNothingHanging(seed: Int, tls: Bool) async throws {
        let rig = try FaultRig(nil, reconnect: ReconnectPolicy(initialDelay: .milliseconds(2), maxDelay: .milliseconds(10)),
                               timeout: .milliseconds(500), tls: tls)
        let loop = rig.loop, client = rig.client, serverLoop = rig.serverLoop, venue = rig.exchange.kraken
        let callbacks = rig.outcomes      // the rig's onResponse: every completion's request id, method and result
        try await client.connect()
        let acked = Locked<[UInt64]>([])
        let attempts = Locked<(made: Int, returned: Int)>((0, 0))
        let stopped = Locked<Bool>(false)
        let watchdog = Task {
            try await Task.sleep(for: .seconds(120))
            Issue.record("awaited requests still pending after 120 s: a hang")
            fatalError("hang in hammeredCloseReconnectAndShutdownLeaveNothingHanging")
        }
        await withTaskGroup(of: Void.self) { g in
            for t in 0..<4 {
                g.addTask {
                    var i = 0
                    // Until the loop is gone, and one more after that.
                    while true {
                        let last = stopped.withLock { $0 }
                        i += 1
                        attempts.withLock { $0.made += 1 }
                        let order = Order.limit("BTC/USD", .buy, quantity: "1", price: "10", clientOrderID: ClientOrderID("h\(seed)-\(t)-\(i)"))
                        if let ack = try? await client.placeOrder(order) { acked.withLock { $0.append(ack.requestID) } }
                        attempts.withLock { $0.returned += 1 }
                        if last { break }
                    }
                }
            }
            g.addTask {
                var rng = SystemRandomNumberGenerator()
                // Faults start once orders flow (bounded wait: a hang guard, not a timing check).
                let start = Date()
                while acked.withLock({ $0.isEmpty }) && Date().timeIntervalSince(start) < 10 { try? await Task.sleep(for: .milliseconds(1)) }
                for k in 0..<60 {
                    try? await Task.sleep(for: .microseconds(Int.random(in: 500...4000, using: &rng)))
                    switch k % 4 {
                    case 0: loop.execute { try? client.supervisor.connection?.close() }
                    case 1: loop.execute { client.supervisor.connection?.abort() }
                    // The venue's side: a close handshake it starts, or a reset.
                    case 2: serverLoop.execute { for s in venue.sessions.values { try? s.conn.close(code: 1001, reason: "going away") } }
                    default: serverLoop.execute { for s in venue.sessions.values { s.conn.reset() } }
                    }
                }
                // The close that does not wait: the loop stops 2 ms later, whatever is still in flight.
                let closeNow: () -> Void = client.beginClose
                closeNow()
                try? await Task.sleep(for: .milliseconds(2))
                loop.shutdown()
                stopped.withLock { $0 = true }
            }
        }
        watchdog.cancel()
        let (made, returned) = attempts.withLock { $0 }
        #expect(made == returned)
        #expect(!acked.withLock { $0.isEmpty }, "no order went through")
        let ids = callbacks.withLock { $0.map(\.0) }
        #expect(Set(ids).count == ids.count, "a request completed twice")
        let seen = Set(ids)
        #expect(acked.withLock { $0.allSatisfy { seen.contains($0) } })
    }
}

/// Unknown outcomes settled by the venue's evidence (`UnknownOrderTracker`), without sockets.
@Suite("Outcome certainty: the unknown-order state machine")
struct UnknownOrderTrackerTests {
    static let ms: UInt64 = 1_000_000

    @Test func aSnapshotAloneNeverSaysNotFound() {
        var t = UnknownOrderTracker(settleWindowNs: 100 * Self.ms)
        t.add(clientOrderID: "a", requestID: 1, cause: .connectionLost, symbol: nil, generation: 1, connectionOpen: false, now: 0)
        // No evidence in view: nothing is due, however long it waits.
        #expect(t.due(now: 10_000 * Self.ms).isEmpty)
        #expect(t.nextSettleTime == nil)
        // Evidence from 50 ms: due 100 ms after that, not before.
        t.evidenceInView(now: 50 * Self.ms)
        #expect(t.nextSettleTime == 150 * Self.ms)
        #expect(t.due(now: 149 * Self.ms).isEmpty)
        let due = t.due(now: 150 * Self.ms)
        #expect(due.map(\.clientOrderID) == ["a"])
        // Handed out once.
        #expect(t.due(now: 500 * Self.ms).isEmpty)
        let r = t.settleNotFound(clientOrderID: "a")
        #expect(r?.finding == .notFound)
        #expect(r?.requestID == 1)
        #expect(t.isEmpty)
    }

    @Test func aSightingAfterNotFoundIsReportedAsSuch() {
        var t = UnknownOrderTracker(settleWindowNs: 10 * Self.ms)
        t.add(clientOrderID: "a", requestID: 7, cause: .connectionLost, symbol: nil, generation: 1, connectionOpen: false, now: 0)
        t.evidenceInView(now: 0)
        _ = t.due(now: 20 * Self.ms)
        _ = t.settleNotFound(clientOrderID: "a")
        #expect(t.isWatching)
        let late = t.sighted(clientOrderID: "a", orderID: "O1", status: "new")
        #expect(late?.finding == .foundAfterNotFound(orderID: "O1", status: "new"))
        // Once: a second report of it is not news.
        #expect(t.sighted(clientOrderID: "a", orderID: "O1", status: "filled") == nil)
        #expect(!t.isWatching)
    }

    @Test func aTimeoutOnALiveConnectionWaitsForItsDeathOrItsWindow() {
        var t = UnknownOrderTracker(settleWindowNs: 100 * Self.ms)
        t.evidenceInView(now: 0)
        t.add(clientOrderID: "a", requestID: 3, cause: .timedOut, symbol: "BTCUSDT", generation: 1, connectionOpen: true, now: 10 * Self.ms)
        #expect(t.nextSettleTime == 110 * Self.ms)
        // The connection dies at 50 ms: the window counts from its death.
        t.connectionClosed(generation: 1, now: 50 * Self.ms)
        #expect(t.nextSettleTime == 150 * Self.ms)
        // Its late answer settles it first.
        let r = t.answeredLate(requestID: 3, .success((orderID: "42", status: "NEW")))
        #expect(r == OrderReconciliation(clientOrderID: "a", requestID: 3, cause: .timedOut, finding: .found(orderID: "42", status: "NEW")))
        #expect(t.isEmpty)
    }

    @Test func aLateRefusalMeansRejectedAndARecheckWaitsAnotherWindow() {
        var t = UnknownOrderTracker(settleWindowNs: 100 * Self.ms)
        t.evidenceInView(now: 0)
        t.add(clientOrderID: "a", requestID: 1, cause: .timedOut, symbol: nil, generation: 1, connectionOpen: true, now: 0)
        t.add(clientOrderID: "b", requestID: 2, cause: .timedOut, symbol: nil, generation: 1, connectionOpen: true, now: 0)
        let r = t.answeredLate(requestID: 1, .failure(TradeWireError(code: .venueRejected, detail: "EOrder:Insufficient funds")))
        #expect(r?.finding == .rejected(reason: "EOrder:Insufficient funds"))
        #expect(t.due(now: 100 * Self.ms).map(\.clientOrderID) == ["b"])
        t.recheck(clientOrderID: "b", now: 120 * Self.ms)
        #expect(t.nextSettleTime == 220 * Self.ms)
        // Losing the evidence holds every window.
        t.evidenceLost()
        #expect(t.due(now: 1_000 * Self.ms).isEmpty)
    }
}

/// The delayed-frame case of the issue, end to end: orders sent into a stall are lost with the connection,
/// the client reconnects and takes its snapshot, and only then do the old connection's bytes reach the
/// venue (`hold-inbound`). Each such order must be reported found, or corrected after a `.notFound`.
@Suite("Outcome certainty: orders that reach the venue after the reconnect", .serialized)
struct DelayedFrameReconciliationTests {
    static let stale = ReconnectPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(200), staleAfter: .milliseconds(600))
    static let names = ["d1", "d2", "d3", "d4"]

    static func until(_ seconds: Double = 15, _ cond: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !cond() { if Date() > deadline { return false }; try? await Task.sleep(for: .milliseconds(2)) }
        return true
    }

    /// Kraken: a ping trips the fault (its pong is the greeting's successor), the orders behind it are held.
    /// `holdFor`: the venue reads the held orders that long after the client dropped the connection; nil: only once
    /// every order has been reported `.notFound` (the test releases them then, whatever the machine's speed).
    func krakenRun(holdFor delay: Duration?, settle: Duration) async throws -> (FaultRig, [OrderReconciliation]) {
        var plan = FaultInjector.Plan(mode: .holdInbound, atMessage: 2, delay: delay ?? .zero)
        plan.releaseOnDemand = delay == nil
        // Sent from the loop as the first connection opens: a test task may resume late on a busy machine,
        // and the stale check must not see an idle connection before the stall has begun.
        let issued = Locked<[UInt64]>([])
        let rig = try FaultRig(plan, reconnect: Self.stale, settleWindow: settle, onConnection: { client, event in
            guard event.isConnected, issued.withLock({ $0.isEmpty }) else { return }
            let ids = (try? [client.send(.ping)] + Self.names.map { n in
                try client.send(.addOrder(KrakenAddOrder(.limit("BTC/USD", .buy, quantity: "1", price: "100", clientOrderID: ClientOrderID(n)))))
            }) ?? []
            issued.withLock { $0 = ids }
        })
        try await rig.client.connect()
        #expect(await rig.until { issued.withLock { $0.count } == Self.names.count + 1 })
        // Each issued request completed once (the executions subscribe of the reconnect has its own outcome),
        // lost with the connection, never answered.
        let mine = Set(issued.withLock { $0 })
        func outcomes() -> [(UInt64, KrakenMethod, Result<KrakenResponse, TradeWireError>)] { rig.outcomes.withLock { $0 }.filter { mine.contains($0.0) } }
        #expect(await rig.until { Set(outcomes().map(\.0)) == mine })
        #expect(outcomes().count == mine.count)
        #expect(outcomes().allSatisfy { if case .failure(let e) = $0.2 { return e.code == .connectionLost }; return false })
        if delay == nil, let faults = rig.exchange.faults {
            #expect(await rig.until { rig.reconciled.withLock { r in Self.names.allSatisfy { n in r.contains { $0.clientOrderID == n && $0.finding == .notFound } } } })
            #expect(await rig.until { ((try? rig.serverLoop.runSync { faults.releaseHeld() }) ?? 0) > 0 })
        }
        let venue = rig.exchange.kraken
        #expect(await rig.until {
            (try? rig.serverLoop.runSync { venue.orders.filter { Self.names.contains($0.value.clOrdID ?? "") }.count }) == Self.names.count
        })
        #expect(await rig.until { rig.reconciled.withLock { r in Self.names.allSatisfy { n in r.contains { $0.clientOrderID == n && $0.isSighting } } } })
        return (rig, rig.reconciled.withLock { $0 })
    }

    @Test func krakenOrdersArrivingInsideTheWindowAreFound() async throws {
        let (rig, r) = try await krakenRun(holdFor: .milliseconds(400), settle: .seconds(3))
        #expect(rig.reconnected)
        #expect(r.count == Self.names.count, "\(r)")
        for n in Self.names {
            let mine = r.filter { $0.clientOrderID == n }
            #expect(mine.count == 1)
            if case .found(let id, _)? = mine.first?.finding { #expect(id.hasPrefix("O")) } else { Issue.record("\(mine)") }
            #expect(mine.first?.cause == .connectionLost)
        }
    }

    @Test func krakenOrdersArrivingAfterTheWindowAreReportedFoundAfterNotFound() async throws {
        let (_, r) = try await krakenRun(holdFor: nil, settle: .milliseconds(100))
        for n in Self.names {
            let mine = r.filter { $0.clientOrderID == n }.map(\.finding)
            #expect(mine.count == 2, "\(n): \(mine)")
            #expect(mine.first == .notFound)
            if case .foundAfterNotFound? = mine.last {} else { Issue.record("\(n): \(mine)") }
        }
    }

    /// Binance, HMAC key (no user data stream): `order.status` at the window's end finds the orders the old
    /// connection's bytes placed after the reconnect; the openOrders snapshot before them did not. The same whether
    /// the venue answers in JSON or in SBE.
    @Test(arguments: [BinanceClient.Configuration.ResponseFormat.json, .sbe])
    func binanceOrdersArrivingAfterTheReconnectAreFoundByOrderStatus(_ format: BinanceClient.Configuration.ResponseFormat) async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let exchange = try ExchangeSimulator(on: serverLoop, fault: .init(mode: .holdInbound, atMessage: 1, delay: .milliseconds(150)))
        var configuration = BinanceClient.Configuration(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath),
            credentials: .init(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret")), rateLimiter: nil, reconnect: Self.stale)
        configuration.unknownOrderSettleWindow = .milliseconds(800)
        configuration.responseFormat = format
        let reconciled = Locked<[OrderReconciliation]>([])
        let outcomes = Locked<[UInt64]>([])
        // Sent from the loop as the first connection opens (see krakenRun).
        let issued = Locked<[UInt64]>([])
        let client = BinanceClient(loop: loop, configuration: configuration, handlers: .init(
            onResponse: { _, done in outcomes.withLock { $0.append(done.requestID) } },
            onConnection: { client, e in
                guard case .connected(.first) = e else { return }
                let ids = (try? [client.send(.ping)] + Self.names.map { n in
                    try client.send(.orderPlace(.limit("BTCUSDT", .buy, quantity: "1", price: "10", clientOrderID: ClientOrderID(n))))
                }) ?? []
                issued.withLock { $0 = ids }
            },
            onReconciliation: { _, r in reconciled.withLock { $0 += r } }))
        try await client.connect()
        #expect(await Self.until { issued.withLock { $0.count } == Self.names.count + 1 })
        #expect(await Self.until { Set(outcomes.withLock { $0 }).isSuperset(of: issued.withLock { $0 }) })
        let venue = exchange.binance
        #expect(await Self.until { (try? serverLoop.runSync { venue.orders.values.filter { Self.names.contains($0.clientOrderID) }.count }) == 4 })
        #expect(await Self.until { reconciled.withLock { $0.count } == Self.names.count })
        for n in Self.names {
            let mine = reconciled.withLock { $0 }.filter { $0.clientOrderID == n }
            #expect(mine.count == 1)
            if case .found(_, let status)? = mine.first?.finding { #expect(status == "NEW") } else { Issue.record("\(n): \(mine)") }
        }
        // Placed once each, never resent by the client.
        #expect(try serverLoop.runSync { venue.orders.values.filter { Self.names.contains($0.clientOrderID) }.count } == 4)
    }

    /// Gateway: after the reconnect the account's order reports are the evidence; the held orders' first
    /// reports reach the new connection and settle them.
    @Test func gatewayOrdersArrivingAfterTheReconnectAreFoundInTheAccountsReports() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        // 1: greeting, 2: orders_subscribed, 3: the pong that trips the fault.
        let exchange = try ExchangeSimulator(on: serverLoop, gateway: GatewayVenueSimulator(options: .init(ticksPerSecond: 0)),
                                             fault: .init(mode: .holdInbound, atMessage: 3, delay: .milliseconds(400)))
        var configuration = GatewayClient.Configuration(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.gatewayPath),
            reconnect: Self.stale)
        configuration.unknownOrderSettleWindow = .seconds(3)
        let reconciled = Locked<[OrderReconciliation]>([])
        // Sent from the loop (see krakenRun): the subscribe as the first connection opens, the rest at its answer.
        let sent = Locked<Bool>(false)
        let client = GatewayClient(loop: loop, configuration: configuration, handlers: .init(
            onResponse: { client, done in
                guard done.method == .ordersSubscribe, case .success = done.result, !sent.withLock({ $0 }) else { return }
                sent.withLock { $0 = true }
                _ = try? [client.send(.ping)] + Self.names.map { n in
                    try client.send(.sendOrder(clientOrderID: ClientOrderID(n)!, order: GatewayOrder(symbol: "GGAL", side: .buy, size: "1", price: "10")))
                }
            },
            onConnection: { client, e in
                guard case .connected(.first) = e else { return }
                _ = try? client.send(.ordersSubscribe(account: "16557"))
            },
            onReconciliation: { _, r in reconciled.withLock { $0 += r } }))
        try await client.connect()
        #expect(await Self.until { sent.withLock { $0 } })
        #expect(await Self.until { reconciled.withLock { $0.count } == Self.names.count })
        for n in Self.names {
            let mine = reconciled.withLock { $0 }.filter { $0.clientOrderID == n }
            #expect(mine.count == 1)
            if case .found? = mine.first?.finding {} else { Issue.record("\(n): \(mine)") }
        }
    }
}

extension OrderReconciliation {
    /// Found, now or after a `.notFound`.
    var isSighting: Bool {
        switch finding {
        case .found, .foundAfterNotFound: return true
        default: return false
        }
    }
}
