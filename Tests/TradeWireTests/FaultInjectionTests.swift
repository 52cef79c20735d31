import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireGateway
@testable import TradeWireKraken
@testable import TradeWireQuotes
@testable import TradeWireSimulator
#if canImport(Glibc)
import Glibc
#endif

/// The exchange simulator with a fault plan on its own loop, and a Kraken client
/// that records every outcome and every supervisor event.
final class FaultRig: @unchecked Sendable {
    let serverLoop: EventLoop
    let loop: EventLoop
    let exchange: ExchangeSimulator
    let client: KrakenClient
    let outcomes = Locked<[(UInt64, KrakenMethod, Result<KrakenResponse, TradeWireError>)]>([])
    let events = Locked<[ConnectionEvent]>([])
    let closes = Locked<[WebSocketClose]>([])
    let reconciled = Locked<[OrderReconciliation]>([])
    let certDir: String?

    static let quickReconnect = ReconnectPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(200))

    init(_ plan: FaultInjector.Plan?, reconnect: ReconnectPolicy? = FaultRig.quickReconnect, timeout: Duration = .seconds(5),
         tls: Bool = false, settleWindow: Duration = .seconds(5),
         onConnection: (@Sendable (KrakenClient, ConnectionEvent) -> Void)? = nil) throws {
        serverLoop = try EventLoop.forTest(.automatic)
        loop = try EventLoop.forTest(.automatic)
        var serverTLS: WebSocketServer.TLS? = nil
        var trust = TLSConfiguration.default
        if tls {
            let dir = NSTemporaryDirectory() + "tw-fault-\(UUID().uuidString)"
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let cert = try GeneratedCertificate.generate(in: dir)
            serverTLS = .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile)
            trust = TLSConfiguration(additionalTrust: [.caFile(cert.caFile)])
            certDir = dir
        } else {
            certDir = nil
        }
        exchange = try ExchangeSimulator(on: serverLoop, tls: serverTLS, fault: plan)
        var configuration = KrakenClient.Configuration(
            url: WebSocketURL(secure: tls, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.krakenPath),
            token: "t", tls: trust, requestTimeout: timeout, rateLimiter: nil, reconnect: reconnect)
        configuration.unknownOrderSettleWindow = settleWindow
        client = KrakenClient(loop: loop, configuration: configuration, handlers: .init(
            onResponse: { [outcomes] _, done in outcomes.withLock { $0.append((done.requestID, done.method, done.result)) } },
            onConnection: { [events, closes] client, e in
                events.withLock { $0.append(e) }
                if case .disconnected(let close, _) = e { closes.withLock { $0.append(close) } }
                onConnection?(client, e)      // a test's own reaction, after the rig's records
            },
            onReconciliation: { [reconciled] _, r in reconciled.withLock { $0 += r } }))
    }

    func until(_ seconds: Double = 15, _ cond: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !cond() { if Date() > deadline { return false }; try? await Task.sleep(for: .milliseconds(2)) }
        return true
    }

    var reconnected: Bool {
        events.withLock { $0.contains { if case .connected(.reconnected) = $0 { return true }; return false } }
    }

    /// Every request issued completed exactly once: unique ids, as many outcomes as requests.
    func booksBalance(issued: Set<UInt64>) -> Bool {
        let ids = outcomes.withLock { $0.map(\.0) }
        return Set(ids) == issued && ids.count == issued.count
    }

    deinit {
        loop.shutdown()
        serverLoop.shutdown()
        if let certDir { try? FileManager.default.removeItem(atPath: certDir) }
    }
}

@Suite("Fault injection: every venue misbehaviour ends in a clear error, recovery and balanced books", .serialized)
struct FaultInjectionTests {
    static func order(_ id: String) -> Order {
        Order.limit("BTC/USD", .buy, quantity: "1", price: "100", clientOrderID: ClientOrderID(id))
    }

    /// A place whose answer the fault destroys; then the client reconnects, the executions
    /// snapshot shows the order reached the venue, and the next order goes through.
    @Test(arguments: [FaultMode.dropMidFrame, .tcpReset, .garbageBytes, .oversizedFrame])
    func lostAnswerThenReconnectAndReconcile(_ mode: FaultMode) async throws {
        // Message 1 is the status greeting, 2 the first ack.
        let rig = try FaultRig(.init(mode: mode, atMessage: 2))
        try await rig.client.connect()
        await #expect { _ = try await rig.client.placeOrder(Self.order("lost-\(mode.rawValue)")) } throws: { e in
            (e as? TradeWireError)?.code == .connectionLost
        }
        let close = try #require(rig.closes.withLock { $0.first })
        let code = close.error?.code
        switch mode {
        case .dropMidFrame: #expect(code == .connectionLost, "\(close)")
        case .tcpReset: #expect(code == .system && close.error?.errno?.rawValue == ECONNRESET, "\(close)")
        case .garbageBytes: #expect(code == .protocolViolation, "\(close)")
        default: #expect(code == .messageTooBig, "\(close)")
        }
        #expect(await rig.until { rig.reconnected && rig.client.isConnected })
        #expect(await rig.until { !rig.reconciled.withLock { $0.isEmpty } })
        let r = rig.reconciled.withLock { $0 }
        #expect(r.count == 1)
        #expect(r.first?.clientOrderID == "lost-\(mode.rawValue)")
        if case .found(let orderID, let status)? = r.first?.finding {
            #expect(orderID.hasPrefix("O"))
            #expect(status == "new")
        } else {
            Issue.record("the lost order should be in the snapshot: \(r)")
        }
        let next = try await rig.client.placeOrder(Self.order("after-\(mode.rawValue)"))
        #expect(next.response.success)
        // Books: the lost order, the snapshot subscribe, the next order; each once.
        let outcomes = rig.outcomes.withLock { $0 }
        #expect(outcomes.map(\.1) == [.addOrder, .subscribe, .addOrder])
        #expect(Set(outcomes.map(\.0)).count == outcomes.count)
    }

    @Test func halfOpenStallEndsInTimeoutNotAHang() async throws {
        let rig = try FaultRig(.init(mode: .halfOpenStall, atMessage: 2), reconnect: nil, timeout: .milliseconds(300))
        try await rig.client.connect()
        await #expect { _ = try await rig.client.placeOrder(Self.order("stalled")) } throws: { e in
            (e as? TradeWireError)?.code == .requestTimeout
        }
        // The order's one outcome (the timeout also made the client subscribe to executions, its evidence for the
        // unknown order: that request has an outcome of its own, a timeout too on a stalled venue).
        #expect(rig.outcomes.withLock { $0.filter { $0.1 == .addOrder }.count } == 1)
        #expect(rig.client.isConnected)     // TCP is still up: only the request's deadline could tell
    }

    @Test func staleQuotesStreamIsDroppedReconnectedAndResubscribed() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        // Heartbeats every 50 ms; the stream freezes at its 20th message on the first connection (about 1 s
        // in: the subscribe below must be answered before, even on a loaded test machine).
        let exchange = try ExchangeSimulator(on: serverLoop, quotes: QuotesVenueSimulator(options: .init(
            bearer: "b", quotesPerSecond: 0, heartbeatInterval: .milliseconds(50))), fault: .init(mode: .halfOpenStall, atMessage: 20))
        let policy = ReconnectPolicy(initialDelay: .milliseconds(20), staleAfter: ReconnectPolicy.staleAfter(heartbeat: .milliseconds(50), multiple: 6))
        let events = Locked<[ConnectionEvent]>([])
        let client = QuotesClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.quotesPath),
            bearerToken: "b", rateLimiter: nil, reconnect: policy),
            handlers: .init(onConnection: { _, e in events.withLock { $0.append(e) } }))
        try await client.connect()
        _ = try await client.subscribe(["ABC.1", "DEF.2"])
        let deadline = Date().addingTimeInterval(15)
        func saw(_ p: (ConnectionEvent) -> Bool) -> Bool { events.withLock { $0.contains(where: p) } }
        while Date() < deadline, !saw({ if case .connected(.reconnected) = $0 { return true }; return false }) { try? await Task.sleep(for: .milliseconds(5)) }
        #expect(saw { if case .stale = $0 { return true }; return false })
        #expect(saw { if case .connected(.reconnected) = $0 { return true }; return false })
        while Date() < deadline, (try? await client.subscriptionCount()) != 2 { try? await Task.sleep(for: .milliseconds(5)) }
        #expect(try await client.subscriptionCount() == 2)
    }

    @Test func slowDripStillDeliversTheAckOnce() async throws {
        let rig = try FaultRig(.init(mode: .slowDrip, atMessage: 2))
        try await rig.client.connect()
        let ack = try await rig.client.placeOrder(Self.order("dripped"))
        #expect(ack.response.success)
        #expect(ack.response.clientOrderID?.description == "dripped")
        // A frame of N bytes at 1 byte/ms cannot arrive sooner than N ms after the first byte left.
        #expect(ack.latency.nanoseconds > 50_000_000)
        #expect(rig.outcomes.withLock { $0.count } == 1)
    }

    @Test func delayedAckAfterTheDeadlineIsNotCompletedTwice() async throws {
        let rig = try FaultRig(.init(mode: .delayedAcks, atMessage: 2, delay: .milliseconds(400)), timeout: .milliseconds(100))
        try await rig.client.connect()
        await #expect { _ = try await rig.client.placeOrder(Self.order("late")) } throws: { e in
            (e as? TradeWireError)?.code == .requestTimeout
        }
        // The late ack arrives and is ignored: a ping sent after it answers after it, so once the ping is
        // answered the late ack has been seen.
        try await Task.sleep(for: .milliseconds(450))
        _ = try await rig.client.request(.ping, timeout: .seconds(5))
        // The timeout made the client subscribe to executions (its evidence for the unknown order): that
        // request has its own outcome; the order's and the ping's are the ones this test is about.
        let outcomes = rig.outcomes.withLock { $0 }.filter { $0.1 != .subscribe }
        #expect(outcomes.map(\.1) == [.addOrder, .ping])
        if case .failure(let e) = outcomes[0].2 { #expect(e.code == .requestTimeout) } else { Issue.record("first should have timed out") }
        // The late ack is evidence: the timed-out order is reconciled as found, once.
        let reconciled = rig.reconciled.withLock { $0 }
        #expect(reconciled.count == 1)
        #expect(reconciled.first?.clientOrderID == "late")
        #expect(reconciled.first?.cause == .timedOut)
        if case .found(let orderID, _)? = reconciled.first?.finding { #expect(!orderID.isEmpty) } else { Issue.record("not found: \(reconciled)") }
    }

    @Test(arguments: [(FaultMode.handshake4xx, 429), (.handshake5xx, 503)])
    func refusedHandshakeIsTypedWithStatusAndBody(_ mode: FaultMode, _ status: Int) async throws {
        let rig = try FaultRig(.init(mode: mode))
        await #expect { try await rig.client.connect() } throws: { e in
            let t = e as? TradeWireError
            return t?.code == .upgradeRejected && t?.httpStatus == status && t?.httpBody?.contains("simulated fault") == true
        }
        try await rig.client.connect()      // only the first connection was refused
        #expect(try await rig.client.placeOrder(Self.order("ok")).response.success)
    }

    @Test func wrongAcceptKeyIsRefused() async throws {
        let rig = try FaultRig(.init(mode: .wrongAccept))
        await #expect { try await rig.client.connect() } throws: { ($0 as? TradeWireError)?.code == .badAccept }
        try await rig.client.connect()
        #expect(rig.client.isConnected)
    }

    @Test func tlsAlertIsATypedTLSError() async throws {
        let rig = try FaultRig(.init(mode: .tlsAlert), tls: true)
        await #expect { try await rig.client.connect() } throws: { e in
            let t = e as? TradeWireError
            return t?.code == .tls && t?.detail.contains("alert") == true
        }
    }

    /// After a loss the reconnect itself meets a fault (the next two upgrades are refused 503); the
    /// supervisor backs off, longer each time, and gets through on the third attempt.
    @Test func reconnectBacksOffThroughRefusals() async throws {
        let rig = try FaultRig(.init(mode: .handshake5xx, connections: 2, afterConnections: 1))
        try await rig.client.connect()
        let exchange = rig.exchange
        try rig.serverLoop.runSync { exchange.kraken.sessions.values.forEach { $0.conn.reset() } }
        #expect(await rig.until { rig.reconnected && rig.client.isConnected })
        let retries = rig.events.withLock { $0.compactMap { e -> (WebSocketClose, Duration)? in
            if case .disconnected(let c, let d?) = e { return (c, d) }; return nil
        } }
        #expect(retries.count == 3)
        #expect(retries.dropFirst().allSatisfy { $0.0.error?.httpStatus == 503 })
        if retries.count == 3 { #expect(retries[2].1 > retries[0].1) }
        #expect(rig.client.supervisor.reconnects == 1)
        #expect(try await rig.client.placeOrder(Self.order("after-refusals")).response.success)
    }

    @Test func policyViolationCloseIsTerminal() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        final class ClosesWith: WebSocketHandler, @unchecked Sendable {
            let code: UInt16
            init(_ code: UInt16) { self.code = code }
            func webSocketDidOpen(_ c: WebSocketConnection) { try? c.close(code: code, reason: "bye") }
            func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {}
        }
        for (code, retries) in [(UInt16(1008), false), (1001, true)] {
            let opens = Locked(0)
            let server = try WebSocketServer.listen(on: serverLoop) { _, _ in opens.withLock { $0 += 1 }; return ClosesWith(code) }
            let last = Locked<Duration??>(nil)
            let client = KrakenClient(loop: loop, configuration: .init(
                url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), rateLimiter: nil,
                reconnect: .init(initialDelay: .milliseconds(10), maxAttempts: 3)),
                handlers: .init(onConnection: { _, e in if case .disconnected(_, let retry) = e { last.withLock { $0 = .some(retry) } } }))
            try await client.connect()
            let deadline = Date().addingTimeInterval(10)
            while Date() < deadline, last.withLock({ $0 }) == nil { try? await Task.sleep(for: .milliseconds(2)) }
            let retry = try #require(last.withLock { $0 })
            #expect((retry != nil) == retries, "close \(code)")
            if retries { while Date() < deadline, opens.withLock({ $0 }) < 2 { try? await Task.sleep(for: .milliseconds(2)) }; #expect(opens.withLock { $0 } >= 2) }
            await client.close()
            server.close()
        }
    }

    @Test func reconnectDelaysGrowWithJitterUpToTheCap() {
        let p = ReconnectPolicy(initialDelay: .milliseconds(100), maxDelay: .seconds(1), multiplier: 2, jitter: 0.5)
        #expect(p.delay(attempt: 1, random: 0) == .milliseconds(100))
        #expect(p.delay(attempt: 2, random: 0) == .milliseconds(200))
        #expect(p.delay(attempt: 4, random: 0) == .milliseconds(800))
        #expect(p.delay(attempt: 5, random: 0) == .seconds(1))
        #expect(p.delay(attempt: 50, random: 0) == .seconds(1))
        #expect(p.delay(attempt: 2, random: 0.999_999) > .milliseconds(100))
        #expect(p.delay(attempt: 2, random: 0.5) == .milliseconds(150))
    }
}
