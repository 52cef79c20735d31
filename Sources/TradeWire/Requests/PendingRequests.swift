/// The one request pipeline of the venue clients: the requests a client has in flight, in fixed storage. Each is
/// registered before its frame is sent and completes exactly once, through `onComplete` and then its async waiter,
/// if any: answer, venue error, timeout or connection lost.
///
/// A request is sent at once (its deadline then counts from its kernel hand-off, `markSent`: the send path reads no
/// clock of its own) or waits for a rate limit first (`queuedSince`: its deadline counts from then, and a request
/// still waiting at its deadline is reported as never sent). Its latency is recorded after its completion, so the
/// caller has its answer before the histograms are touched. Loop-confined (the client's event loop).
///
/// Public only as SPI (`@_spi(VenueClients) import TradeWire`), for the venue modules: its hot methods are
/// `@inlinable`, so each client gets them specialized for its own request and response types (a `package` type's
/// bodies are not, and the generic calls cost Kraken's round trip about 0.4 µs).
@_spi(VenueClients) public final class PendingRequests<Request: Sendable, Response: Sendable> {
    /// The request is handed over (`__owned`): a client keeps it in what it reports without copying it.
    public typealias Completion = (_ id: UInt64, _ request: __owned Request, _ result: Result<Response, TradeWireError>,
                                   _ latency: RequestLatency) -> Void
    public typealias Waiter = (_ id: UInt64, _ result: Result<Response, TradeWireError>, _ latency: RequestLatency) -> Void

    public let loop: EventLoop
    public let latency: LatencyRecorder
    /// Called for every completion, before the waiter.
    public var onComplete: Completion?
    /// The owning client's metrics (recorded after `onComplete`).
    public var metrics: ClientMetrics?
    /// Called for a sent request whose deadline passed, before it completes with `.requestTimeout` (to note an order
    /// whose outcome is now unknown): (id, request, generation it went out on).
    public var onTimeout: ((_ id: UInt64, _ request: Request, _ generation: Int) -> Void)?
    /// The default time a request waits for its answer.
    public let timeoutNs: UInt64

    @exclusivity(unchecked) @usableFromInline var table: RequestTable
    /// The table's slot count and mask, kept apart: completions run inside the table's own mutating calls.
    @usableFromInline let slots: Int
    @usableFromInline let slotMask: UInt64
    /// Per slot: the request in flight (fixed storage, not an array: no uniqueness or bounds checks, and the request
    /// is moved out, not copied, when it ends); since when it waited for a rate limit (0: it did not); whether it
    /// still waits (not sent yet).
    @usableFromInline let requests: UnsafeMutablePointer<Request?>
    @usableFromInline let queuedSince: UnsafeMutablePointer<UInt64>
    @usableFromInline let waiting: UnsafeMutablePointer<Bool>
    @exclusivity(unchecked) @usableFromInline var waiters: [UInt64: Waiter] = [:]
    @exclusivity(unchecked) @usableFromInline var expiry = ExpiryTimer()

    public init(loop: EventLoop, latency: LatencyRecorder, capacity: Int = 4096, timeout: Duration) {
        self.loop = loop
        self.latency = latency
        table = RequestTable(capacity: capacity)
        slots = table.capacity
        slotMask = table.slotMask
        requests = .allocate(capacity: slots)
        requests.initialize(repeating: nil, count: slots)
        queuedSince = .allocate(capacity: slots)
        queuedSince.initialize(repeating: 0, count: slots)
        waiting = .allocate(capacity: slots)
        waiting.initialize(repeating: false, count: slots)
        timeoutNs = Self.nanoseconds(timeout)
    }

    deinit {
        requests.deinitialize(count: slots)
        requests.deallocate()
        queuedSince.deallocate()
        waiting.deallocate()
    }

    public static func nanoseconds(_ d: Duration) -> UInt64 {
        let (s, a) = d.components
        return UInt64(s) * 1_000_000_000 + UInt64(a / 1_000_000_000)
    }

    public var inFlight: Int { table.inFlight }

    @inlinable @inline(__always) func slot(_ id: UInt64) -> Int { Int(truncatingIfNeeded: id & slotMask) }

    /// Register a request about to be sent on connection `generation`, or to wait for a rate limit (`queuedSince`:
    /// when it began waiting; 0: sent now); returns its id. `methodIndex`: its method in `latency`
    /// (`LatencyRecorder.index(of:)`, looked up once per method by the client). `waiter` (the async API's) is told of
    /// the completion after `onComplete`; it is stored before the frame is sent, so a send that fails inside itself
    /// reaches it too. The request itself is kept with `hold` (a client may send first and keep it after).
    @inlinable
    public func register(methodIndex: Int, generation: Int = 0, waiter: Waiter? = nil, queuedSince since: UInt64 = 0,
                         timeoutNs requestTimeoutNs: UInt64? = nil) throws(TradeWireError) -> UInt64 {
        let deadline = since != 0 ? since &+ (requestTimeoutNs ?? timeoutNs) : RequestTable.deadlineAtSend
        let id = try table.register(method: methodIndex, deadlineNs: deadline, tag: generation)
        if since != 0 {
            queuedSince[slot(id)] = since
            waiting[slot(id)] = true
            armExpiry()
        }
        if let waiter { waiters[id] = waiter }
        return id
    }

    /// Keep the request of a registered id, for its completion.
    @inlinable @inline(__always) public func hold(_ request: Request, for id: UInt64) { requests[slot(id)] = request }

    /// Register and keep a request in one step.
    public func register(_ request: Request, method: String, generation: Int = 0, waiter: Waiter? = nil) throws(TradeWireError) -> UInt64 {
        let id = try register(methodIndex: latency.index(of: method), generation: generation, waiter: waiter)
        hold(request, for: id)
        return id
    }

    /// The request's frame went to the kernel (`submitNs`: its stamp; 0 if it is queued behind a send in flight).
    /// A request sent at once gets its deadline now, `timeoutNs` (else the default) after the hand-off.
    @inlinable
    public func markSent(_ id: UInt64, submitNs: UInt64, timeoutNs requestTimeoutNs: UInt64? = nil) {
        table.markSent(id, submitNs: submitNs, timeoutNs: requestTimeoutNs ?? timeoutNs)
        if waiting[slot(id)], table.peek(id) != nil { waiting[slot(id)] = false }    // only a request that waited is marked
        armExpiry()
    }

    /// Whether `id` is still in flight (no copy of its request).
    @inlinable
    public func isPending(_ id: UInt64) -> Bool { table.peek(id) != nil }

    /// The request of a pending id, or nil once it completed.
    @inlinable
    public func request(_ id: UInt64) -> Request? { table.peek(id) == nil ? nil : requests[slot(id)] }

    /// When a pending request's frame went to the kernel (0: not yet stamped); nil once it completed.
    @inlinable
    public func submitNs(of id: UInt64) -> UInt64? { table.peek(id)?.submitNs }

    /// Complete with the venue's answer (its round trip and `decodeNs` recorded after the completion), or nothing if
    /// `id` already completed.
    @inlinable @discardableResult
    public func answer(_ id: UInt64, _ result: Result<Response, TradeWireError>, receivedAt: UInt64, decodeNs: UInt64 = 0) -> Bool {
        guard let e = table.complete(id) else { return false }
        let ns = e.submitNs == 0 ? 0 : receivedAt &- e.submitNs
        finish(e, result, ns: ns, decodeNs: decodeNs)
        latency.record(method: e.method, roundTripNanoseconds: ns, decodeNanoseconds: decodeNs)
        return true
    }

    /// Complete with a local failure (the frame could not be sent, or a token could not be renewed).
    @inlinable
    public func fail(_ id: UInt64, _ error: TradeWireError) {
        if let e = table.complete(id) { finish(e, .failure(error), ns: nil, decodeNs: 0) }
    }

    /// A connection is gone: what was in flight on it (`generation`; nil = all) completes now, oldest first.
    /// `lost` sees each request first, with its id (to note orders whose outcome is now unknown).
    @inlinable
    public func failAll(_ error: TradeWireError, generation: Int? = nil, lost: ((UInt64, Request) -> Void)? = nil) {
        for e in table.failAll(tag: generation) {
            if let lost, let r = requests[slot(e.id)] { lost(e.id, r) }
            finish(e, .failure(error), ns: nil, decodeNs: 0)
        }
    }

    /// Make sure the expiry timer fires by the table's earliest deadline. Usually it already does (deadlines only
    /// grow in issue order): one comparison, no clock read, no closure.
    @inlinable @inline(__always) func armExpiry() {
        if expiry.needsArming(by: table.nextDeadline) { armExpiryTimer() }
    }

    @usableFromInline func armExpiryTimer() {
        expiry.arm(at: table.nextDeadline, on: loop) { [self] in
            expiry.fired()
            for e in table.expire(now: MonotonicClock.nanoseconds()) {
                let sent = !waiting[slot(e.id)]
                if sent, let onTimeout, let r = requests[slot(e.id)] { onTimeout(e.id, r, e.tag) }
                finish(e, .failure(TradeWireError(code: .requestTimeout, detail: sent
                    ? "no answer in time; an order's outcome is unknown"
                    : "not sent: still waiting for the rate limit at its deadline")), ns: nil, decodeNs: 0)
            }
            armExpiry()
        }
    }

    /// `ns`: the round trip of an answered request; nil for a failure, which gets the time from its send
    /// (a request that never left has none: `wasSent` false).
    @inlinable func finish(_ e: RequestTable.Entry, _ result: Result<Response, TradeWireError>, ns: UInt64?, decodeNs: UInt64) {
        let id = e.id
        let s = slot(id)
        let taken = (requests + s).move()
        (requests + s).initialize(to: nil)
        guard let request = taken else { return }
        let since = queuedSince[s]
        if since != 0 { queuedSince[s] = 0 }
        waiting[s] = false
        let sent = e.submitNs != 0
        let lat = RequestLatency(nanoseconds: ns ?? (sent ? MonotonicClock.nanoseconds() &- e.submitNs : 0), decodeNanoseconds: decodeNs,
                                 queuedNanoseconds: since != 0 && sent ? e.submitNs &- since : 0, wasSent: sent)
        onComplete?(id, request, result, lat)
        metrics?.completed(method: e.method, latency: lat, failed: { if case .failure = result { true } else { false } }())
        if !waiters.isEmpty { waiters.removeValue(forKey: id)?(id, result, lat) }   // no hashing when nobody awaits
    }
}
