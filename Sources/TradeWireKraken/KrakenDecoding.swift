import TradeWire

/// Decodes Kraken WS v2 messages from a received payload.
public enum KrakenDecoder {
    /// Decode one message. Unknown fields are ignored; wrong types and missing
    /// required fields are a `.malformedResponse` error, never a crash.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> KrakenInbound {
        let doc: JSONDocument
        do { doc = try JSONDocument(validating: payload) } catch {
            throw TradeWireError(code: .malformedResponse, detail: "Kraken: \(error)")
        }
        return try decode(doc.root)
    }

    public static func decode(_ root: JSONValue) throws(TradeWireError) -> KrakenInbound {
        guard root.kind == .object else { throw malformed("message is not an object") }
        if let m = root["method"] {
            guard m.kind == .string else { throw malformed("method is not a string") }
            if m.stringEquals("pong") {
                return .push(.pong(requestID: root["req_id"].flatMap { $0.int64 }.map { UInt64(bitPattern: $0) }))
            }
            guard let method = KrakenMethod(json: m) else { throw malformed("unknown method") }
            guard let rid = root["req_id"] else { throw malformed("response without req_id") }
            guard let id = rid.int64, id >= 0 else { throw malformed("req_id is not a non-negative integer") }
            let success = root["success"]?.bool ?? false
            var error: InlineText? = nil
            if let e = root["error"] {
                guard let t = InlineText(json: e) else { throw malformed("error is not a string") }
                error = t
            }
            var orderID: InlineText? = nil, clOrdID: InlineText? = nil
            var userref: Int64? = nil, count: Int64? = nil
            var warnings = false
            var amendID: InlineText? = nil
            var batch: [KrakenBatchRow]? = nil
            if let r = root["result"], r.kind == .array, method == .batchAdd {
                var rows: [KrakenBatchRow] = []
                r.forEachElement { row in
                    rows.append(KrakenBatchRow(orderID: row["order_id"].flatMap { InlineText(json: $0) },
                                               orderUserref: row["order_userref"]?.int64,
                                               clientOrderID: row["cl_ord_id"].flatMap { InlineText(json: $0) },
                                               error: row["error"].flatMap { InlineText(json: $0) }))
                    return true
                }
                batch = rows
            } else if let r = root["result"] {
                guard r.kind == .object else { throw malformed("result is not an object") }
                if let v = r["amend_id"] { guard let t = InlineText(json: v) else { throw malformed("amend_id is not a string") }; amendID = t }
                if let v = r["order_id"] { guard let t = InlineText(json: v) else { throw malformed("order_id is not a string") }; orderID = t }
                if let v = r["cl_ord_id"] { guard let t = InlineText(json: v) else { throw malformed("cl_ord_id is not a string") }; clOrdID = t }
                if let v = r["order_userref"] { guard let n = v.int64 else { throw malformed("order_userref is not an integer") }; userref = n }
                if let v = r["count"] { guard let n = v.int64 else { throw malformed("count is not an integer") }; count = n }
                warnings = r["warnings"] != nil
            }
            if success && error != nil { throw malformed("success with an error") }
            if !success && error == nil { error = InlineText("(no error text)") }
            var response = KrakenResponse(
                method: method, requestID: UInt64(id), success: success, error: error,
                orderID: orderID, clientOrderID: clOrdID, orderUserref: userref, count: count,
                timeIn: root["time_in"].flatMap { InlineText(json: $0) },
                timeOut: root["time_out"].flatMap { InlineText(json: $0) }, hasWarnings: warnings)
            response.amendID = amendID
            response.batch = batch
            return .response(response)
        }
        if let ch = root["channel"] {
            guard ch.kind == .string else { throw malformed("channel is not a string") }
            if ch.stringEquals("heartbeat") { return .push(.heartbeat) }
            if ch.stringEquals("executions") { return .push(.executions(try executions(root))) }
            if ch.stringEquals("status") {
                var system = InlineText(), version = InlineText()
                root["data"]?.forEachElement { d in
                    system = d["system"].flatMap { InlineText(json: $0) } ?? system
                    version = d["version"].flatMap { InlineText(json: $0) } ?? version
                    return false
                }
                return .push(.status(system: system, version: version))
            }
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
