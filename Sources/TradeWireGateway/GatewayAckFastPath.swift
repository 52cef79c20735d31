import TradeWire

/// An order ack as the broker gateway writes it, read in one forward pass:
///
///     {"type":"order_ack","request":{…},"result":{"status":"ok","response":{"orderId":"…","status":"NEW"},"message":"…"}}
///
/// members in that order (`response` and `message` optional), no whitespace, no escapes, ASCII texts, `request`
/// and `response` objects of scalars (`JSONShapeCursor.scalarObject`). The general decoder validates the text,
/// then looks each member up again; this reads and checks each byte once. Anything else (another type, a type in
/// capitals, a member out of place, a wanted member of another JSON type) returns nil and the general decoder
/// decides: for every message both accept, both return the same ack (tests and `fuzz_venues` compare them).
enum GatewayAckFastPath {
    static let requestKeys = JSONKeySet(["client_order_id"])
    static let responseKeys = JSONKeySet(["orderId", "status"])

    static func decode(_ payload: UnsafeRawBufferPointer) -> GatewayOrderAck? {
        guard var c = JSONShapeCursor(payload), c.literal(#"{"type":"order_ack","request":"#) else { return nil }
        var clientOrderID: String?
        guard c.scalarObject(requestKeys, { _, v in
            guard case .string(let s) = v else { return false }
            clientOrderID = String(decoding: s, as: UTF8.self)
            return true
        }) else { return nil }
        guard c.literal(#","result":{"status":""#), let status = c.plainString() else { return nil }
        let ok = status.elementsEqual("ok".utf8)
        var orderID: String?, orderStatus: String?, message: String?
        if c.literal(#","response":"#) {
            guard c.scalarObject(responseKeys, { k, v in
                switch (k, v) {
                case (0, .string(let s)): orderID = String(decoding: s, as: UTF8.self)
                case (0, .integer(let i)): orderID = String(i)
                case (1, .string(let s)): orderStatus = String(decoding: s, as: UTF8.self)
                default: return false
                }
                return true
            }) else { return nil }
        }
        if c.literal(#","message":""#) {
            guard let m = c.plainString() else { return nil }
            message = String(decoding: m, as: UTF8.self)
        }
        guard c.literal("}}"), c.atEnd else { return nil }
        return GatewayOrderAck(ok: ok, orderID: orderID, status: orderStatus, message: message, clientOrderID: clientOrderID)
    }
}
