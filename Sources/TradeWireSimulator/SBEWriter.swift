import TradeWire

/// The simulator's own SBE encoder (little-endian, no alignment), written from Binance's stream schema
/// (`stream_1_0.xml`, docs/venues-binance-sbe.md) independently of the client's reader: a header, the root
/// block's fields in order, groups with their dimensions, then var data.
struct SBEWriter {
    private(set) var bytes: [UInt8] = []

    init(blockLength: UInt16, templateId: UInt16, schemaId: UInt16, version: UInt16) {
        bytes.reserveCapacity(256)
        u16(blockLength); u16(templateId); u16(schemaId); u16(version)
    }

    mutating func u8(_ v: UInt8) { bytes.append(v) }
    mutating func i8(_ v: Int8) { bytes.append(UInt8(bitPattern: v)) }
    mutating func u16(_ v: UInt16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i64(_ v: Int64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i16(_ v: Int16) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }
    mutating func i32(_ v: Int32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    /// `groupSize16Encoding`: entry length and a uint16 count.
    mutating func group16(entryLength: UInt16, count: Int) { u16(entryLength); u16(UInt16(count)) }
    /// `groupSizeEncoding`: entry length and a uint32 count.
    mutating func group32(entryLength: UInt16, count: Int) { u16(entryLength); u32(UInt32(count)) }

    /// `varString`: a uint16 length, then the UTF-8 bytes.
    mutating func varString16(_ s: String) {
        let utf8 = Array(s.utf8.prefix(65535))
        u16(UInt16(utf8.count))
        bytes.append(contentsOf: utf8)
    }

    /// `messageData`: a uint32 length, then a whole message (its header included); empty for none.
    mutating func message32(_ m: [UInt8]) {
        u32(UInt32(m.count))
        bytes.append(contentsOf: m)
    }

    /// `messageData16`: a uint16 length, then a whole message; empty for none.
    mutating func message16(_ m: [UInt8]) {
        u16(UInt16(m.count))
        bytes.append(contentsOf: m)
    }

    /// `varString8`: a uint8 length, then the UTF-8 bytes (at most 255).
    mutating func varString8(_ s: String) {
        let utf8 = Array(s.utf8.prefix(255))
        u8(UInt8(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

/// Binance's four stream events, encoded (template ids and block lengths of schema 1 version 0).
package enum BinanceSBEEncoder {
    static let schemaId: UInt16 = 1
    static let version: UInt16 = 0

    /// `price`/`qty` as mantissas at the given exponents (the simulator's decimals are exact at 8 places).
    static func mantissa(_ d: FixedDecimal, exponent: Int8) -> Int64 {
        L2Book.units(d, scale: UInt8(-Int(exponent))) ?? 0
    }

    package static func depthDiff(symbol: String, eventTimeUs: Int64, first: Int64, last: Int64, priceExponent: Int8, qtyExponent: Int8,
                          bids: [(price: FixedDecimal, quantity: FixedDecimal)], asks: [(price: FixedDecimal, quantity: FixedDecimal)]) -> [UInt8] {
        var w = SBEWriter(blockLength: 26, templateId: 10003, schemaId: schemaId, version: version)
        w.i64(eventTimeUs); w.i64(first); w.i64(last); w.i8(priceExponent); w.i8(qtyExponent)
        levels(bids, into: &w, priceExponent, qtyExponent)
        levels(asks, into: &w, priceExponent, qtyExponent)
        w.varString8(symbol)
        return w.bytes
    }

    /// `@depth20` (template 10002): the top levels, whole, at the book's update id.
    package static func depthSnapshot(symbol: String, eventTimeUs: Int64, updateID: Int64, priceExponent: Int8, qtyExponent: Int8,
                                      bids: [(price: FixedDecimal, quantity: FixedDecimal)], asks: [(price: FixedDecimal, quantity: FixedDecimal)]) -> [UInt8] {
        var w = SBEWriter(blockLength: 18, templateId: 10002, schemaId: schemaId, version: version)
        w.i64(eventTimeUs); w.i64(updateID); w.i8(priceExponent); w.i8(qtyExponent)
        levels(bids, into: &w, priceExponent, qtyExponent)
        levels(asks, into: &w, priceExponent, qtyExponent)
        w.varString8(symbol)
        return w.bytes
    }

    package static func bestBidAsk(symbol: String, eventTimeUs: Int64, updateID: Int64, priceExponent: Int8, qtyExponent: Int8,
                           bid: (price: FixedDecimal, quantity: FixedDecimal), ask: (price: FixedDecimal, quantity: FixedDecimal)) -> [UInt8] {
        var w = SBEWriter(blockLength: 50, templateId: 10001, schemaId: schemaId, version: version)
        w.i64(eventTimeUs); w.i64(updateID); w.i8(priceExponent); w.i8(qtyExponent)
        w.i64(mantissa(bid.price, exponent: priceExponent)); w.i64(mantissa(bid.quantity, exponent: qtyExponent))
        w.i64(mantissa(ask.price, exponent: priceExponent)); w.i64(mantissa(ask.quantity, exponent: qtyExponent))
        w.varString8(symbol)
        return w.bytes
    }

    package static func trades(symbol: String, eventTimeUs: Int64, transactTimeUs: Int64, priceExponent: Int8, qtyExponent: Int8,
                       trades: [(id: Int64, price: FixedDecimal, quantity: FixedDecimal, buyerMaker: Bool)]) -> [UInt8] {
        var w = SBEWriter(blockLength: 18, templateId: 10000, schemaId: schemaId, version: version)
        w.i64(eventTimeUs); w.i64(transactTimeUs); w.i8(priceExponent); w.i8(qtyExponent)
        w.group32(entryLength: 25, count: trades.count)
        for t in trades {
            w.i64(t.id); w.i64(mantissa(t.price, exponent: priceExponent)); w.i64(mantissa(t.quantity, exponent: qtyExponent))
            w.u8(t.buyerMaker ? 1 : 0)
        }
        w.varString8(symbol)
        return w.bytes
    }

    private static func levels(_ list: [(price: FixedDecimal, quantity: FixedDecimal)], into w: inout SBEWriter, _ pe: Int8, _ qe: Int8) {
        w.group16(entryLength: 16, count: list.count)
        for l in list { w.i64(mantissa(l.price, exponent: pe)); w.i64(mantissa(l.quantity, exponent: qe)) }
    }
}
