import TradeWire

/// The simulator's Kraken `ticker` and `trade` channels, from its matching engine: a trade entry per fill (the
/// taker's side, the match's price and quantity), and a ticker entry whenever a book's best bid or ask changes
/// (or a trade moves `last`). One acknowledgement per symbol, then a snapshot: the ticker as it stands, the last
/// 50 trades. (`ohlc`: `KrakenCandlePublisher.swift`.) Loop-confined.
struct KrakenSimTrade {
    let symbol: String
    let side: Side
    let price: FixedDecimal
    let qty: FixedDecimal
    let orderType: String
    let tradeID: Int64
}

struct KrakenSimTicker: Equatable {
    var bid: (price: FixedDecimal, quantity: FixedDecimal)?
    var ask: (price: FixedDecimal, quantity: FixedDecimal)?
    var last: FixedDecimal?
    static func == (a: Self, b: Self) -> Bool {
        a.bid?.price == b.bid?.price && a.bid?.quantity == b.bid?.quantity && a.ask?.price == b.ask?.price
            && a.ask?.quantity == b.ask?.quantity && a.last == b.last
    }
}

extension KrakenVenueSimulator {
    /// `subscribe` / `unsubscribe` to `ticker` or `trade`.
    func marketSubscription(_ channel: String, _ params: JSONValue, subscribe: Bool, method: String, reqID: Int64?, session: Int,
                            out: inout [[UInt8]]) {
        guard let (symbols, s) = subscriptionTarget(params, method: method, reqID: reqID, session: session, out: &out) else { return }
        for symbol in symbols {
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject(); w.key("channel"); w.string(channel)
                if subscribe { w.key("snapshot"); w.value(true) }
                w.key("symbol"); w.string(symbol); w.endObject()
            })
            if channel == "ticker" {
                if subscribe { s.tickers.insert(symbol); out.append(tickerMessage(symbol, "snapshot", currentTicker(symbol))) } else { s.tickers.remove(symbol) }
            } else {
                if subscribe {
                    s.trades.insert(symbol)
                    if params["snapshot"]?.bool ?? true { out.append(tradeMessage("snapshot", recentTrades[symbol] ?? [])) }
                } else {
                    s.trades.remove(symbol)
                }
            }
        }
    }

    /// A fill of the engine: remembered for snapshots and sent to the symbol's `trade` subscribers.
    func recordTrade(_ symbol: String, takerSide: Side, price: FixedDecimal, qty: FixedDecimal, orderType: String,
                     from session: Int, out: inout [[UInt8]], pushes: inout [(Int, [UInt8])]) {
        nextPublicTradeID += 1
        let t = KrakenSimTrade(symbol: symbol, side: takerSide, price: price, qty: qty, orderType: orderType, tradeID: nextPublicTradeID)
        var recent = recentTrades[symbol] ?? []
        recent.append(t)
        if recent.count > 50 { recent.removeFirst(recent.count - 50) }
        recentTrades[symbol] = recent
        lastTradePrice[symbol] = price
        let message = tradeMessage("update", [t])
        for (sid, s) in sessions where s.trades.contains(symbol) {
            if sid == session { out.append(message) } else { pushes.append((sid, message)) }
        }
        recordCandleTrade(symbol, price: price, qty: qty, from: session, out: &out, pushes: &pushes)
    }

    /// After a request: a ticker update for every subscribed symbol whose best prices or last trade changed.
    func publishTickerChanges(from session: Int, out: inout [[UInt8]], pushes: inout [(Int, [UInt8])]) {
        var symbols: Set<String> = []
        for s in sessions.values { symbols.formUnion(s.tickers) }
        for symbol in symbols {
            let now = currentTicker(symbol)
            guard lastTickers[symbol] != now else { continue }
            lastTickers[symbol] = now
            let message = tickerMessage(symbol, "update", now)
            for (sid, s) in sessions where s.tickers.contains(symbol) {
                if sid == session { out.append(message) } else { pushes.append((sid, message)) }
            }
        }
    }

    func currentTicker(_ symbol: String) -> KrakenSimTicker {
        let b = book(symbol)
        return KrakenSimTicker(bid: b.depth(.buy, levels: 1).first, ask: b.depth(.sell, levels: 1).first, last: lastTradePrice[symbol])
    }

    func tickerMessage(_ symbol: String, _ type: StaticString, _ t: KrakenSimTicker) -> [UInt8] {
        let (pp, qp) = precision(symbol)
        func at(_ d: FixedDecimal, _ scale: UInt8) -> FixedDecimal { FixedDecimal(mantissa: L2Book.units(d, scale: scale) ?? 0, scale: scale) }
        return simJSON { w in
            w.beginObject(); w.key("channel"); w.value("ticker"); w.key("type"); w.value(type)
            w.key("data"); w.beginArray(); w.beginObject()
            w.key("symbol"); w.string(symbol)
            if let b = t.bid { w.key("bid"); w.value(at(b.price, pp)); w.key("bid_qty"); w.value(at(b.quantity, qp)) }
            if let a = t.ask { w.key("ask"); w.value(at(a.price, pp)); w.key("ask_qty"); w.value(at(a.quantity, qp)) }
            if let l = t.last { w.key("last"); w.value(at(l, pp)) }
            VenueClock.withRFC3339 { w.key("timestamp"); w.string($0) }
            w.endObject(); w.endArray(); w.endObject()
        }
    }

    func tradeMessage(_ type: StaticString, _ trades: [KrakenSimTrade]) -> [UInt8] {
        simJSON { w in
            w.beginObject(); w.key("channel"); w.value("trade"); w.key("type"); w.value(type)
            w.key("data"); w.beginArray()
            for t in trades {
                let (pp, qp) = precision(t.symbol)
                func at(_ d: FixedDecimal, _ scale: UInt8) -> FixedDecimal { FixedDecimal(mantissa: L2Book.units(d, scale: scale) ?? 0, scale: scale) }
                w.beginObject()
                w.key("symbol"); w.string(t.symbol); w.key("side"); w.value(t.side == .buy ? "buy" : "sell")
                w.key("price"); w.value(at(t.price, pp)); w.key("qty"); w.value(at(t.qty, qp))
                w.key("ord_type"); w.string(t.orderType); w.key("trade_id"); w.value(t.tradeID)
                VenueClock.withRFC3339 { w.key("timestamp"); w.string($0) }
                w.endObject()
            }
            w.endArray(); w.endObject()
        }
    }
}
