import Testing
@testable import TradeWire

@Suite("Request table: every request ends exactly once")
struct RequestTableTests {
    @Test func completeExpireAndFailAllHandBackEachEntryOnce() throws {
        var t = RequestTable(capacity: 8)
        let a = try t.register(method: 0, deadlineNs: 100)
        let b = try t.register(method: 1, deadlineNs: 200)
        let c = try t.register(method: 0, deadlineNs: 300)
        t.markSent(a, submitNs: 10)
        #expect(t.inFlight == 3)
        #expect(t.complete(a)?.submitNs == 10)
        #expect(t.complete(a) == nil)                 // a duplicate response completes nothing
        #expect(t.expire(now: 250).map(\.id) == [b])
        #expect(t.complete(b) == nil)                 // a late response after the timeout: nothing
        #expect(t.failAll().map(\.id) == [c])
        #expect(t.inFlight == 0)
        #expect(t.failAll().isEmpty)
    }

    @Test func fullTableRefusesInsteadOfOverwriting() throws {
        var t = RequestTable(capacity: 2)
        let first = try t.register(method: 0, deadlineNs: 1)
        _ = try t.register(method: 0, deadlineNs: 1)
        #expect { _ = try t.register(method: 0, deadlineNs: 1) } throws: { ($0 as? TradeWireError)?.code == .noSpace }
        #expect(t.peek(first) != nil)                 // the old entry is intact
        _ = t.complete(first)
        _ = try t.register(method: 0, deadlineNs: 1)  // its slot is free again
    }

    @Test func capacityRoundsUpToAPowerOfTwoAndSlotsWrapByMask() throws {
        #expect([1, 2, 3, 4, 5, 1000, 1024, 1025].map(RequestTable.slotCount(forCapacity:)) == [1, 2, 4, 4, 8, 1024, 1024, 2048])
        var t = RequestTable(capacity: 3)
        #expect(t.capacity == 4 && t.slotMask == 3)
        let ids = try (0..<4).map { _ in try t.register(method: 0, deadlineNs: 1) }
        #expect(Set(ids.map { t.slot(of: $0) }).count == 4)   // four in flight, four different slots
        #expect { _ = try t.register(method: 0, deadlineNs: 1) } throws: { ($0 as? TradeWireError)?.code == .noSpace }
        _ = t.complete(ids[0])
        let next = try t.register(method: 0, deadlineNs: 1)   // the oldest's slot, freed: ids agree with slots mod 4
        #expect(t.slot(of: next) == t.slot(of: ids[0]) && next == ids[0] + 4)
    }

    /// A request sent at once gets its deadline from its kernel hand-off stamp; one queued behind
    /// a send in flight (no stamp yet) from the clock. Either way it expires, and only then.
    @Test func deadlineAtSendIsSetByMarkSent() throws {
        var t = RequestTable(capacity: 4)
        let a = try t.register(method: 0, deadlineNs: RequestTable.deadlineAtSend)
        #expect(t.nextDeadline == .max)
        t.markSent(a, submitNs: 1_000, timeoutNs: 500)
        #expect(t.peek(a)?.deadlineNs == 1_500 && t.nextDeadline == 1_500)
        #expect(t.expire(now: 1_499).isEmpty)
        #expect(t.expire(now: 1_500).map(\.id) == [a])
        let b = try t.register(method: 0, deadlineNs: RequestTable.deadlineAtSend)
        let before = MonotonicClock.nanoseconds()
        t.markSent(b, submitNs: 0, timeoutNs: 500)
        #expect(try #require(t.peek(b)?.deadlineNs) >= before + 500)
        let c = try t.register(method: 0, deadlineNs: 7_000)          // a set deadline stays as it is
        t.markSent(c, submitNs: 1_000, timeoutNs: 500)
        #expect(t.peek(c)?.deadlineNs == 7_000)
    }

    @Test func nextDeadlineForgetsFinishedRequests() throws {
        var t = RequestTable(capacity: 4)
        let a = try t.register(method: 0, deadlineNs: 100)
        #expect(t.nextDeadline == 100)
        _ = t.complete(a)
        #expect(t.nextDeadline == .max)                                 // nothing in flight: no timer needed
        _ = try t.register(method: 0, deadlineNs: 900)
        #expect(t.nextDeadline == 900)                                  // not the finished request's 100
    }

    @Test func idsIncreaseAndNeverRepeat() throws {
        var t = RequestTable(capacity: 4)
        var seen = Set<UInt64>()
        for _ in 0..<1000 {
            let id = try t.register(method: 0, deadlineNs: 1)
            #expect(seen.insert(id).inserted)
            _ = t.complete(id)
        }
    }
}

@Suite("Rate limiters")
struct RateLimiterTests {
    @Test func tokenBucketRefills() {
        var b = TokenBucket(name: "quotes 50/min", capacity: 2, ratePerSecond: 1)
        #expect(b.acquire(cost: 1, key: nil, now: 1_000_000_000) == nil)
        #expect(b.acquire(cost: 1, key: nil, now: 1_000_000_000) == nil)
        let over = b.acquire(cost: 1, key: nil, now: 1_000_000_000)
        #expect(over?.limit == "quotes 50/min")
        #expect(over?.retryAfterNs == 1_000_000_000)
        #expect(b.acquire(cost: 1, key: nil, now: 2_000_000_000) == nil)
    }

    @Test func krakenCounterIsPerPairAndDecays() {
        var k = KrakenOrderCounter(threshold: 3, decayPerSecond: 1)
        let t0: UInt64 = 5_000_000_000
        for _ in 0..<3 { #expect(k.acquire(cost: 1, key: "BTC/USD", now: t0) == nil) }
        #expect(k.acquire(cost: 1, key: "BTC/USD", now: t0)?.limit.contains("BTC/USD") == true)
        #expect(k.acquire(cost: 1, key: "ETH/USD", now: t0) == nil)      // another pair has its own counter
        #expect(k.acquire(cost: 1, key: "BTC/USD", now: t0 + 1_000_000_000) == nil)   // decayed by 1
        #expect(KrakenOrderCounter.cancelCost(orderAgeSeconds: 1) == 8)
        #expect(KrakenOrderCounter.cancelCost(orderAgeSeconds: 400) == 0)
        #expect(KrakenOrderCounter.amendCost(orderAgeSeconds: 1) == 4)
    }

    @Test func binanceLimitsLearnedFromResponses() {
        var b = BinanceReportedLimits()
        let now: UInt64 = 1_000_000_000
        b.observe(usage: [(interval: "REQUEST_WEIGHT/MINUTE/1", count: 5999, limit: 6000)], now: now)
        #expect(b.acquire(cost: 1, key: nil, now: now) == nil)
        #expect(b.acquire(cost: 1, key: nil, now: now)?.limit.contains("REQUEST_WEIGHT") == true)
        #expect(b.acquire(cost: 1, key: nil, now: now + 61_000_000_000) == nil)   // the window has passed
    }
}

@Suite("Latency recorder")
struct LatencyRecorderTests {
    @Test func percentilesPerMethod() {
        let r = LatencyRecorder()
        let add = r.index(of: "add_order"), cancel = r.index(of: "cancel_order")
        #expect(r.index(of: "add_order") == add)
        for v in 1...1000 { r.record(method: add, roundTripNanoseconds: UInt64(v) * 1000, decodeNanoseconds: 100) }
        r.record(method: cancel, roundTripNanoseconds: 5_000_000, decodeNanoseconds: 100)
        let s = try! #require(r.stats(for: "add_order"))
        #expect(s.count == 1000)
        #expect(abs(s.p50 - 500) < 1)
        #expect(abs(s.p99 - 990) < 2)
        #expect(abs(s.max - 1000) < 2)
        #expect(r.stats(for: "cancel_order")?.p50 ?? 0 > 4990)
        #expect(r.stats(for: "ping") == nil)
    }
}
