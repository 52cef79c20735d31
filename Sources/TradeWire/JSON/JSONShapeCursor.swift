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
        var i = start
        while i + 8 <= n {
            let special = stringSpecialBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
            if special != 0 {
                i += special.trailingZeroBitCount >> 3
                return closing(start, i)
            }
            i += 8
        }
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
}
