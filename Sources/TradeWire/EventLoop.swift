internal import CTradeWire
import Logging
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// One thread, one io_uring (or the epoll fallback), any number of connections.
///
/// Connections and their callbacks live on the loop's thread. Work from other
/// threads reaches it through `execute` (or the async API), which wakes the
/// loop through an eventfd.
public final class EventLoop: @unchecked Sendable {
    public let configuration: EventLoopConfiguration
    /// The backend in use: `.ioUring` or `.posix`.
    public private(set) var backend: Backend = .automatic
    /// Why `.automatic` fell back to `.posix`, if it did.
    public private(set) var fallbackReason: String?

    let logger: Logger
    // Loop-thread state.
    var handle: OpaquePointer?
    private var connections: [ObjectIdentifier: WebSocketConnection] = [:]
    private var servers: [ObjectIdentifier: WebSocketServer] = [:]
    /// Closed servers, kept until the ring is freed: a connection accepted before the close still
    /// carries its server's unretained pointer and may deliver its upgrade event later (even during
    /// shutdown). Freeing the server then was a use-after-free (seen under ASan).
    private var closedServers: [WebSocketServer] = []
    private var timers: [Timer] = []
    private var nextTimerID = 0
    /// Earliest timer deadline (.max when none): the per-iteration check is one comparison.
    private var earliestTimer: UInt64 = .max

    private let tasks = Mutex<[@Sendable () -> Void]>([])
    private let stopRequested = Atomic<Bool>(false)
    private let started = Mutex<(done: Bool, result: Int32)>((false, 0))
    private var thread = pthread_t()
    /// Written once by the loop thread before it runs anything; read by every `inEventLoop`.
    @exclusivity(unchecked) private var loopThreadID = pthread_t()
    private let finished = Atomic<Bool>(false)

    private struct Timer {
        let id: Int
        let deadline: UInt64
        let action: () -> Void
    }

    /// Start a loop thread. Throws if the requested backend cannot be set up.
    public init(configuration: EventLoopConfiguration = .init(),
                logger: Logger = Logger(label: "tradewire.loop")) throws {
        self.configuration = configuration
        self.logger = logger
        let box = Unmanaged.passRetained(self).toOpaque()
        var attr = pthread_attr_t()
        pthread_attr_init(&attr)
        let r = pthread_create(&thread, &attr, { arg in
            let loop = Unmanaged<EventLoop>.fromOpaque(arg!).takeRetainedValue()
            loop.threadMain()
            return nil
        }, box)
        pthread_attr_destroy(&attr)
        if r != 0 {
            Unmanaged<EventLoop>.fromOpaque(box).release()
            throw TradeWireError(cCode: -r, detail: "pthread_create")
        }
        // Wait for the ring to be created on the loop thread (pinning applies to it).
        while true {
            let s = started.withLock { $0 }
            if s.done {
                if s.result != 0 {
                    pthread_join(thread, nil)
                    throw TradeWireError(cCode: s.result, detail: "event loop setup")
                }
                break
            }
            sched_yield()
        }
        if let reason = fallbackReason {
            logger.warning("io_uring unavailable, using the posix backend", metadata: ["reason": "\(reason)"])
        }
    }

    private func threadMain() {
        var opts = tw_loop_options()
        switch configuration.backend {
        // A busy-polling loop reads its few sockets with direct non-blocking syscalls (as a
        // hand-written spinning client does): measured faster than spinning on io_uring, whose
        // receive completes as task work in a further io_uring_enter (docs/benchmarks.md).
        case .automatic: opts.backend = configuration.waitMode == .busyPoll ? TW_BACKEND_POSIX : TW_BACKEND_AUTO
        case .ioUring: opts.backend = TW_BACKEND_IO_URING
        case .posix: opts.backend = TW_BACKEND_POSIX
        }
        opts.wait_mode = configuration.waitMode == .busyPoll ? TW_WAIT_BUSY_POLL : TW_WAIT_BLOCK
        opts.cpu = Int32(configuration.cpu ?? -1)
        var h: OpaquePointer?
        let r = tw_loop_new(&opts, &h)
        if r == 0, let h {
            handle = h
            loopThreadID = pthread_self()
            backend = tw_loop_backend(h) == TW_BACKEND_IO_URING ? .ioUring : .posix
            if let reason = tw_loop_fallback_reason(h) { fallbackReason = String(cString: reason) }
        }
        started.withLock { $0 = (true, r) }
        guard r == 0, let h else { return }
        run(h)
    }

    private func run(_ h: OpaquePointer) {
        let ctx = Unmanaged.passUnretained(self).toOpaque()
        while !stopRequested.load(ordering: .acquiring) {
            runTasks()
            let timeout = timerTimeout()
            _ = tw_loop_poll(h, timeout, eventTrampoline, ctx)
            runTimers()
        }
        // Shutdown: end every connection so each handler sees its close, then free the ring.
        runTasks()
        for server in servers.values { server.closeOnLoop() }
        for conn in connections.values { conn.abortOnLoop() }
        var rounds = 0
        while !connections.isEmpty && rounds < 200 {
            _ = tw_loop_poll(h, 10_000_000, eventTrampoline, ctx)
            rounds += 1
        }
        // Under the tasks lock, so that no task slips in between (execute drops them from now on), and before
        // the ring is freed: a thread waking the loop does so under this lock after checking `finished`, so it
        // never wakes a freed ring (a use-after-free race ThreadSanitizer reported on `handle`).
        tasks.withLock { t in
            t.removeAll()
            finished.store(true, ordering: .releasing)
        }
        tw_loop_free(h)
        handle = nil
        closedServers.removeAll()
        // Timers that will never fire hold their owners (clients hold this loop): drop them.
        timers.removeAll()
        earliestTimer = .max
    }

    /// Wake the loop from another thread, unless it has finished (its ring may be freed). Under the tasks lock.
    private func wakeLocked() {
        if !finished.load(ordering: .acquiring), let handle { _ = tw_loop_wake(handle) }
    }

    /// True on the loop's own thread.
    public var inEventLoop: Bool { pthread_equal(pthread_self(), loopThreadID) != 0 }

    /// Run `task` on the loop thread, soon.
    public func execute(_ task: @escaping @Sendable () -> Void) {
        // A stopped loop never runs it: dropping it frees what it holds (a client reconnecting late holds this loop).
        tasks.withLock { t in
            if finished.load(ordering: .acquiring) { return }
            t.append(task)
            wakeLocked()
        }
    }

    /// Run `body` on the loop thread and wait for its result (directly if already there).
    public func runSync<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T {
        if inEventLoop { return try body() }
        let result = Mutex<Result<T, Error>?>(nil)
        execute { let r = Result { try body() }; result.withLock { $0 = r } }
        while true {
            if let r = result.withLock({ $0 }) { return try r.get() }
            if finished.load(ordering: .acquiring) { throw TradeWireError(code: .closed, detail: "event loop stopped") }
            sched_yield()
        }
    }

    /// Run `body` on the loop thread and await its result.
    public func submit<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await awaitResult { (waiter: RequestWaiter<T>) in waiter.resume(with: Result { try body() }) }
    }

    /// Stop the loop: every connection is aborted (its handler sees the close), then the thread ends.
    public func shutdown() {
        guard !stopRequested.exchange(true, ordering: .acquiringAndReleasing) else { return }
        tasks.withLock { _ in wakeLocked() }
        if !inEventLoop { pthread_join(thread, nil) }
    }

    // MARK: idle work (loop thread)

    /// A class, not a tuple: a closure read out of an array element goes through a
    /// reabstraction thunk, allocated on each call in a debug build.
    private final class IdleHandler {
        let id: Int
        let body: () -> Void
        init(id: Int, body: @escaping () -> Void) { self.id = id; self.body = body }
    }
    @exclusivity(unchecked) private var idleHandlers: [IdleHandler] = []
    private var nextIdleID = 0

    /// Busy-poll loops only: run `body` every few empty polls while waiting for I/O (a reply
    /// landing meanwhile waits for it to return, so keep it well under a microsecond). Returns
    /// an id for `removeIdleHandler`. On the loop thread.
    @discardableResult
    public func addIdleHandler(_ body: @escaping () -> Void) -> Int {
        nextIdleID += 1
        idleHandlers.append(IdleHandler(id: nextIdleID, body: body))
        if idleHandlers.count == 1, let handle {
            tw_loop_set_idle(handle, idleTrampoline, Unmanaged.passUnretained(self).toOpaque())
        }
        return nextIdleID
    }

    /// A venue client's warm-up hook (`OrderPathWarmer`): added when `enabled` and this loop busy-polls (a waiting
    /// loop has no idle polls); nil otherwise. On the loop thread.
    @_spi(VenueClients) public func addWarmUpHandler(enabled: Bool, _ body: @escaping () -> Void) -> Int? {
        guard enabled, configuration.waitMode == .busyPoll else { return nil }
        return addIdleHandler(body)
    }

    /// Remove the hook `id` holds, if any, and clear it.
    @_spi(VenueClients) public func removeIdleHandler(_ id: inout Int?) {
        if let i = id { removeIdleHandler(i) }
        id = nil
    }

    public func removeIdleHandler(_ id: Int) {
        idleHandlers.removeAll { $0.id == id }
        if idleHandlers.isEmpty, let handle { tw_loop_set_idle(handle, nil, nil) }
    }

    fileprivate func runIdle() {
        // By index: a for-in over the array allocates an iterator in a debug build.
        var i = 0
        while i < idleHandlers.count {
            idleHandlers[i].body()
            i += 1
        }
    }

    // MARK: timers (loop thread)

    /// Run `action` on the loop thread after `delay`. Returns an id for `cancelTimer`.
    @discardableResult
    public func schedule(after delay: Duration, _ action: @escaping () -> Void) -> Int {
        let (s, atto) = delay.components
        let ns = UInt64(max(0, s)) * 1_000_000_000 + UInt64(max(0, atto) / 1_000_000_000)
        nextTimerID += 1
        let deadline = tw_now_ns() + ns
        timers.append(Timer(id: nextTimerID, deadline: deadline, action: action))
        earliestTimer = min(earliestTimer, deadline)
        return nextTimerID
    }

    public func cancelTimer(_ id: Int) {
        timers.removeAll { $0.id == id }
        recomputeEarliest()
    }

    private func recomputeEarliest() {
        var e = UInt64.max
        for t in timers where t.deadline < e { e = t.deadline }
        earliestTimer = e
    }

    private func timerTimeout() -> Int64 {
        if !tasks.withLock({ $0.isEmpty }) { return 0 }
        if earliestTimer == .max { return -1 }
        let now = tw_now_ns()
        return earliestTimer > now ? Int64(earliestTimer - now) : 0
    }

    /// Run due timers; allocation-free when none is due (the common case).
    private func runTimers() {
        guard earliestTimer != .max, tw_now_ns() >= earliestTimer else { return }
        let now = tw_now_ns()
        let due = timers.filter { $0.deadline <= now }
        timers.removeAll { $0.deadline <= now }
        recomputeEarliest()
        for t in due { t.action() }
    }

    private func runTasks() {
        let batch = tasks.withLock { t -> [@Sendable () -> Void] in
            if t.isEmpty { return [] }
            let b = t
            t.removeAll(keepingCapacity: true)
            return b
        }
        for task in batch { task() }
    }

    // MARK: registry (loop thread)

    func register(_ c: WebSocketConnection) { connections[ObjectIdentifier(c)] = c }
    func unregister(_ c: WebSocketConnection) { connections[ObjectIdentifier(c)] = nil }
    func register(_ s: WebSocketServer) { servers[ObjectIdentifier(s)] = s }
    func unregister(_ s: WebSocketServer) {
        if let s = servers.removeValue(forKey: ObjectIdentifier(s)) { closedServers.append(s) }
    }

    /// Called by the C core for every event, on the loop thread.
    fileprivate func dispatch(_ ev: UnsafePointer<tw_event>) {
        let type = UInt32(ev.pointee.type)
        if type == TW_EV_UPGRADE.rawValue, let conn = ev.pointee.conn {
            guard let user = ev.pointee.user else { tw_conn_release(conn); return }
            Unmanaged<WebSocketServer>.fromOpaque(user).takeUnretainedValue().upgrade(conn)
            return
        }
        guard let user = ev.pointee.user else { return }
        let c = Unmanaged<WebSocketConnection>.fromOpaque(user).takeUnretainedValue()
        switch type {
        case TW_EV_OPEN.rawValue: c.didOpen()
        case TW_EV_MESSAGE.rawValue: c.didReceive(ev)
        case TW_EV_CLOSED.rawValue: c.didClose(ev)
        default: break
        }
    }
}

private let idleTrampoline: tw_idle_fn = { ctx in
    Unmanaged<EventLoop>.fromOpaque(ctx!).takeUnretainedValue().runIdle()
}

private let eventTrampoline: tw_event_fn = { ctx, ev in
    Unmanaged<EventLoop>.fromOpaque(ctx!).takeUnretainedValue().dispatch(ev!)
}
