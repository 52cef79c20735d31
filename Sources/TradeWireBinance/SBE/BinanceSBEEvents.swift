import TradeWire

/// Binance Spot's SBE market data events (schema `spot_stream`, id 1, version 0: `sbe/schemas/stream_1_0.xml`;
/// byte layouts in docs/venues-binance-sbe.md), decoded in place from a binary frame. Prices and quantities stay
/// the venue's mantissas with their exponents (value = mantissa × 10^exponent), times are microseconds.
public enum BinanceSBE {
    public static let schemaId: UInt16 = 1
    public enum Template: UInt16, Sendable {
        case trades = 10000, bestBidAsk = 10001, depthSnapshot = 10002, depthDiff = 10003
    }

    /// One decoded frame. The depth and trade cases lend views into the frame: use them inside the callback
    /// that received it (they are not `Sendable` and must not be kept).
    public enum Event {
        case trades(BinanceSBETrades)
        case bestBidAsk(BinanceBestBidAsk)
        /// `@depth20`: the top levels, whole (replace the book's).
        case depthSnapshot(BinanceSBEDepth)
        /// `@depth`: level changes between two update ids (the diff depth procedure applies).
        case depthDiff(BinanceSBEDepth)
    }

    /// Decode one frame. Every offset is checked against its length; a cut or inconsistent frame, another schema,
    /// or an unknown template is a `.malformedResponse` error.
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(TradeWireError) -> Event {
        var r = try SBEReader(bytes)
        guard r.header.schemaId == schemaId else {
            throw TradeWireError(code: .malformedResponse, detail: "SBE schema \(r.header.schemaId), not Binance's stream schema \(schemaId)")
        }
        switch Template(rawValue: r.header.templateId) {
        case .trades?:
            guard r.header.blockLength >= 18 else { throw tooShort(r.header) }
            let group = try r.group(countWidth: 4, minimumEntryLength: 25)
            let symbol = try r.varData8()
            return .trades(BinanceSBETrades(eventTimeUs: r.root(0, as: Int64.self), transactTimeUs: r.root(8, as: Int64.self),
                                            priceExponent: r.root(16, as: Int8.self), qtyExponent: r.root(17, as: Int8.self),
                                            entries: group, symbolBytes: symbol))
        case .bestBidAsk?:
            guard r.header.blockLength >= 50 else { throw tooShort(r.header) }
            let symbol = try r.varData8()
            return .bestBidAsk(BinanceBestBidAsk(
                eventTimeUs: r.root(0, as: Int64.self), bookUpdateID: r.root(8, as: Int64.self),
                priceExponent: r.root(16, as: Int8.self), qtyExponent: r.root(17, as: Int8.self),
                bidPrice: r.root(18, as: Int64.self), bidQty: r.root(26, as: Int64.self),
                askPrice: r.root(34, as: Int64.self), askQty: r.root(42, as: Int64.self), symbol: InlineText(bytes: symbol)))
        case .depthSnapshot?:
            guard r.header.blockLength >= 18 else { throw tooShort(r.header) }
            let bids = try r.group(countWidth: 2, minimumEntryLength: 16)
            let asks = try r.group(countWidth: 2, minimumEntryLength: 16)
            let id: Int64 = r.root(8, as: Int64.self)
            return .depthSnapshot(BinanceSBEDepth(
                eventTimeUs: r.root(0, as: Int64.self), firstUpdateID: id, lastUpdateID: id,
                priceExponent: r.root(16, as: Int8.self), qtyExponent: r.root(17, as: Int8.self),
                bids: bids, asks: asks, symbolBytes: try r.varData8()))
        case .depthDiff?:
            guard r.header.blockLength >= 26 else { throw tooShort(r.header) }
            let bids = try r.group(countWidth: 2, minimumEntryLength: 16)
            let asks = try r.group(countWidth: 2, minimumEntryLength: 16)
            return .depthDiff(BinanceSBEDepth(
                eventTimeUs: r.root(0, as: Int64.self), firstUpdateID: r.root(8, as: Int64.self),
                lastUpdateID: r.root(16, as: Int64.self),
                priceExponent: r.root(24, as: Int8.self), qtyExponent: r.root(25, as: Int8.self),
                bids: bids, asks: asks, symbolBytes: try r.varData8()))
        case nil:
            throw TradeWireError(code: .malformedResponse, detail: "SBE template \(r.header.templateId) is not a Binance stream event")
        }
    }

    static func tooShort(_ h: SBEHeader) -> TradeWireError {
        TradeWireError(code: .malformedResponse, detail: "SBE template \(h.templateId): root block of \(h.blockLength) bytes is too short")
    }
}

/// `@trade` (template 10000): one or more trades of a symbol, lent in place.
public struct BinanceSBETrades {
    public let eventTimeUs: Int64
    public let transactTimeUs: Int64
    public let priceExponent: Int8
    public let qtyExponent: Int8
    let entries: SBEGroup
    public let symbolBytes: UnsafeRawBufferPointer

    public var count: Int { entries.count }
    public var symbol: InlineText { InlineText(bytes: symbolBytes) }

    /// The i-th trade, copied out.
    public subscript(i: Int) -> BinanceTrade {
        BinanceTrade(id: entries.field(i, 0, as: Int64.self), price: entries.field(i, 8, as: Int64.self),
                        qty: entries.field(i, 16, as: Int64.self), isBuyerMaker: entries.field(i, 24, as: UInt8.self) == 1,
                        priceExponent: priceExponent, qtyExponent: qtyExponent, transactTimeUs: transactTimeUs, symbol: symbol)
    }
}

/// `@depth` / `@depth20` (templates 10003 / 10002): update ids, exponents and the two level groups, in place.
/// For a snapshot, `firstUpdateID == lastUpdateID ==` its `bookUpdateId`.
public struct BinanceSBEDepth {
    public let eventTimeUs: Int64
    public let firstUpdateID: Int64
    public let lastUpdateID: Int64
    public let priceExponent: Int8
    public let qtyExponent: Int8
    let bids: SBEGroup
    let asks: SBEGroup
    public let symbolBytes: UnsafeRawBufferPointer

    public var bidLevels: SBELevels { SBELevels(group: bids, priceExponent: priceExponent, qtyExponent: qtyExponent) }
    public var askLevels: SBELevels { SBELevels(group: asks, priceExponent: priceExponent, qtyExponent: qtyExponent) }
}

/// A depth event's levels (price and quantity mantissas), as a `BinanceLevelSource` for the depth book: each level
/// converted to the book's scales by one multiply (or an exact divide), skipped if it is not exact there.
public struct SBELevels: BinanceLevelSource {
    let group: SBEGroup
    public let priceExponent: Int8
    public let qtyExponent: Int8

    public var count: Int { group.count }
    public func mantissas(_ i: Int) -> (price: Int64, qty: Int64) {
        (group.field(i, 0, as: Int64.self), group.field(i, 8, as: Int64.self))
    }

    @inline(__always)
    public func forEachLevel(priceScale: UInt8, qtyScale: UInt8, _ body: (Int64, Int64) -> Void) {
        var i = 0
        while i < group.count {
            if let p = L2Book.units(mantissa: group.field(i, 0, as: Int64.self), exponent: priceExponent, scale: priceScale),
               let q = L2Book.units(mantissa: group.field(i, 8, as: Int64.self), exponent: qtyExponent, scale: qtyScale), q >= 0 {
                body(p, q)
            }
            i += 1
        }
    }
}

extension BinanceSBE {
    /// `mantissa × 10^exponent` as a decimal (nil when the exponent is positive beyond what fits).
    public static func decimal(_ mantissa: Int64, _ exponent: Int8) -> FixedDecimal? {
        if exponent <= 0 { return FixedDecimal(mantissa: mantissa, scale: UInt8(-Int(exponent))) }
        guard let units = L2Book.units(mantissa: mantissa, exponent: exponent, scale: 0) else { return nil }
        return FixedDecimal(mantissa: units, scale: 0)
    }
}
