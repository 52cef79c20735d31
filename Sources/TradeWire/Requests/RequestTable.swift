/// How a request ended. Every request ends exactly once, with one of these.
public enum RequestOutcomeKind: Sendable, Equatable {
    /// The venue answered with success.
    case acknowledged
    /// The venue answered with an error (text in the response).
    case venueError
    /// No answer before the request's deadline. For orders: outcome unknown.
    case timedOut
    /// The connection ended first. For orders: outcome unknown.
    case connectionLost
}

/// The in-flight requests of one client: fixed capacity, allocated once.
///
/// An entry is registered before its frame is sent and removed by exactly one
/// of `complete`, `expire` or `failAll`, each of which hands it back once, so a
/// request cannot end twice or be forgotten. Request ids are per client and
/// increase; the slot is `id % capacity` (the capacity is rounded up to a power
/// of two, so that is the id's low bits, not a division), and an id whose slot
/// is still taken is refused with `.noSpace` rather than overwriting.
public struct RequestTable: ~Copyable {
    public struct Entry: Sendable {
        public let id: UInt64
        /// Index into the client's method list (see `LatencyRecorder.index(of:)`).
        public let method: Int
        public var submitNs: UInt64
        public internal(set) var deadlineNs: UInt64
        /// Caller's tag (e.g. an index into a table of async continuations).
        public let tag: Int
    }

    private let slots: UnsafeMutablePointer<Entry?>
    /// The slots: the capacity asked for, rounded up to a power of two.
    public let capacity: Int
    /// `capacity - 1`: an id's slot is `id & slotMask`.
    public let slotMask: UInt64
    public private(set) var inFlight = 0
    private var nextID: UInt64
    /// Earliest deadline among entries, to skip most expiry scans.
    private var earliestDeadline: UInt64 = .max

    public init(capacity: Int, firstID: UInt64 = 1) {
        precondition(capacity > 0)
        let rounded = Self.slotCount(forCapacity: capacity)
        self.capacity = rounded
        slotMask = UInt64(rounded - 1)
        slots = .allocate(capacity: rounded)
        slots.initialize(repeating: nil, count: rounded)
        nextID = firstID
    }

    /// The power of two at or above `capacity`: the slots a table of that capacity has.
    public static func slotCount(forCapacity capacity: Int) -> Int {
        capacity <= 1 ? 1 : 1 << (Int.bitWidth - (capacity - 1).leadingZeroBitCount)
    }

    /// The slot of `id`.
    @inline(__always) public func slot(of id: UInt64) -> Int { Int(truncatingIfNeeded: id & slotMask) }

    deinit {
        slots.deinitialize(count: capacity)
        slots.deallocate()
    }

    /// Register a request that is about to be sent; returns its id.
    public mutating func register(method: Int, deadlineNs: UInt64, tag: Int = 0) throws(TradeWireError) -> UInt64 {
        let id = nextID
        let s = slot(of: id)
        guard slots[s] == nil else {
            throw TradeWireError(code: .noSpace, detail: "request table full (\(capacity) in flight)")
        }
        nextID += 1
        slots[s] = Entry(id: id, method: method, submitNs: 0, deadlineNs: deadlineNs, tag: tag)
        inFlight += 1
        if deadlineNs < earliestDeadline { earliestDeadline = deadlineNs }
        return id
    }

    /// Registered this way, a request's deadline is set when it is sent (`markSent(_:submitNs:timeoutNs:)`):
    /// its timeout counts from the kernel hand-off, and the send path reads no clock of its own.
    public static let deadlineAtSend: UInt64 = .max

    /// Record when the request's frame went to the kernel (0: it is queued behind a send in flight).
    /// With `timeoutNs`, an entry registered with `deadlineAtSend` gets its deadline now: `timeoutNs`
    /// after the hand-off, or after the current time if there was none.
    public mutating func markSent(_ id: UInt64, submitNs: UInt64, timeoutNs: UInt64? = nil) {
        let s = slot(of: id)
        guard slots[s]?.id == id else { return }
        slots[s]!.submitNs = submitNs
        if let timeoutNs, slots[s]!.deadlineNs == Self.deadlineAtSend {
            let deadline = (submitNs != 0 ? submitNs : MonotonicClock.nanoseconds()) &+ timeoutNs
            slots[s]!.deadlineNs = deadline
            if deadline < earliestDeadline { earliestDeadline = deadline }
        }
    }

    /// Remove and return the entry a response answers; nil for an unknown,
    /// late (already timed out) or duplicate response.
    public mutating func complete(_ id: UInt64) -> Entry? {
        let s = slot(of: id)
        guard let e = slots[s], e.id == id else { return nil }
        slots[s] = nil
        inFlight -= 1
        if inFlight == 0 { earliestDeadline = .max }
        return e
    }

    /// Look at an entry without removing it.
    public func peek(_ id: UInt64) -> Entry? {
        let e = slots[slot(of: id)]
        return e?.id == id ? e : nil
    }

    /// No entry's deadline is before this (it may be earlier than the true earliest after
    /// completions: an expiry timer armed for it finds nothing due and arms again); `.max`: none.
    public var nextDeadline: UInt64 { inFlight > 0 ? earliestDeadline : .max }

    /// Remove and return every entry whose deadline has passed, oldest first. The caller
    /// completes them after this returns: a completion may register a new request.
    public mutating func expire(now: UInt64) -> [Entry] {
        guard inFlight > 0, now >= earliestDeadline else { return [] }
        var gone: [Entry] = []
        var next: UInt64 = .max
        for s in 0..<capacity {
            guard let e = slots[s] else { continue }
            if e.deadlineNs <= now {
                slots[s] = nil
                inFlight -= 1
                gone.append(e)
            } else if e.deadlineNs < next {
                next = e.deadlineNs
            }
        }
        earliestDeadline = next
        return gone.sorted { $0.id < $1.id }
    }

    /// Remove and return every entry (connection lost), or only those with `tag` (one of
    /// several connections), oldest first; completed by the caller as with `expire`.
    public mutating func failAll(tag: Int? = nil) -> [Entry] {
        guard inFlight > 0 else { return [] }
        var all: [Entry] = []
        for s in 0..<capacity {
            if let e = slots[s], tag == nil || e.tag == tag { all.append(e); slots[s] = nil }
        }
        inFlight -= all.count
        if inFlight == 0 { earliestDeadline = .max }
        return all.sorted { $0.id < $1.id }
    }
}
