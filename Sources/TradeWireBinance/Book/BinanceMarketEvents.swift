import TradeWire

/// The best bid and ask of a symbol (SBE `@bestBidAsk`, JSON `@bookTicker`), copied out (small and `Sendable`).
/// JSON decimals become mantissas at their own scale (exponent = -decimals), so both encodings compare alike.
public struct BinanceBestBidAsk: Sendable, Equatable {
    public let eventTimeUs: Int64
    public let bookUpdateID: Int64
    public let priceExponent: Int8
    public let qtyExponent: Int8
    /// Mantissas: price = `bidPrice` × 10^`priceExponent`.
    public let bidPrice: Int64
    public let bidQty: Int64
    public let askPrice: Int64
    public let askQty: Int64
    public let symbol: InlineText

    public var bid: (price: FixedDecimal, quantity: FixedDecimal)? {
        BinanceSBE.decimal(bidPrice, priceExponent).flatMap { p in BinanceSBE.decimal(bidQty, qtyExponent).map { (p, $0) } }
    }
    public var ask: (price: FixedDecimal, quantity: FixedDecimal)? {
        BinanceSBE.decimal(askPrice, priceExponent).flatMap { p in BinanceSBE.decimal(askQty, qtyExponent).map { (p, $0) } }
    }
}

/// One trade (`@trade`, JSON or SBE), copied out (`Sendable`: for streams and other threads).
public struct BinanceTrade: Sendable, Equatable {
    public let id: Int64
    /// Mantissas at `priceExponent`/`qtyExponent`.
    public let price: Int64
    public let qty: Int64
    public let isBuyerMaker: Bool
    public let priceExponent: Int8
    public let qtyExponent: Int8
    public let transactTimeUs: Int64
    public let symbol: InlineText

    public var priceDecimal: FixedDecimal? { BinanceSBE.decimal(price, priceExponent) }
    public var qtyDecimal: FixedDecimal? { BinanceSBE.decimal(qty, qtyExponent) }
}

extension BinanceBestBidAsk {
    /// `@bookTicker`: `{"u":400900217,"s":"BNBUSDT","b":"25.35190000","B":"31.21000000","a":"25.36520000","A":"40.66000000"}`.
    public init?(json e: JSONValue) {
        guard let u = e["u"]?.int64, let s = e["s"], let symbol = InlineText(json: s),
              let b = e["b"]?.decimal, let bq = e["B"]?.decimal, let a = e["a"]?.decimal, let aq = e["A"]?.decimal else { return nil }
        let ps = max(b.scale, a.scale), qs = max(bq.scale, aq.scale)
        guard let bp = L2Book.units(b, scale: ps), let ap = L2Book.units(a, scale: ps),
              let bqty = L2Book.units(bq, scale: qs), let aqty = L2Book.units(aq, scale: qs) else { return nil }
        self.init(eventTimeUs: (e["E"]?.int64).map { $0 * 1000 } ?? 0, bookUpdateID: u,
                  priceExponent: -Int8(clamping: Int(ps)), qtyExponent: -Int8(clamping: Int(qs)),
                  bidPrice: bp, bidQty: bqty, askPrice: ap, askQty: aqty, symbol: symbol)
    }
}

extension BinanceTrade {
    /// `@trade`: `{"e":"trade","E":1672515782136,"s":"BNBBTC","t":12345,"p":"0.001","q":"100","T":1672515782136,"m":true,…}`
    /// (times in ms, kept as µs like SBE's).
    public init?(json e: JSONValue) {
        guard let s = e["s"], let symbol = InlineText(json: s), let t = e["t"]?.int64, let p = e["p"]?.decimal,
              let q = e["q"]?.decimal, let time = e["T"]?.int64, let m = e["m"]?.bool else { return nil }
        self.init(id: t, price: p.mantissa, qty: q.mantissa, isBuyerMaker: m, priceExponent: -Int8(clamping: Int(p.scale)),
                  qtyExponent: -Int8(clamping: Int(q.scale)), transactTimeUs: time * 1000, symbol: symbol)
    }
}

/// An `@aggTrade` event: the trades of one taker order at one price, aggregated (a JSON stream: SBE has none).
public struct BinanceAggTrade: Sendable, Equatable {
    public let aggregateTradeID: Int64
    public let price: FixedDecimal
    public let quantity: FixedDecimal
    public let firstTradeID: Int64
    public let lastTradeID: Int64
    public let tradeTimeMs: Int64
    public let isBuyerMaker: Bool
    public let symbol: InlineText

    /// `{"e":"aggTrade","E":1672515782136,"s":"BNBBTC","a":12345,"p":"0.001","q":"100","f":100,"l":105,"T":1672515782136,"m":true,"M":true}`
    public init?(json e: JSONValue) {
        guard let s = e["s"], let symbol = InlineText(json: s), let a = e["a"]?.int64, let p = e["p"]?.decimal,
              let q = e["q"]?.decimal, let f = e["f"]?.int64, let l = e["l"]?.int64, let t = e["T"]?.int64, let m = e["m"]?.bool else { return nil }
        aggregateTradeID = a
        price = p
        quantity = q
        firstTradeID = f
        lastTradeID = l
        tradeTimeMs = t
        isBuyerMaker = m
        self.symbol = symbol
    }
}

/// The top levels of a symbol's book as `@depth20` sends them, whole each time (not kept in sync by update ids:
/// each message replaces the last). `lastUpdateID` is the book's update id at that moment.
public struct BinanceTopLevels: Sendable, Equatable {
    public let symbol: InlineText
    public let lastUpdateID: Int64
    public let book: L2BookSnapshot
}
