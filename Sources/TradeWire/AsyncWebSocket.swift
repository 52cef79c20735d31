import Synchronization

/// async/await convenience over `WebSocketConnection`, usable from any task.
/// Received payloads are copied (one allocation per message); use a
/// `WebSocketHandler` on the loop thread where that matters.
public final class AsyncWebSocket: Sendable {
    /// A received message, copied out of the receive buffer.
    public struct Message: Sendable {
        public let opcode: Opcode
        public let bytes: [UInt8]
        public let receivedAt: UInt64
        public var text: String { String(decoding: bytes, as: UTF8.self) }
    }

    public let messages: AsyncThrowingStream<Message, Error>
    private let connection: UnsafeSendable<WebSocketConnection>
    private let bridge: Bridge

    private final class Bridge: WebSocketHandler, @unchecked Sendable {
        let continuation: AsyncThrowingStream<Message, Error>.Continuation
        let opened = Mutex<CheckedContinuation<Void, Error>?>(nil)
        let closeInfo = Mutex<WebSocketClose?>(nil)

        init(_ c: AsyncThrowingStream<Message, Error>.Continuation) { continuation = c }

        func webSocketDidOpen(_ connection: WebSocketConnection) {
            opened.withLock { $0.take() }?.resume()
        }

        func webSocket(_ connection: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
            continuation.yield(Message(opcode: message.opcode, bytes: message.data, receivedAt: message.receivedAt))
        }

        func webSocket(_ connection: WebSocketConnection, didClose close: WebSocketClose) {
            closeInfo.withLock { $0 = close }
            let err: Error = close.error ?? TradeWireError(code: .closed, detail: "closed \(close.code) \(close.reason)", closeCode: close.code)
            opened.withLock { $0.take() }?.resume(throwing: err)
            if let e = close.error { continuation.finish(throwing: e) } else { continuation.finish() }
        }
    }

    private init(connection: WebSocketConnection, bridge: Bridge, messages: AsyncThrowingStream<Message, Error>) {
        self.connection = UnsafeSendable(connection)
        self.bridge = bridge
        self.messages = messages
    }

    /// Connect and wait for the upgrade to complete.
    public static func connect(_ configuration: WebSocketConfiguration, on loop: EventLoop) async throws -> AsyncWebSocket {
        let (stream, cont) = AsyncThrowingStream<Message, Error>.makeStream()
        let bridge = Bridge(cont)
        let conn = try await loop.submit {
            try WebSocketConnection.connect(on: loop, configuration: configuration, handler: bridge)
        }
        // OPEN may already have been delivered: decide on the loop thread, where state changes.
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            loop.execute {
                if conn.state == .open { c.resume(); return }
                if let close = bridge.closeInfo.withLock({ $0 }) {
                    c.resume(throwing: close.error ?? TradeWireError(code: .closed, detail: "closed during the handshake"))
                    return
                }
                bridge.opened.withLock { $0 = c }
            }
        }
        return AsyncWebSocket(connection: conn, bridge: bridge, messages: stream)
    }

    /// Send a text message; returns the monotonic ns it went to the kernel.
    @discardableResult
    public func send(text: String) async throws -> UInt64 {
        let c = connection
        return try await c.value.loop.submit { try c.value.send(text: text) }
    }

    @discardableResult
    public func send(binary: [UInt8]) async throws -> UInt64 {
        let c = connection
        return try await c.value.loop.submit { try c.value.send(binary: binary) }
    }

    /// Start the closing handshake; `messages` ends when it completes.
    public func close(code: UInt16 = 1000, reason: String = "") async throws {
        let c = connection
        try await c.value.loop.submit { try c.value.close(code: code, reason: reason) }
    }

    /// How the connection ended, once it has.
    public var closeInfo: WebSocketClose? { bridge.closeInfo.withLock { $0 } }
}
