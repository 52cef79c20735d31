import Foundation
import Synchronization
@testable import TradeWire

/// Collects a connection's events for assertions; waits are bounded (hang guards, not timing checks).
final class TestClient: WebSocketHandler, @unchecked Sendable {
    struct Received: Sendable {
        let opcode: Opcode
        let bytes: [UInt8]
        var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    private let state = Mutex<(open: Bool, messages: [Received], close: WebSocketClose?)>((false, [], nil))
    /// Optional reaction on the loop thread (e.g. echo, or send on open).
    var onOpen: ((WebSocketConnection) -> Void)?
    var onMessage: ((WebSocketConnection, Received) -> Void)?

    func webSocketDidOpen(_ c: WebSocketConnection) {
        state.withLock { $0.open = true }
        onOpen?(c)
    }

    func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
        let r = Received(opcode: m.opcode, bytes: m.data)
        state.withLock { $0.messages.append(r) }
        onMessage?(c, r)
    }

    func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        state.withLock { $0.close = close }
    }

    var isOpen: Bool { state.withLock { $0.open } }
    var messages: [Received] { state.withLock { $0.messages } }
    var close: WebSocketClose? { state.withLock { $0.close } }

    private func wait(_ seconds: Double, _ cond: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while !cond() {
            if Date() > deadline { return false }
            usleep(1_000)
        }
        return true
    }

    @discardableResult
    func waitOpen(_ s: Double = 10) -> Bool { wait(s) { isOpen || close != nil } && isOpen }
    @discardableResult
    func waitMessages(_ n: Int, _ s: Double = 20) -> Bool { wait(s) { messages.count >= n || close != nil } && messages.count >= n }
    func waitClose(_ s: Double = 10) -> WebSocketClose? { _ = wait(s) { close != nil }; return close }
}

extension EventLoop {
    static func forTest(_ backend: Backend, _ mode: WaitMode = .wait) throws -> EventLoop {
        try EventLoop(configuration: .init(waitMode: mode, backend: backend))
    }

    /// Connect a TestClient; returns both.
    func connect(_ url: String, tls: TLSConfiguration = .default, headers: [(name: String, value: String)] = [],
                 limits: WebSocketLimits = .init(), client: TestClient = TestClient()) throws -> (WebSocketConnection, TestClient) {
        let c = try WebSocketConnection.connect(
            on: self, configuration: .init(url: try WebSocketURL(url), headers: headers, tls: tls, limits: limits), handler: client)
        return (c, client)
    }

    /// Run on the loop and wait.
    func sync<T: Sendable>(_ body: @escaping @Sendable () throws -> T) throws -> T { try runSync(body) }
}

let allBackends: [Backend] = [.ioUring, .posix]
