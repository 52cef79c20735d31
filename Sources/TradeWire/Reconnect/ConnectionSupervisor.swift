import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Keeps a venue client connected: the first connect (awaitable), reconnects
/// with backoff and jitter after a loss, staleness checks, and planned
/// replacement (a new connection opens before the old one is retired).
///
/// The client stays the connections' handler and reports each open and close
/// here (`didOpen`, `didClose`); the supervisor says what the event means for
/// the client. Requests carry the `generation` of the connection they went out
/// on, so that closing a retired connection fails only its own requests.
/// Package-internal: the clients expose what it does as `ConnectionEvent`s.
///
/// `@unchecked Sendable` holds because its mutable state (connections, generation, timers, waiters,
/// `onEvent`, `isTerminal`, both set once when the client is made) is only touched on `loop`'s thread: the
/// client's handler callbacks run there, and the members a caller's thread may use hop there first (`connect`, `close`, `closeAndWait`, `replace` go
/// through `loop.execute`/`awaitResult`). What those read off the loop is immutable (`loop`, `policy`,
/// `prepare`, `streams`: thread-safe hubs) or atomic (`isConnected`).
package final class ConnectionSupervisor: @unchecked Sendable {
    package typealias Event = ConnectionEvent
    package typealias OpenKind = ConnectionEvent.OpenKind

    /// What a closed connection was to the client.
    package enum CloseKind: Sendable, Equatable {
        /// The connection requests were going out on: the client is now disconnected.
        case current(generation: Int)
        /// A connection being retired after a replacement: only its own requests end.
        case retired(generation: Int)
        /// A replacement that failed before it took over: nothing of the client's was on it.
        case standby
    }

    package let loop: EventLoop
    package let policy: ReconnectPolicy?
    /// Whether a close ends the session for good (Kraken: 1008).
    package var isTerminal: (WebSocketClose) -> Bool = { _ in false }
    package var onEvent: ((Event) -> Void)?

    /// The connection requests go out on. (Read on every request: no runtime exclusivity
    /// tracking, as for the clients' own loop-confined state.)
    @exclusivity(unchecked) public private(set) var connection: WebSocketConnection?
    /// Increases each time a connection becomes current; requests are tagged with it.
    @exclusivity(unchecked) public private(set) var generation = 0
    /// Reconnects after a loss so far.
    package private(set) var reconnects = 0

    private weak var handler: (any WebSocketHandler)?
    private let prepare: @Sendable () async throws -> WebSocketConfiguration
    private let retireAfter: Duration
    private var standby: WebSocketConnection?
    private var retiring: [ObjectIdentifier: (WebSocketConnection, Int)] = [:]
    private var opened = false             // the current connection reached OPEN
    private var everOpened = false
    private var userClosed = false
    private var attempts = 0
    private var retryTimer: Int?
    private var watchTimer: Int?
    private var ageTimer: Int?
    private var openedAt: UInt64 = 0
    private var firstConnect: CheckedContinuation<Void, Error>?
    private var closeWaiters: [RequestWaiter<Void>] = []
    private var pendingOpen: OpenKind?

    /// `prepare` makes the configuration of each attempt (fresh tokens and headers);
    /// `retireAfter` is how long a replaced connection may finish its requests.
    /// The client's push streams: reopened by `connect()`, ended by `close()`/`closeAndWait()` (once drained).
    private let streams: [any ReopenableHub]

    package init(loop: EventLoop, handler: any WebSocketHandler, policy: ReconnectPolicy?, retireAfter: Duration = .seconds(10),
                streams: [any ReopenableHub] = [], prepare: @escaping @Sendable () async throws -> WebSocketConfiguration) {
        self.loop = loop
        self.streams = streams
        self.handler = handler
        self.policy = policy
        self.retireAfter = retireAfter
        self.prepare = prepare
    }

    /// Whether a connection is open: an atomic snapshot, safe from any thread.
    package var isConnected: Bool { connectedFlag.load(ordering: .acquiring) }
    private let connectedFlag = Atomic<Bool>(false)

    /// Why a request cannot be issued now (nil: it can): the application closed the client, or
    /// no connection is open. Checked before a request is registered, so a request made after
    /// `close()` is refused at once instead of failing inside a send on a closing connection.
    package func refusal(venue: String) -> TradeWireError? {
        if userClosed { return TradeWireError(code: .closed, detail: "the \(venue) client was closed") }
        if connection?.state != .open { return TradeWireError(code: .closed, detail: "\(venue) connection is not open") }
        return nil
    }

    /// Connect and wait for the upgrade. A failure of this first connect throws
    /// and is not retried: bad credentials or a wrong URL should be seen at once.
    package func connect() async throws {
        for s in streams { s.reopen() }
        let configuration = try await prepare()
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            loop.execute { [self] in
                userClosed = false
                firstConnect = c
                if let error = open(configuration, asStandby: false) {
                    firstConnect = nil
                    c.resume(throwing: error)
                }
            }
        }
    }

    /// Close for good: no reconnect follows. Returns at once; `closeAndWait` returns when it is done.
    package func close(code: UInt16 = 1000, reason: String = "client closing") {
        loop.execute { [self] in beginClose(code: code, reason: reason, then: nil) }
        for s in streams { s.finish() }
    }

    /// Close for good and return once every connection of the client is closed, so every request in
    /// flight has completed (with its answer or `.connectionLost`). A stopped loop returns at once.
    package func closeAndWait(code: UInt16 = 1000, reason: String = "client closing") async {
        // A waiter dropped by a stopped loop resumes (with `.closed`): nothing is left open then either.
        _ = try? await loop.awaitResult { [self] (waiter: RequestWaiter<Void>) in beginClose(code: code, reason: reason, then: waiter) }
        for s in streams { s.finish() }
    }

    private func beginClose(code: UInt16, reason: String, then waiter: RequestWaiter<Void>?) {
        userClosed = true
        cancelTimers()
        standby?.abort()
        for (c, _) in retiring.values { try? c.close(code: code, reason: reason) }
        try? connection?.close(code: code, reason: reason)
        if let waiter { closeWaiters.append(waiter) }
        resumeCloseWaitersIfClosed()
    }

    private func resumeCloseWaitersIfClosed() {
        guard userClosed, !closeWaiters.isEmpty, connection == nil, standby == nil, retiring.isEmpty else { return }
        let waiters = closeWaiters
        closeWaiters.removeAll()
        for w in waiters { w.resume(with: .success(())) }
    }

    /// Open a replacement now; the current connection is retired once it is up.
    package func replace(reason: String) {
        guard loop.inEventLoop else { loop.execute { [self] in replace(reason: reason) }; return }
        guard standby == nil, opened, !userClosed else { return }
        onEvent?(.replacing(reason: reason))
        Task { [self] in
            do {
                let configuration = try await prepare()
                loop.execute { [self] in
                    guard standby == nil, opened, !userClosed else { return }
                    if let error = open(configuration, asStandby: true) { onEvent?(.attemptFailed(error)) }
                }
            } catch {
                loop.execute { [self] in onEvent?(.attemptFailed(Self.wrap(error))) }
            }
        }
    }

    /// The generation of a connection the client knows (current or retiring); nil for a standby.
    package func generation(of c: WebSocketConnection) -> Int? {
        if c === connection { return generation }
        return retiring[ObjectIdentifier(c)]?.1
    }

    // MARK: reported by the client (loop thread)

    /// The client's `webSocketDidOpen`: returns what the open means, or nil for
    /// a connection the supervisor no longer wants (it is closed).
    package func didOpen(_ c: WebSocketConnection) -> OpenKind? {
        let kind: OpenKind
        if c === standby {
            standby = nil
            if let old = connection {
                retiring[ObjectIdentifier(old)] = (old, generation)
                loop.schedule(after: retireAfter) { [weak old] in try? old?.close(code: 1000, reason: "replaced") }
            }
            connection = c
            generation += 1
            kind = .replacement
        } else if c === connection {
            kind = everOpened ? .reconnected : .first
            if everOpened { reconnects += 1 }
        } else {
            c.abort()
            return nil
        }
        opened = true
        connectedFlag.store(true, ordering: .releasing)
        everOpened = true
        attempts = 0
        openedAt = MonotonicClock.nanoseconds()
        armWatch()
        if let age = policy?.maxConnectionAge {
            if let t = ageTimer { loop.cancelTimer(t) }
            ageTimer = loop.schedule(after: age) { [self] in ageTimer = nil; replace(reason: "connection age limit") }
        }
        firstConnect?.resume()
        firstConnect = nil
        pendingOpen = kind                  // announced by the client once its own open work is done
        return kind
    }

    /// Tell the application a connection opened (`.connected`), after the client's own open work (restoring
    /// subscriptions, logging on) so that what the application sends then goes out after it.
    package func announceOpen() {
        guard let kind = pendingOpen else { return }
        pendingOpen = nil
        onEvent?(.connected(kind))
    }

    /// The client's `didClose`: what the closed connection was; a reconnect is
    /// scheduled when the current one was lost and the policy allows.
    package func didClose(_ c: WebSocketConnection, _ close: WebSocketClose) -> CloseKind {
        defer { resumeCloseWaitersIfClosed() }
        if c === standby {
            standby = nil
            onEvent?(.attemptFailed(close.error ?? TradeWireError(code: .closed, detail: "replacement closed: \(close)")))
            return .standby
        }
        if let (_, gen) = retiring.removeValue(forKey: ObjectIdentifier(c)) { return .retired(generation: gen) }
        guard c === connection else { return .standby }
        let gen = generation
        connection = nil
        opened = false
        connectedFlag.store(false, ordering: .releasing)
        cancelTimers()
        if let first = firstConnect {
            firstConnect = nil
            first.resume(throwing: close.error ?? TradeWireError(code: .closed, detail: "closed \(close.code) \(close.reason)"))
            onEvent?(.disconnected(close, retryIn: nil))
            return .current(generation: gen)
        }
        scheduleReconnect(after: close)
        return .current(generation: gen)
    }

    // MARK: internals

    private func scheduleReconnect(after close: WebSocketClose) {
        guard let policy, !userClosed, everOpened, !isTerminal(close) else {
            onEvent?(.disconnected(close, retryIn: nil))
            return
        }
        attempts += 1
        if let max = policy.maxAttempts, attempts > max {
            onEvent?(.disconnected(close, retryIn: nil))
            return
        }
        let delay = policy.delay(attempt: attempts, random: Double.random(in: 0..<1))
        onEvent?(.disconnected(close, retryIn: delay))
        retryTimer = loop.schedule(after: delay) { [self] in
            retryTimer = nil
            Task { [self] in
                do {
                    let configuration = try await prepare()
                    loop.execute { [self] in attempt(configuration) }
                } catch {
                    loop.execute { [self] in
                        onEvent?(.attemptFailed(Self.wrap(error)))
                        scheduleReconnect(after: close)
                    }
                }
            }
        }
    }

    private func attempt(_ configuration: WebSocketConfiguration) {
        guard !userClosed, connection == nil else { return }
        if let error = open(configuration, asStandby: false) {
            onEvent?(.attemptFailed(error))
            scheduleReconnect(after: WebSocketClose(code: 1006, reason: "", error: error))
        }
    }

    /// Start a connection; returns the error if it could not even start.
    private func open(_ configuration: WebSocketConfiguration, asStandby: Bool) -> TradeWireError? {
        guard let handler else { return TradeWireError(code: .closed, detail: "the client is gone") }
        do {
            let c = try WebSocketConnection.connect(on: loop, configuration: configuration, handler: handler)
            if asStandby { standby = c } else { connection = c; generation += 1 }
            return nil
        } catch {
            return Self.wrap(error)
        }
    }

    /// Check for silence a few times per `staleAfter`; no allocation per message.
    private func armWatch() {
        guard let stale = policy?.staleAfter else { return }
        let limit = UInt64(stale / .nanoseconds(1))
        if let t = watchTimer { loop.cancelTimer(t) }
        watchTimer = loop.schedule(after: stale / 4) { [self] in
            watchTimer = nil
            guard let c = connection, opened else { return }
            let last = max(c.lastReceiveNanoseconds, openedAt)
            let silent = MonotonicClock.nanoseconds() &- last
            if silent > limit {
                onEvent?(.stale(silentFor: .nanoseconds(Int64(silent))))
                c.abort()
            } else {
                armWatch()
            }
        }
    }

    private func cancelTimers() {
        for t in [retryTimer, watchTimer, ageTimer] { if let t { loop.cancelTimer(t) } }
        retryTimer = nil
        watchTimer = nil
        ageTimer = nil
    }

    static func wrap(_ error: Error) -> TradeWireError {
        error as? TradeWireError ?? TradeWireError(code: .closed, detail: "\(error)")
    }
}
