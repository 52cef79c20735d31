import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance

/// `BinanceRateLimits` without sockets: `now` is wall-clock nanoseconds (offset 0).
@Suite("Binance rate limits (model)")
struct BinanceRateLimitTests {
    static func ns(_ ms: Int64) -> UInt64 { UInt64(ms) * 1_000_000 }
    /// 2024-01-01 00:00:00 UTC, a day, minute and 10 s boundary.
    static let midnight: Int64 = 1_704_067_200_000

    /// Known windows inline by index, another by name, more than four entries: read back as appended.
    @Test func usageKeepsEveryEntryInOrder() {
        let entries: [(interval: String, count: Int, limit: Int)] = [
            ("ORDERS/SECOND/10", 3, 50), ("CONNECTIONS/MINUTE/5", 1, 300), ("REQUEST_WEIGHT/MINUTE/1", 70, 6000),
            ("ORDERS/DAY/1", 9, 160_000), ("RAW_REQUESTS/MINUTE/5", 12, 61_000), ("ORDERS/HOUR/1", 2, 1000),
        ]
        var usage = RateLimitUsage()
        var sbe = RateLimitUsage()
        for e in entries { usage.append(e) }
        for (n, e) in entries.enumerated() {
            if let k = RateLimitUsage.knownWindows.firstIndex(of: e.interval), n < 4 { sbe.append(knownWindow: k, count: e.count, limit: e.limit) }
            else { sbe.append(e) }
        }
        #expect(usage.count == 6 && sbe == usage)
        #expect(usage.map(\.interval) == entries.map(\.interval) && usage.map(\.count) == entries.map(\.count)
                && usage.map(\.limit) == entries.map(\.limit))
        var other = usage
        other.append(("ORDERS/SECOND/10", 4, 50))
        #expect(other != usage && other.count == 7)
    }

    static func model(_ orders10s: Int = 2, day: Int = 160_000, weight: Int = 6000) -> BinanceRateLimits {
        var m = BinanceRateLimits(wallClockOffsetNs: 0)
        m.observe(usage: [("ORDERS/SECOND/10", 0, orders10s), ("ORDERS/DAY/1", 0, day), ("REQUEST_WEIGHT/MINUTE/1", 0, weight)],
                  now: ns(midnight))
        return m
    }

    @Test func ordersCountOnlyPlacedOrdersAndWindowsResetOnTheTenSecondBoundary() {
        var m = Self.model()
        let t = Self.midnight + 3_000                                           // 00:00:03
        // Requests that did not place an order leave ORDERS alone.
        for _ in 0..<5 { #expect(m.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: Self.ns(t)) == nil) }
        #expect(m.window("ORDERS/SECOND/10", now: Self.ns(t))?.count == 0)
        m.orderPlaced(now: Self.ns(t))
        m.orderPlaced(now: Self.ns(t))
        let full = m.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: Self.ns(t))
        #expect(full?.limit.contains("ORDERS/SECOND/10") == true)
        #expect(full?.retryAfterNs == Self.ns(7_000))                            // until 00:00:10, not 00:00:13
        // A full ORDERS window never holds back a cancel, a ping, a logon or a subscribe (key nil: weight only).
        for _ in 0..<4 { #expect(m.acquire(cost: 2, key: nil, now: Self.ns(t)) == nil) }
        // 00:00:09.999 still in the window; 00:00:10.000 is a new one.
        #expect(m.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: Self.ns(Self.midnight + 9_999)) != nil)
        #expect(m.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: Self.ns(Self.midnight + 10_000)) == nil)
    }

    @Test func aFullDayWindowWaitsForMidnightUTCEvenWhenTheShortOneHasRoom() {
        var m = Self.model(50, day: 3)
        let t = Self.midnight + 86_400_000 - 5_000                               // 23:59:55
        for _ in 0..<3 { m.orderPlaced(now: Self.ns(t)) }
        let over = m.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: Self.ns(t))
        #expect(over?.limit.contains("ORDERS/DAY/1") == true && over?.retryAfterNs == Self.ns(5_000))
        #expect(m.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: Self.ns(Self.midnight + 86_400_000)) == nil)
    }

    @Test func requestWeightCountsEveryRequestAndResetsOnTheMinute() {
        var m = Self.model(weight: 10)
        let t = Self.midnight + 59_000
        #expect(m.acquire(cost: 6, key: nil, now: Self.ns(t)) == nil)
        #expect(m.acquire(cost: 4, key: BinanceRateLimits.Key.order, now: Self.ns(t)) == nil)
        let over = m.acquire(cost: 1, key: nil, now: Self.ns(t))               // a cancel too: the venue would answer 429
        #expect(over?.limit.contains("REQUEST_WEIGHT") == true && over?.retryAfterNs == Self.ns(1_000))
        #expect(m.acquire(cost: 1, key: nil, now: Self.ns(Self.midnight + 60_000)) == nil)
        // The venue's count wins over ours.
        m.observe(usage: [("REQUEST_WEIGHT/MINUTE/1", 10, 10)], now: Self.ns(Self.midnight + 60_001))
        #expect(m.acquire(cost: 1, key: nil, now: Self.ns(Self.midnight + 60_002)) != nil)
    }

    @Test func retryAfterIsHonouredAndA418IsABanOfEverything() {
        var m = Self.model()
        let t = Self.midnight + 1_000
        // 429 -1015 with retryAfter: orders wait, a cancel does not.
        let wait = m.refused(status: 429, code: -1015, retryAfterMs: 1_659_146_400_000 + 2_500, serverTimeMs: 1_659_146_400_000, now: Self.ns(t))
        #expect(wait == .milliseconds(2_500))
        #expect(m.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: Self.ns(t + 2_499)) != nil)
        #expect(m.acquire(cost: 1, key: nil, now: Self.ns(t + 10)) == nil)
        #expect(m.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: Self.ns(t + 2_500)) == nil)
        // 429 without retryAfter (the docs' only example): until the next 10 s boundary for orders.
        #expect(m.refused(status: 429, code: -1015, retryAfterMs: nil, serverTimeMs: nil, now: Self.ns(t)) == .milliseconds(9_000))
        // 418: everything waits, and the model says banned.
        var b = Self.model()
        #expect(b.refused(status: 418, code: -1003, retryAfterMs: 1659146400000, serverTimeMs: 1659142907531, now: Self.ns(t)) == .milliseconds(3_492_469))
        #expect(b.isBanned(now: Self.ns(t + 1)))
        #expect(b.acquire(cost: 1, key: nil, now: Self.ns(t + 1))?.limit.contains("ban") == true)
        #expect(!b.isBanned(now: Self.ns(t + 3_492_469)) && b.acquire(cost: 1, key: nil, now: Self.ns(t + 3_492_469)) == nil)
    }

    /// Through the shared limiter type: a venue-specific call reaches the model; another model type is left alone.
    @Test func theLimiterReachesTheBinanceModel() {
        let limiter = VenueRateLimiter(Self.model(1), policy: .failFast)
        let t = Self.ns(Self.midnight + 1)
        #expect(limiter.withModel(as: BinanceRateLimits.self) { $0.orderPlaced(now: t) } != nil)
        #expect(limiter.acquire(cost: 1, key: BinanceRateLimits.Key.order, now: t) != nil)
        #expect(limiter.acquire(cost: 1, key: nil, now: t) == nil)
        let other = VenueRateLimiter(TokenBucket(name: "x", capacity: 1, ratePerSecond: 1))
        #expect(other.withModel(as: BinanceRateLimits.self) { $0.isBanned(now: t) } == nil)
    }
}

/// `BinanceSession` without sockets: what goes out on a new connection, and in which order.
@Suite("Binance session (state machine)")
struct BinanceSessionStateTests {
    @Test func afterAReconnectTheLogonsSubscribeWaitsForTheLogonsAnswer() {
        var s = BinanceSession()
        #expect(s.connectionOpened(restoring: false).isEmpty)
        _ = s.answered(.sessionLogon, ok: true, error: nil, subscriptionID: nil)
        s.sending(.userDataStreamSubscribe)
        _ = s.answered(.userDataStreamSubscribe, ok: true, error: nil, subscriptionID: 0)
        #expect(s.loggedOn && s.streamActive)
        s.connectionClosed()
        let first = s.connectionOpened(restoring: true)
        #expect(first.map(\.method.rawValue) == ["session.logon"] && !s.loggedOn)       // not the subscribe yet
        let failed = s.answered(.sessionLogon, ok: false, error: TradeWireError(code: .venueRejected, detail: "x"), subscriptionID: nil)
        #expect(failed.next.isEmpty)
        if case .logonFailed? = failed.event {} else { Issue.record("\(String(describing: failed.event))") }
        let ok = s.answered(.sessionLogon, ok: true, error: nil, subscriptionID: nil)
        #expect(ok.next.map(\.method.rawValue) == ["userDataStream.subscribe"] && s.loggedOn)
        // Once: a second logon answer while the subscribe is in flight sends nothing more.
        #expect(s.answered(.sessionLogon, ok: true, error: nil, subscriptionID: nil).next.isEmpty)
    }

    @Test func aSignatureSubscriptionIsRestoredAtOnceAndARevocationEndsTheLogon() {
        var s = BinanceSession()
        _ = s.connectionOpened(restoring: false)
        _ = s.answered(.userDataStreamSubscribeSignature, ok: true, error: nil, subscriptionID: 3)
        s.connectionClosed()
        #expect(s.connectionOpened(restoring: true).map(\.method.rawValue) == ["userDataStream.subscribe.signature"])
        var e = BinanceSession()
        _ = e.answered(.sessionLogon, ok: true, error: nil, subscriptionID: nil)
        _ = e.answered(.userDataStreamSubscribe, ok: true, error: nil, subscriptionID: 0)
        if case .revoked(let code, _) = e.revoked(code: -2015, message: "Invalid API-key, IP, or permissions for action.") { #expect(code == -2015) }
        #expect(!e.loggedOn && !e.wantsLogon && e.wantsStream == nil)
        e.connectionClosed()
        #expect(e.connectionOpened(restoring: true).isEmpty)                    // the key failed: nothing restored by itself
    }
}
