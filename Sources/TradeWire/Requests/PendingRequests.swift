/// The requests a venue client has in flight: each is registered before its
/// frame is sent and completes exactly once, through `onComplete` and then its
/// async waiter, if any: answer, venue error, timeout or connection lost.
/// Loop-confined (the client's event loop).
package final class PendingRequests<Request: Sendable, Response: Sendable> {
    package typealias Completion = (_ id: UInt64, _ request: Request, _ result: Result<Response, TradeWireError>,
                                   _ latency: RequestLatency) -> Void

    package let loop: EventLoop
    package let latency: LatencyRecorder
    /// Called for every completion, before the waiter.
    package var onComplete: Completion?
    /// The owning client's metrics (recorded after `onComplete`).
    package var metrics: ClientMetrics?
    /// Called for a request whose deadline passed (every one here was handed to its connection), before it completes with `.requestTimeout`
    /// (to note an order whose outcome is now unknown): (id, request, generation it went out on).
    package var onTimeout: ((_ id: UInt64, _ request: Request, _ generation: Int) -> Void)?

    private var table: RequestTable
    /// The table's `slotMask`, kept apart: completions run inside the table's own mutating calls.
    private let slotMask: UInt64
    private var requests: [Request?]
    private var waiters: [UInt64: Waiter] = [:]
    private var expiry = ExpiryTimer()
    private let timeoutNs: UInt64

    package init(loop: EventLoop, latency: LatencyRecorder, capacity: Int = 4096, timeout: Duration) {
        self.loop = loop
        self.latency = latency
        table = RequestTable(capacity: capacity)
        slotMask = table.slotMask
        requests = [Request?](repeating: nil, count: table.capacity)
        let (s, a) = timeout.components
        timeoutNs = UInt64(s) * 1_000_000_000 + UInt64(a / 1_000_000_000)
    }

    package var inFlight: Int { table.inFlight }

    package typealias Waiter = (_ id: UInt64, _ result: Result<Response, TradeWireError>, _ latency: RequestLatency) -> Void

    /// Register a request about to be sent on connection `generation`; returns its id. `waiter`
    /// (the async API's) is told of the completion after `onComplete`; it is stored before the
    /// frame is sent, so a send that fails inside itself reaches it too.
    package func register(_ request: Request, method: String, generation: Int = 0,
                         waiter: Waiter? = nil) throws(TradeWireError) -> UInt64 {
        let id = try table.register(method: latency.index(of: method), deadlineNs: MonotonicClock.nanoseconds() + timeoutNs,
                                    tag: generation)
        requests[Int(truncatingIfNeeded: id & slotMask)] = request
        if let waiter { waiters[id] = waiter }
        armExpiry()
        return id
    }

    package func markSent(_ id: UInt64, submitNs: UInt64) { table.markSent(id, submitNs: submitNs) }

    /// The request of a pending id, or nil once it completed.
    package func request(_ id: UInt64) -> Request? { table.peek(id) == nil ? nil : requests[Int(truncatingIfNeeded: id & slotMask)] }

    /// Complete with the venue's answer (latency recorded), or nothing if `id` already completed.
    @discardableResult
    package func answer(_ id: UInt64, _ result: Result<Response, TradeWireError>, receivedAt: UInt64) -> Bool {
        guard let e = table.complete(id) else { return false }
        let ns = e.submitNs == 0 ? 0 : receivedAt &- e.submitNs
        latency.record(method: e.method, roundTripNanoseconds: ns, decodeNanoseconds: 0)
        finish(e, result, ns: ns)
        return true
    }

    /// Complete with a local failure (the frame could not be sent).
    package func fail(_ id: UInt64, _ error: TradeWireError) {
        if let e = table.complete(id) { finish(e, .failure(error), ns: nil) }
    }

    /// A connection is gone: what was in flight on it (`generation`; nil = all) completes now, oldest first.
    /// `lost` sees each request first, with its id (to note orders whose outcome is now unknown).
    package func failAll(_ error: TradeWireError, generation: Int? = nil, lost: ((UInt64, Request) -> Void)? = nil) {
        for e in table.failAll(tag: generation) {
            if let lost, let r = requests[Int(truncatingIfNeeded: e.id & slotMask)] { lost(e.id, r) }
            finish(e, .failure(error), ns: nil)
        }
    }

    /// Make sure the expiry timer fires by the table's earliest deadline (usually it already does).
    private func armExpiry() {
        if expiry.needsArming(by: table.nextDeadline) { armExpiryTimer() }
    }

    private func armExpiryTimer() {
        expiry.arm(at: table.nextDeadline, on: loop) { [self] in
            expiry.fired()
            for e in table.expire(now: MonotonicClock.nanoseconds()) {
                if let onTimeout, let r = requests[Int(truncatingIfNeeded: e.id & slotMask)] { onTimeout(e.id, r, e.tag) }
                finish(e, .failure(TradeWireError(code: .requestTimeout, detail: "no answer in time; an order's outcome is unknown")), ns: nil)
            }
            armExpiry()
        }
    }

    /// `ns`: the round trip of an answered request; nil for a failure, which gets the time from its send
    /// (a request that never left has none: `wasSent` false).
    private func finish(_ e: RequestTable.Entry, _ result: Result<Response, TradeWireError>, ns: UInt64?) {
        let id = e.id
        let slot = Int(truncatingIfNeeded: id & slotMask)
        guard let request = requests[slot] else { return }
        requests[slot] = nil
        let sent = e.submitNs != 0
        let lat = RequestLatency(nanoseconds: ns ?? (sent ? MonotonicClock.nanoseconds() &- e.submitNs : 0), decodeNanoseconds: 0, wasSent: sent)
        onComplete?(id, request, result, lat)
        metrics?.completed(method: e.method, latency: lat, failed: { if case .failure = result { true } else { false } }())
        if !waiters.isEmpty { waiters.removeValue(forKey: id)?(id, result, lat) }   // no hashing when nobody awaits
    }
}
