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
        reply frame complete in their buffer. The floors send the requests the client sends, encoded as it \
        encodes them (Binance's pre-signed, each chunk's timestamped as it starts). Without --url the server \
        runs in-process on its own loop thread: the simulator, or an echo server.
        """)

    @Option(help: "ws:// or wss:// server; default: an embedded one (echo, or the simulator's Kraken dialect).") var url: String?
    @Option(help: """
        What to send: kraken (add_order), binance (order.place, HMAC-signed), binance-sbe (the same, answered in SBE), gateway (send_order), quotes (ping), \
        each answered by the embedded simulator and matched to its request by the venue's client; or echo (a bare \
        connection). Only kraken and echo take --url.
        """) var venue = "kraken"
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
    @Flag(help: """
        Kraken only: instead of the simulator, a venue that sleeps (C, a thread per connection blocked in recv(), \
        answering add_order as the simulator does and nothing more), as most servers serve a WebSocket. \
        --server-cpu pins its connection threads.
        """) var blockingVenue = false
    @Flag(help: "Also measure raw blocking and raw spinning C clients (with OpenSSL for wss://), interleaved.") var floor = false
    @Flag(help: """
        ws:// only, with --floor: a third raw floor that waits on epoll_wait before each read, as an event loop does: \
        spinning on it with --busy-poll, asleep in it otherwise. It shows what the readiness step costs against the \
        floors spinning or sleeping in recv.
        """) var epollFloor = false
    @Option(help: """
        With --floor: each raw floor spins this many ns before each request, off its clock: a client's think time \
        (decode, callback, encode), to see what it costs against a venue that sleeps.
        """) var floorThinkNs = 0
    @Option(help: "Write one HdrHistogram percentile file (.hgrm, µs) per client into this folder.") var hgrm: String?
    @Option(help: "Write an SVG plot of latency against percentile, every client, to this file.") var svg: String?
    @Option(help: "Round trips per interleaved chunk.") var chunk = 1_000
    @Flag(help: "Busy-poll: turn off the venue client's warm-up while idle (its Configuration.warmUpWhileIdle).") var noWarmUp = false
    @Flag(help: "End with one JSON line.") var json = false
    @Option(help: """
        Embedded Kraken venue only: the same client also keeps a Kraken book (CRC-verified) that the venue moves at \
        this many updates per second, on the connection that carries the acks. The floors are measured first, idle; \
        then the round trips run under the book load.
        """) var bookRate = 0

    func run() throws {
        guard let venue = BenchVenue(rawValue: venue) else {
            throw ValidationError("--venue is one of \(BenchVenue.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        // A real venue would take real orders (and Binance's need credentials): only Kraken and echo run against --url.
        if url != nil, venue != .kraken, venue != .echo { throw ValidationError("--venue \(venue.rawValue) runs against the embedded simulator only (no --url)") }
        if bookRate > 0, venue != .kraken || url != nil { throw ValidationError("--book-rate needs --venue kraken on the embedded venue (no --url)") }
        var serverLoop: EventLoop? = nil
        var wsURL: WebSocketURL
        var caFile = ca
        var certDir: String? = nil
        var simulator: ExchangeSimulator? = nil
        var sleepingVenue: OpaquePointer? = nil
        defer { if let sleepingVenue { twf_venue_stop(sleepingVenue) } }
        if blockingVenue {
            guard venue == .kraken, url == nil, !tls, bookRate == 0 else {
                throw ValidationError("--blocking-venue is a ws:// Kraken venue: --venue kraken, no --url, --tls or --book-rate")
            }
            var err: Int32 = 0
            guard let v = twf_venue_start(Int32(serverCpu ?? -1), &err) else { throw BenchFailure("the blocking venue could not start (\(err))") }
            sleepingVenue = v
            wsURL = WebSocketURL(secure: false, host: "127.0.0.1", port: twf_venue_port(v), target: venue.path)
        } else if let url {
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
            let port: UInt16
            if venue == .echo {
                port = try WebSocketServer.listen(on: sl, port: 0, tls: serverTLS) { _, _ in EchoHandler() }.port
            } else {
                simulator = try BenchSimulator.start(on: sl, tls: serverTLS, ackDelayUs: ackDelayUs, bookRate: bookRate)
                port = simulator!.port
            }
            wsURL = WebSocketURL(secure: tls, host: tls ? "localhost" : "127.0.0.1", port: port, target: venue.path)
            serverLoop = sl
        }
        defer { if let certDir { try? FileManager.default.removeItem(atPath: certDir) } }
        let be: Backend = backend == "posix" ? .posix : backend == "io-uring" ? .ioUring : .automatic
        let loop = try EventLoop(configuration: .init(waitMode: busyPoll ? .busyPoll : .wait, cpu: cpu, backend: be))
        var tlsConfig = insecure ? TLSConfiguration.insecureNoVerification() : TLSConfiguration.default
        if let caFile { tlsConfig.additionalTrust.append(.caFile(caFile)) }
        let capacity = min(count, 1_000_000)
        var subject: BenchSubject? = nil
        var echo: EchoRoundTrips? = nil
        var echoConnection: WebSocketConnection? = nil
        // On every exit, a thrown failure too: the loops stop (their close callbacks reach the drivers'
        // unowned closures) before the drivers go. A venue dying mid-run crashed here once.
        defer { withExtendedLifetime((subject, echo, simulator)) { loop.shutdown(); serverLoop?.shutdown() } }
        let runner: any RoundTripRunner
        let echoPayload = orderPayload(id: 1, size: size)
        if venue == .echo {
            let e = EchoRoundTrips(payload: echoPayload, capacity: capacity)
            echo = e
            echoConnection = try WebSocketConnection.connect(on: loop, configuration: .init(url: wsURL, tls: tlsConfig), handler: e)
            e.opened.wait()
            if let c = e.closeInfo { throw ValidationError("connection failed: \(c)") }
            e.connection = echoConnection
            runner = e
        } else {
            let s = try BenchSubject.make(venue, loop: loop, url: wsURL, tls: tlsConfig, token: token, warmUpWhileIdle: !noWarmUp,
                                          capacity: capacity)
            subject = s
            runner = s.runner
        }

        // The floors: the same requests to the same server, over the same transport.
        let floorCA = insecure ? nil : caFile
        func floorClient(_ index: Int, spin: Bool) throws -> FloorClient? {
            guard floor else { return nil }
            let first = subject?.floorPayloads(index, 1) ?? [echoPayload]
            return try FloorClient(url: wsURL, caFile: floorCA, payloads: first, spin: spin, capacity: capacity, push: venue.push)
        }
        let blocking = try floorClient(0, spin: false)
        let spinning = try floorClient(1, spin: true)
        for f in [blocking, spinning] { f?.thinkNanoseconds = UInt64(floorThinkNs) }
        if epollFloor && (!floor || wsURL.secure) { throw ValidationError("--epoll-floor needs --floor and a ws:// venue") }
        let polling = try epollFloor ? FloorClient(url: wsURL, caFile: nil, payloads: subject?.floorPayloads(2, 1) ?? [echoPayload],
                                                   spin: true, epoll: true, sleepInEpoll: !busyPoll, capacity: capacity, push: venue.push) : nil
        polling?.thinkNanoseconds = UInt64(floorThinkNs)

        /// A chunk that takes this long means the server stopped answering: fail rather than hang.
        func stallLimit(_ n: Int) -> Double { 10 + Double(n) * Double(ackDelayUs + 1_000) / 1e6 }
        let box = UnsafeBox(runner)
        func tradewire(_ n: Int, record: Bool) throws {
            loop.execute { box.value.start(n, record: record) }
            guard runner.chunkDone.wait(seconds: stallLimit(n)) else { throw BenchFailure("no answer for \(Int(stallLimit(n))) s: the venue stalled") }
            if runner.errors > 0 { throw BenchFailure("\(runner.errors) requests failed during the run (\(runner.lastError ?? "connection lost"))") }
        }
        func floorRun(_ index: Int, _ f: FloorClient?, _ n: Int, record: Bool) throws {
            guard let f else { return }
            if let subject, subject.freshPerChunk { f.load(subject.floorPayloads(index, n)) }   // off the clock
            try loop.runSync { try f.run(n, record: record) }
        }
        let start: Date
        if bookRate > 0, let kraken = subject?.client as? KrakenClient {
            // The floors idle first (the book's messages would pile up on the client's socket while a floor holds
            // its loop), then the client's round trips while it keeps the moving book.
            try floorRun(0, blocking, warmup, record: false)
            try floorRun(1, spinning, warmup, record: false)
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                try floorRun(0, blocking, n, record: true)
                try floorRun(1, spinning, n, record: true)
                done += n
            }
            try blockingAwait {
                _ = try await kraken.subscribeBook(["FLOW/USD"], depth: 10,
                                                   precisions: ["FLOW/USD": .init(price: KrakenBookFlow.precision.price, quantity: KrakenBookFlow.precision.quantity)])
            }
            start = Date()
            try tradewire(warmup, record: false)
            try tradewire(count, record: true)
        } else {
            // Warm-up for everyone, then interleaved chunks so drift hits all clients alike.
            try tradewire(warmup, record: false)
            try floorRun(0, blocking, warmup, record: false)
            try floorRun(1, spinning, warmup, record: false)
            try floorRun(2, polling, warmup, record: false)
            start = Date()
            var done = 0
            while done < count {
                let n = min(chunk, count - done)
                try tradewire(n, record: true)
                try floorRun(0, blocking, n, record: true)
                try floorRun(1, spinning, n, record: true)
                try floorRun(2, polling, n, record: true)
                done += n
            }
        }
        let elapsed = Date().timeIntervalSince(start)

        let errors = runner.errors
        let mode = busyPoll ? "busy-poll" : "wait"
        let raw = wsURL.secure ? "raw C + OpenSSL" : "raw C"
        var series = [
            LatencySeries(name: "tradewire \(mode), send -> callback", samples: runner.userSamples),
            LatencySeries(name: "tradewire \(mode), wire", samples: runner.samples),
        ]
        if let b = blocking, let s = spinning {
            series.append(LatencySeries(name: "\(raw) blocking", samples: b.samples))
            series.append(LatencySeries(name: "\(raw) non-blocking spin", samples: s.samples))
        }
        if let e = polling { series.append(LatencySeries(name: busyPoll ? "raw C epoll spin" : "raw C epoll sleep", samples: e.samples)) }
        let summaries = series.map(\.summary)
        let what = subject?.what ?? "echo of \(size) B"
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
        if summaries.count >= 4 {
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
        if summaries.count == 5 {
            let fe = summaries[4]
            print(String(format: "ratio send->callback / raw epoll \(busyPoll ? "spin" : "sleep"): p50 %.3f  p99 %.3f  p99.9 %.3f",
                         user.p50 / fe.p50, user.p99 / fe.p99, user.p999 / fe.p999))
            fields["floor_epoll_p50_us"] = fe.p50
            fields["ratio_epoll_p50"] = user.p50 / fe.p50
        }
        if let d = try subject?.decodeStats(on: loop) {
            // Warm-up included: the recorder keeps every answer since the connection opened.
            print(String(format: "read -> answer decoded (part of send -> callback): p50 %.2f  p99 %.2f µs", d.p50, d.p99))
            fields["decode_p50_us"] = d.p50
        }
        if let s = subject, let sign = s.signP50Ns, let encode = s.encodeP50Ns {
            print(String(format: "signing per order: the signer %.0f ns p50; the whole request encoded with it %.0f ns p50", sign, encode))
            fields["sign_p50_ns"] = sign
            fields["encode_p50_ns"] = encode
        }
        if let decode = subject?.sbeDecodeP50Ns {
            print(String(format: "SBE answer decoded (WebSocketResponse + NewOrderAckResponse): %.0f ns p50", decode))
            fields["sbe_decode_p50_ns"] = decode
        }
        if bookRate > 0, let kraken = subject?.client as? KrakenClient {
            let (updates, failures, median) = try loop.runSync { () -> (Int, Int, UInt64?) in
                let f = kraken.bookFeed
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
}
