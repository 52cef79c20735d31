import TradeWire

/// The simulator's Binance market data (web-socket-streams.md and the WS API's `depth`): the books it
/// matches orders against, as diff depth events on `/stream?streams=<symbol>@depth@100ms/…` (wrapped as
/// combined-stream messages) and as `depth` snapshots with `lastUpdateId`. Each request that changes a book
/// makes one event per symbol, `U` to `u` covering its update ids, with the levels that changed (quantity 0:
/// gone), so a client that follows the documented procedure stays in sync. Loop-confined.
final class BinanceDepthState {
    var updateID: Int64 = 1_000
    var bids: [(price: FixedDecimal, quantity: FixedDecimal)] = []
    var asks: [(price: FixedDecimal, quantity: FixedDecimal)] = []
}

/// One market-stream connection: the symbols (upper case) it asked for.
final class BinanceStreamConnection: WebSocketHandler, Sendable {      // only `let`s of Sendable types
    let venue: BinanceVenueSimulator
    let symbols: Set<String>
    init(venue: BinanceVenueSimulator, symbols: Set<String>) {
        self.venue = venue
        self.symbols = symbols
    }
    func webSocketDidOpen(_ c: WebSocketConnection) { venue.streamConnections[ObjectIdentifier(c)] = (c, symbols) }
    func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) { venue.streamConnections[ObjectIdentifier(c)] = nil }
    func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {}
}

extension BinanceVenueSimulator {
    static let depthLevels = 1000

    /// Accept `/stream?streams=btcusdt@depth@100ms/…` (the diff depth streams; other stream names are refused).
    public func streamDecision(_ r: WebSocketServer.UpgradeRequest) -> WebSocketServer.Decision {
        let query = r.target.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        let names = query.split(separator: "&").first { $0.hasPrefix("streams=") }.map { $0.dropFirst(8).split(separator: "/") } ?? []
        var symbols: Set<String> = []
        for n in names {
            let parts = n.split(separator: "@")
            guard parts.count >= 2, parts[1] == "depth" else { return .reject(status: 400, body: "unsupported stream: \(n)\n") }
            symbols.insert(parts[0].uppercased())
        }
        guard !symbols.isEmpty else { return .reject(status: 400, body: "no streams\n") }
        return .accept(BinanceStreamConnection(venue: self, symbols: symbols))
    }

    func depthState(_ symbol: String) -> BinanceDepthState {
        if let s = depthStates[symbol] { return s }
        let s = BinanceDepthState()
        let book = books[symbol]
        s.bids = book?.depth(.buy, levels: Self.depthLevels) ?? []
        s.asks = book?.depth(.sell, levels: Self.depthLevels) ?? []
        depthStates[symbol] = s
        return s
    }

    /// After a request: a diff event for every book that changed, to the streams that asked for its symbol.
    func publishDepthChanges() {
        for (symbol, book) in books {
            let s = depthState(symbol)
            let bids = book.depth(.buy, levels: Self.depthLevels), asks = book.depth(.sell, levels: Self.depthLevels)
            let b = KrakenVenueSimulator.changes(from: s.bids, to: bids), a = KrakenVenueSimulator.changes(from: s.asks, to: asks)
            guard !b.isEmpty || !a.isEmpty else { continue }
            let first = s.updateID + 1
            s.updateID += Int64(b.count + a.count)          // one update id per level changed
            s.bids = bids
            s.asks = asks
            let listeners = streamConnections.values.filter { $0.symbols.contains(symbol) }
            guard !listeners.isEmpty else { continue }
            let message = simJSON { w in
                w.beginObject()
                w.key("stream"); w.string(symbol.lowercased() + "@depth@100ms")
                w.key("data"); w.beginObject()
                w.key("e"); w.value("depthUpdate"); w.key("E"); w.value(Self.nowMs()); w.key("s"); w.string(symbol)
                w.key("U"); w.value(first); w.key("u"); w.value(s.updateID)
                w.key("b"); Self.writeLevels(b, into: &w)
                w.key("a"); Self.writeLevels(a, into: &w)
                w.endObject()
                w.endObject()
            }
            for l in listeners { l.connection.sendAll([message]) }
        }
    }

    /// `depth`'s result: `lastUpdateId` and up to `limit` levels a side.
    func depthSnapshot(_ symbol: String, limit: Int, into w: inout JSONWriter) {
        let s = depthState(symbol)
        w.beginObject()
        w.key("lastUpdateId"); w.value(s.updateID)
        w.key("bids"); Self.writeLevels(Array(s.bids.prefix(limit)), into: &w)
        w.key("asks"); Self.writeLevels(Array(s.asks.prefix(limit)), into: &w)
        w.endObject()
    }

    /// `[["price","qty"], …]` with 8 decimals, as Binance writes them.
    static func writeLevels(_ levels: [(price: FixedDecimal, quantity: FixedDecimal)], into w: inout JSONWriter) {
        func eight(_ d: FixedDecimal) -> FixedDecimal { FixedDecimal(mantissa: L2Book.units(d, scale: 8) ?? 0, scale: 8) }
        w.beginArray()
        for l in levels { w.beginArray(); w.quoted(eight(l.price)); w.quoted(eight(l.quantity)); w.endArray() }
        w.endArray()
    }
}
