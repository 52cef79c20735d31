import TradeWire

/// One pair of Kraken's public `instrument` channel (websocket-v2/instrument): what its prices and
/// quantities may look like. `pricePrecision` and `qtyPrecision` are what the `book` checksum is computed at.
public struct KrakenPair: Sendable, Equatable {
    public let symbol: String
    public let status: String?
    public let pricePrecision: UInt8
    public let qtyPrecision: UInt8
    public let tickSize: FixedDecimal?
    public let qtyMin: FixedDecimal?
    public let qtyIncrement: FixedDecimal?

    /// The precisions as the book feed takes them.
    public var bookPrecision: KrakenBookFeed.Precision { .init(price: pricePrecision, quantity: qtyPrecision) }
}

/// An `instrument` snapshot or update: its pairs (assets are not kept).
public struct KrakenInstruments: Sendable {
    public let isSnapshot: Bool
    public let pairs: [KrakenPair]
}

extension KrakenDecoder {
    /// The pairs of an `instrument` message; a pair without its precisions (or with ones over 18) is left out.
    static func instruments(_ top: JSONCapturedMembers) throws(TradeWireError) -> KrakenInstruments {
        guard let data = top[Top.data], data.kind == .object else { throw malformed("instrument without a data object") }
        var pairs: [KrakenPair] = []
        data["pairs"]?.forEachElement { p in
            guard let symbol = p["symbol"]?.string, let pp = p["price_precision"]?.int64, let qp = p["qty_precision"]?.int64,
                  (0...Int64(FixedDecimal.maxScale)).contains(pp), (0...Int64(FixedDecimal.maxScale)).contains(qp) else { return true }
            pairs.append(KrakenPair(symbol: symbol, status: p["status"]?.string, pricePrecision: UInt8(pp), qtyPrecision: UInt8(qp),
                                    tickSize: p["tick_size"]?.decimal, qtyMin: p["qty_min"]?.decimal, qtyIncrement: p["qty_increment"]?.decimal))
            return true
        }
        return KrakenInstruments(isSnapshot: top[Top.type]?.stringEquals("snapshot") ?? false, pairs: pairs)
    }
}
