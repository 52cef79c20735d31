import TradeWire

/// The quotes stream's frequent messages as the venue writes them (seed 002: § 4 product quotes, § 5 heartbeats,
/// § 6 ping-pong), read in one forward pass:
///
///     {"op":"pq","productName":"…","quote":N,"timestamp":N}
///     {"op":"hb","timestamp":N}
///     {"op":"pong","timestamp":N,"msg":"…"}
///
/// members in that order, no whitespace, no escapes, ASCII texts, a number `quote` and an integer `timestamp`. The
/// general decoder validates the text, then looks each member up by name; this reads and checks each byte once.
/// Anything else returns nil and the general decoder decides: for every message both accept, both return the same
/// message (tests and `fuzz_venues` compare them).
enum QuotesFastPath {
    static func decode(_ payload: UnsafeRawBufferPointer) -> QuotesInbound? {
        guard var c = JSONShapeCursor(payload), c.literal(#"{"op":""#) else { return nil }
        if c.literal(#"pq","productName":""#) {
            guard let name = c.plainString(), c.literal(#","quote":"#), let q = c.numberText(), let quote = FixedDecimal(ascii: q),
                  c.literal(#","timestamp":"#), let ts = c.integer(), c.literal("}"), c.atEnd else { return nil }
            return .quote(product: InlineText(bytes: name), quote: quote, timestamp: ts)
        }
        if c.literal(#"hb","timestamp":"#) {
            guard let ts = c.integer(), c.literal("}"), c.atEnd else { return nil }
            return .heartbeat(timestamp: ts)
        }
        if c.literal(#"pong","timestamp":"#) {
            guard let ts = c.integer(), c.literal(#","msg":""#), let msg = c.plainString(), c.literal("}"), c.atEnd else { return nil }
            return .response(.pong(msg: String(decoding: msg, as: UTF8.self), timestamp: ts))
        }
        return nil
    }
}
