import TradeWire

/// One target of the `ohlc` channel: a symbol's candles of one interval (minutes).
struct KrakenCandleKey: Hashable {
    let symbol: String
    let interval: Int
}

/// A candle built from the engine's fills; prices and quantities are integers at the pair's precision.
struct KrakenSimCandle {
    /// The interval's start, seconds since the epoch.
    let begin: Int
    var open, high, low, close: Int64
    var trades = 1
    var volume: Int64
    /// Σ price × quantity, in price units × quantity units: the volume-weighted average price is this over `volume`.
    var notional: Int128

    init(begin: Int, price: Int64, quantity: Int64) {
        self.begin = begin
        open = price; high = price; low = price; close = price
        volume = quantity
        notional = Int128(price) * Int128(quantity)
    }

    mutating func add(price: Int64, quantity: Int64) {
        high = max(high, price)
        low = min(low, price)
        close = price
        trades += 1
        volume += quantity
        notional += Int128(price) * Int128(quantity)
    }

    /// The volume-weighted average price in price units, rounded half up.
    var vwap: Int64 { Int64((notional + Int128(volume) / 2) / Int128(volume)) }
}

/// The simulator's Kraken `ohlc` channel, from its matching engine (the channel's page): a candle per symbol and
/// interval, opened by the interval's first fill and moved by each later one (high, low, close, trades, volume,
/// vwap). One acknowledgement per symbol (with the interval), then a snapshot of the candles kept (the last
/// `candlesKept`, none before the first fill), then after each fill an update with the candle it moved. Candles are
/// kept from a symbol and interval's first subscription on. Loop-confined.
extension KrakenVenueSimulator {
    static let candleIntervals = [1, 5, 15, 30, 60, 240, 1440, 10080, 21600]
    static let candlesKept = 10

    /// `subscribe` / `unsubscribe` to `ohlc` (`interval` defaults to 1 minute, as on the channel's page).
    func candleSubscription(_ params: JSONValue, subscribe: Bool, method: String, reqID: Int64?, session: Int, out: inout [[UInt8]]) {
        let interval = Int(params["interval"]?.int64 ?? 1)
        guard Self.candleIntervals.contains(interval) else {
            return out.append(Self.envelope(method: method, reqID: reqID, error: "EGeneral:Invalid arguments:interval"))
        }
        guard let (symbols, s) = subscriptionTarget(params, method: method, reqID: reqID, session: session, out: &out) else { return }
        for symbol in symbols {
            let key = KrakenCandleKey(symbol: symbol, interval: interval)
            out.append(Self.envelope(method: method, reqID: reqID) { w in
                w.beginObject(); w.key("channel"); w.value("ohlc"); w.key("interval"); w.value(interval)
                if subscribe { w.key("snapshot"); w.value(true) }
                w.key("symbol"); w.string(symbol); w.endObject()
            })
            if subscribe {
                s.candles.insert(key)
                if candles[key] == nil { candles[key] = [] }
                out.append(candleMessage("snapshot", key, candles[key] ?? []))
            } else {
                s.candles.remove(key)
            }
        }
    }

    /// A fill moves the current candle of each interval kept for its symbol; subscribers get the candle.
    func recordCandleTrade(_ symbol: String, price: FixedDecimal, qty: FixedDecimal, from session: Int,
                           out: inout [[UInt8]], pushes: inout [(Int, [UInt8])]) {
        let (pp, qp) = precision(symbol)
        let p = L2Book.units(price, scale: pp) ?? 0, q = L2Book.units(qty, scale: qp) ?? 0
        let now = VenueClock.epochSeconds
        for interval in Self.candleIntervals {
            let key = KrakenCandleKey(symbol: symbol, interval: interval)
            guard var kept = candles[key] else { continue }
            let begin = now - now % (interval * 60)
            if let last = kept.last, last.begin == begin {
                kept[kept.count - 1].add(price: p, quantity: q)
            } else {
                kept.append(KrakenSimCandle(begin: begin, price: p, quantity: q))
                if kept.count > Self.candlesKept { kept.removeFirst(kept.count - Self.candlesKept) }
            }
            candles[key] = kept
            let message = candleMessage("update", key, kept.suffix(1))
            for (sid, s) in sessions where s.candles.contains(key) {
                if sid == session { out.append(message) } else { pushes.append((sid, message)) }
            }
        }
    }

    /// An `ohlc` message as the channel's page shows it: numbers as JSON numbers at the pair's precision,
    /// `interval_begin` with nanoseconds, `timestamp` the interval's end.
    func candleMessage<C: Collection<KrakenSimCandle>>(_ type: StaticString, _ key: KrakenCandleKey, _ list: C) -> [UInt8] {
        let (pp, qp) = precision(key.symbol)
        return simJSON { w in
            w.beginObject(); w.key("channel"); w.value("ohlc"); w.key("type"); w.value(type)
            VenueClock.withRFC3339 { w.key("timestamp"); w.string($0) }
            w.key("data"); w.beginArray()
            for c in list {
                w.beginObject()
                w.key("symbol"); w.string(key.symbol)
                w.key("open"); w.value(FixedDecimal(mantissa: c.open, scale: pp))
                w.key("high"); w.value(FixedDecimal(mantissa: c.high, scale: pp))
                w.key("low"); w.value(FixedDecimal(mantissa: c.low, scale: pp))
                w.key("close"); w.value(FixedDecimal(mantissa: c.close, scale: pp))
                w.key("trades"); w.value(c.trades)
                w.key("volume"); w.value(FixedDecimal(mantissa: c.volume, scale: qp))
                w.key("vwap"); w.value(FixedDecimal(mantissa: c.vwap, scale: pp))
                VenueClock.withRFC3339(seconds: c.begin, nanoseconds: 0, fractionDigits: 9) { w.key("interval_begin"); w.string($0) }
                w.key("interval"); w.value(key.interval)
                VenueClock.withRFC3339(seconds: c.begin + key.interval * 60, nanoseconds: 0, fractionDigits: 6) { w.key("timestamp"); w.string($0) }
                w.endObject()
            }
            w.endArray(); w.endObject()
        }
    }
}
