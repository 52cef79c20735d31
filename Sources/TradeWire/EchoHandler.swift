/// Echoes every text and binary message back with the same opcode. Used by the
/// demo's local server, the benchmarks and the tests; handy as a first peer.
public final class EchoHandler: WebSocketHandler, @unchecked Sendable {
    public init() {}

    public func webSocket(_ connection: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text || message.opcode == .binary else { return }
        do {
            try connection.send(message.opcode, bytes: message.bytes)
        } catch {
            connection.abort()
        }
    }
}
