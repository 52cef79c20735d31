import TradeWire

public enum BinanceEncoder {
    /// What the signature covers: every param but `signature`, sorted by name, `k=v` joined by `&`, no percent-encoding.
    public static func signingPayload(_ params: [(String, String)]) -> String {
        params.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// The text a signed request's signature covers when it is signed on its own (not vouched for by a logon):
    /// its params with `timestamp` and `apiKey`. For timing a signer on what the client signs.
    public static func signedText(_ r: BinanceRequest, apiKey: String, timestampMs: Int64) throws(TradeWireError) -> String {
        let p = BinanceParams()
        try params(r, into: p)
        p.add("timestamp", timestampMs)
        p.add("apiKey", apiKey)
        return p.withSigningText { String(decoding: $0, as: UTF8.self) }
    }

    static func recvWindow(_ r: Int?, into p: BinanceParams) throws(TradeWireError) {
        guard let r else { return }
        guard (1...60_000).contains(r) else { throw TradeWireError(code: .invalidArgument, detail: "recvWindow must be 1...60000 ms") }
        p.add("recvWindow", Int64(r))
    }

    /// The new-order parameters shared by `order.place`, `order.test` and `order.cancelReplace`.
    static func orderParams(_ o: BinanceOrder, into p: BinanceParams) throws(TradeWireError) {
        try o.validate()
        p.add("side", enumValue: o.side == .buy ? "BUY" : "SELL")
        p.add("type", o.type.rawValue)
        if let tif = o.timeInForce { p.add("timeInForce", tif.rawValue) }
        if let q = o.quantity { p.add("quantity", q) }
        if let q = o.quoteOrderQty { p.add("quoteOrderQty", q) }
        if let price = o.price { p.add("price", price) }
        if let c = o.newClientOrderID { p.add("newClientOrderId", c) }
        if let t = o.responseType { p.add("newOrderRespType", t.rawValue) }
        if let s = o.stopPrice { p.add("stopPrice", s) }
        if let d = o.trailingDelta { p.add("trailingDelta", d) }
        if let i = o.icebergQty { p.add("icebergQty", i) }
        if let s = o.strategyID { p.add("strategyId", s) }
        if let s = o.strategyType { p.add("strategyType", s) }
        if let m = o.selfTradePreventionMode { p.add("selfTradePreventionMode", m.rawValue) }
        if let g = o.pegPriceType { p.add("pegPriceType", g.rawValue) }
        if let v = o.pegOffsetValue { p.add("pegOffsetValue", Int64(v)) }
        if let t = o.pegOffsetType { p.add("pegOffsetType", t.rawValue) }
    }

    static func ref(_ r: BinanceOrderRef, orderID: StaticString, clientOrderID: StaticString, into p: BinanceParams) {
        if let i = r.orderID { p.add(orderID, i) }
        if let c = r.clientOrderID { p.add(clientOrderID, c) }
    }

    /// The request's own params (no timestamp, apiKey or signature) into `p`.
    static func params(_ r: BinanceRequest, into p: BinanceParams) throws(TradeWireError) {
        switch r {
        case .orderPlace(let o), .orderTest(let o):
            p.add("symbol", o.symbol)
            try orderParams(o, into: p)
            try recvWindow(o.recvWindow, into: p)
        case .orderCancel(let c):
            p.add("symbol", c.symbol)
            ref(c.order, orderID: "orderId", clientOrderID: "origClientOrderId", into: p)
            if let n = c.newClientOrderID { p.add("newClientOrderId", n) }
            if let cr = c.cancelRestrictions { p.add("cancelRestrictions", cr.rawValue) }
            try recvWindow(c.recvWindow, into: p)
        case .orderCancelReplace(let cr):
            p.add("symbol", cr.order.symbol)
            p.add("cancelReplaceMode", cr.mode.rawValue)
            ref(cr.cancel, orderID: "cancelOrderId", clientOrderID: "cancelOrigClientOrderId", into: p)
            if let n = cr.cancelNewClientOrderID { p.add("cancelNewClientOrderId", n) }
            try orderParams(cr.order, into: p)
            if let r = cr.cancelRestrictions { p.add("cancelRestrictions", r.rawValue) }
            if let m = cr.rateLimitExceededMode { p.add("orderRateLimitExceededMode", m.rawValue) }
            try recvWindow(cr.order.recvWindow, into: p)
        case .orderAmendKeepPriority(let a):
            guard a.newQty.value > .zero else { throw TradeWireError(code: .invalidArgument, detail: "order.amend.keepPriority: newQty must be above 0") }
            p.add("symbol", a.symbol)
            ref(a.order, orderID: "orderId", clientOrderID: "origClientOrderId", into: p)
            if let n = a.newClientOrderID { p.add("newClientOrderId", n) }
            p.add("newQty", a.newQty)
            try recvWindow(a.recvWindow, into: p)
        case .openOrdersCancelAll(let symbol):
            p.add("symbol", symbol)
        case .orderStatus(let symbol, let order):
            p.add("symbol", symbol)
            ref(order, orderID: "orderId", clientOrderID: "origClientOrderId", into: p)
        case .openOrdersStatus(let symbol):
            if let symbol { p.add("symbol", symbol) }
        case .accountStatus(let omit):
            if let omit { p.add("omitZeroBalances", omit) }
        case .userDataStreamUnsubscribe(let id):
            if let id { p.add("subscriptionId", id) }
        case .depth(let symbol, let limit):
            guard (1...5000).contains(limit) else { throw TradeWireError(code: .invalidArgument, detail: "depth limit is 1...5000, not \(limit)") }
            p.add("symbol", symbol)
            p.add("limit", Int64(limit))
        case .accountRateLimitsOrders, .ping, .sessionLogon, .userDataStreamSubscribe, .userDataStreamSubscribeSignature:
            break
        }
        if case .clientOrderID(let c) = requestRef(r), c.isEmpty {
            throw TradeWireError(code: .invalidArgument, detail: "\(r.method): an empty client order id")
        }
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
        let done: Result<Void, TradeWireError> = Array(id.utf8).withUnsafeBytes { b in
            do throws(TradeWireError) {
                try encode(r, id: b, params: BinanceParams(), credentials: credentials, loggedOn: loggedOn,
                           timestampMs: timestampMs, signer: signer, into: &w)
                return .success(())
            } catch { return .failure(error) }
        }
        try done.get()
    }

    /// `encode`, with the id's text lent and the params' storage reused (the client's path: no allocation).
    package static func encode(_ r: BinanceRequest, id: UnsafeRawBufferPointer, params p: BinanceParams, credentials: BinanceCredentials?,
                       loggedOn: Bool, timestampMs: Int64, signer: RequestSigner?, into w: inout JSONWriter) throws(TradeWireError) {
        p.reset()
        try params(r, into: p)
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("method"); w.string(r.method.rawValue)
        if r.security != .none {
            guard let credentials else { throw TradeWireError(code: .invalidArgument, detail: "\(r.method) is signed: credentials needed") }
            if case .sessionLogon = r, !credentials.key.canLogOn {
                throw TradeWireError(code: .invalidArgument, detail: "session.logon needs an Ed25519 key (HMAC keys: userDataStream.subscribe.signature)")
            }
            p.add("timestamp", timestampMs)
            if r.security == .selfSigned || !loggedOn {
                p.add("apiKey", credentials.apiKey)
                w.key("params"); w.beginObject()
                p.writeMembers(into: &w)
                w.key("signature")
                do {
                    try p.withSigningText { text in
                        // The client's key, prepared once (`RequestSigner`); else signed one-off.
                        if let signer { try signer.sign(text) { w.string($0) }; return }
                        let payload = String(decoding: text, as: UTF8.self)
                        switch credentials.key {
                        case .hmac(let secret): w.string(try Signing.hmacSHA256Hex(key: secret, message: payload))
                        case .ed25519(let pem): w.string(try Signing.ed25519Base64(privateKeyPEM: pem, message: payload))
                        case .rsa(let pem): w.string(try Signing.rsaSHA256Base64(privateKeyPEM: pem, message: payload))
                        }
                    }
                } catch let e as TradeWireError { throw e } catch { throw TradeWireError(code: .invalidArgument, detail: "signing: \(error)") }
                w.endObject()
                w.endObject()
                if w.overflowed || p.overflowed { throw TradeWireError(code: .noSpace, detail: "\(r.method): the request does not fit the encode buffer") }
                return
            }
        }
        if !p.isEmpty {
            w.key("params"); w.beginObject()
            p.writeMembers(into: &w)
            w.endObject()
        }
        w.endObject()
        if w.overflowed || p.overflowed { throw TradeWireError(code: .noSpace, detail: "\(r.method): the request does not fit the encode buffer") }
    }
}
