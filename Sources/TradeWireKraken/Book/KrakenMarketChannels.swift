import TradeWire

/// Kraken Spot WS v2's public market channels other than `book` (docs.kraken.com: websocket-v2/ticker, /trade,
/// /ohlc): a snapshot, then updates; each message carries a `data` array of entries. Numbers are kept as exact
/// decimals (`FixedDecimal`), as sent. A field the venue leaves out or sends in another type is nil, not an error:
/// an entry is dropped only when its symbol is missing.
public enum KrakenPublicChannel: Sendable, Equatable {
    /// Level 1: best bid/ask, last trade, 24 h figures.
    case ticker
    /// Trades as they happen; `snapshot` asks for the last 50 first.
    case trade(snapshot: Bool = true)
    /// Candles of `interval` minutes (1, 5, 15, 30, 60, 240, 1440, 10080, 21600).
    case ohlc(interval: Int)

    var name: StaticString {
        switch self {
        case .ticker: "ticker"
        case .trade: "trade"
        case .ohlc: "ohlc"
        }
    }
}

/// One `ticker` entry.
public struct KrakenTicker: Sendable, Equatable {
    public let symbol: String
    public let bid, bidQty, ask, askQty, last: FixedDecimal?
    public let volume, vwap, low, high, change, changePct: FixedDecimal?
    public let timestamp: InlineText?
}

/// One `trade` entry.
public struct KrakenTrade: Sendable, Equatable {
    public let symbol: String
    public let side: Side?
    public let price: FixedDecimal?
    public let qty: FixedDecimal?
    /// `limit` or `market`, as sent.
    public let orderType: InlineText?
    public let tradeID: Int64?
    public let timestamp: InlineText?
}

/// One `ohlc` entry: a candle.
public struct KrakenCandle: Sendable, Equatable {
    public let symbol: String
    public let open, high, low, close, volume, vwap: FixedDecimal?
    public let trades: Int64?
    public let intervalBegin: InlineText?
    /// Minutes.
    public let interval: Int64?
    public let timestamp: InlineText?
}

/// A public channel message: its entries and whether it is the snapshot.
public struct KrakenMarketMessage<Entry: Sendable>: Sendable {
    public let isSnapshot: Bool
    public let entries: [Entry]
}

extension KrakenDecoder {
    static func marketEntries<E>(_ top: JSONCapturedMembers, _ entry: (JSONValue, String) -> E) -> KrakenMarketMessage<E> {
        var out: [E] = []
        top[Top.data]?.forEachElement { d in
            if let symbol = d["symbol"]?.string { out.append(entry(d, symbol)) }
            return true
        }
        return KrakenMarketMessage(isSnapshot: top[Top.type]?.stringEquals("snapshot") ?? false, entries: out)
    }

    static func ticker(_ top: JSONCapturedMembers) -> KrakenMarketMessage<KrakenTicker> {
        marketEntries(top) { d, symbol in
            KrakenTicker(symbol: symbol, bid: d["bid"]?.decimal, bidQty: d["bid_qty"]?.decimal, ask: d["ask"]?.decimal,
                         askQty: d["ask_qty"]?.decimal, last: d["last"]?.decimal, volume: d["volume"]?.decimal,
                         vwap: d["vwap"]?.decimal, low: d["low"]?.decimal, high: d["high"]?.decimal, change: d["change"]?.decimal,
                         changePct: d["change_pct"]?.decimal, timestamp: d["timestamp"].flatMap { InlineText(json: $0) })
        }
    }

    static func trades(_ top: JSONCapturedMembers) -> KrakenMarketMessage<KrakenTrade> {
        marketEntries(top) { d, symbol in
            KrakenTrade(symbol: symbol, side: d["side"].flatMap { $0.stringEquals("buy") ? .buy : $0.stringEquals("sell") ? .sell : nil },
                        price: d["price"]?.decimal, qty: d["qty"]?.decimal, orderType: d["ord_type"].flatMap { InlineText(json: $0) },
                        tradeID: d["trade_id"]?.int64, timestamp: d["timestamp"].flatMap { InlineText(json: $0) })
        }
    }

    static func candles(_ top: JSONCapturedMembers) -> KrakenMarketMessage<KrakenCandle> {
        marketEntries(top) { d, symbol in
            KrakenCandle(symbol: symbol, open: d["open"]?.decimal, high: d["high"]?.decimal, low: d["low"]?.decimal,
                         close: d["close"]?.decimal, volume: d["volume"]?.decimal, vwap: d["vwap"]?.decimal,
                         trades: d["trades"]?.int64, intervalBegin: d["interval_begin"].flatMap { InlineText(json: $0) },
                         interval: d["interval"]?.int64, timestamp: d["timestamp"].flatMap { InlineText(json: $0) })
        }
    }
}
