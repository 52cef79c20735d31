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
    /// or an unknown template is a `.malformedResponse` error. (The event path decodes by kind instead, with
    /// `template(of:)` and the functions below: no enum to build and copy per event.)
    public static func decode(_ bytes: UnsafeRawBufferPointer) throws(TradeWireError) -> Event {
        switch try header(bytes).template {
        case .trades: return .trades(try trades(bytes))
        case .bestBidAsk: return .bestBidAsk(try bestBidAsk(bytes))
        case .depthSnapshot: return .depthSnapshot(try depth(bytes))
        case .depthDiff: return .depthDiff(try depth(bytes))
        }
    }

    /// The header of one of this schema's events (else a typed error).
    static func header(_ bytes: UnsafeRawBufferPointer) throws(TradeWireError) -> (reader: SBEReader, template: Template) {
        let r = try SBEReader(bytes)
        guard r.header.schemaId == schemaId else {
            throw TradeWireError(code: .malformedResponse, detail: "SBE schema \(r.header.schemaId), not Binance's stream schema \(schemaId)")
        }
        guard let t = Template(rawValue: r.header.templateId) else {
            throw TradeWireError(code: .malformedResponse, detail: "SBE template \(r.header.templateId) is not a Binance stream event")
        }
        let minimum: UInt16 = t == .bestBidAsk ? 50 : t == .depthDiff ? 26 : 18
        guard r.header.blockLength >= minimum else { throw tooShort(r.header) }
        return (r, t)
    }

    /// `@trade` (template 10000).
    public static func trades(_ bytes: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceSBETrades {
        var (r, t) = try header(bytes)
        guard t == .trades else { throw wrongTemplate(t, .trades) }
        let group = try r.group(countWidth: 4, minimumEntryLength: 25)
        let symbol = try r.varData8()
        return BinanceSBETrades(eventTimeUs: r.root(0, as: Int64.self), transactTimeUs: r.root(8, as: Int64.self),
                                priceExponent: r.root(16, as: Int8.self), qtyExponent: r.root(17, as: Int8.self),
                                entries: group, symbolBytes: symbol)
    }

    /// `@bestBidAsk` (template 10001).
    public static func bestBidAsk(_ bytes: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceBestBidAsk {
        var (r, t) = try header(bytes)
        guard t == .bestBidAsk else { throw wrongTemplate(t, .bestBidAsk) }
        let symbol = try r.varData8()
        return BinanceBestBidAsk(
            eventTimeUs: r.root(0, as: Int64.self), bookUpdateID: r.root(8, as: Int64.self),
            priceExponent: r.root(16, as: Int8.self), qtyExponent: r.root(17, as: Int8.self),
            bidPrice: r.root(18, as: Int64.self), bidQty: r.root(26, as: Int64.self),
            askPrice: r.root(34, as: Int64.self), askQty: r.root(42, as: Int64.self), symbol: InlineText(bytes: symbol))
    }

    /// `@depth` (10003) or `@depth20` (10002): for a snapshot, first and last update ids are its `bookUpdateId`.
    public static func depth(_ bytes: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceSBEDepth {
        var (r, t) = try header(bytes)
        let diff = t == .depthDiff
        guard diff || t == .depthSnapshot else { throw wrongTemplate(t, .depthDiff) }
        let bids = try r.group(countWidth: 2, minimumEntryLength: 16)
        let asks = try r.group(countWidth: 2, minimumEntryLength: 16)
        let symbol = try r.varData8()
        let last: Int64 = r.root(diff ? 16 : 8, as: Int64.self)
        let exponents = diff ? 24 : 16
        return BinanceSBEDepth(eventTimeUs: r.root(0, as: Int64.self), firstUpdateID: diff ? r.root(8, as: Int64.self) : last,
                               lastUpdateID: last, isSnapshot: !diff,
                               priceExponent: r.root(exponents, as: Int8.self), qtyExponent: r.root(exponents + 1, as: Int8.self),
                               bids: bids, asks: asks, symbolBytes: symbol)
    }

    static func wrongTemplate(_ got: Template, _ want: Template) -> TradeWireError {
        TradeWireError(code: .malformedResponse, detail: "SBE template \(got.rawValue) where \(want.rawValue) was expected")
    }

    /// A frame's template, from its header alone (nil: too short to have one). For a reader that wants one
    /// kind of event without building the `Event` enum.
    @inlinable public static func template(of bytes: UnsafeRawBufferPointer) -> Template? {
        bytes.count >= SBEHeader.size ? Template(rawValue: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: 2, as: UInt16.self))) : nil
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
    /// `@depth20` (the top levels, whole) rather than `@depth` (changes).
    public let isSnapshot: Bool
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
    /// `mantissa × 10^exponent` as a decimal (nil when it does not fit: a positive exponent too large, or more
    /// than 18 digits after the point).
    public static func decimal(_ mantissa: Int64, _ exponent: Int8) -> FixedDecimal? {
        if exponent <= 0 {
            // Finer than 18 digits (a broken or hostile frame): not a decimal this type holds.
            guard -Int(exponent) <= Int(FixedDecimal.maxScale) else { return nil }
            return FixedDecimal(mantissa: mantissa, scale: UInt8(-Int(exponent)))
        }
        guard let units = L2Book.units(mantissa: mantissa, exponent: exponent, scale: 0) else { return nil }
        return FixedDecimal(mantissa: units, scale: 0)
    }
}
