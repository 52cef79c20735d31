import TradeWire

public enum GatewayEncoder {
    public static func encode(_ r: GatewayRequest, into w: inout JSONWriter) {
        w.beginObject()
        switch r {
        case .ping:
            w.key("type"); w.value("ping")
        case .subscribe(let instruments):
            w.key("type"); w.value("subscribe")
            w.key("instruments"); w.beginArray(); instruments.forEach { w.string($0) }; w.endArray()
        case .ordersSubscribe(let account):
            w.key("type"); w.value("orders_subscribe")
            w.key("account"); w.string(account)
        case .sendOrder(let id, let o):
            w.key("type"); w.value("send_order")
            w.key("clOrdId"); w.string(id)
            w.key("order"); w.beginObject()
            w.key("symbol"); w.string(o.symbol)
            w.key("side"); w.value(o.side == .buy ? "BUY" : "SELL")
            w.key("size"); w.value(o.size.value)
            if let p = o.price { w.key("price"); w.value(p.value) }
            w.key("order_type"); w.value(o.type == .market ? "MARKET" : "LIMIT")
            w.key("tif"); w.string(o.tif.rawValue)
            w.key("market"); w.string(o.market)
            w.endObject()
        }
        w.endObject()
    }
}

public enum GatewayDecoder {
    static func malformed(_ why: StaticString) -> TradeWireError {
        TradeWireError(code: .malformedResponse, detail: "gateway: \(why)")
    }

    /// A message: an order ack of the broker's shape through `GatewayAckFastPath`, anything else through
    /// `decodeGeneral`.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> GatewayInbound {
        if let ack = GatewayAckFastPath.decode(payload) { return .orderAck(ack) }
        return try decodeGeneral(payload)
    }

    /// Any message, without the fast path (public for the fuzz target and tests, which compare the two).
    public static func decodeGeneral(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> GatewayInbound {
        let doc: JSONDocument
        do { doc = try JSONDocument(validating: payload) } catch { throw TradeWireError(code: .malformedResponse, detail: "gateway: \(error)") }
        let root = doc.root
        guard root.kind == .object, let type = root["type"]?.string else { throw malformed("message without type") }
        // Types are matched without regard to case (the seed names them in capitals); lowercasing only when needed.
        switch type.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) ? type.lowercased() : type {
        case "connection": return .connection(status: root["status"]?.string ?? "")
        case "pong": return .pong
        case "orders_subscribed":
            return .ordersSubscribed(account: root["account"]?.string ?? "", ok: root["result"]?["status"]?.stringEquals("ok") ?? false)
        case "order_ack":
            guard let result = root["result"], result.kind == .object else { throw malformed("order_ack without result") }
            let response = result["response"]
            return .orderAck(GatewayOrderAck(
                ok: result["status"]?.stringEquals("ok") ?? false,
                orderID: response?["orderId"].flatMap { $0.string ?? $0.int64.map(String.init) },
                status: response?["status"]?.string, message: result["message"]?.string,
                clientOrderID: root["request"]?["client_order_id"]?.string ?? root["clOrdId"]?.string))
        case "order_report":
            guard let r = root["report"], r.kind == .object else { throw malformed("order_report without report") }
            // The raw Primary frame ({"type":"or","orderReport":{…}}) or the flat demo shape.
            if let inner = r["orderReport"] { return .orderReport(try report(inner, raw: true)) }
            return .orderReport(try report(r, raw: false))
        case "or":
            guard let inner = root["orderReport"] else { throw malformed("or without orderReport") }
            return .orderReport(try report(inner, raw: true))
        case "tick":
            guard let s = root["symbol"].flatMap({ InlineText(json: $0) }) else { throw malformed("tick without symbol") }
            return .tick(GatewayTick(symbol: s, bid: root["bid"]?.decimal, bidSize: root["bid_size"]?.decimal,
                                     offer: root["offer"]?.decimal, offerSize: root["offer_size"]?.decimal,
                                     last: root["last"]?.decimal, lastSize: root["last_size"]?.decimal, tsMs: root["ts_ms"]?.int64))
        case "error": return .error(message: root["message"]?.string ?? "")
        default: throw malformed("unknown type")
        }
    }

    static func report(_ r: JSONValue, raw: Bool) throws(TradeWireError) -> GatewayOrderReport {
        guard r.kind == .object else { throw malformed("report is not an object") }
        guard let st = r["status"]?.string else { throw malformed("report without status") }
        let status = GatewayOrderStatus(rawValue: st)
        let cl = r["wsClOrdId"]?.string ?? r["clOrdId"]?.string ?? r["clientId"]?.string ?? r["client_order_id"]?.string
        let sideText = r["side"]?.string
        let side: Side? = sideText == "BUY" ? .buy : sideText == "SELL" ? .sell : nil
        let symbol = r["instrument"]?["symbol"]?.string ?? r["instrumentId"]?["symbol"]?.string
        return GatewayOrderReport(
            clientOrderID: cl, orderID: r["orderId"].flatMap { $0.string ?? $0.int64.map(String.init) }, status: status,
            side: side, symbol: symbol, size: r["size"]?.decimal ?? r["orderQty"]?.decimal, price: r["price"]?.decimal,
            cumQty: r["cumQty"]?.decimal, lastQty: r["lastQty"]?.decimal, lastPrice: r["lastPx"]?.decimal,
            text: r["text"]?.string, rawPrimaryShape: raw)
    }
}
