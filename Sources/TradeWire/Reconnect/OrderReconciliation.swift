/// What became of an order whose request ended without an answer (`.connectionLost` or
/// `.requestTimeout`: the outcome was unknown), as the venue's own evidence shows it.
/// TradeWire never resends an order by itself; this tells the application whether it
/// reached the venue. Each unknown order gets exactly one final reconciliation; an order
/// reported `.notFound` that shows up later gets one more, `.foundAfterNotFound`.
public struct OrderReconciliation: Sendable, Equatable, CustomStringConvertible {
    /// How the order's request ended.
    public enum Cause: Sendable, Equatable {
        case connectionLost
        case timedOut
    }

    public enum Finding: Sendable, Equatable {
        /// The venue has or had it: its order stream, its snapshot, a late answer or a status
        /// query showed it, with the id and status it gave.
        case found(orderID: String, status: String)
        /// The venue answered the request late, with an error: the order was not placed.
        case rejected(reason: String)
        /// No sign of it for the settle window after the connection it went out on was known dead
        /// (or after its timeout), while the venue's evidence was in view: it is not live and has
        /// no fill the venue shows (Kraken: its open orders and last 50 trades; Binance: `order.status`,
        /// which knows ended orders too; gateway: its open orders).
        case notFound
        /// Reported `.notFound` earlier, and the venue's stream has since shown it (bytes of the old
        /// connection reached the venue after the window). It is at the venue: do not send it again.
        case foundAfterNotFound(orderID: String, status: String)
    }

    public let clientOrderID: String
    /// The request that placed it (its outcome was `.connectionLost` or `.requestTimeout`).
    public let requestID: UInt64
    public let cause: Cause
    public let finding: Finding

    public init(clientOrderID: String, requestID: UInt64, cause: Cause, finding: Finding) {
        self.clientOrderID = clientOrderID
        self.requestID = requestID
        self.cause = cause
        self.finding = finding
    }

    public var description: String {
        switch finding {
        case .found(let id, let status): return "\(clientOrderID): at the venue as \(id) (\(status))"
        case .rejected(let reason): return "\(clientOrderID): refused by the venue (\(reason))"
        case .notFound: return "\(clientOrderID): not at the venue after the settle window"
        case .foundAfterNotFound(let id, let status): return "\(clientOrderID): at the venue as \(id) (\(status)) after it was reported not found"
        }
    }
}

/// The orders whose outcome is unknown, and the evidence that settles them: a state machine
/// with no I/O and no clock of its own (every call takes `now`), shared by every venue client.
///
/// An order becomes unknown when its request times out or its connection is lost. It stays
/// unknown until the venue shows it (a snapshot, a report on its order stream, a late answer,
/// a status query), or until the settle window has passed since the later of (a) the death of
/// the connection it went out on (for a timeout on a live connection: the timeout) and (b) the
/// moment the venue's evidence came into view (an order-stream subscription or a connection to
/// query on), with no sign of it. A snapshot alone is never enough: the old connection's bytes
/// can still reach the venue after it.
public struct UnknownOrderTracker: Sendable {
    public struct Entry: Sendable, Equatable {
        public let clientOrderID: String
        public let requestID: UInt64
        public let cause: OrderReconciliation.Cause
        /// For venues whose status query needs it (Binance).
        public let symbol: String?
        /// The connection it went out on.
        public let generation: Int
        /// When its outcome became unknown.
        public let since: UInt64
        /// When its connection was known dead (nil while it is open).
        public internal(set) var deadAt: UInt64?
        /// Handed out by `due` and not yet settled (a query is under way).
        public internal(set) var checking = false
    }

    public let settleWindowNs: UInt64
    public private(set) var entries: [Entry] = []
    /// When the venue's evidence came into view (nil: not in view now).
    public private(set) var evidenceSince: UInt64?
    /// Orders reported `.notFound`, kept (the latest `notFoundMemory`) to report a late sighting.
    private var notFound: [String: Entry] = [:]
    private var notFoundOrder: [String] = []
    private let notFoundMemory: Int

    public init(settleWindowNs: UInt64, notFoundMemory: Int = 4096) {
        self.settleWindowNs = settleWindowNs
        self.notFoundMemory = notFoundMemory
    }

    public var isEmpty: Bool { entries.isEmpty }
    /// Whether order reports need to be shown to the tracker (something unknown, or reported not found).
    public var isWatching: Bool { !entries.isEmpty || !notFound.isEmpty }

    /// An order's outcome became unknown. `connectionOpen`: its connection is still up (a timeout).
    public mutating func add(clientOrderID: String, requestID: UInt64, cause: OrderReconciliation.Cause, symbol: String?,
                             generation: Int, connectionOpen: Bool, now: UInt64) {
        guard !entries.contains(where: { $0.clientOrderID == clientOrderID }) else { return }
        entries.append(Entry(clientOrderID: clientOrderID, requestID: requestID, cause: cause, symbol: symbol,
                             generation: generation, since: now, deadAt: connectionOpen ? nil : now))
    }

    /// The connection `generation` is gone: its unknown orders' windows can start.
    public mutating func connectionClosed(generation: Int, now: UInt64) {
        for i in entries.indices where entries[i].generation == generation && entries[i].deadAt == nil { entries[i].deadAt = now }
    }

    /// The venue's evidence is in view from now (an order stream subscribed, a connection to query on).
    public mutating func evidenceInView(now: UInt64) { if evidenceSince == nil { evidenceSince = now } }

    /// The evidence went out of view (its connection closed): windows wait for it to return.
    public mutating func evidenceLost() { evidenceSince = nil }

    /// The venue showed an order (snapshot, order report, query answer): its reconciliation, if it was unknown
    /// or reported not found.
    public mutating func sighted(clientOrderID: String, orderID: String, status: String) -> OrderReconciliation? {
        if let i = entries.firstIndex(where: { $0.clientOrderID == clientOrderID }) {
            let e = entries.remove(at: i)
            return OrderReconciliation(clientOrderID: e.clientOrderID, requestID: e.requestID, cause: e.cause,
                                       finding: .found(orderID: orderID, status: status))
        }
        if let e = notFound.removeValue(forKey: clientOrderID) {
            notFoundOrder.removeAll { $0 == clientOrderID }
            return OrderReconciliation(clientOrderID: e.clientOrderID, requestID: e.requestID, cause: e.cause,
                                       finding: .foundAfterNotFound(orderID: orderID, status: status))
        }
        return nil
    }

    /// A late answer to the request that placed an unknown order (it timed out, its connection lived on).
    public mutating func answeredLate(requestID: UInt64, _ answer: Result<(orderID: String, status: String), TradeWireError>)
        -> OrderReconciliation? {
        guard let i = entries.firstIndex(where: { $0.requestID == requestID }) else { return nil }
        switch answer {
        case .success(let placed):
            return sighted(clientOrderID: entries[i].clientOrderID, orderID: placed.orderID, status: placed.status)
        case .failure(let error):
            let e = entries.remove(at: i)
            return OrderReconciliation(clientOrderID: e.clientOrderID, requestID: e.requestID, cause: e.cause,
                                       finding: .rejected(reason: error.detail))
        }
    }

    /// When the earliest entry's window ends (nil: none can end while the evidence is out of view).
    public var nextSettleTime: UInt64? {
        guard let evidenceSince else { return nil }
        return entries.lazy.filter { !$0.checking }.map { max($0.deadAt ?? $0.since, evidenceSince) &+ self.settleWindowNs }.min()
    }

    /// The entries whose window has ended, marked as being checked: settle each with `settleNotFound`
    /// (the evidence was in view all along) or with a query's answer (`sighted`, `settleNotFound`, `recheck`).
    public mutating func due(now: UInt64) -> [Entry] {
        guard let evidenceSince else { return [] }
        var out: [Entry] = []
        for i in entries.indices where !entries[i].checking && now >= max(entries[i].deadAt ?? entries[i].since, evidenceSince) &+ settleWindowNs {
            entries[i].checking = true
            out.append(entries[i])
        }
        return out
    }

    /// No sign of the order at the venue: its final reconciliation, `.notFound`.
    public mutating func settleNotFound(clientOrderID: String) -> OrderReconciliation? {
        guard let i = entries.firstIndex(where: { $0.clientOrderID == clientOrderID }) else { return nil }
        let e = entries.remove(at: i)
        notFound[e.clientOrderID] = e
        notFoundOrder.append(e.clientOrderID)
        if notFoundOrder.count > notFoundMemory { notFound[notFoundOrder.removeFirst()] = nil }
        return OrderReconciliation(clientOrderID: e.clientOrderID, requestID: e.requestID, cause: e.cause, finding: .notFound)
    }

    /// A check could not answer (a query failed): the order waits for another window from `now`.
    public mutating func recheck(clientOrderID: String, now: UInt64) {
        guard let i = entries.firstIndex(where: { $0.clientOrderID == clientOrderID }) else { return }
        entries[i].checking = false
        entries[i].deadAt = now
    }
}
