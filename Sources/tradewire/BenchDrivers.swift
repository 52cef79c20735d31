import ArgumentParser
import CTradeWireFloor
import Foundation
import Synchronization
import TradeWire
import TradeWireKraken
import TradeWireSimulator

/// Echo round trips on a bare connection (no venue client), driven from the loop thread:
/// each reply triggers the next send inside the callback (the hot path).
///
/// `@unchecked Sendable` (a `WebSocketHandler` must be Sendable): its mutable state is touched only on the
/// connection's loop thread, by the callbacks and by `start`, which the bench calls through `loop.execute`; the
/// bench's thread reads the samples and `closeInfo` only after `chunkDone` (a semaphore: its happens-before) or after
/// the loop stopped.
final class EchoRoundTrips: WebSocketHandler, RoundTripRunner, @unchecked Sendable {
    let payload: [UInt8]
    /// Frame handed to the kernel -> reap of the reply.
    var samples: [UInt64] = []
    /// `send` called -> `didReceive` entered.
    var userSamples: [UInt64] = []
    private var issuedAt: UInt64 = 0
    var errors = 0
    var lastError: String? { closeInfo.map { "connection closed: \($0)" } }
    /// Set once, when the connection is open.
    var connection: WebSocketConnection?
    private var remaining = 0
    private var record = false
    private var submitted: UInt64 = 0
    let opened = Completion()
    let chunkDone = Completion()
    let closed = Completion()
    private(set) var closeInfo: WebSocketClose?

    init(payload: [UInt8], capacity: Int) {
        self.payload = payload
        samples.reserveCapacity(capacity)
        userSamples.reserveCapacity(capacity)
    }

    func webSocketDidOpen(_ connection: WebSocketConnection) { opened.signal() }

    /// On the loop thread: run n round trips, recording them unless warming up.
    func start(_ n: Int, record: Bool) {
        remaining = n
        self.record = record
        sendNext(connection!)
    }

    private func sendNext(_ c: WebSocketConnection) {
        issuedAt = twf_now_ns()
        do {
            submitted = try payload.withUnsafeBytes { try c.send(.text, bytes: $0) }
        } catch {
            errors += 1
            chunkDone.signal()
        }
    }

    func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text || message.opcode == .binary else { return }
        let now = twf_now_ns()
        if record {
            if submitted != 0 && message.bytes.count == payload.count {
                samples.append(message.receivedAt - submitted)
                userSamples.append(now - issuedAt)
            } else {
                errors += 1
            }
        }
        remaining -= 1
        if remaining > 0 { sendNext(c) } else { chunkDone.signal() }
    }

    func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        if closeInfo == nil { errors += 1 }
        closeInfo = close
        opened.signal()
        chunkDone.signal()
        closed.signal()
    }
}

/// Sequential request/answer round trips through one venue client, driven from its loop thread: each answer's
/// callback issues the next request (the hot path). One driver for every venue: the venue's client reports its
/// completions through `completed` and its losses through `lost` (see `BenchVenues.swift`).
///
/// `@unchecked Sendable`: everything that touches its state runs on the client's loop thread (`start` and
/// `takeUserSamples` are called through the loop; the client's handlers run there).
final class VenueRoundTrips<Request>: @unchecked Sendable {
    /// The n-th request (n counts from 0 over the driver's life); made before the clock starts, as a caller
    /// would have its order ready.
    private let prepare: (Int) -> Request
    /// The client's `send`: returns the request id its completion will carry. Set once, when the client exists.
    var send: ((Request) throws -> UInt64)!
    /// The library's own figure: frame handed to the kernel -> reap of the answer.
    var samples: [UInt64] = []
    /// What the caller sees: `send` called -> callback entered (adds encoding, decoding, correlation).
    var userSamples: [UInt64] = []
    private var issuedAt: UInt64 = 0
    /// The request id of the round trip in flight (0: none).
    private var inFlight: UInt64 = 0
    private var sequence = 0
    var errors = 0
    var lastError: String?
    private var remaining = 0
    private var record = false
    let chunkDone = Completion()

    init(capacity: Int, prepare: @escaping (Int) -> Request) {
        self.prepare = prepare
        samples.reserveCapacity(capacity)
        userSamples.reserveCapacity(capacity)
    }

    /// On the loop thread.
    func start(_ n: Int, record: Bool) {
        remaining = n
        self.record = record
        issue()
    }

    /// A completion from the client (loop thread). Others than the driver's own request (a book subscription
    /// on the same client) are not its round trips.
    @inline(__always)
    func completed(_ requestID: UInt64, wireNanoseconds: UInt64, failure: (any Error)?) {
        let now = twf_now_ns()
        guard requestID == inFlight else { return }
        if let failure {
            errors += 1; lastError = "\(failure)"
        } else if record {
            samples.append(wireNanoseconds)
            userSamples.append(now - issuedAt)
        }
        remaining -= 1
        if remaining > 0 { issue() } else { chunkDone.signal() }
    }

    /// The connection was lost: the chunk in progress fails.
    func lost(_ why: String) {
        errors += 1
        lastError = why
        chunkDone.signal()
    }

    /// On the loop thread: the send -> callback samples so far, handed over.
    func takeUserSamples() -> [UInt64] {
        defer { userSamples.removeAll(keepingCapacity: true); samples.removeAll(keepingCapacity: true) }
        return userSamples
    }

    private func issue() {
        let r = prepare(sequence)           // made before the stamp: the time starts at the send() call
        sequence += 1
        issuedAt = twf_now_ns()
        do { inFlight = try send(r) } catch { errors += 1; lastError = "\(error)"; chunkDone.signal() }
    }
}

/// The raw-socket floor: pre-encoded masked frames over a blocking (or spinning)
/// socket, plain or with OpenSSL straight on the socket for wss://. It runs on the
/// loop thread (between TradeWire chunks) so both see the same CPU and wake-ups.
/// Its time: before the first send byte -> the reply frame complete in its buffer.
final class FloorClient: @unchecked Sendable {
    private enum Transport {
        case plain(Int32)
        /// A non-blocking socket read when epoll (the fd) says it is ready.
        case polled(Int32, epoll: Int32)
        case tls(OpaquePointer)
    }
    private let transport: Transport
    /// The masked frames, back to back: frame i is frames[starts[i]..<starts[i + 1]].
    private var frames: [UInt8] = []
    private var starts: [Int] = [0]
    private var next = 0
    let spin: Bool
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var samples: [UInt64] = []
    /// Payloads that begin with this are the venue's pushes, skipped while waiting for a reply.
    let push: [CChar]?
    private var reader = twf_reader()
    /// Spin this long before each request (not timed): the think time a real client has between answer and request.
    var thinkNanoseconds: UInt64 = 0
    /// The epoll floor sleeps in epoll_wait (as a waiting loop does) instead of spinning on it.
    let sleepInEpoll: Bool

    /// caFile: verify a wss:// server against it (nil: no verification). push: see `push`.
    /// epoll: wait on epoll_wait before each read, as an event loop does (ws:// only; a non-blocking socket),
    /// spinning on it, or asleep in it with `sleepInEpoll`.
    init(url: WebSocketURL, caFile: String?, payloads: [[UInt8]], spin: Bool, epoll: Bool = false, sleepInEpoll: Bool = false,
         capacity: Int, push: String?) throws {
        self.push = push.map { Array($0.utf8CString) }
        self.sleepInEpoll = sleepInEpoll
        if url.secure {
            var err: Int32 = 0
            guard let t = twf_tls_connect(url.host, url.port, url.target, caFile, spin ? 1 : 0, &err) else {
                throw ValidationError("TLS floor client could not connect/upgrade (\(err))")
            }
            transport = .tls(t)
        } else {
            let fd = twf_connect(url.host, url.port, url.target, spin || epoll ? 1 : 0)
            guard fd >= 0 else { throw ValidationError("floor client could not connect/upgrade (\(fd))") }
            if epoll {
                let ep = twf_epoll_for(fd)
                guard ep >= 0 else { twf_close(fd); throw ValidationError("epoll floor: \(ep)") }
                transport = .polled(fd, epoll: ep)
            } else {
                transport = .plain(fd)
            }
        }
        self.spin = spin
        samples.reserveCapacity(capacity)
        load(payloads)
    }

    /// The requests to send from now on, in turn (cycling), each masked into one frame here, before any clock
    /// starts. One for a venue that takes the same bytes again; one per round trip where each must differ (a
    /// client order id the venue refuses twice, a signed timestamp inside the venue's window).
    func load(_ payloads: [[UInt8]]) {
        precondition(!payloads.isEmpty)
        frames.removeAll(keepingCapacity: true)
        starts = [0]
        for p in payloads {
            var f = [UInt8](repeating: 0, count: p.count + 14)
            let n = f.withUnsafeMutableBufferPointer { out in
                p.withUnsafeBufferPointer { twf_encode_masked($0.baseAddress, $0.count, out.baseAddress) }
            }
            frames += f.prefix(n)
            starts.append(frames.count)
        }
        next = 0
    }

    deinit {
        switch transport {
        case .plain(let fd): twf_close(fd)
        case .polled(let fd, let ep): twf_close(ep); twf_close(fd)
        case .tls(let t): twf_tls_close(t)
        }
    }

    private func withPush<R>(_ body: (UnsafePointer<CChar>?) -> R) -> R {
        guard let push else { return body(nil) }
        return push.withUnsafeBufferPointer { body($0.baseAddress) }
    }

    func run(_ n: Int, record: Bool) throws {
        let cap = buffer.count
        let spinning: Int32 = spin ? 1 : 0
        let count = starts.count - 1
        for _ in 0..<n {
            if thinkNanoseconds > 0 {           // a client's own work between answer and next request, off the clock
                let until = twf_now_ns() + thinkNanoseconds
                while twf_now_ns() < until {}
            }
            let from = starts[next], length = starts[next + 1] - from
            next = next + 1 == count ? 0 : next + 1
            let t0 = twf_now_ns()
            let r = frames.withUnsafeBufferPointer { all in
                let f = all.baseAddress! + from
                return buffer.withUnsafeMutableBufferPointer { b in
                    withPush { p in
                        switch transport {
                        case .plain(let fd): twf_roundtrip(fd, f, length, b.baseAddress, cap, spinning, p, &reader)
                        case .polled(let fd, let ep): twf_roundtrip_epoll(ep, fd, f, length, b.baseAddress, cap, p, &reader, sleepInEpoll ? 1 : 0)
                        case .tls(let t): twf_tls_roundtrip(t, f, length, b.baseAddress, cap, spinning, p, &reader)
                        }
                    }
                }
            }
            let t1 = twf_now_ns()
            guard r >= 0 else { throw BenchFailure("floor round trip failed (\(r))") }
            if record { samples.append(t1 - t0) }
        }
    }
}

/// Carries a loop-confined reference to the loop thread.
struct UnsafeBox<T>: @unchecked Sendable {
    let value: T
    init(_ v: T) { value = v }
}

/// A run that could not finish (the server died or stalled): printed, exit status 1.
struct BenchFailure: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
