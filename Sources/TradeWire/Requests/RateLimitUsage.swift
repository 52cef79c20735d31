/// What a venue's answer says about its rate limits: per window ("TYPE/INTERVAL/NUM" for Binance, e.g.
/// "ORDERS/SECOND/10"), the count so far and the limit.
///
/// Binance reports two to four windows with every answer. As an array of `(String, Int, Int)` that was one allocation
/// per answer on the order path, and four strings to release with each answer. Here the first four entries live
/// inline, a window of `RateLimitUsage.knownWindows` as its index (its name is built from a literal when read),
/// another as its name; only a fifth entry and later go to the heap.
public struct RateLimitUsage: RandomAccessCollection, Sendable, Equatable, ExpressibleByArrayLiteral {
    public typealias Element = (interval: String, count: Int, limit: Int)
    public static let inlineCapacity = 4
    /// The windows Binance reports on the order path (WS API › Rate limits).
    public static let knownWindows = ["REQUEST_WEIGHT/MINUTE/1", "ORDERS/SECOND/10", "ORDERS/DAY/1", "RAW_REQUESTS/MINUTE/5"]

    /// Byte `i`: entry `i`'s index in `knownWindows`, or 0xFF when its name is in `names`.
    @usableFromInline var windowCodes: UInt32 = 0
    @usableFromInline var counts: (Int, Int, Int, Int) = (0, 0, 0, 0)
    @usableFromInline var limits: (Int, Int, Int, Int) = (0, 0, 0, 0)
    /// Names of inline entries outside `knownWindows` (by entry index), then whole entries past the fourth.
    private var names: [Int: String]? = nil
    private var extra: [Element]? = nil
    @usableFromInline var stored = 0
    public var count: Int { stored }

    public init() {}

    public init(arrayLiteral elements: Element...) {
        for e in elements { append(e) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> Element {
        precondition(i >= 0 && i < count, "RateLimitUsage index out of range")
        if i >= Self.inlineCapacity { return extra![i - Self.inlineCapacity] }
        return (interval(i), Self.get(counts, i), Self.get(limits, i))
    }

    /// Entry `i`'s window name (a literal for a known window: no allocation).
    private func interval(_ i: Int) -> String {
        let code = Int(truncatingIfNeeded: windowCodes >> (8 * i)) & 0xFF
        return code < Self.knownWindows.count ? Self.knownWindows[code] : names![i]!
    }

    public mutating func append(_ e: Element) {
        var code: Int?
        for k in 0..<Self.knownWindows.count where Self.knownWindows[k] == e.interval { code = k }
        if let code { append(knownWindow: code, count: e.count, limit: e.limit) } else { append(other: e) }
    }

    /// An entry for `knownWindows[knownWindow]` (a decoder that recognised the window: no name compared).
    /// Inlinable: a decoder appends each entry without a call.
    @inlinable public mutating func append(knownWindow: Int, count c: Int, limit: Int) {
        precondition(knownWindow >= 0 && knownWindow < Self.knownWindows.count, "not a known window")
        guard stored < Self.inlineCapacity else { return append(other: (Self.knownWindows[knownWindow], c, limit)) }
        windowCodes |= UInt32(knownWindow) << (8 * stored)
        Self.set(&counts, stored, c)
        Self.set(&limits, stored, limit)
        stored += 1
    }

    @usableFromInline mutating func append(other e: Element) {
        let i = stored
        stored += 1
        guard i < Self.inlineCapacity else {
            if extra == nil { extra = [] }
            extra!.append(e)
            return
        }
        if names == nil { names = [:] }
        names![i] = e.interval
        windowCodes |= 0xFF << (8 * i)
        Self.set(&counts, i, e.count)
        Self.set(&limits, i, e.limit)
    }

    private static func get(_ t: (Int, Int, Int, Int), _ i: Int) -> Int {
        switch i {
        case 0: t.0
        case 1: t.1
        case 2: t.2
        default: t.3
        }
    }

    @inlinable static func set(_ t: inout (Int, Int, Int, Int), _ i: Int, _ v: Int) {
        switch i {
        case 0: t.0 = v
        case 1: t.1 = v
        case 2: t.2 = v
        default: t.3 = v
        }
    }

    public static func == (a: RateLimitUsage, b: RateLimitUsage) -> Bool {
        guard a.count == b.count else { return false }
        for i in 0..<a.count where a[i].interval != b[i].interval || a[i].count != b[i].count || a[i].limit != b[i].limit {
            return false
        }
        return true
    }
}
