import Logging
import TradeWire

/// Binance's diff depth streams (web-socket-streams.md: `<symbol>@depth@100ms` on a combined stream
/// `/stream?streams=…`) kept as in-sync books, one `BinanceDepthBook` per symbol. The snapshots come from the
/// WS API's `depth` request on `api`, asked as soon as the stream is open (events meanwhile are buffered),
/// again when a snapshot is older than the stream, and after every gap. Loop-confined but for `connect()`.
///
/// `@unchecked Sendable` (a `WebSocketHandler` must be Sendable): its mutable state (`books`, `applyTimes`) is
/// only touched on `loop`'s thread: by the handler callbacks, which the loop runs, and by snapshots, whose task
/// hops back with `loop.execute` before it applies one. Public reads are async (`book(_:)`) or checked to be on
/// the loop (`withBook`); the event handler is a `@Sendable` closure given at creation.
public final class BinanceMarketStream: WebSocketHandler, @unchecked Sendable {
    public let loop: EventLoop
    public let api: BinanceClient
    public let depth: Int
    public let symbols: [String]
    public let logger: Logger
    /// Each book's sync events (`.synced`, `.snapshotTooOld`, `.gap`), on the loop thread.
    private let onEvent: (@Sendable (String, BinanceDepthBook.Event) -> Void)?
    private let eventHub = StreamHub<BinanceDepthEvent>()
    package private(set) var supervisor: ConnectionSupervisor!
    /// By the symbol as events spell it (`s`, upper case): an inline key, no allocation per event.
    private var books: [InlineText: BinanceDepthBook] = [:]
    /// Time from the read of an event to its book updated.
    private var applyTimes = ApplyTimes()
    /// The median time from an event's read to its book updated (ns), nil before any (loop thread).
    package var applyTimeMedian: UInt64? { applyTimes.median }
    private static let streamKeys = JSONKeySet(["stream", "data"])

    /// `base`: the stream endpoint's scheme, host and port (e.g. `wss://stream.binance.com:9443`).
    public init(loop: EventLoop, base: WebSocketURL, api: BinanceClient, symbols: [String], depth: Int = 1000,
                tls: TLSConfiguration = .default, reconnect: ReconnectPolicy? = nil,
                onEvent: (@Sendable (String, BinanceDepthBook.Event) -> Void)? = nil,
                logger: Logger = Logger(label: "tradewire.binance.stream")) {
        self.loop = loop
        self.onEvent = onEvent
        self.logger = logger
        self.api = api
        self.depth = depth
        self.symbols = symbols
        let streams = symbols.map { "\($0.lowercased())@depth@100ms" }.joined(separator: "/")
        let url = WebSocketURL(secure: base.secure, host: base.host, port: base.port, target: "/stream?streams=\(streams)")
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: reconnect) { WebSocketConfiguration(url: url, tls: tls) }
    }

    public func connect() async throws {
        eventHub.reopen()
        try await supervisor.connect()
    }
    /// Start closing for good and return at once (`close()` waits for it).
    public func beginClose() {
        supervisor.close()
        eventHub.finish()
    }
    public func close() async {
        await supervisor.closeAndWait()
        eventHub.finish()
    }

    /// Each book's sync events, as a stream (see `EventStream`).
    public var events: EventStream<BinanceDepthEvent> { eventHub.stream() }

    /// A copy of the symbol's book while it is in sync (nil: not yet, or resyncing after a gap).
    public func book(_ symbol: String) async throws -> L2BookSnapshot? {
        try await loop.submit { [self] in loopBook(symbol)?.snapshot() }
    }

    /// Read the symbol's depth book in place on the loop thread (from a handler): no copy, no hop; throws
    /// `.notOnEventLoop` elsewhere.
    public func withBook<R>(_ symbol: String, _ body: (BinanceDepthBook?) throws -> R) throws -> R {
        guard loop.inEventLoop else { throw TradeWireError(code: .notOnEventLoop, detail: "BinanceMarketStream.withBook runs on its loop") }
        return try body(depthBook(symbol))
    }

    /// The symbol's book while it is in sync (loop thread).
    package func loopBook(_ symbol: String) -> L2Book? { books[InlineText(symbol.uppercased())]?.book }
    package func depthBook(_ symbol: String) -> BinanceDepthBook? { books[InlineText(symbol.uppercased())] }

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard supervisor.didOpen(c) != nil else { return }
        // A new connection starts every book over: buffer, then a snapshot.
        for s in symbols {
            books[InlineText(s.uppercased())] = BinanceDepthBook(symbol: s, depth: depth)
            requestSnapshot(s)
        }
    }

    public func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        _ = supervisor.didClose(c, close)
    }

    public func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
        guard message.opcode == .text, let doc = try? JSONDocument(validating: message.bytes, capturing: Self.streamKeys) else {
            logger.warning("undecodable market stream message")
            return
        }
        // A combined stream wraps each event: {"stream":"btcusdt@depth@100ms","data":{…}}; a raw one is the event.
        let event = doc.captured[1] ?? doc.root
        guard event["e"]?.stringEquals("depthUpdate") == true, let symbol = event["s"], let firstU = event["U"]?.int64,
              let finalU = event["u"]?.int64 else { return }
        guard let key = InlineText(json: symbol), let book = books[key] else { return }
        if let e = book.apply(firstU: firstU, finalU: finalU, bids: event["b"], asks: event["a"]) { handle(e, book.symbol) }
        applyTimes.record(MonotonicClock.nanoseconds() &- message.receivedAt)
    }

    private func handle(_ e: BinanceDepthBook.Event, _ symbol: String) {
        onEvent?(symbol, e)
        eventHub.yield(BinanceDepthEvent(symbol: symbol, event: e))
        switch e {
        case .synced: break
        case .snapshotTooOld, .gap: requestSnapshot(symbol)
        }
    }

    /// Ask the WS API for a snapshot; apply it on the loop when it comes.
    private func requestSnapshot(_ symbol: String) {
        let api = api, depth = depth
        Task { [weak self] in
            do {
                let ack = try await api.request(.depth(symbol: symbol, limit: depth))
                guard let json = ack.response.resultJSON else { throw TradeWireError(code: .malformedResponse, detail: "depth without a result") }
                self?.loop.execute { [weak self] in self?.applySnapshot(symbol, json) }
            } catch {
                self?.logger.warning("depth snapshot failed", metadata: ["symbol": "\(symbol)", "error": "\(error)"])
            }
        }
    }

    private func applySnapshot(_ symbol: String, _ json: String) {
        guard let book = books[InlineText(symbol.uppercased())] else { return }
        var text = json
        let event: BinanceDepthBook.Event? = text.withUTF8 { bytes in
            guard let doc = try? JSONDocument(validating: UnsafeRawBufferPointer(bytes)), let id = doc.root["lastUpdateId"]?.int64 else { return nil }
            return book.applySnapshot(lastUpdateID: id, bids: doc.root["bids"], asks: doc.root["asks"])
        }
        if let event { handle(event, symbol) } else { logger.warning("malformed depth snapshot", metadata: ["symbol": "\(symbol)"]) }
    }
}

/// A depth book's sync event with its symbol, as `BinanceMarketStream.events` gives it.
public struct BinanceDepthEvent: Sendable {
    public let symbol: String
    public let event: BinanceDepthBook.Event
}
