import Synchronization

/// A one-shot HTTP/1.1 request over the core's own connect and TLS path, for
/// the few REST calls venues need around their WebSocket APIs (Kraken's token).
/// Not on any hot path.
public enum HTTPClient {
    public struct Response: Sendable {
        public let status: Int
        public let body: [UInt8]
        public var text: String { String(decoding: body, as: UTF8.self) }
    }

    /// Collects the response; resumes the caller exactly once (at close, or on a failure to start).
    private final class Collector: WebSocketHandler, @unchecked Sendable {
        private let state = Mutex<(response: Response?, waiter: CheckedContinuation<Response, Error>?)>((nil, nil))

        func wait(_ c: CheckedContinuation<Response, Error>) { state.withLock { $0.waiter = c } }

        func fail(_ error: Error) { state.withLock { s in s.waiter.take() }?.resume(throwing: error) }

        func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
            let r = Response(status: c.httpStatus, body: m.data)
            state.withLock { $0.response = r }
        }

        func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
            let (response, waiter) = state.withLock { s in (s.response, s.waiter.take()) }
            if let response, close.error == nil {
                waiter?.resume(returning: response)
            } else {
                waiter?.resume(throwing: close.error ?? TradeWireError(code: .connectionLost, detail: "no HTTP response"))
            }
        }
    }

    /// `url` is http:// or https://; TLS verification as for WebSocket connections.
    public static func request(on loop: EventLoop, url: String, method: String, headers: [(name: String, value: String)] = [],
                               body: String = "", tls: TLSConfiguration = .default) async throws -> Response {
        let wsURL: WebSocketURL
        if url.hasPrefix("https://") { wsURL = try WebSocketURL("wss://" + url.dropFirst(8)) }
        else if url.hasPrefix("http://") { wsURL = try WebSocketURL("ws://" + url.dropFirst(7)) }
        else { throw TradeWireError(code: .invalidURL, detail: "not an http:// or https:// URL: \(url)") }
        let collector = Collector()
        let bytes = Array(body.utf8)
        return try await withCheckedThrowingContinuation { (c: CheckedContinuation<Response, Error>) in
            collector.wait(c)
            loop.execute {
                do {
                    _ = try WebSocketConnection.http(on: loop, configuration: .init(url: wsURL, headers: headers, tls: tls),
                                                     method: method, body: bytes, handler: collector)
                } catch {
                    collector.fail(error)
                }
            }
        }
    }
}
