import TradeWire

/// What a Binance text frame holds.
public enum BinanceInbound: Sendable {
    /// The answer to a request (its `id`).
    case response(BinanceResponse)
    /// A response with `"id": null`: no request's answer. Binance revokes a logged-on session this way
    /// (401, -2015) when the API key stops being valid.
    case unsolicited(BinanceResponse)
    case executionReport(BinanceExecutionReport)
    /// A user data stream subscription ended (`eventStreamTerminated`: `session.logout`, `userDataStream.unsubscribe`).
    case streamTerminated(subscriptionID: Int64?, timeMs: Int64?)
    /// The server is going down: reconnect (Connection events › Server Shutdown).
    case serverShutdown(timeMs: Int64?)
    /// Another user data event (`outboundAccountPosition`, `balanceUpdate`, `listStatus`, …).
    case event(type: String)
}

public enum BinanceDecoder {
    static func malformed(_ why: StaticString) -> TradeWireError { TradeWireError(code: .malformedResponse, detail: "Binance: \(why)") }

    /// The root's members the decoder reads, captured while the text is validated.
    static let rootKeys = JSONKeySet(["event", "id", "status", "result", "error", "rateLimits", "subscriptionId"])
    static let resultKeys = JSONKeySet(["orderId", "clientOrderId", "origClientOrderId", "status", "executedQty", "subscriptionId"])
    static let errorKeys = JSONKeySet(["code", "msg", "data"])
    static let dataKeys = JSONKeySet(["retryAfter", "serverTime"])

    /// A message: a successful answer of the common shape through `BinanceResponseFastPath`, anything else through
    /// `decodeGeneral`.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceInbound {
        var recycler = ByteRecycler(slots: 1)
        return try decode(payload, recycling: &recycler)
    }

    /// A message, with the fast path's `result` kept in `recycler`'s storage (a client's: no allocation per answer).
    public static func decode(_ payload: UnsafeRawBufferPointer, recycling recycler: inout ByteRecycler) throws(TradeWireError) -> BinanceInbound {
        if let r = BinanceResponseFastPath.decode(payload, recycling: &recycler) { return .response(r) }
        return try decodeGeneral(payload)
    }

    /// Any message, without the fast path (public for the fuzz target and tests, which compare the two): one pass
    /// to validate (capturing the root's members), then one pass over each member object it reads.
    public static func decodeGeneral(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceInbound {
        let doc: JSONDocument
        do { doc = try JSONDocument(validating: payload, capturing: rootKeys) } catch {
            throw TradeWireError(code: .malformedResponse, detail: "Binance: \(error)")
        }
        guard doc.root.kind == .object else { throw malformed("message is not an object") }
        let root = doc.captured
        // Events: `{"subscriptionId"?: n, "event": {...}}`; dispatch on `event`, never on `id`.
        if let event = root[0] {
            guard event.kind == .object, let e = event["e"]?.string else { throw malformed("event without e") }
            let sub = root[6]?.int64
            switch e {
            case "executionReport": return .executionReport(try BinanceExecutionReport.decode(event, subscriptionID: sub))
            case "serverShutdown": return .serverShutdown(timeMs: event["E"]?.int64)
            case "eventStreamTerminated": return .streamTerminated(subscriptionID: sub, timeMs: event["E"]?.int64)
            default: return .event(type: e)
            }
        }
        guard let idv = root[1] else { throw malformed("response without id") }
        let id = idv.string ?? idv.int64.map(String.init) ?? ""
        guard let status = root[2]?.int64 else { throw malformed("response without status") }
        var limits = RateLimitUsage()
        root[5]?.forEachElement { l in
            BinanceRateLimit.append(to: &limits, l)
            return true
        }
        let result = root[3]
        let error = root[4]
        var orderID: Int64?, clientOrderID: String?, origClientOrderID: String?, orderStatus: String?
        var executedQty: FixedDecimal?, subscriptionID: Int64?
        if let result, result.kind == .object {
            result.forEachMember(in: resultKeys) { k, v in
                switch k {
                case 0: orderID = v.int64
                case 1: clientOrderID = v.string
                case 2: origClientOrderID = v.string
                case 3: orderStatus = v.string
                case 4: executedQty = v.decimal
                default: subscriptionID = v.int64
                }
            }
        }
        var code: Int64?, message: String?, data: JSONValue?
        if let error, error.kind == .object {
            error.forEachMember(in: errorKeys) { k, v in
                switch k {
                case 0: code = v.int64
                case 1: message = v.string
                default: data = v
                }
            }
        }
        if status == 200 && result == nil { throw malformed("status 200 without result") }
        if status != 200 && code == nil && status < 500 { throw malformed("failure without error code") }
        var retryAfter: Int64?, serverTime: Int64?
        if let data, data.kind == .object {
            data.forEachMember(in: dataKeys) { k, v in if k == 0 { retryAfter = v.int64 } else { serverTime = v.int64 } }
        }
        let response = BinanceResponse(
            id: id, status: Int(status), result: result.map { RecycledBytes(copying: $0.rawBytes) }, resultFormat: .json,
            orderID: orderID, clientOrderID: clientOrderID, origClientOrderID: origClientOrderID,
            orderStatus: orderStatus, executedQty: executedQty, subscriptionID: subscriptionID,
            errorCode: code.map(Int.init), errorMessage: message,
            errorDataJSON: data.flatMap { $0.kind == .object ? String(decoding: $0.rawBytes, as: UTF8.self) : nil },
            retryAfterMs: retryAfter, serverTimeMs: serverTime, rateLimits: limits)
        return idv.isNull ? .unsolicited(response) : .response(response)
    }
}
