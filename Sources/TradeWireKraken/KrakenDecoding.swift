import TradeWire

/// Decodes Kraken WS v2 messages from a received payload.
public enum KrakenDecoder {
    /// Decode one message. Unknown fields are ignored; wrong types and missing
    /// required fields are a `.malformedResponse` error, never a crash.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> KrakenInbound {
        if let r = KrakenResponseFastPath.decode(payload) { return .response(r) }
        return try decodeGeneral(payload)
    }

    /// The general decoder alone, without the fast path for acks: any member order,
    /// whitespace, escapes, pushes. Tests and the fuzzer hold the fast path to it.
    public static func decodeGeneral(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> KrakenInbound {
        try decode(try document(payload))
    }

    /// The validated message with its top-level members captured.
    static func document(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> JSONDocument {
        do { return try JSONDocument(validating: payload, capturing: topKeys) } catch {
            throw TradeWireError(code: .malformedResponse, detail: "Kraken: \(error)")
        }
    }

    /// The top-level members of any Kraken message, found while the text is validated.
    static let topKeys = JSONKeySet(["method", "req_id", "success", "error", "result", "time_in", "time_out",
                                     "channel", "data", "type", "sequence"])
    enum Top { static let method = 0, reqID = 1, success = 2, error = 3, result = 4, timeIn = 5, timeOut = 6,
               channel = 7, data = 8, type = 9, sequence = 10 }
    static let resultKeys = JSONKeySet(["amend_id", "order_id", "cl_ord_id", "order_userref", "count", "warnings",
                                        "currentTime", "triggerTime"])

    static func decode(_ doc: JSONDocument) throws(TradeWireError) -> KrakenInbound {
        guard doc.root.kind == .object else { throw malformed("message is not an object") }
        let top = doc.captured
        if let m = top[Top.method] {
            guard m.kind == .string else { throw malformed("method is not a string") }
            guard let name = KrakenMethod.wireNames.index(ofKeyIn: m) else { throw malformed("unknown method") }
            if name == KrakenMethod.pongOrdinal {
                return .push(.pong(requestID: top[Top.reqID].flatMap { $0.int64 }.map { UInt64(bitPattern: $0) }))
            }
            guard let method = KrakenMethod.at(ordinal: name) else { throw malformed("unknown method") }
            // The docs: `req_id` is echoed when the request sent one. TradeWire's always do (ids start at 1);
            // an answer without one reads as request 0, which no pending request has.
            var id: Int64 = 0
            if let rid = top[Top.reqID] {
                guard let v = rid.int64, v >= 0 else { throw malformed("req_id is not a non-negative integer") }
                id = v
            }
            let success = top[Top.success]?.bool ?? false
            var error: InlineText? = nil
            var fullError: String? = nil
            if let e = top[Top.error] {
                guard let t = InlineText(json: e) else { throw malformed("error is not a string") }
                error = t
                if t.truncated { fullError = e.string }       // never cut a venue's explanation
            }
            var orderID: InlineText? = nil, clOrdID: InlineText? = nil
            var userref: Int64? = nil, count: Int64? = nil
            var warnings = false
            var amendID: InlineText? = nil, currentTime: InlineText? = nil, triggerTime: InlineText? = nil
            var rows: [KrakenOrderRow]? = nil
            if let r = top[Top.result], r.kind == .array, case .batchAdd = method {
                var list: [KrakenOrderRow] = []
                r.forEachElement { row in
                    list.append(KrakenOrderRow(orderID: row["order_id"].flatMap { InlineText(json: $0) }.flatMap { $0.count > 0 ? $0 : nil },
                                               orderUserref: row["order_userref"]?.int64,
                                               clientOrderID: row["cl_ord_id"].flatMap { InlineText(json: $0) },
                                               error: row["error"]?.string))
                    return true
                }
                rows = list
            } else if let r = top[Top.result] {
                guard r.kind == .object else { throw malformed("result is not an object") }
                var problem: StaticString? = nil
                r.forEachMember(in: resultKeys) { k, v in
                    switch k {
                    case 0: if let t = InlineText(json: v) { amendID = t } else { problem = "amend_id is not a string" }
                    case 1: if let t = InlineText(json: v) { orderID = t } else { problem = "order_id is not a string" }
                    case 2: if let t = InlineText(json: v) { clOrdID = t } else { problem = "cl_ord_id is not a string" }
                    case 3: if let n = v.int64 { userref = n } else { problem = "order_userref is not an integer" }
                    case 4: if let n = v.int64 { count = n } else { problem = "count is not an integer" }
                    case 5: warnings = true
                    case 6: if let t = InlineText(json: v) { currentTime = t } else { problem = "currentTime is not a string" }
                    default: if let t = InlineText(json: v) { triggerTime = t } else { problem = "triggerTime is not a string" }
                    }
                }
                if let problem { throw malformed(problem) }
            }
            if success && error != nil { throw malformed("success with an error") }
            if !success && error == nil { error = InlineText("(no error text)") }
            var response = KrakenResponse(
                method: method, requestID: UInt64(id), success: success, error: error,
                orderID: orderID, clientOrderID: clOrdID, orderUserref: userref, count: count,
                timeIn: top[Top.timeIn].flatMap { InlineText(json: $0) },
                timeOut: top[Top.timeOut].flatMap { InlineText(json: $0) }, hasWarnings: warnings)
            response.amendID = amendID
            response.currentTime = currentTime
            response.triggerTime = triggerTime
            response.orders = rows
            response.fullError = fullError
            return .response(response)
        }
        if let ch = top[Top.channel] {
            guard ch.kind == .string else { throw malformed("channel is not a string") }
            if ch.stringEquals("heartbeat") { return .push(.heartbeat) }
            if ch.stringEquals("executions") { return .push(.executions(try executions(top))) }
            if ch.stringEquals("status") {
                var system = InlineText(), version = InlineText()
                top[Top.data]?.forEachElement { d in
                    system = d["system"].flatMap { InlineText(json: $0) } ?? system
                    version = d["version"].flatMap { InlineText(json: $0) } ?? version
                    return false
                }
                return .push(.status(system: system, version: version))
            }
            if ch.stringEquals("instrument") { return .push(.instruments(try instruments(top))) }
            if ch.stringEquals("ticker") { return .push(.ticker(ticker(top))) }
            if ch.stringEquals("trade") { return .push(.trades(trades(top))) }
            if ch.stringEquals("ohlc") { return .push(.ohlc(candles(top))) }
            return .push(.other(channel: InlineText(json: ch) ?? InlineText()))
        }
        throw malformed("neither a response nor a channel message")
    }

    static func malformed(_ why: StaticString) -> TradeWireError {
        TradeWireError(code: .malformedResponse, detail: "Kraken: \(why)")
    }

    static func malformed(_ why: String) -> TradeWireError {
        TradeWireError(code: .malformedResponse, detail: "Kraken: \(why)")
    }
}
