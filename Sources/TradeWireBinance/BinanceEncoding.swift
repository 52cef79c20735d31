import TradeWire

/// A request parameter with the JSON type the docs give it: STRING, ENUM and DECIMAL travel as JSON strings,
/// INT and LONG as numbers, BOOLEAN as true/false.
enum BinanceParam {
    case string(String)
    case int(Int64)
    case bool(Bool)
    /// The text the signature covers (`true`/`false` for booleans, as a query string spells them).
    var text: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        case .bool(let b): return b ? "true" : "false"
        }
    }
}

public enum BinanceEncoder {
    /// What the signature covers: every param but `signature`, sorted by name, `k=v` joined by `&`, no percent-encoding.
    public static func signingPayload(_ params: [(String, String)]) -> String {
        params.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    private static func signingPayload(_ p: [(String, BinanceParam)]) -> String { signingPayload(p.map { ($0.0, $0.1.text) }) }

    /// The text a signed request's signature covers when it is signed on its own (not vouched for by a logon):
    /// its params with `timestamp` and `apiKey`. For timing a signer on what the client signs.
    public static func signedText(_ r: BinanceRequest, apiKey: String, timestampMs: Int64) throws(TradeWireError) -> String {
        var p = try params(r)
        p.append(("timestamp", .int(timestampMs)))
        p.append(("apiKey", .string(apiKey)))
        return signingPayload(p)
    }

    static func recvWindow(_ r: Int?, into p: inout [(String, BinanceParam)]) throws(TradeWireError) {
        guard let r else { return }
        guard (1...60_000).contains(r) else { throw TradeWireError(code: .invalidArgument, detail: "recvWindow must be 1...60000 ms") }
        p.append(("recvWindow", .int(Int64(r))))
    }

    /// The new-order parameters shared by `order.place`, `order.test` and `order.cancelReplace`.
    static func orderParams(_ o: BinanceOrder, into p: inout [(String, BinanceParam)]) throws(TradeWireError) {
        try o.validate()
        p += [("side", .string(o.side == .buy ? "BUY" : "SELL")), ("type", .string(o.type.rawValue))]
        if let tif = o.timeInForce { p.append(("timeInForce", .string(tif.rawValue))) }
        if let q = o.quantity { p.append(("quantity", .string(q.description))) }
        if let q = o.quoteOrderQty { p.append(("quoteOrderQty", .string(q.description))) }
        if let price = o.price { p.append(("price", .string(price.description))) }
        if let c = o.newClientOrderID { p.append(("newClientOrderId", .string(c.description))) }
        if let t = o.responseType { p.append(("newOrderRespType", .string(t.rawValue))) }
        if let s = o.stopPrice { p.append(("stopPrice", .string(s.description))) }
        if let d = o.trailingDelta { p.append(("trailingDelta", .int(d))) }
        if let i = o.icebergQty { p.append(("icebergQty", .string(i.description))) }
        if let s = o.strategyID { p.append(("strategyId", .int(s))) }
        if let s = o.strategyType { p.append(("strategyType", .int(s))) }
        if let m = o.selfTradePreventionMode { p.append(("selfTradePreventionMode", .string(m.rawValue))) }
        if let g = o.pegPriceType { p.append(("pegPriceType", .string(g.rawValue))) }
        if let v = o.pegOffsetValue { p.append(("pegOffsetValue", .int(Int64(v)))) }
        if let t = o.pegOffsetType { p.append(("pegOffsetType", .string(t.rawValue))) }
    }

    static func ref(_ r: BinanceOrderRef, orderID: String, clientOrderID: String, into p: inout [(String, BinanceParam)]) {
        if let i = r.orderID { p.append((orderID, .int(i))) }
        if let c = r.clientOrderID { p.append((clientOrderID, .string(c))) }
    }

    static func params(_ r: BinanceRequest) throws(TradeWireError) -> [(String, BinanceParam)] {
        var p: [(String, BinanceParam)] = []
        switch r {
        case .orderPlace(let o), .orderTest(let o):
            p.append(("symbol", .string(o.symbol)))
            try orderParams(o, into: &p)
            try recvWindow(o.recvWindow, into: &p)
        case .orderCancel(let c):
            p.append(("symbol", .string(c.symbol)))
            ref(c.order, orderID: "orderId", clientOrderID: "origClientOrderId", into: &p)
            if let n = c.newClientOrderID { p.append(("newClientOrderId", .string(n.description))) }
            if let cr = c.cancelRestrictions { p.append(("cancelRestrictions", .string(cr.rawValue))) }
            try recvWindow(c.recvWindow, into: &p)
        case .orderCancelReplace(let cr):
            p += [("symbol", .string(cr.order.symbol)), ("cancelReplaceMode", .string(cr.mode.rawValue))]
            ref(cr.cancel, orderID: "cancelOrderId", clientOrderID: "cancelOrigClientOrderId", into: &p)
            if let n = cr.cancelNewClientOrderID { p.append(("cancelNewClientOrderId", .string(n.description))) }
            try orderParams(cr.order, into: &p)
            if let r = cr.cancelRestrictions { p.append(("cancelRestrictions", .string(r.rawValue))) }
            if let m = cr.rateLimitExceededMode { p.append(("orderRateLimitExceededMode", .string(m.rawValue))) }
            try recvWindow(cr.order.recvWindow, into: &p)
        case .orderAmendKeepPriority(let a):
            guard a.newQty.value > .zero else { throw TradeWireError(code: .invalidArgument, detail: "order.amend.keepPriority: newQty must be above 0") }
            p.append(("symbol", .string(a.symbol)))
            ref(a.order, orderID: "orderId", clientOrderID: "origClientOrderId", into: &p)
            if let n = a.newClientOrderID { p.append(("newClientOrderId", .string(n.description))) }
            p.append(("newQty", .string(a.newQty.description)))
            try recvWindow(a.recvWindow, into: &p)
        case .openOrdersCancelAll(let symbol):
            p.append(("symbol", .string(symbol)))
        case .orderStatus(let symbol, let order):
            p.append(("symbol", .string(symbol)))
            ref(order, orderID: "orderId", clientOrderID: "origClientOrderId", into: &p)
        case .openOrdersStatus(let symbol):
            if let symbol { p.append(("symbol", .string(symbol))) }
        case .accountStatus(let omit):
            if let omit { p.append(("omitZeroBalances", .bool(omit))) }
        case .userDataStreamUnsubscribe(let id):
            if let id { p.append(("subscriptionId", .int(id))) }
        case .depth(let symbol, let limit):
            guard (1...5000).contains(limit) else { throw TradeWireError(code: .invalidArgument, detail: "depth limit is 1...5000, not \(limit)") }
            p += [("symbol", .string(symbol)), ("limit", .int(Int64(limit)))]
        case .accountRateLimitsOrders, .ping, .sessionLogon, .userDataStreamSubscribe, .userDataStreamSubscribeSignature:
            break
        }
        if case .clientOrderID(let c) = requestRef(r), c.isEmpty {
            throw TradeWireError(code: .invalidArgument, detail: "\(r.method): an empty client order id")
        }
        return p
    }

    private static func requestRef(_ r: BinanceRequest) -> BinanceOrderRef? {
        switch r {
        case .orderCancel(let c): return c.order
        case .orderCancelReplace(let c): return c.cancel
        case .orderAmendKeepPriority(let a): return a.order
        case .orderStatus(_, let o): return o
        default: return nil
        }
    }

    /// Encode a request as `BinanceClient` sends it (the bench's raw floors send these bytes). Signed requests get
    /// apiKey, timestamp and signature, or only the timestamp once an Ed25519 `session.logon` vouches for the
    /// connection; `session.logon` and `userDataStream.subscribe.signature` always sign. `signer`: the key prepared
    /// once; nil signs one-off with `credentials`' key.
    public static func encode(_ r: BinanceRequest, id: String, credentials: BinanceCredentials?, loggedOn: Bool,
                       timestampMs: Int64, signer: RequestSigner? = nil, into w: inout JSONWriter) throws(TradeWireError) {
        var p = try params(r)
        if r.security != .none {
            guard let credentials else { throw TradeWireError(code: .invalidArgument, detail: "\(r.method) is signed: credentials needed") }
            if case .sessionLogon = r, !credentials.key.canLogOn {
                throw TradeWireError(code: .invalidArgument, detail: "session.logon needs an Ed25519 key (HMAC keys: userDataStream.subscribe.signature)")
            }
            p.append(("timestamp", .int(timestampMs)))
            if r.security == .selfSigned || !loggedOn {
                p.append(("apiKey", .string(credentials.apiKey)))
                let payload = signingPayload(p)
                let signature: String
                do {
                    // The client's key, prepared once (`RequestSigner`); else signed one-off.
                    if let signer { signature = try signer.sign(payload) } else {
                    switch credentials.key {
                    case .hmac(let secret): signature = try Signing.hmacSHA256Hex(key: secret, message: payload)
                    case .ed25519(let pem): signature = try Signing.ed25519Base64(privateKeyPEM: pem, message: payload)
                    case .rsa(let pem): signature = try Signing.rsaSHA256Base64(privateKeyPEM: pem, message: payload)
                    }
                    }
                } catch let e as TradeWireError { throw e } catch { throw TradeWireError(code: .invalidArgument, detail: "signing: \(error)") }
                p.append(("signature", .string(signature)))
            }
        }
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("method"); w.string(r.method.rawValue)
        if !p.isEmpty {
            w.key("params"); w.beginObject()
            for (k, v) in p {
                w.key(dynamic: k)
                switch v {
                case .string(let s): w.string(s)
                case .int(let i): w.value(i)
                case .bool(let b): w.value(b)
                }
            }
            w.endObject()
        }
        w.endObject()
        if w.overflowed { throw TradeWireError(code: .noSpace, detail: "\(r.method): the request does not fit the encode buffer") }
    }
}
