import Logging
import TradeWire

/// Binance's market data streams, JSON (`stream.binance.com`, web-socket-streams.md) or SBE
/// (`stream-sbe.binance.com`, sbe-market-data-streams.md: binary frames decoded in place, an Ed25519 API key in
/// the `X-MBX-APIKEY` header), on one combined stream `/stream?streams=…`:
/// - `.depth`: the diff depth stream kept as an in-sync book per symbol (`BinanceDepthBook`), its snapshots from
///   the WS API's `depth` request on `api`, asked as soon as the stream is open (events meanwhile are buffered),
///   again when a snapshot is older than the stream, and after every gap. The same procedure for both encodings.
/// - `.bestBidAsk`: JSON `@bookTicker`, SBE `@bestBidAsk`; the last one per symbol is kept.
/// - `.trades`: JSON `@trade`, SBE `@trade` (one SBE event may carry several trades).
/// - `.aggTrades`: JSON `@aggTrade` (SBE has no such stream).
/// - `.topLevels`: JSON `@depth20@100ms`, SBE `@depth20`: the top 20 levels, whole each time, kept per symbol.
///
/// `@unchecked Sendable` (a `WebSocketHandler` must be Sendable): its mutable state (`books`, `best`, counters) is
/// only touched on `loop`'s thread: by the handler callbacks, which the loop runs, and by snapshots, whose task
/// hops back with `loop.execute` before it applies one. Public reads are async (`book(_:)`, `bestBidAsk(_:)`) or
/// checked to be on the loop (`withBook`); the handlers are `@Sendable` closures given at creation.
public final class BinanceMarketStream: WebSocketHandler, @unchecked Sendable {
    /// How the events are encoded on the wire.
    public enum Encoding: Sendable, Equatable {
        case json
        /// SBE, with the Ed25519 API key Binance requires in the upgrade's `X-MBX-APIKEY` header.
        case sbe(apiKey: String)
    }

    public struct Channels: OptionSet, Sendable {
        public let rawValue: Int
        public init(rawValue: Int) { self.rawValue = rawValue }
        public static let depth = Channels(rawValue: 1)
        public static let bestBidAsk = Channels(rawValue: 2)
        public static let trades = Channels(rawValue: 4)
        public static let aggTrades = Channels(rawValue: 8)
        public static let topLevels = Channels(rawValue: 16)
    }

    /// What the stream calls on its loop thread (`@Sendable`: the compiler checks what each closure captures).
    public struct Handlers: Sendable {
        /// A book's sync events (`.synced`, `.snapshotTooOld`, `.gap`).
        public var onDepthEvent: (@Sendable (BinanceMarketStream, BinanceDepthEvent) -> Void)?
        public var onBestBidAsk: (@Sendable (BinanceMarketStream, BinanceBestBidAsk) -> Void)?
        public var onTrade: (@Sendable (BinanceMarketStream, BinanceTrade) -> Void)?
        public var onAggTrade: (@Sendable (BinanceMarketStream, BinanceAggTrade) -> Void)?
        public var onTopLevels: (@Sendable (BinanceMarketStream, BinanceTopLevels) -> Void)?
        public var onConnection: (@Sendable (BinanceMarketStream, ConnectionEvent) -> Void)?
        public init(onDepthEvent: (@Sendable (BinanceMarketStream, BinanceDepthEvent) -> Void)? = nil,
                    onBestBidAsk: (@Sendable (BinanceMarketStream, BinanceBestBidAsk) -> Void)? = nil,
                    onTrade: (@Sendable (BinanceMarketStream, BinanceTrade) -> Void)? = nil,
                    onAggTrade: (@Sendable (BinanceMarketStream, BinanceAggTrade) -> Void)? = nil,
                    onTopLevels: (@Sendable (BinanceMarketStream, BinanceTopLevels) -> Void)? = nil,
                    onConnection: (@Sendable (BinanceMarketStream, ConnectionEvent) -> Void)? = nil) {
            self.onDepthEvent = onDepthEvent
            self.onBestBidAsk = onBestBidAsk
            self.onTrade = onTrade
            self.onAggTrade = onAggTrade
            self.onTopLevels = onTopLevels
            self.onConnection = onConnection
        }
    }

    public let loop: EventLoop
    public let api: BinanceClient?
    public let depth: Int
    public let symbols: [String]
    public let encoding: Encoding
    public let channels: Channels
    public let logger: Logger
    private let handlers: Handlers
    private let depthHub = StreamHub<BinanceDepthEvent>()
    private let bestHub = StreamHub<BinanceBestBidAsk>()
    private let tradeHub = StreamHub<BinanceTrade>()
    private let aggTradeHub = StreamHub<BinanceAggTrade>()
    private let topHub = StreamHub<BinanceTopLevels>()
    private let connectionHub = StreamHub<ConnectionEvent>()
    package private(set) var supervisor: ConnectionSupervisor!
    /// By the symbol as events spell it (`s`, upper case): an inline key, no allocation per event.
    private var books: [InlineText: BinanceDepthBook] = [:]
    private var best: [InlineText: BinanceBestBidAsk] = [:]
    private var top: [InlineText: BinanceTopLevels] = [:]
    /// Time from the read of an event to its book updated.
    private var applyTimes = ApplyTimes()
    /// The median time from an event's read to its book updated (ns), nil before any (loop thread).
    package var applyTimeMedian: UInt64? { applyTimes.median }
    /// Frames that could not be decoded (cut short, another schema…): counted and logged, never applied.
    package private(set) var undecodable = 0
    private static let streamKeys = JSONKeySet(["stream", "data"])

    /// `base`: the stream endpoint's scheme, host and port (`wss://stream.binance.com:9443`, or for SBE
    /// `wss://stream-sbe.binance.com:9443`). `api` answers the depth snapshots (needed with `.depth` only).
    public init(loop: EventLoop, base: WebSocketURL, api: BinanceClient?, symbols: [String], depth: Int = 1000,
                encoding: Encoding = .json, channels: Channels = .depth,
                tls: TLSConfiguration = .default, reconnect: ReconnectPolicy? = nil, handlers: Handlers = Handlers(),
                logger: Logger = Logger(label: "tradewire.binance.stream")) {
        precondition(api != nil || !channels.contains(.depth), "the depth channel needs a WS API client for its snapshots")
        precondition(encoding == .json || !channels.contains(.aggTrades), "@aggTrade is a JSON stream: SBE has none")
        self.loop = loop
        self.handlers = handlers
        self.logger = logger
        self.api = api
        self.depth = depth
        self.symbols = symbols
        self.encoding = encoding
        self.channels = channels
        let url = WebSocketURL(secure: base.secure, host: base.host, port: base.port,
                               target: "/stream?streams=" + Self.streamNames(symbols, channels, encoding).joined(separator: "/"))
        let headers: [(name: String, value: String)]
        if case .sbe(let key) = encoding { headers = [("X-MBX-APIKEY", key)] } else { headers = [] }
        supervisor = ConnectionSupervisor(loop: loop, handler: self, policy: reconnect,
                                          streams: [depthHub, bestHub, tradeHub, aggTradeHub, topHub, connectionHub]) {
            WebSocketConfiguration(url: url, headers: headers, tls: tls)
        }
        supervisor.onEvent = { [unowned(unsafe) self] e in
            handlers.onConnection?(self, e)
            connectionHub.yield(e)
        }
    }

    /// The stream names of a subscription, as each encoding spells them.
    static func streamNames(_ symbols: [String], _ channels: Channels, _ encoding: Encoding) -> [String] {
        symbols.flatMap { s -> [String] in
            let s = s.lowercased()
            var names: [String] = []
            if channels.contains(.depth) { names.append(encoding == .json ? "\(s)@depth@100ms" : "\(s)@depth") }
            if channels.contains(.bestBidAsk) { names.append(encoding == .json ? "\(s)@bookTicker" : "\(s)@bestBidAsk") }
            if channels.contains(.trades) { names.append("\(s)@trade") }
            if channels.contains(.aggTrades) { names.append("\(s)@aggTrade") }
            if channels.contains(.topLevels) { names.append(encoding == .json ? "\(s)@depth20@100ms" : "\(s)@depth20") }
            return names
        }
    }

    public func connect() async throws {
        try await supervisor.connect()
    }
    /// Start closing for good and return at once (`close()` waits for it).
    public func beginClose() {
        supervisor.close()
    }
    public func close() async {
        await supervisor.closeAndWait()
    }

    // MARK: streams (any task; each access is a new subscription, see `EventStream`)

    /// Each book's sync events.
    public var events: EventStream<BinanceDepthEvent> { depthHub.stream() }
    public var bestBidAsks: EventStream<BinanceBestBidAsk> { bestHub.stream() }
    public var trades: EventStream<BinanceTrade> { tradeHub.stream() }
    public var aggTrades: EventStream<BinanceAggTrade> { aggTradeHub.stream() }
    /// Each `@depth20` message (the top levels, whole).
    public var topLevelsStream: EventStream<BinanceTopLevels> { topHub.stream() }
    public var connectionEvents: EventStream<ConnectionEvent> { connectionHub.stream() }

    // MARK: reads

    /// A copy of the symbol's book while it is in sync (nil: not yet, or resyncing after a gap).
    public func book(_ symbol: String) async throws -> L2BookSnapshot? {
        try await loop.submit { [self] in loopBook(symbol)?.snapshot() }
    }

    /// The symbol's last top levels (`.topLevels`).
    public func topLevels(_ symbol: String) async throws -> BinanceTopLevels? {
        try await loop.submit { [self] in top[InlineText(symbol.uppercased())] }
    }

    /// The symbol's last best bid and ask.
    public func bestBidAsk(_ symbol: String) async throws -> BinanceBestBidAsk? {
        try await loop.submit { [self] in best[InlineText(symbol.uppercased())] }
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
    package func loopBestBidAsk(_ symbol: String) -> BinanceBestBidAsk? { best[InlineText(symbol.uppercased())] }

    // MARK: connection (loop thread)

    public func webSocketDidOpen(_ c: WebSocketConnection) {
        guard supervisor.didOpen(c) != nil else { return }
        defer { supervisor.announceOpen() }
        guard channels.contains(.depth) else { return }
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
        switch message.opcode {
        case .binary: receivedSBE(message.bytes, at: message.receivedAt)
        case .text: receivedJSON(message.bytes, at: message.receivedAt)
        default: break
        }
    }

    // MARK: SBE (binary frames)

    private func receivedSBE(_ bytes: UnsafeRawBufferPointer, at receivedAt: UInt64) {
        do {
            // By kind, straight from the header: no event enum built per frame.
            switch BinanceSBE.template(of: bytes) {
            case .depthDiff?:
                let d = try BinanceSBE.depth(bytes)
                guard let book = books[InlineText(bytes: d.symbolBytes)] else { return }
                if let e = book.apply(firstU: d.firstUpdateID, finalU: d.lastUpdateID, bids: d.bidLevels, asks: d.askLevels) {
                    handle(e, book.symbol)
                }
                applyTimes.record(MonotonicClock.nanoseconds() &- receivedAt)
            case .bestBidAsk?:
                bestBidAsk(try BinanceSBE.bestBidAsk(bytes))
            case .trades?:
                let t = try BinanceSBE.trades(bytes)
                guard handlers.onTrade != nil || tradeHub.hasSubscribers else { return }
                for i in 0..<t.count { trade(t[i]) }
            case .depthSnapshot?:
                let d = try BinanceSBE.depth(bytes)
                let scales = (UInt8(clamping: -Int(d.priceExponent)), UInt8(clamping: -Int(d.qtyExponent)))
                let book = L2Book(depth: 20, priceScale: scales.0, qtyScale: scales.1)
                Self.fill(book, bids: d.bidLevels, asks: d.askLevels)
                topLevels(BinanceTopLevels(symbol: InlineText(bytes: d.symbolBytes), lastUpdateID: d.lastUpdateID, book: book.snapshot()))
            case nil:
                _ = try BinanceSBE.decode(bytes)       // to throw the right error
            }
        } catch {
            undecodable += 1
            logger.warning("undecodable SBE market data frame", metadata: ["error": "\(error)"])
        }
    }

    // MARK: JSON (text frames)

    private func receivedJSON(_ bytes: UnsafeRawBufferPointer, at receivedAt: UInt64) {
        guard let doc = try? JSONDocument(validating: bytes, capturing: Self.streamKeys) else {
            undecodable += 1
            logger.warning("undecodable market stream message")
            return
        }
        // A combined stream wraps each event: {"stream":"btcusdt@depth@100ms","data":{…}}; a raw one is the event.
        let event = doc.captured[1] ?? doc.root
        if let kind = event["e"] {
            if kind.stringEquals("depthUpdate") {
                guard let symbol = event["s"], let firstU = event["U"]?.int64, let finalU = event["u"]?.int64,
                      let key = InlineText(json: symbol), let book = books[key] else { return }
                if let e = book.apply(firstU: firstU, finalU: finalU, bids: event["b"], asks: event["a"]) { handle(e, book.symbol) }
                applyTimes.record(MonotonicClock.nanoseconds() &- receivedAt)
            } else if kind.stringEquals("trade") {
                if let t = BinanceTrade(json: event) { trade(t) } else { undecodable += 1 }
            } else if kind.stringEquals("aggTrade") {
                if let t = BinanceAggTrade(json: event) {
                    handlers.onAggTrade?(self, t)
                    aggTradeHub.yield(t)
                } else { undecodable += 1 }
            } else if kind.stringEquals("serverShutdown") {
                logger.notice("Binance market stream serverShutdown: replacing the connection")
                supervisor.replace(reason: "Binance serverShutdown")
            }
        } else if let id = event["lastUpdateId"]?.int64 {
            // `@depth20@100ms` carries no `e` and no symbol: the combined stream's name says whose it is.
            guard let name = doc.captured[0]?.string, let at = name.firstIndex(of: "@") else {
                undecodable += 1
                return
            }
            topLevels(Self.topLevels(symbol: InlineText(String(name[..<at]).uppercased()), lastUpdateID: id,
                                     bids: event["bids"], asks: event["asks"]))
        } else if event["u"] != nil, event["b"] != nil {
            // `@bookTicker` carries no `e`.
            if let b = BinanceBestBidAsk(json: event) { bestBidAsk(b) } else { undecodable += 1 }
        }
        // Else a control reply ({"result":null,"id":1}) or an error: nothing to apply.
    }

    // MARK: delivery

    private func bestBidAsk(_ b: BinanceBestBidAsk) {
        best[b.symbol] = b
        handlers.onBestBidAsk?(self, b)
        bestHub.yield(b)
    }

    private func topLevels(_ t: BinanceTopLevels) {
        top[t.symbol] = t
        handlers.onTopLevels?(self, t)
        topHub.yield(t)
    }

    /// A JSON `@depth20` message's levels (`[["price","qty"],…]`) as a book at the finest scale they use.
    static func topLevels(symbol: InlineText, lastUpdateID: Int64, bids: JSONValue?, asks: JSONValue?) -> BinanceTopLevels {
        var ps: UInt8 = 0, qs: UInt8 = 0
        for side in [bids, asks] {
            side?.forEachElement { l in
                var i = 0
                l.forEachElement { v in
                    if let d = v.decimal { if i == 0 { ps = max(ps, d.scale) } else { qs = max(qs, d.scale) } }
                    i += 1
                    return i < 2
                }
                return true
            }
        }
        let book = L2Book(depth: 20, priceScale: ps, qtyScale: qs)
        fill(book, bids: JSONLevels(bids), asks: JSONLevels(asks))
        return BinanceTopLevels(symbol: symbol, lastUpdateID: lastUpdateID, book: book.snapshot())
    }

    /// A whole book from its levels (a level not exact at the book's scales is skipped, as in `BinanceLevelSource`).
    static func fill<L: BinanceLevelSource>(_ book: L2Book, bids: L, asks: L) {
        bids.forEachLevel(priceScale: book.priceScale, qtyScale: book.qtyScale) { p, q in book.apply(.buy, price: p, quantity: q) }
        asks.forEachLevel(priceScale: book.priceScale, qtyScale: book.qtyScale) { p, q in book.apply(.sell, price: p, quantity: q) }
        book.truncate()
    }

    private func trade(_ t: BinanceTrade) {
        handlers.onTrade?(self, t)
        tradeHub.yield(t)
    }

    private func handle(_ e: BinanceDepthBook.Event, _ symbol: String) {
        let event = BinanceDepthEvent(symbol: symbol, event: e)
        handlers.onDepthEvent?(self, event)
        depthHub.yield(event)
        switch e {
        case .synced: break
        case .snapshotTooOld, .gap: requestSnapshot(symbol)
        }
    }

    /// Ask the WS API for a snapshot; apply it on the loop when it comes.
    private func requestSnapshot(_ symbol: String) {
        guard let api else { return }
        let depth = depth
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
