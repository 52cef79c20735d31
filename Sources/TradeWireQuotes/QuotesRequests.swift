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

/// The ids a request was sent as, in order: one, or one per 100-name part of a larger subscribe or unsubscribe.
/// A single request's id is held inline (no allocation on the send path).
public struct QuotesRequestIDs: RandomAccessCollection, Sendable, Equatable, CustomStringConvertible {
    private let single: UInt64
    private let parts: [UInt64]?

    init(_ id: UInt64) { single = id; parts = nil }
    init(_ ids: [UInt64]) { single = ids.first ?? 0; parts = ids }

    public var startIndex: Int { 0 }
    public var endIndex: Int { parts?.count ?? 1 }
    public subscript(position: Int) -> UInt64 {
        if let parts { return parts[position] }
        precondition(position == 0, "index out of range")
        return single
    }
    public var description: String { Array(self).description }
}
