import CoreMetrics

/// A venue client's metrics through swift-metrics (`MetricsSystem.bootstrap` picks the backend:
/// swift-prometheus, swift-otel…; none bootstrapped costs a call into the no-op handler).
///
/// Metric objects are made once per method (when the client's latency recorder first learns the
/// method), so recording on the order path is an array index and a handler call: no label
/// formatting, no lookup, no allocation. Loop-confined, like the recorder it follows.
///
/// | name | kind | dimensions |
/// |---|---|---|
/// | `tradewire_request_duration` | timer (ns) | venue, method |
/// | `tradewire_requests_total` | counter | venue, method |
/// | `tradewire_request_errors_total` | counter | venue, method |
/// | `tradewire_rate_limited_total` | counter | venue (requests refused or queued by the rate limiter) |
/// | `tradewire_rate_limit_wait` | timer (ns) | venue (time queued requests waited) |
/// | `tradewire_reconnects_total` | counter | venue |
/// | `tradewire_messages_in_total` / `tradewire_messages_out_total` | counter | venue |
public final class ClientMetrics {
    public let venue: String
    private let factory: any MetricsFactory
    private let recorder: LatencyRecorder
    private var durations: [Timer] = []
    private var requests: [Counter] = []
    private var errors: [Counter] = []
    private let rateLimited: Counter
    private let rateLimitWait: Timer
    private let reconnects: Counter
    private let messagesIn: Counter
    private let messagesOut: Counter

    /// `recorder`: the client's latency recorder, whose method indices the client records with.
    public init(venue: String, recorder: LatencyRecorder, factory: any MetricsFactory = MetricsSystem.factory) {
        self.venue = venue
        self.factory = factory
        self.recorder = recorder
        rateLimited = Counter(label: "tradewire_rate_limited_total", dimensions: [("venue", venue)], factory: factory)
        rateLimitWait = Timer(label: "tradewire_rate_limit_wait", dimensions: [("venue", venue)], factory: factory)
        reconnects = Counter(label: "tradewire_reconnects_total", dimensions: [("venue", venue)], factory: factory)
        messagesIn = Counter(label: "tradewire_messages_in_total", dimensions: [("venue", venue)], factory: factory)
        messagesOut = Counter(label: "tradewire_messages_out_total", dimensions: [("venue", venue)], factory: factory)
        grow()
    }

    /// Make the metric objects of methods the recorder learned since (off the hot path: once per method).
    private func grow() {
        while durations.count < recorder.methods.count {
            let dims = [("venue", venue), ("method", recorder.methods[durations.count])]
            durations.append(Timer(label: "tradewire_request_duration", dimensions: dims, factory: factory))
            requests.append(Counter(label: "tradewire_requests_total", dimensions: dims, factory: factory))
            errors.append(Counter(label: "tradewire_request_errors_total", dimensions: dims, factory: factory))
        }
    }

    /// A request completed (`failed`: with an error). Its duration counts only if it was sent.
    @inline(__always)
    public func completed(method: Int, latency: RequestLatency, failed: Bool) {
        if method >= durations.count { grow() }
        guard method >= 0, method < durations.count else { return }
        requests[method].increment()
        if failed { errors[method].increment() }
        if latency.wasSent { durations[method].recordNanoseconds(Int64(clamping: latency.nanoseconds)) }
        if latency.queuedNanoseconds > 0 { rateLimitWait.recordNanoseconds(Int64(clamping: latency.queuedNanoseconds)) }
    }

    @inline(__always) public func sent() { messagesOut.increment() }
    @inline(__always) public func received() { messagesIn.increment() }
    public func rateLimitHit() { rateLimited.increment() }
    public func reconnected() { reconnects.increment() }
}
