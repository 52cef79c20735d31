/// A venue client's driver of an `UnknownOrderTracker`: it feeds the tracker, runs its settle
/// timer and hands every reconciliation to the client's callback. Loop-confined (the client's loop).
public final class OrderReconciler {
    /// How a window's silence is turned into a verdict.
    public enum Verification: Sendable {
        /// The venue's order stream was subscribed through the whole window: silence is evidence
        /// (Kraken `executions`, gateway order reports).
        case orderStream
        /// The venue is asked about each order when its window ends (Binance `order.status`), and the
        /// client reports the answer (`sighted`, `notFound`, `recheck`).
        case statusQuery
    }

    public let loop: EventLoop
    public let verification: Verification
    public private(set) var tracker: UnknownOrderTracker
    /// Every reconciliation, on the loop thread.
    public var deliver: (([OrderReconciliation]) -> Void)?
    /// `.statusQuery`: ask the venue about these orders now.
    public var query: (([UnknownOrderTracker.Entry]) -> Void)?
    private var timer: Int?
    private var timerAt: UInt64 = .max

    public init(loop: EventLoop, settleWindow: Duration, verification: Verification) {
        self.loop = loop
        self.verification = verification
        tracker = UnknownOrderTracker(settleWindowNs: UInt64(settleWindow / .nanoseconds(1)))
    }

    public var isEmpty: Bool { tracker.isEmpty }
    /// Whether the client should show order reports to `sighted` (cheap: one check per report frame).
    public var isWatching: Bool { tracker.isWatching }

    /// An order's request ended without an answer.
    public func unknown(clientOrderID: String, requestID: UInt64, cause: OrderReconciliation.Cause, symbol: String? = nil,
                        generation: Int, connectionOpen: Bool) {
        tracker.add(clientOrderID: clientOrderID, requestID: requestID, cause: cause, symbol: symbol, generation: generation,
                    connectionOpen: connectionOpen, now: MonotonicClock.nanoseconds())
        rearm()
    }

    public func connectionClosed(generation: Int) {
        tracker.connectionClosed(generation: generation, now: MonotonicClock.nanoseconds())
        rearm()
    }

    public func evidenceInView() {
        tracker.evidenceInView(now: MonotonicClock.nanoseconds())
        rearm()
    }

    public func evidenceLost() {
        tracker.evidenceLost()
        rearm()
    }

    public func sighted(clientOrderID: String, orderID: String, status: String) {
        if let r = tracker.sighted(clientOrderID: clientOrderID, orderID: orderID, status: status) { deliver?([r]) }
        rearm()
    }

    public func answeredLate(requestID: UInt64, _ answer: Result<(orderID: String, status: String), TradeWireError>) {
        if let r = tracker.answeredLate(requestID: requestID, answer) { deliver?([r]) }
        rearm()
    }

    /// `.statusQuery`: the venue does not know the order.
    public func notFound(clientOrderID: String) {
        if let r = tracker.settleNotFound(clientOrderID: clientOrderID) { deliver?([r]) }
        rearm()
    }

    /// `.statusQuery`: the query could not answer; the order waits another window.
    public func recheck(clientOrderID: String) {
        tracker.recheck(clientOrderID: clientOrderID, now: MonotonicClock.nanoseconds())
        rearm()
    }

    /// One timer, at the earliest window's end.
    private func rearm() {
        let next = tracker.nextSettleTime ?? .max
        guard next != timerAt else { return }
        if let t = timer { loop.cancelTimer(t) }
        timer = nil
        timerAt = next
        guard next != .max else { return }
        let now = MonotonicClock.nanoseconds()
        timer = loop.schedule(after: .nanoseconds(Int64(next > now ? next - now : 0))) { [weak self] in
            guard let self else { return }
            timer = nil
            timerAt = .max
            settleDue()
        }
    }

    private func settleDue() {
        let due = tracker.due(now: MonotonicClock.nanoseconds())
        if !due.isEmpty {
            switch verification {
            case .orderStream:
                let verdicts = due.compactMap { tracker.settleNotFound(clientOrderID: $0.clientOrderID) }
                if !verdicts.isEmpty { deliver?(verdicts) }
            case .statusQuery:
                query?(due)
            }
        }
        rearm()
    }
}
