import TradeWire

/// One request's parameters, gathered without allocation once the storage has grown: each value's text is
/// written into one byte block as it is added (a decimal or an integer as the venue reads it, a string as is),
/// and the list keeps the name, where its text is and which JSON type it travels as (the docs' STRING, ENUM and
/// DECIMAL as JSON strings, INT and LONG as numbers, BOOLEAN as true/false).
///
/// From it come the two things a signed request needs: the text the signature covers (every param sorted by
/// name, `k=v` joined by `&`, no percent-encoding) and the JSON `params` object (in the order added).
/// A client keeps one and reuses it for every request (`reset`); loop-confined, as the client is. Its storage
/// is fixed (allocated once): a request whose params do not fit is refused, never sent short.
package final class BinanceParams {
    enum Kind: UInt8 { case string, number, bool }
    struct Param {
        let name: StaticString
        /// The name's first 8 bytes, big-endian (zero-padded): names order as these do, unless they tie.
        let sortKey: UInt64
        let start: Int
        let count: Int
        let kind: Kind
        /// The value of a number or a bool (1/0); a string's is in the text block.
        let number: Int64
    }
    static let capacity = 40                // more params than any request has
    static let textCapacity = 4096
    private let params = UnsafeMutablePointer<Param>.allocate(capacity: capacity)
    private let text = UnsafeMutableRawPointer.allocate(byteCount: textCapacity, alignment: 8)
    /// The signing text's order: indices into `params`, sorted by name.
    private let order = UnsafeMutablePointer<Int>.allocate(capacity: capacity)
    /// Room for every name, `=`, `&` and value: the signing text.
    private let signing = UnsafeMutableRawPointer.allocate(byteCount: textCapacity * 2, alignment: 8)
    private(set) var count = 0
    private var used = 0
    /// A param did not fit: the request is refused (`.noSpace`) rather than sent without it.
    private(set) var overflowed = false

    package init() {}

    deinit {
        params.deallocate()
        text.deallocate()
        order.deallocate()
        signing.deallocate()
    }

    var isEmpty: Bool { count == 0 }

    func reset() {
        count = 0
        used = 0
        overflowed = false
    }

    private func append(_ name: StaticString, _ kind: Kind, number: Int64 = 0, _ bytes: UnsafeRawBufferPointer) {
        guard count < Self.capacity, used + bytes.count <= Self.textCapacity else { overflowed = true; return }
        if bytes.count > 0 { copySmall(text + used, bytes.baseAddress!, bytes.count) }
        params[count] = Param(name: name, sortKey: Self.sortKey(name), start: used, count: bytes.count, kind: kind, number: number)
        count += 1
        used += bytes.count
    }

    func add(_ name: StaticString, _ s: String) {
        var s = s
        s.withUTF8 { append(name, .string, UnsafeRawBufferPointer($0)) }
    }

    func add(_ name: StaticString, enumValue s: StaticString) {
        append(name, .string, UnsafeRawBufferPointer(start: s.utf8Start, count: s.utf8CodeUnitCount))
    }

    func add(_ name: StaticString, _ id: ClientOrderID) { id.withBytes { append(name, .string, $0) } }

    /// A DECIMAL: a JSON string holding the number's text.
    func add(_ name: StaticString, _ d: FixedDecimal) {
        withUnsafeTemporaryAllocation(byteCount: 48, alignment: 1) { b in
            let n = d.write(to: b.baseAddress!)
            append(name, .string, UnsafeRawBufferPointer(rebasing: b[..<n]))
        }
    }

    func add(_ name: StaticString, _ q: Quantity) { add(name, q.value) }
    func add(_ name: StaticString, _ price: Price) { add(name, price.value) }

    func add(_ name: StaticString, _ i: Int64) {
        withUnsafeTemporaryAllocation(byteCount: 24, alignment: 1) { b in
            let n = Self.writeDecimal(i, to: b)
            append(name, .number, number: i, UnsafeRawBufferPointer(rebasing: b[..<n]))
        }
    }

    func add(_ name: StaticString, _ flag: Bool) {
        let t: StaticString = flag ? "true" : "false"
        append(name, .bool, number: flag ? 1 : 0, UnsafeRawBufferPointer(start: t.utf8Start, count: t.utf8CodeUnitCount))
    }

    /// An integer's digits, with its sign; returns the count written (at most 20).
    static func writeDecimal(_ v: Int64, to b: UnsafeMutableRawBufferPointer) -> Int {
        var digits = (UInt64(0), UInt64(0), UInt64(0))   // 24 bytes, filled from the end
        var m = v.magnitude
        var n = 0
        withUnsafeMutableBytes(of: &digits) { d in
            repeat {
                n += 1
                d[24 - n] = UInt8(ascii: "0") + UInt8(m % 10)
                m /= 10
            } while m != 0
            var at = 0
            if v < 0 { b[0] = UInt8(ascii: "-"); at = 1 }
            b.baseAddress!.advanced(by: at).copyMemory(from: d.baseAddress! + 24 - n, byteCount: n)
            n += at
        }
        return n
    }

    /// The text the signature covers, lent to `body` (valid during the call).
    func withSigningText<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        // Insertion sort by name: a request has a handful of params, and this allocates nothing.
        for i in 0..<count {
            var at = i
            while at > 0, Self.less(params[i], params[order[at - 1]]) {
                order[at] = order[at - 1]
                at -= 1
            }
            order[at] = i
        }
        var n = 0
        for k in 0..<count {
            let p = params[order[k]]
            // Small copies inline: a libc call per name and value was a tenth of an order's encode.
            if k > 0 { signing.storeBytes(of: UInt8(ascii: "&"), toByteOffset: n, as: UInt8.self); n += 1 }
            copySmall(signing + n, p.name.utf8Start, p.name.utf8CodeUnitCount)
            n += p.name.utf8CodeUnitCount
            signing.storeBytes(of: UInt8(ascii: "="), toByteOffset: n, as: UInt8.self)
            n += 1
            copySmall(signing + n, text + p.start, p.count)
            n += p.count
        }
        return try body(UnsafeRawBufferPointer(start: signing, count: n))
    }

    /// `name`'s first 8 bytes as a big-endian integer: comparing two keys compares those bytes in order.
    static func sortKey(_ name: StaticString) -> UInt64 {
        var key: UInt64 = 0
        let p = name.utf8Start
        for i in 0..<8 { key = key << 8 | UInt64(i < name.utf8CodeUnitCount ? p[i] : 0) }
        return key
    }

    /// Byte order of the names, by their keys first (one compare decides for names that differ in their first
    /// 8 bytes: the sort took a fifth of an order's encode comparing them byte by byte).
    static func less(_ a: Param, _ b: Param) -> Bool {
        if a.sortKey != b.sortKey { return a.sortKey < b.sortKey }
        return less(a.name, b.name)
    }

    /// Byte order of the names (they are ASCII), as a sort of the strings orders them.
    static func less(_ a: StaticString, _ b: StaticString) -> Bool {
        let n = min(a.utf8CodeUnitCount, b.utf8CodeUnitCount)
        let x = a.utf8Start, y = b.utf8Start
        for i in 0..<n where x[i] != y[i] { return x[i] < y[i] }
        return a.utf8CodeUnitCount < b.utf8CodeUnitCount
    }

    /// The `params` object's members, in the order added.
    func writeMembers(into w: inout JSONWriter) {
        for i in 0..<count {
            let p = params[i]
            w.key(p.name)
            switch p.kind {
            case .string: w.string(UnsafeRawBufferPointer(start: text + p.start, count: p.count))
            case .number: w.value(p.number)
            case .bool: w.value(p.number != 0)
            }
        }
    }

    /// The value of a param as text (tests and diagnostics).
    func value(of name: String) -> String? {
        for i in 0..<count where params[i].name.description == name {
            return String(decoding: UnsafeRawBufferPointer(start: text + params[i].start, count: params[i].count), as: UTF8.self)
        }
        return nil
    }
}
