import TradeWire

/// A successful answer as the WS API writes it, read in one forward pass:
///
///     {"id":"…","status":200,"result":{…},"rateLimits":[{"rateLimitType":"…","interval":"…","intervalNum":N,"limit":N,"count":N},…]}
///
/// members in that order, no whitespace, no escapes, ASCII texts, `result` an object whose members are scalars
/// (`JSONShapeCursor.scalarObject`: the ACK and RESULT answers of `order.place`, and `order.cancel`'s), and
/// `rateLimits` optional. The general decoder validates the text, then walks `result` and each rate limit again;
/// this reads and checks each byte once. Anything else (a FULL answer with its `fills`, an error, an event, a
/// number id, a member out of place) returns nil and the general decoder decides: for every message both accept,
/// both return the same response (tests and `fuzz_venues` compare them).
enum BinanceResponseFastPath {
    static func decode(_ payload: UnsafeRawBufferPointer) -> BinanceResponse? {
        var recycler = ByteRecycler(slots: 1)
        return decode(payload, recycling: &recycler)
    }

    /// `result`'s text is kept in `recycler`'s storage.
    static func decode(_ payload: UnsafeRawBufferPointer, recycling recycler: inout ByteRecycler) -> BinanceResponse? {
        guard var c = JSONShapeCursor(payload), c.literal(#"{"id":""#), let idBytes = c.plainString(),
              c.literal(#","status":200,"result":"#) else { return nil }
        let resultStart = c.offset
        var orderID: Int64?, clientOrderID: String?, origClientOrderID: String?, orderStatus: String?
        var executedQty: FixedDecimal?, subscriptionID: Int64?
        // A wanted member of another JSON type than the general decoder reads refuses the message: its call.
        let read = c.scalarObject(BinanceDecoder.resultKeys) { k, v in
            switch (k, v) {
            case (0, .integer(let i)): orderID = i
            case (1, .string(let s)): clientOrderID = String(decoding: s, as: UTF8.self)
            case (2, .string(let s)): origClientOrderID = String(decoding: s, as: UTF8.self)
            case (3, .string(let s)): orderStatus = String(decoding: s, as: UTF8.self)
            case (4, .string(let s)): guard let d = FixedDecimal(ascii: s) else { return false }; executedQty = d
            case (5, .integer(let i)): subscriptionID = i
            default: return false
            }
            return true
        }
        guard read else { return nil }
        let resultEnd = c.offset
        var limits = RateLimitUsage()
        if c.literal(#","rateLimits":["#) {
            if !c.literal("]") {
                repeat {
                    guard c.literal(#"{"rateLimitType":""#), let type = c.plainString(), c.literal(#","interval":""#),
                          let interval = c.plainString(), c.literal(#","intervalNum":"#), let num = c.integer(),
                          c.literal(#","limit":"#), let limit = c.integer(), c.literal(#","count":"#), let count = c.integer(),
                          c.literal("}") else { return nil }
                    BinanceRateLimit.append(to: &limits, type: type, interval: interval, num: num, count: Int(count), limit: Int(limit))
                } while c.literal(",")
                guard c.literal("]") else { return nil }
            }
        }
        guard c.literal("}"), c.atEnd else { return nil }
        return BinanceResponse(
            id: String(decoding: idBytes, as: UTF8.self), status: 200,
            result: recycler.keep(UnsafeRawBufferPointer(rebasing: payload[resultStart..<resultEnd])), resultFormat: .json,
            orderID: orderID, clientOrderID: clientOrderID, origClientOrderID: origClientOrderID, orderStatus: orderStatus,
            executedQty: executedQty, subscriptionID: subscriptionID, rateLimits: limits)
    }
}
