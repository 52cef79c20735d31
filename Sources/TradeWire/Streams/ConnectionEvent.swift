/// What a client's connection did (on the loop thread, through the client's `onConnection` handler and
/// its `connectionEvents` stream).
public enum ConnectionEvent: Sendable {
    /// A connection opened: the first one, a reconnect after a loss, or a planned replacement.
    case connected(OpenKind)
    /// The connection ended; `retryIn` is nil when no reconnect follows (closed by the
    /// application, terminal close, no policy, or attempts exhausted).
    case disconnected(WebSocketClose, retryIn: Duration?)
    /// No bytes arrived for `silentFor`: the connection was dropped.
    case stale(silentFor: Duration)
    /// A planned replacement started (age limit, venue shutdown notice).
    case replacing(reason: String)
    /// A reconnect attempt could not even start (e.g. the token fetch failed).
    case attemptFailed(TradeWireError)

    public enum OpenKind: Sendable, Equatable { case first, reconnected, replacement }

    /// A connection is open after this event.
    public var isConnected: Bool { if case .connected = self { return true } else { return false } }
}
