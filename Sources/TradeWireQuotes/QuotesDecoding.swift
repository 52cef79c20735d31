import TradeWire

/// Decodes quotes-stream messages. Unknown fields are ignored; wrong types and
/// missing fields are `.malformedResponse`, never a crash.
public enum QuotesDecoder {
    /// A message: a quote, heartbeat or pong of the usual shape through `QuotesFastPath`, anything else through
    /// `decodeGeneral`.
    public static func decode(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> QuotesInbound {
        if let m = QuotesFastPath.decode(payload) { return m }
        return try decodeGeneral(payload)
    }

    /// Any message, without the fast path (public for the fuzz target and tests, which compare the two).
    public static func decodeGeneral(_ payload: UnsafeRawBufferPointer) throws(TradeWireError) -> QuotesInbound {
        let doc: JSONDocument
        do { doc = try JSONDocument(validating: payload) } catch {
            throw TradeWireError(code: .malformedResponse, detail: "quotes: \(error)")
        }
        let root = doc.root
        guard root.kind == .object, let op = root["op"], op.kind == .string else { throw malformed("message without op") }
        let ts = root["timestamp"]?.int64
        if op.stringEquals("pq") {
            guard let name = root["productName"].flatMap({ InlineText(json: $0) }) else { throw malformed("pq without productName") }
            guard let q = root["quote"]?.decimal else { throw malformed("pq without a numeric quote") }
            guard let ts else { throw malformed("pq without timestamp") }
            return .quote(product: name, quote: q, timestamp: ts)
        }
        if op.stringEquals("hb") {
            guard let ts else { throw malformed("hb without timestamp") }
            return .heartbeat(timestamp: ts)
        }
        if op.stringEquals("subscribed") || op.stringEquals("unsubscribed") {
            let status: QuotesStatus
            if root["status"]?.stringEquals("OK") == true { status = .ok }
            else if root["status"]?.stringEquals("WARN") == true { status = .warn }
            else if let other = root["status"]?.string { status = .unknown(other) }
            else { throw malformed("subscribed/unsubscribed without a status") }
            if op.stringEquals("subscribed") {
                var products: [QuotesProduct] = []
                var bad = false
                root["products"]?.forEachElement { p in
                    guard let n = p["productName"]?.string else { bad = true; return false }
                    products.append(QuotesProduct(name: n, quote: p["quote"]?.decimal))
                    return true
                }
                if bad { throw malformed("a product without productName") }
                return .response(.subscribed(status: status, timestamp: ts ?? 0, products: products))
            }
            var names: [String] = []
            root["productNames"]?.forEachElement { n in n.string.map { names.append($0) }; return true }
            return .response(.unsubscribed(status: status, timestamp: ts ?? 0, productNames: names))
        }
        if op.stringEquals("pong") {
            return .response(.pong(msg: root["msg"]?.string ?? "", timestamp: ts ?? 0))
        }
        if op.stringEquals("error") {
            guard let code = root["code"]?.string else { throw malformed("error without code") }
            return .error(QuotesError(opRequest: root["opRequest"]?.string, code: QuotesErrorCode(code),
                                      msg: root["msg"]?.string ?? "", timestamp: ts))
        }
        throw malformed("unknown op")
    }

    static func malformed(_ why: StaticString) -> TradeWireError {
        TradeWireError(code: .malformedResponse, detail: "quotes: \(why)")
    }
}
