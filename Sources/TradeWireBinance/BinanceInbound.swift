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

    public static func decode(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceInbound {
        let doc: JSONDocument
        do { doc = try JSONDocument(validating: payload) } catch { throw TradeWireError(code: .malformedResponse, detail: "Binance: \(error)") }
        let root = doc.root
        guard root.kind == .object else { throw malformed("message is not an object") }
        // Events: `{"subscriptionId"?: n, "event": {...}}`; dispatch on `event`, never on `id`.
        if let event = root["event"] {
            guard event.kind == .object, let e = event["e"]?.string else { throw malformed("event without e") }
            let sub = root["subscriptionId"]?.int64
            switch e {
            case "executionReport": return .executionReport(try BinanceExecutionReport.decode(event, subscriptionID: sub))
            case "serverShutdown": return .serverShutdown(timeMs: event["E"]?.int64)
            case "eventStreamTerminated": return .streamTerminated(subscriptionID: sub, timeMs: event["E"]?.int64)
            default: return .event(type: e)
            }
        }
        guard let idv = root["id"] else { throw malformed("response without id") }
        let id = idv.string ?? idv.int64.map(String.init) ?? ""
        guard let status = root["status"]?.int64 else { throw malformed("response without status") }
        var limits: [(interval: String, count: Int, limit: Int)] = []
        root["rateLimits"]?.forEachElement { l in
            if let r = BinanceRateLimit.decode(l) { limits.append((r.key, r.count, r.limit)) }
            return true
        }
        let result = root["result"]
        let error = root["error"]
        if status == 200 && result == nil { throw malformed("status 200 without result") }
        if status != 200 && (error == nil || error?["code"]?.int64 == nil) && status < 500 { throw malformed("failure without error code") }
        let data = error?["data"]
        let response = BinanceResponse(
            id: id, status: Int(status), resultJSON: result.map { String(decoding: $0.rawBytes, as: UTF8.self) },
            orderID: result?["orderId"]?.int64, clientOrderID: result?["clientOrderId"]?.string,
            origClientOrderID: result?["origClientOrderId"]?.string,
            orderStatus: result?["status"]?.string, executedQty: result?["executedQty"]?.decimal,
            subscriptionID: result?["subscriptionId"]?.int64,
            errorCode: error?["code"]?.int64.map(Int.init), errorMessage: error?["msg"]?.string,
            errorDataJSON: data.flatMap { $0.kind == .object ? String(decoding: $0.rawBytes, as: UTF8.self) : nil },
            retryAfterMs: data?["retryAfter"]?.int64, serverTimeMs: data?["serverTime"]?.int64, rateLimits: limits)
        return idv.isNull ? .unsolicited(response) : .response(response)
    }
}
