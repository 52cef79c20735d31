import Foundation
import Synchronization
import Testing
@testable import TradeWire

/// `EventLoop.addIdleHandler`: a busy-polling loop runs its hooks while it waits for
/// I/O (both backends), a waiting loop never does, and a removed hook stops.
@Suite("Busy-poll idle handlers")
struct IdleHandlerTests {
    @Test(arguments: [Backend.posix, .ioUring])
    func busyPollingLoopRunsItsIdleHandlersUntilRemoved(_ backend: Backend) throws {
        let serverLoop = try EventLoop.forTest(backend)
        let loop = try EventLoop.forTest(backend, .busyPoll)
        defer { loop.shutdown(); serverLoop.shutdown() }
        // An open connection keeps the loop polling its socket (the hook runs between empty polls).
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in EchoHandler() }
        let (_, client) = try loop.connect("ws://127.0.0.1:\(server.port)/")
        #expect(client.waitOpen())
        let runs = Atomic<Int>(0)
        let id = try loop.runSync { loop.addIdleHandler { runs.add(1, ordering: .relaxed) } }
        for _ in 0..<500 where runs.load(ordering: .relaxed) < 100 { usleep(2_000) }
        #expect(runs.load(ordering: .relaxed) >= 100, "the hook ran \(runs.load(ordering: .relaxed)) times")
        try loop.runSync { loop.removeIdleHandler(id) }
        let after = runs.load(ordering: .relaxed)
        usleep(50_000)
        #expect(runs.load(ordering: .relaxed) == after, "a removed hook ran again")
    }

    @Test func waitingLoopNeverRunsThem() throws {
        let loop = try EventLoop.forTest(.posix, .wait)
        defer { loop.shutdown() }
        let runs = Atomic<Int>(0)
        _ = try loop.runSync { loop.addIdleHandler { runs.add(1, ordering: .relaxed) } }
        for i in 0..<50 { #expect(try loop.runSync { i } == i) }      // the loop wakes and sleeps 50 times
        usleep(20_000)
        #expect(runs.load(ordering: .relaxed) == 0)
    }
}
