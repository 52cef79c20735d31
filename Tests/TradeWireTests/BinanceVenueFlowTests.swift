import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireSimulator
#if canImport(Glibc)
import Glibc
#endif

/// Answers every request with the docs' 418 example (its own id), and counts what it read.
final class BanningVenue: WebSocketHandler, @unchecked Sendable {
    let read = Locked(0)
    func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
        guard let doc = try? JSONDocument(validating: m.bytes), let id = doc.root["id"]?.string else { return }
        read.withLock { $0 += 1 }
        _ = try? c.send(text: #"{"id":"\#(id)","status":418,"error":{"code":-1003,"msg":"Way too much request weight used; IP banned until 1659146400000. Please use WebSocket Streams for live updates to avoid bans.","data":{"serverTime":1659142907531,"retryAfter":1659146400000}},"rateLimits":[{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":2411}]}"#)
    }
}

/// The Binance client against the simulator, method by method, as the docs describe them.
@Suite("Binance venue flows", .serialized)
struct BinanceVenueFlowTests {
    static let key = "flow-key", secret = "flow-secret"

    static func until(_ seconds: Double = 10, _ cond: () -> Bool) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !cond() { if Date() > deadline { return false }; try? await Task.sleep(for: .milliseconds(2)) }
        return true
    }

    struct Rig {
        let serverLoop: EventLoop, loop: EventLoop, venue: BinanceVenueSimulator, server: WebSocketServer
        var url: WebSocketURL { WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/ws-api/v3") }
        func client(_ key: BinanceKey, apiKey: String = BinanceVenueFlowTests.key, limiter: VenueRateLimiter? = nil,
                    reconnect: ReconnectPolicy? = nil, handlers: BinanceClient.Handlers = .init()) -> BinanceClient {
            BinanceClient(loop: loop, configuration: .init(url: url, credentials: .init(apiKey: apiKey, key: key), rateLimiter: limiter,
                                                           reconnect: reconnect), handlers: handlers)
        }
        func shutdown() { loop.shutdown(); serverLoop.shutdown() }
    }

    static func rig(_ options: BinanceVenueSimulator.Options = .init(apiKey: key, apiSecret: secret)) throws -> Rig {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        let venue = BinanceVenueSimulator(options: options)
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        return Rig(serverLoop: serverLoop, loop: loop, venue: venue, server: server)
    }

    /// HMAC key: the user data stream by signature; a cancel's report carries the cancel's id in `c` and the
    /// order's in `C`, and is correlated by the order's.
    @Test func cancelReportsCarryTheCancelsIdAndTheOrdersAndHMACKeysGetTheStream() async throws {
        let rig = try Self.rig()
        defer { rig.shutdown() }
        let reports = Locked<[BinanceExecutionReport]>([])
        let events = Locked<[BinanceSessionEvent]>([])
        let client = rig.client(.hmac(secret: Self.secret), handlers: .init(
            onExecutionReport: { _, r in reports.withLock { $0.append(r) } },
            onSessionEvent: { _, e in events.withLock { $0.append(e) } }))
        try await client.connect()
        let sub = try await client.subscribeUserDataStream()
        #expect(sub.response.subscriptionID == 0)
        #expect(events.withLock { $0.contains { if case .userDataStreamSubscribed(0) = $0 { return true }; return false } })
        _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "100", clientOrderID: ClientOrderID("orig-1")))
        let cancelled = try await client.cancelOrder(symbol: "BTCUSDT", origClientOrderID: "orig-1", newClientOrderID: ClientOrderID("cxl-1"))
        #expect(cancelled.response.origClientOrderID == "orig-1" && cancelled.response.clientOrderID == "cxl-1" && cancelled.response.orderStatus == "CANCELED")
        #expect(await Self.until { reports.withLock { $0.contains { $0.status == .canceled } } })
        let r = reports.withLock { $0 }
        let new = try #require(r.first { $0.executionType == "NEW" })
        #expect(new.clientOrderID == "orig-1" && new.originalClientOrderID == nil && new.tradeID == nil && new.commissionAsset == nil)
        let cancel = try #require(r.first { $0.status == .canceled })
        #expect(cancel.clientOrderID == "cxl-1" && cancel.originalClientOrderID == "orig-1" && cancel.orderClientOrderID == "orig-1")
        #expect(cancel.cancelClientOrderID == "cxl-1" && cancel.tradeID == nil)
        // The id was freed: order.status by the cancel's id finds the cancelled order.
        let status = try await client.orderStatus(symbol: "BTCUSDT", order: .clientOrderID("cxl-1"))
        #expect(status.value.status == .canceled && status.value.orderID == cancel.orderID)
    }

    @Test func fillsCarryTradeIdsCommissionsAndQuoteQuantities() async throws {
        let rig = try Self.rig()
        defer { rig.shutdown() }
        let reports = Locked<[BinanceExecutionReport]>([])
        let client = rig.client(.hmac(secret: Self.secret), handlers: .init(onExecutionReport: { _, r in reports.withLock { $0.append(r) } }))
        try await client.connect()
        _ = try await client.subscribeUserDataStream()
        _ = try await client.placeOrder(.limit("ETHUSDT", .sell, quantity: "2", price: "2000", clientOrderID: ClientOrderID("maker")))
        let taker = try await client.placeOrder(.limit("ETHUSDT", .buy, quantity: "0.5", price: "2001", clientOrderID: ClientOrderID("taker")))
        let full = try taker.response.orderReport()
        #expect(full.status == .filled && full.fills.count == 1 && full.fills[0].commissionAsset == "ETH" && full.fills[0].commission == FixedDecimal("0.0005"))
        #expect(await Self.until { reports.withLock { $0.filter { $0.executionType == "TRADE" }.count } == 2 })
        let trades = reports.withLock { $0.filter { $0.executionType == "TRADE" } }
        let m = try #require(trades.first { $0.isMaker == true }), t = try #require(trades.first { $0.isMaker == false })
        #expect(m.tradeID != nil && m.commissionAsset == "USDT" && m.commission == FixedDecimal("1.0") && m.lastQuoteQty == FixedDecimal("1000.0"))
        #expect(m.cumQuoteQty == FixedDecimal("1000.0") && m.status == .partiallyFilled && t.status == .filled && t.commissionAsset == "ETH")
    }

    @Test func cancelReplaceAmendCancelAllAndTheQueries() async throws {
        let rig = try Self.rig(.init(apiKey: Self.key, apiSecret: Self.secret, balances: ["BTC": FixedDecimal("1.5")!, "BNB": .zero]))
        defer { rig.shutdown() }
        let reports = Locked<[BinanceExecutionReport]>([])
        let client = rig.client(.hmac(secret: Self.secret), handlers: .init(onExecutionReport: { _, r in reports.withLock { $0.append(r) } }))
        try await client.connect()
        _ = try await client.subscribeUserDataStream()
        _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "100", clientOrderID: ClientOrderID("a")))
        // Both legs succeed: 200.
        let replace = BinanceCancelReplace(mode: .stopOnFailure, cancel: .clientOrderID("a"), cancelNewClientOrderID: ClientOrderID("a-cxl"),
                                           order: .limit("BTCUSDT", .buy, quantity: "2", price: "99", clientOrderID: ClientOrderID("b")))
        let ok = try await client.cancelReplace(replace)
        #expect(ok.ack.response.status == 200 && ok.value.cancelResult == .success && ok.value.newOrderResult == .success)
        if case .order(let leg)? = ok.value.cancelResponse { #expect(leg.clientOrderID == "a-cxl" && leg.origClientOrderID == "a") } else { Issue.record("\(ok.value)") }
        // The cancel fails, ALLOW_FAILURE places anyway: 409, the legs come back (not an error).
        let partial = try await client.cancelReplace(BinanceCancelReplace(mode: .allowFailure, cancel: .clientOrderID("gone"),
                                                                          order: .limit("BTCUSDT", .buy, quantity: "1", price: "98", clientOrderID: ClientOrderID("c"))))
        #expect(partial.ack.response.status == 409 && partial.value.cancelResult == .failure && partial.value.newOrderResult == .success)
        // STOP_ON_FAILURE with a failed cancel: 400 -2022, the new order not attempted.
        await #expect { _ = try await client.cancelReplace(BinanceCancelReplace(mode: .stopOnFailure, cancel: .clientOrderID("gone"),
                                                                                 order: .limit("BTCUSDT", .buy, quantity: "1", price: "97"))) } throws: { e in
            let e = e as? TradeWireError
            return e?.code == .venueRejected && e?.venueCode == -2022 && e?.detail.contains("NOT_ATTEMPTED") == true
        }
        // Amend keeps priority and reports REPLACED; a larger quantity is refused.
        let amended = try await client.amendKeepPriority(BinanceAmend(symbol: "BTCUSDT", order: .clientOrderID("b"), newQty: "1.5",
                                                                      newClientOrderID: ClientOrderID("b2")))
        #expect(amended.value.amendedOrder.origQty == FixedDecimal("1.5") && amended.value.amendedOrder.clientOrderID == "b2"
                && amended.value.amendedOrder.origClientOrderID == "b")
        #expect(await Self.until { reports.withLock { $0.contains { $0.executionType == "REPLACED" && $0.quantity == FixedDecimal("1.5") } } })
        await #expect { _ = try await client.amendKeepPriority(BinanceAmend(symbol: "BTCUSDT", order: .clientOrderID("b2"), newQty: "9")) } throws: {
            ($0 as? TradeWireError)?.venueCode == -2038
        }
        // Queries.
        let open = try await client.openOrders(symbol: "BTCUSDT")
        #expect(Set(open.value.map(\.clientOrderID)) == ["b2", "c"] && open.value.allSatisfy { $0.status == .new && $0.isWorking == true })
        let st = try await client.orderStatus(symbol: "BTCUSDT", order: .clientOrderID("c"))
        #expect(st.value.origQty == FixedDecimal("1") && st.value.price == FixedDecimal("98") && st.value.side == .buy)
        await #expect { _ = try await client.orderStatus(symbol: "BTCUSDT", order: .clientOrderID("never")) } throws: { ($0 as? TradeWireError)?.venueCode == -2013 }
        let account = try await client.accountStatus(omitZeroBalances: true)
        #expect(account.value.balances.map(\.asset) == ["BTC"] && account.value.canTrade && account.value.commissionRates?.maker == FixedDecimal("0.001"))
        let limits = try await client.orderRateLimits()
        #expect(limits.value.map(\.key) == ["ORDERS/DAY/1"] && limits.value[0].count == 4)     // a, b, c, and the NOT_ATTEMPTED one
        // Cancel all: both open orders, each reported with its cancel's id and the order's.
        let all = try await client.cancelAllOpenOrders(symbol: "BTCUSDT")
        #expect(all.value.count == 2)
        #expect(await Self.until { reports.withLock { $0.filter { $0.status == .canceled }.count } == 3 })
        #expect(Set(reports.withLock { $0.filter { $0.status == .canceled }.map(\.orderClientOrderID) }) == ["a", "b2", "c"])
        #expect(try await client.openOrders().value.isEmpty)
    }

    /// A request refused before sending completes exactly once, with a typed error, and nothing reaches the venue.
    @Test func invalidOrdersAreRefusedBeforeTheVenueSeesThem() async throws {
        let rig = try Self.rig()
        defer { rig.shutdown() }
        let completions = Locked<[UInt64]>([])
        let client = rig.client(.hmac(secret: Self.secret), handlers: .init(onResponse: { _, done in completions.withLock { $0.append(done.requestID) } }))
        try await client.connect()
        await #expect { _ = try await client.placeOrder(BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .stopLoss, quantity: "1")) } throws: { e in
            (e as? TradeWireError)?.code == .invalidArgument && (e as? TradeWireError)?.detail.contains("stopPrice or trailingDelta") == true
        }
        #expect(completions.withLock { $0.count } == 1)
        let venue = rig.venue
        #expect(try rig.serverLoop.runSync { venue.ledger.count } == 0)
        // The same order with a trigger price goes through and rests untriggered.
        let stop = try await client.placeOrder(.stopLoss("BTCUSDT", .sell, quantity: "1", stopPrice: "90", clientOrderID: ClientOrderID("stop")))
        #expect(stop.response.status == 200 && stop.response.orderStatus == nil)     // ACK is the default for stop orders
        #expect(try await client.openOrders(symbol: "BTCUSDT").value.map(\.type) == ["STOP_LOSS"])
    }

    /// The venue's ORDERS window: a 429 -1015 with `retryAfter`, honoured by the limiter (no more orders go out until
    /// then); a cancel still goes out; only placed orders count.
    @Test func aFullOrdersWindowIs429WithRetryAfterAndTheLimiterHonoursIt() async throws {
        // Start early in a 10 s window, so the two orders and the refusal fall in one.
        while Int64(Date().timeIntervalSince1970 * 1000) % 10_000 > 5_000 { try await Task.sleep(for: .milliseconds(100)) }
        let rig = try Self.rig(.init(apiKey: Self.key, apiSecret: Self.secret, ordersPer10s: 2))
        defer { rig.shutdown() }
        let filler = rig.client(.hmac(secret: Self.secret))
        try await filler.connect()
        await #expect { _ = try await filler.placeOrder(.limit("btc", .buy, quantity: "1", price: "1")) } throws: { ($0 as? TradeWireError)?.venueCode == -1121 }
        for i in 0..<2 { _ = try await filler.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "10", clientOrderID: ClientOrderID("f\(i)"))) }
        let limiter = VenueRateLimiter(BinanceRateLimits(), policy: .failFast)
        let client = rig.client(.hmac(secret: Self.secret), limiter: limiter)
        try await client.connect()
        // The rejected order did not count: the third placed order is the one refused, by the venue.
        var venueError: TradeWireError?
        do { _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "10")) } catch { venueError = error }
        #expect(venueError?.code == .rateLimited && venueError?.venueCode == -1015, "\(String(describing: venueError))")
        let wait = try #require(venueError?.retryAfter)
        #expect(wait > .zero && wait <= .seconds(10))
        // Honoured: the next order is refused here, before sending.
        let venue = rig.venue
        let before = try rig.serverLoop.runSync { venue.ledger.count }
        var local: TradeWireError?
        do { _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "10")) } catch { local = error }
        #expect(local?.code == .rateLimited && local?.venueCode == nil && (local?.retryAfter ?? .zero) > .zero, "\(String(describing: local))")
        // A cancel, a ping and a query are not held back by the full ORDERS window.
        _ = try await client.ping()
        let cancelled = try await client.cancelOrder(symbol: "BTCUSDT", origClientOrderID: "f0")
        #expect(cancelled.response.status == 200)
        #expect(try rig.serverLoop.runSync { venue.ledger.count } == before)
        let counts = try await client.orderRateLimits()
        #expect(counts.value.first { $0.key == "ORDERS/SECOND/10" }?.count == 2)
    }

    /// A 418 is a ban: `.banned` with the ban's length, and nothing more goes out until it ends.
    @Test func a418IsSurfacedAsABan() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let venue = BanningVenue()
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue }
        let client = BinanceClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/ws-api/v3"),
            credentials: .init(apiKey: "k", key: .hmac(secret: "s")), rateLimiter: VenueRateLimiter(BinanceRateLimits(), policy: .failFast)))
        try await client.connect()
        var first: TradeWireError?
        do { _ = try await client.ping() } catch { first = error }
        #expect(first?.code == .banned && first?.venueCode == -1003 && first?.retryAfter == .milliseconds(3_492_469))
        var second: TradeWireError?
        do { _ = try await client.cancelOrder(symbol: "BTCUSDT", orderID: 1) } catch { second = error }
        #expect(second?.code == .banned && (second?.retryAfter ?? .zero) > .seconds(3000))
        #expect(venue.read.withLock { $0 } == 1)
    }

    /// Session revocation (`revokeSessions()` and `--binance-revoke-after`): the 401 -2015 with id null marks the
    /// session logged out and raises `.revoked`; later requests are signed again and succeed.
    @Test(arguments: [false, true])
    func aRevokedSessionSignsAgain(afterRequests: Bool) async throws {
        let (priv, pub) = try Signing.ed25519KeyPair()
        let rig = try Self.rig(.init(apiKey: "ed", apiSecret: "unused", ed25519PublicKeyPEM: pub, revokeSessionAfterRequests: afterRequests ? 3 : nil))
        defer { rig.shutdown() }
        let events = Locked<[BinanceSessionEvent]>([])
        let client = rig.client(.ed25519(privateKeyPEM: priv), apiKey: "ed",
                                handlers: .init(onSessionEvent: { _, e in events.withLock { $0.append(e) } }))
        try await client.connect()
        _ = try await client.logon()                                                         // request 1
        _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "1"))  // 2: timestamp only
        #expect(try await rig.loop.submit { client.loggedOn })
        if !afterRequests {
            let venue = rig.venue
            try rig.serverLoop.runSync { venue.revokeSessions() }
        } else {
            _ = try await client.ping()                                                      // 3
        }
        // The next request revokes the session; this one relied on it, so the venue refuses it.
        var refused: TradeWireError?
        do { _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "2")) } catch { refused = error }
        #expect(refused?.venueCode == -1102 || refused?.venueCode == -2015, "\(String(describing: refused))")
        #expect(events.withLock { $0.contains { if case .revoked(-2015, _) = $0 { return true }; return false } })
        #expect(try await rig.loop.submit { client.loggedOn } == false)
        let again = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "3"))
        #expect(again.response.status == 200)
    }

    /// After a reconnect (a planned replacement here), `session.logon` goes first and `userDataStream.subscribe`
    /// only after its answer; the stream then carries the new connection's reports.
    @Test func afterAReconnectTheStreamIsRestoredAfterTheLogon() async throws {
        let (priv, pub) = try Signing.ed25519KeyPair()
        let rig = try Self.rig(.init(apiKey: "ed", apiSecret: "unused", ed25519PublicKeyPEM: pub))
        defer { rig.shutdown() }
        let events = Locked<[String]>([])
        let methods = Locked<[String]>([])
        let reports = Locked<[BinanceExecutionReport]>([])
        let client = rig.client(.ed25519(privateKeyPEM: priv), apiKey: "ed",
                                reconnect: ReconnectPolicy(initialDelay: .milliseconds(20), maxDelay: .milliseconds(200)),
                                handlers: .init(
                                    onResponse: { _, done in methods.withLock { $0.append("\(done.method.rawValue):\((try? done.result.get()) != nil)") } },
                                    onExecutionReport: { _, r in reports.withLock { $0.append(r) } },
                                    onSessionEvent: { _, e in events.withLock { $0.append("\(e)") } }))
        try await client.connect()
        _ = try await client.logon()
        _ = try await client.subscribeUserDataStream()
        methods.withLock { $0 = [] }
        events.withLock { $0 = [] }
        try await rig.loop.submit { client.supervisor.replace(reason: "test") }
        #expect(await Self.until { methods.withLock { $0.count } >= 2 })
        #expect(methods.withLock { Array($0.prefix(2)) } == ["session.logon:true", "userDataStream.subscribe:true"])
        #expect(events.withLock { Array($0.prefix(2)) }.map { $0.hasPrefix("loggedOn") || $0.hasPrefix("userDataStreamSubscribed") } == [true, true])
        _ = try await client.placeOrder(.limit("BTCUSDT", .sell, quantity: "1", price: "5", clientOrderID: ClientOrderID("after")))
        #expect(await Self.until { reports.withLock { $0.contains { $0.clientOrderID == "after" } } })
    }
}
