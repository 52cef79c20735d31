/// Writes JSON straight into a caller's buffer (the connection's send buffer,
/// after the frame-header gap). No allocation; on overflow it stops writing and
/// `overflowed` becomes true, so the caller can retry with a larger reservation.
public struct JSONWriter: ~Copyable {
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let capacity: Int
    public private(set) var count = 0
    public private(set) var overflowed = false
    /// One bit per nesting level (up to 64): does the next member/element need a comma?
    @usableFromInline var commaBits: UInt64 = 0
    @usableFromInline var depth = 0
    /// A key was just written: the value that follows takes no separator.
    @usableFromInline var afterKey = false

    public init(_ buffer: UnsafeMutableRawBufferPointer) {
        base = buffer.baseAddress!
        capacity = buffer.count
    }

    @inline(__always) @usableFromInline
    mutating func byte(_ b: UInt8) {
        if count < capacity { base.storeBytes(of: b, toByteOffset: count, as: UInt8.self); count += 1 } else { overflowed = true }
    }

    @inline(__always) @usableFromInline
    mutating func raw(_ p: UnsafeRawBufferPointer) {
        if count + p.count <= capacity {
            if p.count > 0 { copySmall(base + count, p.baseAddress!, p.count) }
            count += p.count
        } else {
            overflowed = true
        }
    }

    @inline(__always) @usableFromInline
    mutating func separator() {
        let bit: UInt64 = 1 << UInt64(depth & 63)
        if commaBits & bit != 0 { byte(UInt8(ascii: ",")) } else { commaBits |= bit }
    }

    public mutating func beginObject() { beforeValue(); byte(UInt8(ascii: "{")); push() }
    public mutating func endObject() { pop(); byte(UInt8(ascii: "}")) }
    public mutating func beginArray() { beforeValue(); byte(UInt8(ascii: "[")); push() }
    public mutating func endArray() { pop(); byte(UInt8(ascii: "]")) }

    @inline(__always) mutating func push() { depth += 1; commaBits &= ~(1 << UInt64(depth & 63)) }
    @inline(__always) mutating func pop() { depth -= 1 }

    /// `"key":` (the key is written as is: static keys need no escaping).
    public mutating func key(_ k: StaticString) {
        separator()
        quotedStatic(k, colon: true)
        afterKey = true
    }

    /// `"text"` or `"text":` from static bytes in one capacity check (keys and fixed values are
    /// most of an order's bytes: byte-at-a-time writes cost more than the copy).
    @inline(__always) mutating func quotedStatic(_ s: StaticString, colon: Bool) {
        let n = s.utf8CodeUnitCount
        let total = n + (colon ? 3 : 2)
        guard count + total <= capacity else { overflowed = true; return }
        let o = base + count
        o.storeBytes(of: UInt8(ascii: "\""), as: UInt8.self)
        copySmall(o + 1, s.utf8Start, n)
        o.storeBytes(of: UInt8(ascii: "\""), toByteOffset: n + 1, as: UInt8.self)
        if colon { o.storeBytes(of: UInt8(ascii: ":"), toByteOffset: n + 2, as: UInt8.self) }
        count += total
    }

    /// A key known only at run time (escaped as needed).
    public mutating func key(dynamic name: String) {
        separator()
        var name = name
        name.withUTF8 { quoted(UnsafeRawBufferPointer($0)) }
        byte(UInt8(ascii: ":"))
        afterKey = true
    }

    /// A value copied as is from a validated document (e.g. to echo part of a request).
    public mutating func rawValue(_ v: JSONValue) {
        beforeValue()
        raw(v.rawBytes)
    }

    @inline(__always) mutating func beforeValue() {
        if afterKey { afterKey = false } else { separator() }
    }

    /// A string value known not to need escaping.
    public mutating func value(_ s: StaticString) {
        beforeValue()
        quotedStatic(s, colon: false)
    }

    /// A string value from UTF-8 bytes, escaped as JSON requires.
    public mutating func string(_ bytes: UnsafeRawBufferPointer) {
        beforeValue()
        quoted(bytes)
    }

    /// `"…"` with JSON escapes. Runs of bytes that need none are found 8 at a time and copied whole.
    @usableFromInline mutating func quoted(_ bytes: UnsafeRawBufferPointer) {
        byte(UInt8(ascii: "\""))
        let n = bytes.count
        var start = 0
        if n > 0 {
            let p = bytes.baseAddress!.assumingMemoryBound(to: UInt8.self)
            var i = 0
            while i < n {
                // Stops at quotes, backslashes, control bytes and (needing no escape, but ending the run) non-ASCII.
                i = skipPlainRun(p, from: i, n)
                guard i < n else { break }
                let c = p[i]
                if c >= 0x20 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") { i += 1; continue }
                raw(UnsafeRawBufferPointer(rebasing: bytes[start..<i]))
                byte(UInt8(ascii: "\\"))
                switch c {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"): byte(c)
                case 0x0A: byte(UInt8(ascii: "n"))
                case 0x0D: byte(UInt8(ascii: "r"))
                case 0x09: byte(UInt8(ascii: "t"))
                default:
                    let hex: StaticString = "0123456789abcdef"
                    byte(UInt8(ascii: "u")); byte(48); byte(48)
                    byte(hex.utf8Start[Int(c >> 4)]); byte(hex.utf8Start[Int(c & 15)])
                }
                i += 1
                start = i
            }
        }
        raw(UnsafeRawBufferPointer(rebasing: bytes[start..<n]))
        byte(UInt8(ascii: "\""))
    }

    public mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { string(UnsafeRawBufferPointer($0)) }
    }

    public mutating func value(_ v: Int64) {
        beforeValue()
        var m = v.magnitude
        var tmp: (UInt64, UInt64, UInt64) = (0, 0, 0)
        withUnsafeMutableBytes(of: &tmp) { t in
            var k = 0
            repeat { t[k] = UInt8(48 + m % 10); m /= 10; k += 1 } while m > 0
            if v < 0 { byte(UInt8(ascii: "-")) }
            while k > 0 { k -= 1; byte(t[k]) }
        }
    }

    public mutating func value(_ v: Int) { value(Int64(v)) }

    /// An exact decimal as a JSON number (`26500.4`).
    public mutating func value(_ d: FixedDecimal) {
        beforeValue()
        if count + 24 <= capacity { count += d.write(to: base + count) } else { overflowed = true }
    }

    /// An exact decimal as a JSON string (`"26500.4"`), as some venues want.
    public mutating func quoted(_ d: FixedDecimal) {
        beforeValue()
        byte(UInt8(ascii: "\""))
        if count + 24 <= capacity { count += d.write(to: base + count) } else { overflowed = true }
        byte(UInt8(ascii: "\""))
    }

    public mutating func value(_ b: Bool) {
        beforeValue()
        if b { raw(UnsafeRawBufferPointer(start: ("true" as StaticString).utf8Start, count: 4)) }
        else { raw(UnsafeRawBufferPointer(start: ("false" as StaticString).utf8Start, count: 5)) }
    }

    public mutating func null() {
        beforeValue()
        raw(UnsafeRawBufferPointer(start: ("null" as StaticString).utf8Start, count: 4))
    }
}
