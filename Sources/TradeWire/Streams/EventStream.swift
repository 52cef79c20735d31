import Synchronization

/// One item of an `EventStream`: the next event, or word that events were skipped here because the
/// consumer fell behind and the stream's buffer was full.
public enum StreamEvent<Element: Sendable>: Sendable {
    case event(Element)
    /// `skipped` events were dropped at this point of the stream (they came after the buffered ones and
    /// before the next one delivered). For order reports: reconcile (query the orders) before trusting state.
    case gap(skipped: Int)

    /// The event, or nil for a gap.
    public var value: Element? {
        if case .event(let e) = self { return e }
        return nil
    }
}

/// A client's push stream as an `AsyncSequence` (executions, reports, quotes, connection events…).
///
/// Overflow policy: each stream buffers up to `bufferSize` events for its consumer. When the consumer
/// falls behind and the buffer is full, newer events are counted, not kept, and the consumer receives
/// `.gap(skipped:)` right after the buffered events, before anything that came later: it is told, never
/// silently left behind. The producer (the loop thread) never waits for a consumer.
///
/// Every access to a client's stream property makes a new subscription that starts buffering at once;
/// it ends when the client closes (after the buffer drains), when the iterating task is cancelled, or
/// when the stream and its iterator are released. Several subscriptions each get every event. A stream is
/// read by one task at a time: for a second consumer, access the client's property again.
public struct EventStream<Element: Sendable>: AsyncSequence, Sendable {
    public typealias Failure = Never
    let lease: StreamLease<Element>
    var subscription: StreamSubscription<Element> { lease.subscription }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let lease: StreamLease<Element>
        public mutating func next() async -> StreamEvent<Element>? { await lease.subscription.next() }
        public mutating func next(isolation actor: isolated (any Actor)?) async -> StreamEvent<Element>? {
            await lease.subscription.next()
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(lease: lease) }

    /// The events only, for a consumer that handles a gap by other means: stops at the first gap by
    /// throwing `StreamGapError` (so nothing is skipped silently).
    public var events: EventsOnly { EventsOnly(lease: lease) }

    public struct EventsOnly: AsyncSequence, Sendable {
        public typealias Failure = StreamGapError
        let lease: StreamLease<Element>
        public struct AsyncIterator: AsyncIteratorProtocol {
            let lease: StreamLease<Element>
            public mutating func next() async throws(StreamGapError) -> Element? { try Self.unwrap(await lease.subscription.next()) }
            public mutating func next(isolation actor: isolated (any Actor)?) async throws(StreamGapError) -> Element? {
                try Self.unwrap(await lease.subscription.next())
            }
            private static func unwrap(_ item: StreamEvent<Element>?) throws(StreamGapError) -> Element? {
                switch item {
                case .event(let e)?: return e
                case .gap(let n)?: throw StreamGapError(skipped: n)
                case nil: return nil
                }
            }
        }
        public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(lease: lease) }
    }
}

/// Keeps a subscription registered while its stream or an iterator of it exists.
final class StreamLease<Element: Sendable>: Sendable {
    let subscription: StreamSubscription<Element>
    private weak let hub: StreamHub<Element>?
    init(_ subscription: StreamSubscription<Element>, hub: StreamHub<Element>) {
        self.subscription = subscription
        self.hub = hub
    }
    deinit {
        hub?.remove(subscription.id)
        subscription.finish()
    }
}

/// Thrown by `EventStream.events` when the consumer fell behind: `skipped` events were dropped.
public struct StreamGapError: Error, Sendable, Equatable {
    public let skipped: Int
}

/// One consumer's buffer: a ring allocated once, holding up to `capacity` events and the gap markers between
/// them (never two markers in a row, so at most `capacity + 1`). An event pushed while the consumer keeps up
/// costs a lock and a store, no allocation.
final class StreamSubscription<Element: Sendable>: Sendable {
    private struct State: ~Copyable {
        var ring: [StreamEvent<Element>?]
        var head = 0
        var count = 0          // ring entries: events and gap markers
        var events = 0         // events among them
        var finished = false
        var waiting: UnsafeContinuation<StreamEvent<Element>?, Never>?
    }
    private let state: Mutex<State>
    let id: Int

    private let capacity: Int

    init(capacity: Int, id: Int) {
        self.id = id
        self.capacity = max(1, capacity)
        state = Mutex(State(ring: Array(repeating: nil, count: 2 * max(1, capacity) + 1)))
    }

    /// Producer side (any thread, never waits).
    func push(_ e: Element) {
        let resume: UnsafeContinuation<StreamEvent<Element>?, Never>? = state.withLock { s in
            if s.finished { return nil }
            if let w = s.waiting {
                s.waiting = nil
                return w
            }
            let slots = s.ring.count
            if s.events < capacity {
                s.ring[(s.head + s.count) % slots] = .event(e)
                s.count += 1
                s.events += 1
            } else {
                // Full: the newest event is skipped; a gap marker at the tail counts them.
                let tail = (s.head + s.count - 1) % slots
                if case .gap(let n)? = s.ring[tail] {
                    s.ring[tail] = .gap(skipped: n + 1)
                } else {
                    s.ring[(s.head + s.count) % slots] = .gap(skipped: 1)
                    s.count += 1
                }
            }
            return nil
        }
        resume?.resume(returning: .event(e))
    }

    func finish() {
        let resume = state.withLock { s -> UnsafeContinuation<StreamEvent<Element>?, Never>? in
            s.finished = true
            defer { s.waiting = nil }
            return s.waiting
        }
        resume?.resume(returning: nil)
    }

    /// Consumer side: one iterating task at a time.
    func next() async -> StreamEvent<Element>? {
        await withTaskCancellationHandler {
            await withUnsafeContinuation { (c: UnsafeContinuation<StreamEvent<Element>?, Never>) in
                let ready: StreamEvent<Element>?? = state.withLock { s in
                    if s.count > 0 {
                        let e = s.ring[s.head]
                        s.ring[s.head] = nil
                        s.head = (s.head + 1) % s.ring.count
                        s.count -= 1
                        if case .event? = e { s.events -= 1 }
                        return .some(e)
                    }
                    if s.finished || Task.isCancelled { return .some(nil) }
                    s.waiting = c
                    return .none
                }
                if let ready { c.resume(returning: ready) }
            }
        } onCancel: {
            finish()
        }
    }
}

/// The producer's side of a stream: the subscriptions of one kind of event of one client. `yield` on the
/// loop thread costs one atomic load while nobody subscribes.
public final class StreamHub<Element: Sendable>: ReopenableHub, Sendable {
    private let subscriptions = Mutex<[Int: StreamSubscription<Element>]>([:])
    private let live = Atomic<Int>(0)
    private let nextID = Atomic<Int>(0)
    private let closed = Atomic<Bool>(false)
    public let defaultBufferSize: Int

    public init(defaultBufferSize: Int = 1024) { self.defaultBufferSize = defaultBufferSize }

    /// A new subscription, buffering from now on. After `finish()`, an empty stream that ends at once.
    public func stream(bufferSize: Int? = nil) -> EventStream<Element> {
        let sub = StreamSubscription<Element>(capacity: bufferSize ?? defaultBufferSize,
                                              id: nextID.add(1, ordering: .relaxed).newValue)
        subscriptions.withLock { s in
            if closed.load(ordering: .acquiring) {
                sub.finish()
            } else {
                s[sub.id] = sub
                live.store(s.count, ordering: .releasing)
            }
        }
        return EventStream(lease: StreamLease(sub, hub: self))
    }

    /// Whether anyone listens (one atomic load): lets the producer skip building an event nobody reads.
    @inline(__always) public var hasSubscribers: Bool { live.load(ordering: .relaxed) > 0 }

    public func yield(_ e: Element) {
        guard hasSubscribers else { return }
        // Pushed under the hub's lock (a subscription's lock nests inside it; never the other way).
        subscriptions.withLock { for s in $0.values { s.push(e) } }
    }

    /// End every subscription (they drain their buffers first); later subscriptions end at once.
    public func finish() {
        let subs = subscriptions.withLock { s -> [StreamSubscription<Element>] in
            closed.store(true, ordering: .releasing)
            defer { s.removeAll(); live.store(0, ordering: .releasing) }
            return Array(s.values)
        }
        for s in subs { s.finish() }
    }

    /// Accept subscriptions again (a client connecting after `close()`).
    public func reopen() { closed.store(false, ordering: .releasing) }

    deinit { finish() }

    func remove(_ id: Int) {
        subscriptions.withLock { s in
            s[id] = nil
            live.store(s.count, ordering: .releasing)
        }
    }
}

/// A client's hubs, of whatever event type, ended and reopened together.
public protocol ReopenableHub: Sendable {
    func finish()
    func reopen()
}
