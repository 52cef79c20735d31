/// Reads a message whose layout is known in advance (a venue's answer with its
/// members in the venue's order, no whitespace, no escapes) in one forward pass,
/// without building anything: each call either consumes the exact bytes it expects
/// or returns nil/false and leaves the cursor where it was.
///
/// It is a fast path, never the only path: whatever it accepts is valid JSON read
/// as the general reader would read it, and a message that is merely unusual
/// (other member order, spaces, escapes, non-ASCII text, fractions) is refused so
/// that the caller hands it to the general decoder, which accepts or rejects it
/// with a reason.
public struct JSONShapeCursor {
    @usableFromInline let p: UnsafePointer<UInt8>
    @usableFromInline let n: Int
    @usableFromInline var position = 0
    /// Bytes read so far.
    public var offset: Int { position }

    public init?(_ bytes: UnsafeRawBufferPointer) {
        guard let b = bytes.baseAddress, bytes.count > 0 else { return nil }
        p = b.assumingMemoryBound(to: UInt8.self)
        n = bytes.count
    }

    /// True when every byte has been read.
    @inlinable public var atEnd: Bool { position == n }

    /// Consume `s` if the input continues with exactly these bytes.
    @inlinable @inline(__always)
    public mutating func literal(_ s: StaticString) -> Bool {
        let k = s.utf8CodeUnitCount
        guard n - position >= k, memcmpEqual(p + position, s.utf8Start, k) else { return false }
        position += k
        return true
    }

    /// The bytes of a string whose opening quote was already consumed, up to its closing
    /// quote (consumed too): nil unless every byte is ASCII, not a control byte and not `\`.
    /// Such a string needs no unescaping and no UTF-8 check; the general reader would
    /// read the same bytes.
    @inlinable
    public mutating func plainString() -> UnsafeRawBufferPointer? {
        let start = position
        var i = skipPlainRun(p, from: start, n)
        while i < n {
            let c = p[i]
            if c == UInt8(ascii: "\"") || c == UInt8(ascii: "\\") || c < 0x20 || c > 0x7F { return closing(start, i) }
            i += 1
        }
        return nil
    }

    /// The string ends at `i` if that byte is its closing quote; anything else is not plain.
    @inlinable @inline(__always)
    mutating func closing(_ start: Int, _ i: Int) -> UnsafeRawBufferPointer? {
        guard p[i] == UInt8(ascii: "\"") else { return nil }
        position = i + 1
        return UnsafeRawBufferPointer(start: p + start, count: i - start)
    }

    /// An integer in JSON's grammar: `-?(0|[1-9][0-9]*)`, at most 18 digits (so no overflow),
    /// not followed by a fraction or exponent. Nil (nothing consumed) otherwise.
    @inlinable
    public mutating func integer() -> Int64? {
        var i = position
        var negative = false
        if i < n && p[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        let first = i
        var v: Int64 = 0
        while i < n && isDigit(p[i]) && i - first < 18 {
            v = v * 10 + Int64(p[i] &- 48)
            i += 1
        }
        let digits = i - first
        guard digits > 0, digits <= 18, !(digits > 1 && p[first] == UInt8(ascii: "0")) else { return nil }
        if i < n && (p[i] == UInt8(ascii: ".") || p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E") || isDigit(p[i])) {
            return nil
        }
        position = i
        return negative ? -v : v
    }

    /// A non-negative decimal in JSON's grammar, `(0|[1-9][0-9]*)(\.[0-9]+)?`, read as an integer at `scale`
    /// digits after the point (shorter fractions are padded): nil (nothing consumed) for a sign, an exponent, more
    /// fraction digits than `scale` (unless they are zeros), or more than 18 digits in all.
    @inlinable
    public mutating func decimal(scale: UInt8) -> Int64? {
        var i = position
        let first = i
        var v: Int64 = 0
        var digits = 0
        while i < n && isDigit(p[i]) { v = v &* 10 &+ Int64(p[i] &- 48); i += 1; digits += 1 }
        guard digits > 0, digits <= 18, !(digits > 1 && p[first] == UInt8(ascii: "0")) else { return nil }
        var places = 0
        if i < n && p[i] == UInt8(ascii: ".") {
            i += 1
            let fractionStart = i
            while i < n && isDigit(p[i]) {
                if places < Int(scale) {
                    v = v &* 10 &+ Int64(p[i] &- 48)
                    places += 1
                    digits += 1
                } else if p[i] != UInt8(ascii: "0") {
                    return nil                          // finer than the scale
                }
                i += 1
            }
            guard i > fractionStart, digits <= 18 else { return nil }
        }
        if i < n && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) { return nil }
        while places < Int(scale) {
            guard digits < 18 else { return nil }
            v = v &* 10
            places += 1
            digits += 1
        }
        position = i
        return v
    }

    /// `true` or `false`.
    @inlinable
    public mutating func bool() -> Bool? {
        if literal("true") { return true }
        if literal("false") { return false }
        return nil
    }

    /// The text of a number in JSON's grammar, `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; nil (nothing
    /// consumed) if there is none. What follows is the caller's to check.
    public mutating func numberText() -> UnsafeRawBufferPointer? {
        var i = position
        if i < n && p[i] == UInt8(ascii: "-") { i += 1 }
        guard i < n, isDigit(p[i]) else { return nil }
        if p[i] == UInt8(ascii: "0") { i += 1 } else { while i < n && isDigit(p[i]) { i += 1 } }
        if i < n && p[i] == UInt8(ascii: ".") {
            i += 1
            guard i < n, isDigit(p[i]) else { return nil }
            while i < n && isDigit(p[i]) { i += 1 }
        }
        if i < n && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { i += 1 }
            guard i < n, isDigit(p[i]) else { return nil }
            while i < n && isDigit(p[i]) { i += 1 }
        }
        defer { position = i }
        return UnsafeRawBufferPointer(start: p + position, count: i - position)
    }

    /// A member value `scalarObject` hands over.
    public enum Scalar {
        /// A plain string's bytes (see `plainString`).
        case string(UnsafeRawBufferPointer)
        /// A number `integer()` reads.
        case integer(Int64)
        /// Any other number (a fraction, an exponent, over 18 digits): its text.
        case number(UnsafeRawBufferPointer)
        case bool(Bool)
        case null
    }

    /// An object whose members are all scalars, `{"name":value,…}` or `{}`, read in one pass: `body(index, value)`
    /// for the first member of each name in `keys` (as `value["name"]` would find it; later ones and other names are
    /// read and passed over), returning false to refuse the message. False when the object is not of this shape (a
    /// nested value, whitespace, a name or text that is not plain): the caller's general decoder decides then.
    public mutating func scalarObject(_ keys: JSONKeySet, _ body: (_ key: Int, _ value: Scalar) -> Bool) -> Bool {
        guard literal("{") else { return false }
        if literal("}") { return true }
        var seen: UInt64 = 0
        repeat {
            guard literal(#"""#), let name = plainString(), literal(":") else { return false }
            var key = keys.index(of: name) ?? -1
            if key >= 0 { if seen & (1 << UInt64(key)) != 0 { key = -1 } else { seen |= 1 << UInt64(key) } }
            let value: Scalar
            if literal(#"""#) {
                guard let s = plainString() else { return false }
                value = .string(s)
            } else if let i = integer() {
                value = .integer(i)
            } else if let t = numberText() {
                value = .number(t)
            } else if let b = bool() {
                value = .bool(b)
            } else if literal("null") {
                value = .null
            } else {
                return false
            }
            if key >= 0, !body(key, value) { return false }
        } while literal(",")
        return literal("}")
    }
}
