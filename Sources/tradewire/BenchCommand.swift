import ArgumentParser
import CTradeWireFloor
import Foundation
import TradeWire
import TradeWireKraken
import TradeWireSimulator

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Order round-trip latency, with raw C socket floors against the same server in the same run.",
        discussion: """
        Each client sends one request, waits for its answer, and sends the next. TradeWire's time is \
        taken from its send() call to its callback; the raw floors' from their first send byte to the \
        reply frame complete in their buffer. Without --url the server runs in-process on its own loop \
        thread: the simulator's Kraken dialect, or an echo server.
        """)

    @Option(help: "ws:// or wss:// server; default: an embedded one (echo, or the simulator's Kraken dialect).") var url: String?
    @Option(help: "What to send: kraken (add_order round trips, acks matched by req_id) or echo.") var venue = "kraken"
    @Option(help: "Embedded server only: delay every Kraken ack by this many µs.") var ackDelayUs = 0
    @Option(help: "Recorded round trips.") var count = 20_000
    @Option(help: "Round trips before recording.") var warmup = 2_000
    @Option(help: "Payload bytes.") var size = 200
    @Flag(help: "Busy-poll the client loop.") var busyPoll = false
    @Option(help: "Pin the client loop to this CPU.") var cpu: Int?
    @Flag(inversion: .prefixedNo, help: """
        Embedded server only: busy-poll its loop. A sleeping server pays a wake-up (5-10 µs here) on every \
        request that comes after it went idle, which charges a client with think time (decode, callback, \
        encode) for the server's scheduler rather than its own work.
        """) var serverBusyPoll = true
    @Option(help: "Embedded server only: pin its loop to this CPU.") var serverCpu: Int?
    @Option(help: "Backend: auto, io-uring or posix.") var backend = "auto"
    @Option(help: "Trust this CA file (PEM) for wss://.") var ca: String?
    @Option(help: "Kraken WebSocket token to send (a venue given with --url may require one).") var token: String?
    @Flag(help: "Do not verify the server certificate (local tests only).") var insecure = false
    @Flag(help: "Embedded server only: serve wss:// with a CA and certificate made for this run.") var tls = false
    @Flag(help: "Also measure raw blocking and raw spinning C clients (with OpenSSL for wss://), interleaved.") var floor = false
    @Option(help: "Write one HdrHistogram percentile file (.hgrm, µs) per client into this folder.") var hgrm: String?
    @Option(help: "Write an SVG plot of latency against percentile, every client, to this file.") var svg: String?
    @Option(help: "Round trips per interleaved chunk.") var chunk = 1_000
    @Flag(help: "Kraken, busy-poll: turn off the client's warm-up while idle (KrakenClient.Configuration.warmUpWhileIdle).") var noWarmUp = false
    @Flag(help: "End with one JSON line.") var json = false
    @Option(help: """
        Embedded Kraken venue only: the same client also keeps a Kraken book (CRC-verified) that the venue moves at         this many updates per second, on the connection that carries the acks. The floors are measured first, idle;         then the round trips run under the book load.
        """) var bookRate = 0

    func run() throws {
        guard venue == "kraken" || venue == "echo" else { throw ValidationError("--venue is kraken or echo") }
        let kraken = venue == "kraken"
        let order = Order.limit("BTC/USD", .buy, quantity: "1.25", price: "26500.4")
        let payload = kraken ? Self.encoded(.addOrder(KrakenAddOrder(order)), id: 1) : orderPayload(id: 1, size: size)
        var serverLoop: EventLoop? = nil
        var wsURL: WebSocketURL
        var caFile = ca
        var certDir: String? = nil
        if let url {
            wsURL = try WebSocketURL(url)
        } else {
            let sl = try EventLoop(configuration: .init(waitMode: serverBusyPoll ? .busyPoll : .wait, cpu: serverCpu))
            var serverTLS: WebSocketServer.TLS? = nil
            if tls {
                // A CA and server certificate made for this run; both clients verify against the CA.
                let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradewire-bench-\(getpid())").path
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
                let cert = try GeneratedCertificate.generate(in: dir)
                serverTLS = .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile)
                caFile = cert.caFile
                certDir = dir
            }
            let sim = KrakenVenueSimulator(options: .init(ackDelay: .microseconds(ackDelayUs)))
            if bookRate > 0 { sim.bookFlow = KrakenBookFlow(perSecond: bookRate) }
            let server = try WebSocketServer.listen(on: sl, port: 0, tls: serverTLS) { _, _ in kraken ? sim.handler() : EchoHandler() }
            wsURL = WebSocketURL(secure: tls, host: tls ? "localhost" : "127.0.0.1", port: server.port, target: kraken ? "/v2" : "/")
            serverLoop = sl
        }
        defer { if let certDir { try? FileManager.default.removeItem(atPath: certDir) } }
        let be: Backend = backend == "posix" ? .posix : backend == "io-uring" ? .ioUring : .automatic
        let loop = try EventLoop(configuration: .init(waitMode: busyPoll ? .busyPoll : .wait, cpu: cpu, backend: be))
        var tlsConfig = insecure ? TLSConfiguration.insecureNoVerification() : TLSConfiguration.default
        if let caFile { tlsConfig.additionalTrust.append(.caFile(caFile)) }
        let driver = RoundTripDriver(payload: payload, capacity: min(count, 1_000_000))
        var krakenDriver: KrakenRoundTrips? = nil
        var conn: WebSocketConnection? = nil
        // On every exit, a thrown failure too: the loops stop (their close callbacks reach the driver's
        // unowned closures) before the driver goes. A venue dying mid-run crashed here once.
        defer { withExtendedLifetime(krakenDriver) { loop.shutdown(); serverLoop?.shutdown() } }
        if kraken {
            var kc = KrakenClient.Configuration(url: wsURL, token: token, tls: tlsConfig, rateLimiter: nil)
            kc.warmUpWhileIdle = !noWarmUp
            // Not `[weak krakenDriver]` in its handlers: a weak reference moves an object's counts to a side table,
            // and every retain of the driver in the timed callback would take the slow path (seen in perf).
            let driver = KrakenRoundTrips(loop: loop, configuration: kc, requests: [.addOrder(KrakenAddOrder(order))],
                                          capacity: min(count, 1_000_000))
            krakenDriver = driver
            let client = driver.client!
            let up = Completion()
            let failure = Locked<Error?>(nil)
            Task { do { try await client.connect() } catch { failure.withLock { $0 = error } }; up.signal() }
            up.wait()
            if let e = failure.withLock({ $0 }) { throw ValidationError("could not connect to \(wsURL): \(e)") }
            guard client.isConnected else { throw ValidationError("could not connect to \(wsURL)") }
        } else {
            conn = try WebSocketConnection.connect(on: loop, configuration: .init(url: wsURL, tls: tlsConfig), handler: driver)
            driver.opened.wait()
            if let c = driver.closeInfo { throw ValidationError("connection failed: \(c)") }
        }

        // The floors: the same request bytes to the same server, over the same transport. A Kraken venue
        // also pushes (status on connect, heartbeats): a floor skips them, or it would take the status for
        // its first answer and from then on run one message behind, two requests in flight.
        let push: String? = kraken ? #"{"channel":"# : nil
        let floorCA = insecure ? nil : caFile
        let blocking = try floor ? FloorClient(url: wsURL, caFile: floorCA, payload: payload, spin: false, capacity: min(count, 1_000_000), push: push) : nil
        let spinning = try floor ? FloorClient(url: wsURL, caFile: floorCA, payload: payload, spin: true, capacity: min(count, 1_000_000), push: push) : nil

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
        let start: Date
        if bookRate > 0, let k = krakenDriver {
            guard url == nil else { throw ValidationError("--book-rate needs the embedded venue (no --url)") }
            // The floors idle first (the book's messages would pile up on the client's socket while a floor holds
            // its loop), then the client's round trips while it keeps the moving book.
            try floorRun(blocking, warmup, record: false)
            try floorRun(spinning, warmup, record: false)
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                try floorRun(blocking, n, record: true)
                try floorRun(spinning, n, record: true)
                done += n
            }
            let client = k.client!
            try blockingAwait {
                _ = try await client.subscribeBook(["FLOW/USD"], depth: 10,
                                                   precisions: ["FLOW/USD": .init(price: KrakenBookFlow.precision.price, quantity: KrakenBookFlow.precision.quantity)])
            }
            start = Date()
            try tradewire(warmup, record: false)
            try tradewire(count, record: true)
        } else {
            // Warm-up for everyone, then interleaved chunks so drift hits all clients alike.
            try tradewire(warmup, record: false)
            try floorRun(blocking, warmup, record: false)
            try floorRun(spinning, warmup, record: false)
            start = Date()
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                try tradewire(n, record: true)
                try floorRun(blocking, n, record: true)
                try floorRun(spinning, n, record: true)
                done += n
            }
        }
        let elapsed = Date().timeIntervalSince(start)

        let errors = krakenDriver?.errors ?? driver.errors
        let mode = busyPoll ? "busy-poll" : "wait"
        let raw = wsURL.secure ? "raw C + OpenSSL" : "raw C"
        var series = [
            LatencySeries(name: "tradewire \(mode), send -> callback", samples: krakenDriver?.userSamples ?? driver.userSamples),
            LatencySeries(name: "tradewire \(mode), wire", samples: krakenDriver?.samples ?? driver.samples),
        ]
        if let b = blocking, let s = spinning {
            series.append(LatencySeries(name: "\(raw) blocking", samples: b.samples))
            series.append(LatencySeries(name: "\(raw) non-blocking spin", samples: s.samples))
        }
        let summaries = series.map(\.summary)
        let what = kraken ? "Kraken add_order (\(payload.count) B request)" : "echo of \(size) B"
        print("TradeWire bench: \(count) round trips, \(what), to \(wsURL), \(mode), backend \(loop.backend)")
        print("send -> callback: the caller's send() to its callback (encode, send, wait, decode, correlate)")
        print("wire: frame handed to the kernel -> reap of the completion holding the reply's last byte")
        print("raw: before the first send byte -> reply frame complete in the buffer (no JSON decoded)")
        print(LatencySummary.header)
        for (s, m) in zip(series, summaries) { print(m.row(s.name)) }
        let user = summaries[0]
        // TradeWire's own time per round trip: send -> callback minus that round trip's wire time
        // (encode, frame, decode, correlate, dispatch), the part a raw client does not have.
        var own = zip(series[0].samples, series[1].samples).map { Int64(bitPattern: $0 &- $1) }
        own.sort()
        let ownP50 = own.isEmpty ? 0 : Double(own[own.count / 2]) / 1000, ownP90 = own.isEmpty ? 0 : Double(own[own.count * 9 / 10]) / 1000
        print(String(format: "tradewire's own time (send -> callback minus wire): p50 %.2f  p90 %.2f µs", ownP50, ownP90))
        var fields: [String: Double] = ["p50_us": user.p50, "p90_us": user.p90, "p99_us": user.p99, "p999_us": user.p999,
                                        "max_us": user.max, "wire_p50_us": summaries[1].p50, "wire_p999_us": summaries[1].p999,
                                        "count": Double(user.count), "errors": Double(errors), "own_p50_us": ownP50]
        if summaries.count == 4 {
            let fb = summaries[2], fs = summaries[3]
            print(String(format: "ratio send->callback / raw blocking: p50 %.3f  p99 %.3f  p99.9 %.3f", user.p50 / fb.p50, user.p99 / fb.p99, user.p999 / fb.p999))
            print(String(format: "ratio send->callback / raw spin:     p50 %.3f  p99 %.3f  p99.9 %.3f", user.p50 / fs.p50, user.p99 / fs.p99, user.p999 / fs.p999))
            fields["floor_blocking_p50_us"] = fb.p50
            fields["floor_blocking_p999_us"] = fb.p999
            fields["floor_spin_p50_us"] = fs.p50
            fields["floor_spin_p999_us"] = fs.p999
            fields["ratio_blocking_p50"] = user.p50 / fb.p50
            fields["ratio_blocking_p999"] = user.p999 / fb.p999
            fields["ratio_spin_p50"] = user.p50 / fs.p50
            fields["ratio_spin_p999"] = user.p999 / fs.p999
        }
        if let k = krakenDriver, let d = try loop.runSync({ k.client.latency.decodeStats(for: "add_order") }) {
            // Warm-up included: the recorder keeps every ack since the connection opened.
            print(String(format: "read -> ack decoded (part of send -> callback): p50 %.2f  p99 %.2f µs", d.p50, d.p99))
            fields["decode_p50_us"] = d.p50
        }
        if bookRate > 0, let k = krakenDriver {
            let (updates, failures, median) = try loop.runSync { () -> (Int, Int, UInt64?) in
                let f = k.client.bookFeed
                return (f?.updatesApplied ?? 0, f?.checksumFailures ?? 0, f?.applyTimeMedian)
            }
            print(String(format: "book load: %d updates applied (%.0f/s over the round trips; asked %d/s), %d checksum failures, ",
                         updates, Double(updates) / elapsed, bookRate, failures) + "read -> applied p50 \(median.map { String($0) } ?? "-") ns")
            fields["book_updates_per_s"] = Double(updates) / elapsed
            fields["book_checksum_failures"] = Double(failures)
        }
        let clients = floor && bookRate == 0 ? 3.0 : 1.0
        print(String(format: "msgs/s (all clients, interleaved): %.0f   errors: %d", Double(count) * clients / elapsed, errors))
        if let hgrm {
            try FileManager.default.createDirectory(atPath: hgrm, withIntermediateDirectories: true)
            for s in series {
                let path = "\(hgrm)/\(s.slug).hgrm"
                try s.hgrm.write(toFile: path, atomically: true, encoding: .utf8)
                print("wrote \(path)")
            }
        }
        if let svg {
            let title = "\(what), \(wsURL.secure ? "wss" : "ws"), \(mode): \(count) round trips"
            try PercentilePlot.svg(series, title: title).write(toFile: svg, atomically: true, encoding: .utf8)
            print("wrote \(svg)")
        }
        if json {
            let body = fields.keys.sorted().map { k in
                let v = fields[k]!
                return "\"\(k)\":" + (v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(format: "%.3f", v))
            }.joined(separator: ",")
            print("{\(body)}")
        }
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
