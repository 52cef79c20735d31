import TradeWire

/// The simulator's Binance market data (web-socket-streams.md, sbe-market-data-streams.md and the WS API's
/// `depth`): the books it matches orders against, as diff depth events on `/stream?streams=<symbol>@depth@100ms/…`
/// (JSON, wrapped as combined-stream messages) or `<symbol>@depth` (SBE, binary), best bid/ask and trade events
/// from its matches, and as `depth` snapshots with `lastUpdateId`. Each request that changes a book
/// makes one event per symbol, `U` to `u` covering its update ids, with the levels that changed (quantity 0:
/// gone), so a client that follows the documented procedure stays in sync. Loop-confined.
final class BinanceDepthState {
    var updateID: Int64 = 1_000
    var bids: [(price: FixedDecimal, quantity: FixedDecimal)] = []
    var asks: [(price: FixedDecimal, quantity: FixedDecimal)] = []
}

/// One market-stream connection: its encoding and what it asked for, by symbol (upper case).
final class BinanceStreamConnection: WebSocketHandler, Sendable {      // only `let`s of Sendable types
    let venue: BinanceVenueSimulator
    /// SBE (binary frames; the upgrade carried `X-MBX-APIKEY`) or JSON (combined-stream text frames).
    let sbe: Bool
    let depth: Set<String>
    let bestBidAsk: Set<String>
    let trades: Set<String>
    let aggTrades: Set<String>
    /// `@depth20@100ms` (JSON) or `@depth20` (SBE): the top 20 levels, whole, every 100 ms.
    let topLevels: Set<String>
    init(venue: BinanceVenueSimulator, sbe: Bool, depth: Set<String>, bestBidAsk: Set<String>, trades: Set<String>,
         aggTrades: Set<String>, topLevels: Set<String>) {
        self.venue = venue
        self.sbe = sbe
        self.depth = depth
        self.bestBidAsk = bestBidAsk
        self.trades = trades
        self.aggTrades = aggTrades
        self.topLevels = topLevels
    }
    func webSocketDidOpen(_ c: WebSocketConnection) {
        venue.streamConnections[ObjectIdentifier(c)] = (c, self)
        if !topLevels.isEmpty { venue.publishTopLevels(to: c, self) }
        if let stall = venue.options.stallStreamAfter {
            c.loop.schedule(after: stall) { [weak c, venue] in
                if let c { venue.streamConnections[ObjectIdentifier(c)] = nil }      // the feed stalls; the socket stays
            }
        }
    }
    func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) { venue.streamConnections[ObjectIdentifier(c)] = nil }
    func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {}
}

extension BinanceVenueSimulator {
    static let depthLevels = 1000
    /// The SBE events' exponents: the simulator's decimals are exact at 8 places.
    static let sbeExponent: Int8 = -8

    /// Accept `/stream?streams=…`: JSON `<s>@depth@100ms`, `<s>@bookTicker`, `<s>@trade`, `<s>@aggTrade`,
    /// `<s>@depth20@100ms`; with an `X-MBX-APIKEY` header (the SBE host's rule: the simulator's API key) SBE
    /// `<s>@depth`, `<s>@bestBidAsk`, `<s>@trade`, `<s>@depth20`.
    /// Other names, or a name of the other encoding, are refused.
    public func streamDecision(_ r: WebSocketServer.UpgradeRequest) -> WebSocketServer.Decision {
        let key = r.header("x-mbx-apikey")
        if let key, key != options.apiKey { return .reject(status: 401, body: "{\"code\":-2015,\"msg\":\"Invalid API-key, IP, or permissions for action.\"}") }
        let sbe = key != nil
        let query = r.target.split(separator: "?", maxSplits: 1).dropFirst().first.map(String.init) ?? ""
        let names = query.split(separator: "&").first { $0.hasPrefix("streams=") }.map { $0.dropFirst(8).split(separator: "/") } ?? []
        var depth: Set<String> = [], best: Set<String> = [], trades: Set<String> = [], aggTrades: Set<String> = [], top: Set<String> = []
        for n in names {
            let parts = n.split(separator: "@").map(String.init)
            guard parts.count >= 2 else { return .reject(status: 400, body: "unsupported stream: \(n)\n") }
            let symbol = parts[0].uppercased(), channel = parts.dropFirst().joined(separator: "@")
            switch (channel, sbe) {
            case ("depth@100ms", false), ("depth", true): depth.insert(symbol)
            case ("bookTicker", false), ("bestBidAsk", true): best.insert(symbol)
            case ("trade", _): trades.insert(symbol)
            case ("aggTrade", false): aggTrades.insert(symbol)
            case ("depth20@100ms", false), ("depth20", true): top.insert(symbol)
            default: return .reject(status: 400, body: "unsupported stream: \(n)\n")
            }
        }
        guard !(depth.isEmpty && best.isEmpty && trades.isEmpty && aggTrades.isEmpty && top.isEmpty) else {
            return .reject(status: 400, body: "no streams\n")
        }
        return .accept(BinanceStreamConnection(venue: self, sbe: sbe, depth: depth, bestBidAsk: best, trades: trades,
                                               aggTrades: aggTrades, topLevels: top))
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

    /// After a request: a diff event for every book that changed, to the streams that asked for its symbol, and
    /// a best bid/ask event where the top of the book changed.
    func publishDepthChanges() {
        for (symbol, book) in books {
            let s = depthState(symbol)
            let bids = book.depth(.buy, levels: Self.depthLevels), asks = book.depth(.sell, levels: Self.depthLevels)
            let b = KrakenVenueSimulator.changes(from: s.bids, to: bids), a = KrakenVenueSimulator.changes(from: s.asks, to: asks)
            guard !b.isEmpty || !a.isEmpty else { continue }
            let first = s.updateID + 1
            s.updateID += Int64(b.count + a.count)          // one update id per level changed
            let topChanged = s.bids.first?.price != bids.first?.price || s.bids.first?.quantity != bids.first?.quantity
                || s.asks.first?.price != asks.first?.price || s.asks.first?.quantity != asks.first?.quantity
            s.bids = bids
            s.asks = asks
            var json: [UInt8]? = nil, sbe: [UInt8]? = nil
            let nowUs = Self.nowMs() * 1000
            depthEventsMade += 1
            if let every = options.skipDepthEventEvery, every > 0, depthEventsMade % every == 0 {     // the fault: a skipped update
                if topChanged { publishBestBidAsk(symbol, s, nowUs: nowUs) }
                continue
            }
            for l in streamConnections.values where l.stream.depth.contains(symbol) {
                if l.stream.sbe {
                    if sbe == nil {
                        sbe = BinanceSBEEncoder.depthDiff(symbol: symbol, eventTimeUs: nowUs, first: first, last: s.updateID,
                                                          priceExponent: Self.sbeExponent, qtyExponent: Self.sbeExponent, bids: b, asks: a)
                    }
                    l.connection.sendAll([cutIfFaulty(sbe!)], opcode: .binary)
                } else {
                    if json == nil {
                        json = simJSON { w in
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
                    }
                    l.connection.sendAll([json!])
                }
            }
            if topChanged { publishBestBidAsk(symbol, s, nowUs: nowUs) }
        }
    }

    /// The fault: every Nth SBE frame sent cut in half (a client must count it as undecodable and go on).
    private func cutIfFaulty(_ frame: [UInt8]) -> [UInt8] {
        guard let every = options.cutSBEFrameEvery, every > 0 else { return frame }
        sbeFramesSent += 1
        return sbeFramesSent % every == 0 ? Array(frame.prefix(frame.count / 2)) : frame
    }

    /// `@bookTicker` / `@bestBidAsk`: the top of the book after a change (both sides must be there).
    private func publishBestBidAsk(_ symbol: String, _ s: BinanceDepthState, nowUs: Int64) {
        guard let bid = s.bids.first, let ask = s.asks.first else { return }
        for l in streamConnections.values where l.stream.bestBidAsk.contains(symbol) {
            if l.stream.sbe {
                l.connection.sendAll([cutIfFaulty(BinanceSBEEncoder.bestBidAsk(symbol: symbol, eventTimeUs: nowUs, updateID: s.updateID,
                                                                               priceExponent: Self.sbeExponent, qtyExponent: Self.sbeExponent,
                                                                               bid: bid, ask: ask))], opcode: .binary)
            } else {
                l.connection.sendAll([simJSON { w in
                    w.beginObject()
                    w.key("stream"); w.string(symbol.lowercased() + "@bookTicker")
                    w.key("data"); w.beginObject()
                    w.key("u"); w.value(s.updateID); w.key("s"); w.string(symbol)
                    w.key("b"); w.quoted(Self.eight(bid.price)); w.key("B"); w.quoted(Self.eight(bid.quantity))
                    w.key("a"); w.quoted(Self.eight(ask.price)); w.key("A"); w.quoted(Self.eight(ask.quantity))
                    w.endObject()
                    w.endObject()
                }])
            }
        }
    }

    /// `@trade`: a match of the engine, to the streams that asked for its symbol (the taker's side says who was maker).
    func publishTrade(_ symbol: String, price: FixedDecimal, quantity: FixedDecimal, takerSide: Side) {
        let listeners = streamConnections.values.filter { $0.stream.trades.contains(symbol) || $0.stream.aggTrades.contains(symbol) }
        guard !listeners.isEmpty else { return }
        nextPublicTradeId += 1
        let id = nextPublicTradeId, nowMs = Self.nowMs()
        let buyerMaker = takerSide == .sell
        /// A trade event as JSON (`@trade`), or as an aggregate of that one trade (`@aggTrade`: its id doubles as the
        /// aggregate's), wrapped as a combined-stream message.
        func json(_ kind: StaticString, _ stream: String) -> [UInt8] {
            simJSON { w in
                w.beginObject()
                w.key("stream"); w.string(symbol.lowercased() + stream)
                w.key("data"); w.beginObject()
                w.key("e"); w.value(kind); w.key("E"); w.value(nowMs); w.key("s"); w.string(symbol)
                if stream == "@aggTrade" { w.key("a"); w.value(id) } else { w.key("t"); w.value(id) }
                w.key("p"); w.quoted(Self.eight(price)); w.key("q"); w.quoted(Self.eight(quantity))
                if stream == "@aggTrade" { w.key("f"); w.value(id); w.key("l"); w.value(id) }
                w.key("T"); w.value(nowMs); w.key("m"); w.value(buyerMaker); w.key("M"); w.value(true)
                w.endObject()
                w.endObject()
            }
        }
        for l in listeners where l.stream.aggTrades.contains(symbol) { l.connection.sendAll([json("aggTrade", "@aggTrade")]) }
        for l in listeners where l.stream.trades.contains(symbol) {
            if l.stream.sbe {
                l.connection.sendAll([BinanceSBEEncoder.trades(symbol: symbol, eventTimeUs: nowMs * 1000, transactTimeUs: nowMs * 1000,
                                                               priceExponent: Self.sbeExponent, qtyExponent: Self.sbeExponent,
                                                               trades: [(id, price, quantity, buyerMaker)])], opcode: .binary)
            } else {
                l.connection.sendAll([json("trade", "@trade")])
            }
        }
    }

    /// `@depth20`: the top 20 levels of each symbol the connection asked for, now and every 100 ms while it is open.
    func publishTopLevels(to c: WebSocketConnection, _ stream: BinanceStreamConnection) {
        guard streamConnections[ObjectIdentifier(c)] != nil else { return }
        let nowMs = Self.nowMs()
        for symbol in stream.topLevels.sorted() {
            let state = depthState(symbol)
            let bids = Array(state.bids.prefix(20)), asks = Array(state.asks.prefix(20))
            if stream.sbe {
                c.sendAll([BinanceSBEEncoder.depthSnapshot(symbol: symbol, eventTimeUs: nowMs * 1000, updateID: state.updateID,
                                                           priceExponent: Self.sbeExponent, qtyExponent: Self.sbeExponent,
                                                           bids: bids, asks: asks)], opcode: .binary)
            } else {
                c.sendAll([simJSON { w in
                    w.beginObject()
                    w.key("stream"); w.string(symbol.lowercased() + "@depth20@100ms")
                    w.key("data"); w.beginObject()
                    w.key("lastUpdateId"); w.value(state.updateID)
                    w.key("bids"); Self.writeLevels(bids, into: &w)
                    w.key("asks"); Self.writeLevels(asks, into: &w)
                    w.endObject()
                    w.endObject()
                }])
            }
        }
        c.loop.schedule(after: .milliseconds(100)) { [weak c, self] in if let c { publishTopLevels(to: c, stream) } }
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
    static func eight(_ d: FixedDecimal) -> FixedDecimal { FixedDecimal(mantissa: L2Book.units(d, scale: 8) ?? 0, scale: 8) }

    static func writeLevels(_ levels: [(price: FixedDecimal, quantity: FixedDecimal)], into w: inout JSONWriter) {
        w.beginArray()
        for l in levels { w.beginArray(); w.quoted(eight(l.price)); w.quoted(eight(l.quantity)); w.endArray() }
        w.endArray()
    }
}
