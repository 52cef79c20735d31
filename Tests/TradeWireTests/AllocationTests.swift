import CMallocCounter
import Foundation
import Testing
@testable import TradeWire

/// Sequential round trips whose send, receive and parse run on the loop thread;
/// counts that thread's heap allocations over the measured window.
final class CountingRoundTrips: WebSocketHandler, @unchecked Sendable {
    let payload: [UInt8]
    let warmup: Int
    let measured: Int
    var done = 0
    var startCount: UInt64 = 0
    let result = Locked<(allocations: UInt64, bytesOK: Bool)?>(nil)
    var bytesOK = true

    init(payloadSize: Int, warmup: Int, measured: Int) {
        payload = (0..<payloadSize).map { UInt8(ascii: "a") + UInt8($0 % 26) }
        self.warmup = warmup
        self.measured = measured
    }

    func send(_ c: WebSocketConnection) {
        _ = try? payload.withUnsafeBytes { try c.send(.text, bytes: $0) }
    }

    func webSocketDidOpen(_ c: WebSocketConnection) { send(c) }

    func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
        bytesOK = bytesOK && m.bytes.count == payload.count
        done += 1
        if done == warmup { startCount = tw_test_thread_allocations() }
        if done == warmup + measured {
            let n = tw_test_thread_allocations() - startCount
            let ok = bytesOK
            result.withLock { $0 = (n, ok) }
            return
        }
        send(c)
    }
}

@Suite("Allocations on the hot path", .serialized, .enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"))
struct AllocationTests {
    /// Both backends, both wait modes: zero allocations per steady-state ws://
    /// round trip on the client's loop thread (write into the send buffer, mask,
    /// submit, reap, parse, deliver the lent view).
    ///
    /// wss:// is bounded at exactly what OpenSSL 3.0 itself allocates: its record
    /// layer's WPACKET takes a 40-byte sub-packet (crypto/packet.c:107) for each
    /// record written or read, 4 per round trip here. TradeWire's own TLS path
    /// (custom BIO reading our receive buffer, writing our send queue) adds none.
    @Test(arguments: [(Backend.ioUring, WaitMode.wait, false), (.ioUring, .busyPoll, false), (.posix, .wait, false),
                      (.posix, .busyPoll, false), (.ioUring, .wait, true), (.posix, .wait, true)])
    func zeroAllocationsPerRoundTrip(_ backend: Backend, _ mode: WaitMode, _ tls: Bool) throws {
        let dir = try TempDir()
        let cert = try GeneratedCertificate.generate(in: dir.path, prefix: "alloc")
        let serverLoop = try EventLoop.forTest(backend)
        let loop = try EventLoop.forTest(backend, mode)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let server = try WebSocketServer.listen(
            on: serverLoop, tls: tls ? .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile) : nil
        ) { _, _ in EchoHandler() }
        let h = CountingRoundTrips(payloadSize: 200, warmup: 200, measured: 2_000)
        _ = try WebSocketConnection.connect(
            on: loop, configuration: .init(url: try WebSocketURL("\(tls ? "wss" : "ws")://127.0.0.1:\(server.port)/"),
                                           tls: TLSConfiguration(additionalTrust: [.caFile(cert.caFile)])), handler: h)
        var r: (allocations: UInt64, bytesOK: Bool)? = nil
        for _ in 0..<6000 {
            r = h.result.withLock { $0 }
            if r != nil { break }
            usleep(10_000)
        }
        #expect(r != nil, "round trips did not finish")
        #expect(r?.bytesOK == true)
        let bound: UInt64 = tls ? 4 * 2_000 : 0
        #expect(r.map { $0.allocations <= bound } == true, "allocations over 2000 round trips: \(String(describing: r?.allocations))")
    }

    /// The counter itself works (a test that could not fail would prove nothing).
    @Test func counterSeesAllocations() {
        let before = tw_test_thread_allocations()
        let a = [Int](repeating: 1, count: 1000)
        #expect(tw_test_thread_allocations() > before)
        #expect(a.count == 1000)
    }
}
