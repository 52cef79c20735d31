import TradeWire

/// A request to the quotes stream.
public enum QuotesRequest: Sendable {
    /// At most `QuotesLimits.namesPerRequest` names (the client splits longer lists).
    case subscribe([String])
    case unsubscribe([String])
    case unsubscribeAll
    /// Free text, echoed in the pong.
    case ping(String)

    public var op: QuotesOp {
        switch self {
        case .subscribe: return .subscribe
        case .unsubscribe: return .unsubscribe
        case .unsubscribeAll: return .unsubscribeAll
        case .ping: return .ping
        }
    }
}

/// Writes quotes-stream requests into the send buffer.
public enum QuotesEncoder {
    public static func encode(_ r: QuotesRequest, into w: inout JSONWriter) {
        w.beginObject()
        switch r {
        case .subscribe(let names):
            w.key("op"); w.value("subscribe")
            w.key("productNames"); w.beginArray(); names.forEach { w.string($0) }; w.endArray()
        case .unsubscribe(let names):
            w.key("op"); w.value("unsubscribe")
            w.key("productNames"); w.beginArray(); names.forEach { w.string($0) }; w.endArray()
        case .unsubscribeAll:
            w.key("op"); w.value("unsubscribeAll")
        case .ping(let msg):
            w.key("op"); w.value("ping")
            w.key("msg"); w.string(msg)
        }
        w.endObject()
    }
}
