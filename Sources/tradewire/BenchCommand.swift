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
    var samples: [UInt64] = []
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
    }

    func webSocketDidOpen(_ connection: WebSocketConnection) { opened.signal() }

    /// On the loop thread: run n round trips, recording them unless warming up.
    func start(_ n: Int, record: Bool, on c: WebSocketConnection) {
        remaining = n
        self.record = record
        sendNext(c)
    }

    private func sendNext(_ c: WebSocketConnection) {
        do {
            submitted = try payload.withUnsafeBytes { try c.send(.text, bytes: $0) }
        } catch {
            errors += 1
            chunkDone.signal()
        }
    }

    func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text || message.opcode == .binary else { return }
        if record {
            if submitted != 0 && message.bytes.count == payload.count {
                samples.append(message.receivedAt - submitted)
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

/// Sequential Kraken `add_order` round trips: each ack's callback issues the next order.
final class KrakenRoundTrips: @unchecked Sendable {
    let client: KrakenClient
    let request: KrakenRequest
    var samples: [UInt64] = []
    var errors = 0
    var lastError: String?
    private var remaining = 0
    private var record = false
    let chunkDone = Completion()

    init(client: KrakenClient, order: Order, capacity: Int) {
        self.client = client
        request = .addOrder(KrakenAddOrder(order))
        samples.reserveCapacity(capacity)
        client.onResponse = { [unowned self] _, _, _, result, latency in
            switch result {
            case .success: if record { samples.append(latency.nanoseconds) }
            case .failure(let e): errors += 1; lastError = "\(e)"
            }
            remaining -= 1
            if remaining > 0 { issue() } else { chunkDone.signal() }
        }
        watchConnection()
    }

    /// A lost connection fails the chunk in progress.
    func watchConnection() {
        client.onConnection = { [unowned self] up, close in
            if !up { errors += 1; lastError = close.map { "\($0)" }; chunkDone.signal() }
        }
    }

    /// On the loop thread.
    func start(_ n: Int, record: Bool) {
        remaining = n
        self.record = record
        issue()
    }

    private func issue() {
        do { try client.send(request) } catch { errors += 1; chunkDone.signal() }
    }
}

/// The raw-socket floor: a pre-encoded masked frame over a blocking (or spinning) socket.
/// It runs on the loop thread (between TradeWire chunks) so both see the same CPU and wake-ups.
final class FloorClient: @unchecked Sendable {
    let fd: Int32
    let frame: [UInt8]
    let spin: Bool
    var buffer = [UInt8](repeating: 0, count: 1 << 20)
    var samples: [UInt64] = []

    init(host: String, port: UInt16, target: String, payload: [UInt8], spin: Bool, capacity: Int) throws {
        let fd = twf_connect(host, port, target, spin ? 1 : 0)
        guard fd >= 0 else { throw ValidationError("floor client could not connect/upgrade (\(fd))") }
        self.fd = fd
        self.spin = spin
        var f = [UInt8](repeating: 0, count: payload.count + 14)
        let n = f.withUnsafeMutableBufferPointer { out in
            payload.withUnsafeBufferPointer { twf_encode_masked($0.baseAddress, $0.count, out.baseAddress) }
        }
        frame = Array(f.prefix(n))
        samples.reserveCapacity(capacity)
    }

    func run(_ n: Int, record: Bool) throws {
        let cap = buffer.count
        for _ in 0..<n {
            let t0 = twf_now_ns()
            let r = frame.withUnsafeBufferPointer { f in
                buffer.withUnsafeMutableBufferPointer { twf_roundtrip(fd, f.baseAddress, f.count, $0.baseAddress, cap, spin ? 1 : 0) }
            }
            let t1 = twf_now_ns()
            guard r >= 0 else { throw ValidationError("floor round trip failed (\(r))") }
            if record { samples.append(t1 - t0) }
        }
    }
}

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Round-trip latency against an echo server, with the raw-socket floor in the same run.",
        discussion: """
        Latency = from just before the frame is handed to the kernel to the reap of the completion \
        holding the last byte of the reply. Without --url an echo server (TradeWire's server role) \
        runs in-process on its own loop thread.
        """)

    @Option(help: "ws:// or wss:// server; default: an embedded one (echo, or the simulator's Kraken dialect).") var url: String?
    @Option(help: "What to send: kraken (add_order round trips, acks matched by req_id) or echo.") var venue = "kraken"
    @Option(help: "Embedded server only: delay every Kraken ack by this many µs.") var ackDelayUs = 0
    @Option(help: "Recorded round trips.") var count = 20_000
    @Option(help: "Round trips before recording.") var warmup = 2_000
    @Option(help: "Payload bytes.") var size = 200
    @Flag(help: "Busy-poll the client loop.") var busyPoll = false
    @Option(help: "Pin the client loop to this CPU.") var cpu: Int?
    @Option(help: "Backend: auto, io-uring or posix.") var backend = "auto"
    @Option(help: "Trust this CA file (PEM) for wss://.") var ca: String?
    @Option(help: "Kraken WebSocket token to send (a venue given with --url may require one).") var token: String?
    @Flag(help: "Do not verify the server certificate (local tests only).") var insecure = false
    @Flag(help: "Also measure raw blocking and raw spinning socket clients, interleaved.") var floor = false
    @Option(help: "Round trips per interleaved chunk.") var chunk = 1_000
    @Flag(help: "End with one JSON line.") var json = false

    func run() throws {
        guard venue == "kraken" || venue == "echo" else { throw ValidationError("--venue is kraken or echo") }
        let kraken = venue == "kraken"
        let order = Order.limit("BTC/USD", .buy, quantity: "1.25", price: "26500.4")
        let payload = kraken ? Self.encoded(.addOrder(KrakenAddOrder(order)), id: 1) : orderPayload(id: 1, size: size)
        var serverLoop: EventLoop? = nil
        var wsURL: WebSocketURL
        if let url {
            wsURL = try WebSocketURL(url)
        } else {
            let sl = try EventLoop()
            let sim = KrakenVenueSimulator(options: .init(ackDelay: .microseconds(ackDelayUs)))
            let server = try WebSocketServer.listen(on: sl, port: 0) { _, _ in kraken ? sim.handler() : EchoHandler() }
            wsURL = WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: kraken ? "/v2" : "/")
            serverLoop = sl
        }
        let be: Backend = backend == "posix" ? .posix : backend == "io-uring" ? .ioUring : .automatic
        let loop = try EventLoop(configuration: .init(waitMode: busyPoll ? .busyPoll : .wait, cpu: cpu, backend: be))
        var tls = insecure ? TLSConfiguration.insecureNoVerification() : TLSConfiguration.default
        if let ca { tls.additionalTrust.append(.caFile(ca)) }
        let driver = RoundTripDriver(payload: payload, capacity: count)
        var krakenDriver: KrakenRoundTrips? = nil
        var conn: WebSocketConnection? = nil
        if kraken {
            let client = KrakenClient(loop: loop, configuration: .init(url: wsURL, token: token, tls: tls, rateLimiter: nil))
            krakenDriver = KrakenRoundTrips(client: client, order: order, capacity: count)
            let up = Completion()
            client.onConnection = { [weak krakenDriver] ok, close in
                if !ok { krakenDriver?.errors += 1; krakenDriver?.chunkDone.signal() }
                up.signal()
                if let close { print("connection: \(close)") }
            }
            let failure = Locked<Error?>(nil)
            Task { do { try await client.connect() } catch { failure.withLock { $0 = error }; up.signal() } }
            up.wait()
            if let e = failure.withLock({ $0 }) { throw ValidationError("could not connect to \(wsURL): \(e)") }
            guard client.isConnected else { throw ValidationError("could not connect to \(wsURL)") }
            krakenDriver?.watchConnection()
        } else {
            conn = try WebSocketConnection.connect(on: loop, configuration: .init(url: wsURL, tls: tls), handler: driver)
            driver.opened.wait()
            if let c = driver.closeInfo { throw ValidationError("connection failed: \(c)") }
        }

        let doFloor = floor && !wsURL.secure
        let blocking = try doFloor ? FloorClient(host: wsURL.host, port: wsURL.port, target: wsURL.target, payload: payload, spin: false, capacity: count) : nil
        let spinning = try doFloor ? FloorClient(host: wsURL.host, port: wsURL.port, target: wsURL.target, payload: payload, spin: true, capacity: count) : nil

        /// A chunk that takes this long means the server stopped answering: fail rather than hang.
        func stallLimit(_ n: Int) -> Double { 10 + Double(n) * Double(ackDelayUs + 1_000) / 1e6 }
        func tradewire(_ n: Int, record: Bool) throws {
            if let k = krakenDriver {
                let box = UnsafeBox(k)
                loop.execute { box.value.start(n, record: record) }
                guard k.chunkDone.wait(seconds: stallLimit(n)) else { throw BenchFailure("no ack for \(Int(stallLimit(n))) s: the venue stalled") }
                if k.errors > 0 { throw BenchFailure("\(k.errors) requests failed during the run (\(k.lastError ?? "connection lost"))") }
                return
            }
            let box = UnsafeBox(conn!)
            loop.execute { driver.start(n, record: record, on: box.value) }
            guard driver.chunkDone.wait(seconds: stallLimit(n)) else { throw BenchFailure("no reply for \(Int(stallLimit(n))) s: the server stalled") }
            if let c = driver.closeInfo { throw BenchFailure("connection closed during the run: \(c)") }
        }
        func floorRun(_ f: FloorClient?, _ n: Int, record: Bool) throws {
            guard let f else { return }
            try loop.runSync { try f.run(n, record: record) }
        }
        // Warm-up for everyone, then interleaved chunks so drift hits all clients alike.
        try tradewire(warmup, record: false)
        try floorRun(blocking, warmup, record: false)
        try floorRun(spinning, warmup, record: false)
        let start = Date()
        var done = 0
        while done < count {
            let n = min(chunk, count - done)
            try tradewire(n, record: true)
            try floorRun(blocking, n, record: true)
            try floorRun(spinning, n, record: true)
            done += n
        }
        let elapsed = Date().timeIntervalSince(start)

        let samples = krakenDriver?.samples ?? driver.samples
        let errors = krakenDriver?.errors ?? driver.errors
        let tw = LatencySummary(samples)
        let mode = busyPoll ? "busy-poll" : "wait"
        let what = kraken ? "Kraken add_order (\(payload.count) B request)" : "echo of \(size) B"
        print("TradeWire bench: \(count) round trips, \(what), to \(wsURL), \(mode), backend \(loop.backend)")
        print("latency = frame handed to the kernel -> reap of the completion holding the reply's last byte")
        print(LatencySummary.header)
        print(tw.row("tradewire (\(mode))"))
        var fields: [String: Double] = ["p50_us": tw.p50, "p90_us": tw.p90, "p99_us": tw.p99, "p999_us": tw.p999,
                                        "max_us": tw.max, "count": Double(tw.count), "errors": Double(errors)]
        if let b = blocking, let s = spinning {
            let fb = LatencySummary(b.samples), fs = LatencySummary(s.samples)
            print(fb.row("raw blocking socket"))
            print(fs.row("raw non-blocking spin"))
            print(String(format: "ratio to raw blocking: p50 %.3f  p99.9 %.3f", tw.p50 / fb.p50, tw.p999 / fb.p999))
            print(String(format: "ratio to raw spin:     p50 %.3f  p99.9 %.3f", tw.p50 / fs.p50, tw.p999 / fs.p999))
            fields["floor_blocking_p50_us"] = fb.p50
            fields["floor_blocking_p999_us"] = fb.p999
            fields["floor_spin_p50_us"] = fs.p50
            fields["floor_spin_p999_us"] = fs.p999
            fields["ratio_blocking_p50"] = tw.p50 / fb.p50
            fields["ratio_blocking_p999"] = tw.p999 / fb.p999
            fields["ratio_spin_p50"] = tw.p50 / fs.p50
            fields["ratio_spin_p999"] = tw.p999 / fs.p999
            twf_close(b.fd)
            twf_close(s.fd)
        } else if floor {
            print("(no raw floor for wss:// in this build)")
        }
        let clients = doFloor ? 3.0 : 1.0
        print(String(format: "msgs/s (all clients, interleaved): %.0f   errors: %d", Double(count) * clients / elapsed, errors))
        if json {
            let body = fields.keys.sorted().map { k in
                let v = fields[k]!
                return "\"\(k)\":" + (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.3f", v))
            }.joined(separator: ",")
            print("{\(body)}")
        }
        loop.shutdown()
        serverLoop?.shutdown()
        if errors > 0 { throw ExitCode(1) }
    }

    /// A Kraken request as the client would encode it, for the raw floor to send as is.
    static func encoded(_ r: KrakenRequest, id: UInt64) -> [UInt8] {
        var buf = [UInt8](repeating: 0, count: 1024)
        let n = buf.withUnsafeMutableBytes { b -> Int in
            var w = JSONWriter(b)
            KrakenEncoder.encode(r, id: id, token: nil, into: &w)
            return w.count
        }
        return Array(buf[..<n])
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
