import TradeWire

/// A Binance response (§2.2).
public struct BinanceResponse: Sendable {
    public let id: String
    public let status: Int
    /// `result` for a success (raw JSON text; typed fields below when present).
    public let resultJSON: String?
    public let orderId: Int64?
    public let clientOrderId: String?
    public let orderStatus: String?
    public let executedQty: FixedDecimal?
    public let subscriptionId: Int64?
    /// `error` for a failure.
    public let errorCode: Int?
    public let errorMessage: String?
    public let rateLimits: [(interval: String, count: Int, limit: Int)]

    /// The orders of an `openOrders.status` result: (clientOrderId, orderId, status).
    public var openOrders: [(clientOrderID: String, orderID: String, status: String)] {
        guard let text = resultJSON else { return [] }
        var out: [(clientOrderID: String, orderID: String, status: String)] = []
        Array(text.utf8).withUnsafeBytes { b in
            guard let doc = try? JSONDocument(validating: b), doc.root.kind == .array else { return }
            doc.root.forEachElement { o in
                if let c = o["clientOrderId"]?.string, let i = o["orderId"]?.int64 {
                    out.append((c, String(i), o["status"]?.string ?? "NEW"))
                }
                return true
            }
        }
        return out
    }
}

/// `executionReport` from the user data stream (§2.8).
public struct BinanceExecutionReport: Sendable {
    /// `X`: order state, strict.
    public enum Status: String, Sendable {
        case new = "NEW", pendingNew = "PENDING_NEW", partiallyFilled = "PARTIALLY_FILLED", filled = "FILLED"
        case canceled = "CANCELED", pendingCancel = "PENDING_CANCEL", rejected = "REJECTED", expired = "EXPIRED"
        case expiredInMatch = "EXPIRED_IN_MATCH"
    }
    public let symbol: String
    /// `c`: the client id of the request that caused this report: on a cancel, the cancel's own id.
    public let clientOrderId: String
    /// `C`: on a cancel, the client id of the order that was cancelled (nil when empty).
    public let originalClientOrderId: String?
    /// The client id the order was placed with: `C` when the report is a cancel's, else `c`.
    public var orderClientOrderId: String { originalClientOrderId ?? clientOrderId }
    public let side: Side?
    public let orderType: String
    /// `x`: descriptive (NEW, TRADE, CANCELED, …), kept as sent.
    public let executionType: String
    public let status: Status
    public let orderId: Int64
    public let quantity: FixedDecimal?
    public let price: FixedDecimal?
    public let lastQty: FixedDecimal?
    public let lastPrice: FixedDecimal?
    public let cumQty: FixedDecimal?
    public let tradeId: Int64?
    public let isMaker: Bool?
    public let rejectReason: String?
}

public enum BinanceInbound: Sendable {
    case response(BinanceResponse)
    case executionReport(BinanceExecutionReport)
    /// The server is going down: reconnect (§2.1).
    case serverShutdown(timeMs: Int64?)
    /// Another user data event (`outboundAccountPosition`, `balanceUpdate`, …).
    case event(type: String)
}

public enum BinanceDecoder {
    static func malformed(_ why: StaticString) -> TradeWireError { TradeWireError(code: .malformedResponse, detail: "Binance: \(why)") }

    public static func decode(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> BinanceInbound {
        let doc: JSONDocument
        do { doc = try JSONDocument(validating: payload) } catch { throw TradeWireError(code: .malformedResponse, detail: "Binance: \(error)") }
        let root = doc.root
        guard root.kind == .object else { throw malformed("message is not an object") }
        if let event = root["event"] {
            guard event.kind == .object, let e = event["e"]?.string else { throw malformed("event without e") }
            switch e {
            case "executionReport": return .executionReport(try report(event))
            case "serverShutdown": return .serverShutdown(timeMs: event["E"]?.int64)
            default: return .event(type: e)
            }
        }
        guard let idv = root["id"] else { throw malformed("response without id") }
        let id = idv.string ?? idv.int64.map(String.init) ?? ""
        guard let status = root["status"]?.int64 else { throw malformed("response without status") }
        var limits: [(interval: String, count: Int, limit: Int)] = []
        root["rateLimits"]?.forEachElement { l in
            if let t = l["rateLimitType"]?.string, let i = l["interval"]?.string, let n = l["intervalNum"]?.int64,
               let c = l["count"]?.int64, let lim = l["limit"]?.int64 {
                limits.append(("\(t)/\(i)/\(n)", Int(c), Int(lim)))
            }
            return true
        }
        let result = root["result"]
        let error = root["error"]
        if status == 200 && result == nil { throw malformed("status 200 without result") }
        if status != 200 && (error == nil || error?["code"]?.int64 == nil) && status < 500 { throw malformed("failure without error code") }
        return .response(BinanceResponse(
            id: id, status: Int(status), resultJSON: result.map { String(decoding: $0.rawBytes, as: UTF8.self) },
            orderId: result?["orderId"]?.int64, clientOrderId: result?["clientOrderId"]?.string,
            orderStatus: result?["status"]?.string, executedQty: result?["executedQty"]?.decimal,
            subscriptionId: result?["subscriptionId"]?.int64,
            errorCode: error?["code"]?.int64.map(Int.init), errorMessage: error?["msg"]?.string, rateLimits: limits))
    }

    static func report(_ e: JSONValue) throws(TradeWireError) -> BinanceExecutionReport {
        guard let s = e["s"]?.string, let c = e["c"]?.string, let x = e["x"]?.string, let X = e["X"]?.string,
              let i = e["i"]?.int64, let o = e["o"]?.string else { throw malformed("executionReport without s/c/x/X/i/o") }
        guard let status = BinanceExecutionReport.Status(rawValue: X) else { throw malformed("unknown order status X") }
        let side = e["S"]?.string
        return BinanceExecutionReport(
            symbol: s, clientOrderId: c, originalClientOrderId: e["C"]?.string.flatMap { $0.isEmpty ? nil : $0 }, side: side == "BUY" ? .buy : side == "SELL" ? .sell : nil, orderType: o,
            executionType: x, status: status, orderId: i, quantity: e["q"]?.decimal, price: e["p"]?.decimal,
            lastQty: e["l"]?.decimal, lastPrice: e["L"]?.decimal, cumQty: e["z"]?.decimal, tradeId: e["t"]?.int64,
            isMaker: e["m"]?.bool, rejectReason: e["r"]?.string)
    }
}
