/// Receives a connection's events, on its event loop's thread, in order:
/// open (once), messages, close (exactly once). Calls must return quickly:
/// the loop does nothing else meanwhile. Sending from inside a callback is
/// the hot path (no thread hop, no allocation).
public protocol WebSocketHandler: AnyObject, Sendable {
    func webSocketDidOpen(_ connection: WebSocketConnection)
    func webSocket(_ connection: WebSocketConnection, didReceive message: borrowing WebSocketMessage)
    func webSocket(_ connection: WebSocketConnection, didClose close: WebSocketClose)
}

extension WebSocketHandler {
    public func webSocketDidOpen(_ connection: WebSocketConnection) {}
    public func webSocket(_ connection: WebSocketConnection, didClose close: WebSocketClose) {}
}
