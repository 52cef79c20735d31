import ArgumentParser
import CTradeWireFloor
import Foundation
import Synchronization
import TradeWire
import TradeWireKraken
import TradeWireSimulator

/// Sequential round trips on one connection, driven from the loop thread:
/// each reply triggers the next send inside the callback (the hot path).
final class RoundTripDriver: WebSocketHandler, @unchecked Sendable {
    let payload: [UInt8]
    /// Frame handed to the kernel -> reap of the reply.
    var samples: [UInt64] = []
    /// `send` called -> `didReceive` entered.
    var userSamples: [UInt64] = []
    private var issuedAt: UInt64 = 0
    var errors = 0
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
    func start(_ n: Int, record: Bool, on c: WebSocketConnection) {
        remaining = n
        self.record = record
        sendNext(c)
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
        closeInfo = close
        opened.signal()
        chunkDone.signal()
        closed.signal()
    }
}

/// Sequential Kraken round trips: each ack's callback issues the next request,
/// cycling through `requests` (one add_order for the bench; buy and sell in turn
/// for the soak, so the venue's book stays flat).
///
/// `@unchecked Sendable`: its handlers run on the client's loop thread, and so does everything that touches
/// its state (`start`, `takeUserSamples` are called through the loop).
final class KrakenRoundTrips: @unchecked Sendable {
    /// Set once, before the client connects (its handlers are this driver's).
    private(set) var client: KrakenClient!
    let requests: [KrakenRequest]
    /// The library's own figure: frame handed to the kernel -> reap of the ack.
    var samples: [UInt64] = []
    /// What the caller sees: `send` called -> callback entered (adds encoding, decoding, correlation).
    var userSamples: [UInt64] = []
    private var issuedAt: UInt64 = 0
    /// The request id of the round trip in flight (0: none).
    private var inFlight: UInt64 = 0
    private var next = 0
    var errors = 0
    var lastError: String?
    private var remaining = 0
    private var record = false
    let chunkDone = Completion()

    /// The driver makes its client, so that the client's handlers are its own.
    init(loop: EventLoop, configuration: KrakenClient.Configuration, requests: [KrakenRequest], capacity: Int) {
        self.requests = requests
        samples.reserveCapacity(capacity)
        userSamples.reserveCapacity(capacity)
        // unowned(unsafe): run() stops the loop before the driver goes, and the timed callback skips the unowned check.
        let handlers = KrakenClient.Handlers(
            onResponse: { [unowned(unsafe) self] _, completion in
                let now = twf_now_ns()
                // Only the driver's own request: others on this client (a book subscription) are not its round trips.
                guard completion.requestID == inFlight else { return }
                switch completion.result {
                case .success:
                    if record {
                        samples.append(completion.latency.nanoseconds)
                        userSamples.append(now - issuedAt)
                    }
                case .failure(let e): errors += 1; lastError = "\(e)"
                }
                remaining -= 1
                if remaining > 0 { issue() } else { chunkDone.signal() }
            },
            onConnection: { [unowned(unsafe) self] _, event in
                // A lost connection fails the chunk in progress.
                if case .disconnected(let close, _) = event { errors += 1; lastError = "\(close)"; chunkDone.signal() }
            })
        client = KrakenClient(loop: loop, configuration: configuration, handlers: handlers)
    }

    /// On the loop thread.
    func start(_ n: Int, record: Bool) {
        remaining = n
        self.record = record
        issue()
    }

    /// On the loop thread: the send -> callback samples so far, handed over.
    func takeUserSamples() -> [UInt64] {
        defer { userSamples.removeAll(keepingCapacity: true); samples.removeAll(keepingCapacity: true) }
        return userSamples
    }

    private func issue() {
        let r = requests[next]              // picked before the stamp: the time starts at the send() call
        next = next + 1 == requests.count ? 0 : next + 1
        issuedAt = twf_now_ns()
        do { inFlight = try client.send(r) } catch { errors += 1; lastError = "\(error)"; chunkDone.signal() }
    }
}

/// The raw-socket floor: a pre-encoded masked frame over a blocking (or spinning)
/// socket, plain or with OpenSSL straight on the socket for wss://. It runs on the
/// loop thread (between TradeWire chunks) so both see the same CPU and wake-ups.
/// Its time: before the first send byte -> the reply frame complete in its buffer.
final class FloorClient: @unchecked Sendable {
    private enum Transport {
        case plain(Int32)
        case tls(OpaquePointer)
    }
    private let transport: Transport
    let frame: [UInt8]
    let spin: Bool
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var samples: [UInt64] = []
    /// Payloads that begin with this are the venue's pushes, skipped while waiting for a reply.
    let push: [CChar]?
    private var reader = twf_reader()

    /// caFile: verify a wss:// server against it (nil: no verification). push: see `push`.
    init(url: WebSocketURL, caFile: String?, payload: [UInt8], spin: Bool, capacity: Int, push: String?) throws {
        self.push = push.map { Array($0.utf8CString) }
        if url.secure {
            var err: Int32 = 0
            guard let t = twf_tls_connect(url.host, url.port, url.target, caFile, spin ? 1 : 0, &err) else {
                throw ValidationError("TLS floor client could not connect/upgrade (\(err))")
            }
            transport = .tls(t)
        } else {
            let fd = twf_connect(url.host, url.port, url.target, spin ? 1 : 0)
            guard fd >= 0 else { throw ValidationError("floor client could not connect/upgrade (\(fd))") }
            transport = .plain(fd)
        }
        self.spin = spin
        var f = [UInt8](repeating: 0, count: payload.count + 14)
        let n = f.withUnsafeMutableBufferPointer { out in
            payload.withUnsafeBufferPointer { twf_encode_masked($0.baseAddress, $0.count, out.baseAddress) }
        }
        frame = Array(f.prefix(n))
        samples.reserveCapacity(capacity)
    }

    deinit {
        switch transport {
        case .plain(let fd): twf_close(fd)
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
        for _ in 0..<n {
            let t0 = twf_now_ns()
            let r = frame.withUnsafeBufferPointer { f in
                buffer.withUnsafeMutableBufferPointer { b in
                    withPush { p in
                        switch transport {
                        case .plain(let fd): twf_roundtrip(fd, f.baseAddress, f.count, b.baseAddress, cap, spinning, p, &reader)
                        case .tls(let t): twf_tls_roundtrip(t, f.baseAddress, f.count, b.baseAddress, cap, spinning, p, &reader)
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
