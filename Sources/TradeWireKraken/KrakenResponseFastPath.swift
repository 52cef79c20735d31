import TradeWire

/// The answer to a request as Kraken writes it, read in one forward pass:
///
///     {"error":"…"?,"method":"…","req_id":N,"result":{…}?,"success":B,"time_in":"…","time_out":"…"}
///
/// members in that order, no whitespace, no escapes, ASCII texts, `result` an object
/// of `order_id`, `cl_ord_id`, `amend_id`, `order_userref` and `count`. That is every
/// ack on the order path. The general decoder validates the text, then walks what it
/// captured; this reads and checks each byte once, with no key lookups for the top
/// level. Anything else (another order, a batch, `warnings`, an unknown member, a
/// success/error mismatch) returns nil and the general decoder decides: for every
/// message both accept, both return the same response (tests and `fuzz_venues`
/// compare them).
enum KrakenResponseFastPath {
    static func decode(_ payload: UnsafeRawBufferPointer) -> KrakenResponse? {
        guard var c = JSONShapeCursor(payload), c.literal(#"{""#) else { return nil }
        typealias Text = KrakenResponse.Text
        var texts = InlineTextPack()            // each text is copied once, from the message into here
        var isError = false
        if c.literal(#"error":""#) {
            // A text longer than an inline one goes to the general decoder, which keeps it whole.
            guard let e = c.plainString(), e.count <= InlineText.capacity, c.literal(#",""#) else { return nil }
            texts.set(Text.error, bytes: e)
            isError = true
        }
        guard c.literal(#"method":""#), let name = c.plainString(),
              let ordinal = KrakenMethod.wireNames.index(of: name), ordinal != KrakenMethod.pongOrdinal,
              ordinal != KrakenMethod.batchAdd.ordinal, let method = KrakenMethod.at(ordinal: ordinal),
              c.literal(#","req_id":"#), let id = c.integer(), id >= 0 else { return nil }
        var userref: Int64? = nil, count: Int64? = nil
        if c.literal(#","result":{"#), !c.literal("}") {
            var seen = 0
            repeat {
                guard c.literal(#"""#), let key = c.plainString(), c.literal(":"),
                      let k = KrakenDecoder.resultKeys.index(of: key), seen & (1 << k) == 0 else { return nil }
                seen |= 1 << k
                switch k {
                case 0, 1, 2:
                    guard c.literal(#"""#), let s = c.plainString() else { return nil }
                    texts.set(k == 0 ? Text.amendID : k == 1 ? Text.orderID : Text.clientOrderID, bytes: s)
                case 3, 4:
                    guard let v = c.integer() else { return nil }
                    if k == 3 { userref = v } else { count = v }
                default:
                    return nil          // warnings: an array the general decoder reads
                }
            } while c.literal(",")
            guard c.literal("}") else { return nil }
        }
        guard c.literal(#","success":"#), let success = c.bool(), success != isError,
              c.literal(#","time_in":""#), let timeIn = c.plainString(),
              c.literal(#","time_out":""#), let timeOut = c.plainString(),
              c.literal("}"), c.atEnd else { return nil }
        texts.set(Text.timeIn, bytes: timeIn)
        texts.set(Text.timeOut, bytes: timeOut)
        return KrakenResponse(method: method, requestID: UInt64(id), success: success, orderUserref: userref, count: count,
                              hasWarnings: false, texts: texts)
    }
}
