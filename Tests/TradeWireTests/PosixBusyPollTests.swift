import Foundation
import Testing
@testable import TradeWire

/// The posix backend's busy-poll reads a few connections directly (no epoll_wait
/// between tries) and falls back to epoll with more: every connection gets all its
/// echoes either way, and work handed over from another thread still runs.
@Suite("posix busy-poll")
struct PosixBusyPollTests {
    @Test(arguments: [3, 6])
    func everyConnectionIsServedAndCrossThreadWorkRuns(_ connections: Int) throws {
        let serverLoop = try EventLoop.forTest(.posix)
        let loop = try EventLoop.forTest(.posix, .busyPoll)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in EchoHandler() }
        let url = try WebSocketURL("ws://127.0.0.1:\(server.port)/")
        let clients = (0..<connections).map { _ in CountingRoundTrips(payloadSize: 100, warmup: 0, measured: 300) }
        for c in clients { _ = try WebSocketConnection.connect(on: loop, configuration: .init(url: url), handler: c) }
        // Cross-thread work while the loop spins: it reaches the loop through the wake fd, which
        // the direct-read path only sees through epoll.
        for i in 0..<20 { #expect(try loop.runSync { i * 2 } == i * 2) }
        var finished = 0
        for _ in 0..<3000 where finished < connections {
            finished = clients.filter { c in c.result.withLock { $0 != nil } }.count
            usleep(10_000)
        }
        #expect(finished == connections, "\(finished) of \(connections) connections finished their echoes")
        #expect(clients.allSatisfy { c in c.result.withLock { $0?.bytesOK == true } })
    }

    /// An echo server and a client loop, both posix and busy-polling; `body` gets the client loop and the URL.
    func withSpinningEcho(_ body: (EventLoop, WebSocketURL) throws -> Void) throws {
        let serverLoop = try EventLoop.forTest(.posix, .busyPoll)
        let loop = try EventLoop.forTest(.posix, .busyPoll)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in EchoHandler() }
        try body(loop, try WebSocketURL("ws://127.0.0.1:\(server.port)/"))
    }

    /// Connects `n` clients that each send `measured` messages of `size` bytes in turn; how many
    /// got every echo back whole. The connections stay open.
    func echoed(_ n: Int, size: Int, measured: Int, on loop: EventLoop, url: WebSocketURL) throws -> Int {
        let clients = (0..<n).map { _ in CountingRoundTrips(payloadSize: size, warmup: 0, measured: measured) }
        for c in clients { _ = try WebSocketConnection.connect(on: loop, configuration: .init(url: url), handler: c) }
        for _ in 0..<3000 where !clients.allSatisfy({ c in c.result.withLock { $0 != nil } }) { usleep(10_000) }
        return clients.filter { c in c.result.withLock { $0?.bytesOK == true } }.count
    }

    /// Connections read directly, then more than direct reads pay for (epoll reads them from
    /// then on, the first ones too): all are served either way. Both ends spin.
    @Test func connectionsJoiningLaterMoveEveryoneBackIntoEpoll() throws {
        try withSpinningEcho { loop, url throws in
            #expect(try echoed(3, size: 100, measured: 300, on: loop, url: url) == 3)   // three open: read directly
            #expect(try echoed(3, size: 100, measured: 300, on: loop, url: url) == 3)   // six open: epoll again
            #expect(try loop.runSync { 7 } == 7)
        }
    }

    /// A send the socket cannot take whole waits for EPOLLOUT while the loop reads directly:
    /// 4 MiB messages both ways with both ends spinning.
    @Test func fullSocketBuffersUnderBusyPoll() throws {
        try withSpinningEcho { loop, url throws in
            #expect(try echoed(1, size: 4 << 20, measured: 5, on: loop, url: url) == 1)
        }
    }
}
