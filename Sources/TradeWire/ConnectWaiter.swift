/// Opens a venue client's connection and lets an async caller await the upgrade.
/// The client calls `opened()` from `webSocketDidOpen` and `closed(_:)` from
/// `didClose`; the caller is resumed exactly once. Loop-confined state.
public final class ConnectWaiter: @unchecked Sendable {
    private var continuation: CheckedContinuation<Void, Error>?

    public init() {}

    /// Connect `handler` on the loop; `store` runs on the loop with the new connection before any of its events.
    public func connect(on loop: EventLoop, configuration: WebSocketConfiguration, handler: any WebSocketHandler,
                        store: @escaping @Sendable (WebSocketConnection) -> Void) async throws {
        try await withCheckedThrowingContinuation { (c: CheckedContinuation<Void, Error>) in
            loop.execute { [self] in
                continuation = c
                do {
                    store(try WebSocketConnection.connect(on: loop, configuration: configuration, handler: handler))
                } catch {
                    continuation = nil
                    c.resume(throwing: error)
                }
            }
        }
    }

    /// The upgrade completed.
    public func opened() {
        continuation?.resume()
        continuation = nil
    }

    /// The connection ended; a connect still waiting fails with the close's error.
    public func closed(_ close: WebSocketClose) {
        continuation?.resume(throwing: close.error ?? TradeWireError(code: .closed, detail: "closed \(close.code) \(close.reason)"))
        continuation = nil
    }
}
