#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One value inside a validated `JSONDocument`: a view (base, start, end), no copy.
public struct JSONValue {
    public enum Kind: Sendable { case object, array, string, number, bool, null }

    @usableFromInline let base: UnsafePointer<UInt8>
    @usableFromInline let start: Int
    @usableFromInline let end: Int

    @usableFromInline init(base: UnsafePointer<UInt8>, start: Int, end: Int) {
        self.base = base
        self.start = start
        self.end = end
    }

    public var kind: Kind {
        switch base[start] {
        case UInt8(ascii: "{"): return .object
        case UInt8(ascii: "["): return .array
        case UInt8(ascii: "\""): return .string
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: return .number
        }
    }

    /// The value's exact text.
    public var rawBytes: UnsafeRawBufferPointer { UnsafeRawBufferPointer(start: base + start, count: end - start) }

    // MARK: navigation (the text is known valid, so skipping is a plain scan)

    @inline(__always) @usableFromInline func space(_ i: Int) -> Int {
        var i = i
        while base[i] == 0x20 || base[i] == 0x0A || base[i] == 0x0D || base[i] == 0x09 { i += 1 }
        return i
    }

    /// End of the value starting at i.
    @usableFromInline func skip(_ i: Int) -> Int {
        switch base[i] {
        case UInt8(ascii: "\""):
            // memchr to the next quote; it closes the string unless an odd run of backslashes precedes it.
            var j = i + 1
            while true {
                guard let q = memchr(base + j, Int32(UInt8(ascii: "\"")), end - j) else { return end }
                let at = UnsafePointer<UInt8>(q.assumingMemoryBound(to: UInt8.self)) - base
                var slashes = 0
                while at - 1 - slashes > i && base[at - 1 - slashes] == UInt8(ascii: "\\") { slashes += 1 }
                if slashes & 1 == 0 { return at + 1 }
                j = at + 1
            }
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            var depth = 0
            var j = i
            repeat {
                let c = base[j]
                if c == UInt8(ascii: "\"") { j = skip(j); continue }
                if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") { depth += 1 }
                else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") { depth -= 1 }
                j += 1
            } while depth > 0
            return j
        case UInt8(ascii: "t"), UInt8(ascii: "n"): return i + 4
        case UInt8(ascii: "f"): return i + 5
        default:
            var j = i
            while j < end, isNumberByte(base[j]) { j += 1 }
            return j
        }
    }

    @inline(__always) @usableFromInline func isNumberByte(_ c: UInt8) -> Bool {
        isDigit(c) || c == UInt8(ascii: "-") || c == UInt8(ascii: "+") || c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E")
    }

    /// Calls body for each member of an object until it returns false.
    @inlinable public func forEachMember(_ body: (_ key: JSONValue, _ value: JSONValue) throws -> Bool) rethrows {
        guard base[start] == UInt8(ascii: "{") else { return }
        var i = space(start + 1)
        while base[i] != UInt8(ascii: "}") {
            let kEnd = skip(i)
            let key = JSONValue(base: base, start: i, end: kEnd)
            let vStart = space(space(kEnd) + 1)
            let vEnd = skip(vStart)
            if try !body(key, JSONValue(base: base, start: vStart, end: vEnd)) { return }
            i = space(vEnd)
            if base[i] == UInt8(ascii: ",") { i = space(i + 1) }
        }
    }

    /// Calls body for each element of an array until it returns false.
    @inlinable public func forEachElement(_ body: (JSONValue) throws -> Bool) rethrows {
        guard base[start] == UInt8(ascii: "[") else { return }
        var i = space(start + 1)
        while base[i] != UInt8(ascii: "]") {
            let e = skip(i)
            if try !body(JSONValue(base: base, start: i, end: e)) { return }
            i = space(e)
            if base[i] == UInt8(ascii: ",") { i = space(i + 1) }
        }
    }

    /// The member named key (first match), or nil. Matches escaped keys too; no allocation.
    public subscript(key: StaticString) -> JSONValue? {
        var found: JSONValue? = nil
        forEachMember { k, v in
            if k.stringEquals(key) { found = v; return false }
            return true
        }
        return found
    }

    public var elementCount: Int {
        var c = 0
        forEachElement { _ in c += 1; return true }
        return c
    }

    // MARK: scalars

    public var isNull: Bool { base[start] == UInt8(ascii: "n") }
    public var bool: Bool? {
        switch base[start] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"): return false
        default: return nil
        }
    }

    /// An integer number (no fraction or exponent) that fits Int64.
    public var int64: Int64? {
        guard kind == .number else { return nil }
        var i = start
        var neg = false
        if base[i] == UInt8(ascii: "-") { neg = true; i += 1 }
        var v: Int64 = 0
        while i < end {
            let c = base[i]
            guard isDigit(c) else { return nil }
            let (m, o1) = v.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(Int64(c - 48))
            if o1 || o2 { return nil }
            v = a
            i += 1
        }
        return neg ? -v : v
    }

    /// An exact decimal from a JSON number or from a string holding one (venues send both).
    public var decimal: FixedDecimal? {
        switch kind {
        case .number: return FixedDecimal(ascii: rawBytes)
        case .string:
            guard let raw = rawStringBytes else { return nil }
            return FixedDecimal(ascii: raw)
        default: return nil
        }
    }

    /// The string's bytes between the quotes when it holds no escape (zero copy), else nil.
    public var rawStringBytes: UnsafeRawBufferPointer? {
        guard kind == .string else { return nil }
        if firstBackslash(base + start + 1, end - start - 2) != nil { return nil }
        return UnsafeRawBufferPointer(start: base + start + 1, count: end - start - 2)
    }

    /// Decoded UTF-8 of a string value, byte by byte, escapes resolved.
    @inlinable public func forEachDecodedByte(_ body: (UInt8) -> Bool) {
        guard base[start] == UInt8(ascii: "\"") else { return }
        var i = start + 1
        let last = end - 1
        func emitScalar(_ u: UInt32) -> Bool {
            if u < 0x80 { return body(UInt8(u)) }
            if u < 0x800 { return body(UInt8(0xC0 | (u >> 6))) && body(UInt8(0x80 | (u & 0x3F))) }
            if u < 0x10000 {
                return body(UInt8(0xE0 | (u >> 12))) && body(UInt8(0x80 | ((u >> 6) & 0x3F))) && body(UInt8(0x80 | (u & 0x3F)))
            }
            return body(UInt8(0xF0 | (u >> 18))) && body(UInt8(0x80 | ((u >> 12) & 0x3F)))
                && body(UInt8(0x80 | ((u >> 6) & 0x3F))) && body(UInt8(0x80 | (u & 0x3F)))
        }
        while i < last {
            let c = base[i]
            if c != UInt8(ascii: "\\") {
                if !body(c) { return }
                i += 1
                continue
            }
            let e = base[i + 1]
            var out: UInt8 = e
            switch e {
            case UInt8(ascii: "b"): out = 0x08
            case UInt8(ascii: "f"): out = 0x0C
            case UInt8(ascii: "n"): out = 0x0A
            case UInt8(ascii: "r"): out = 0x0D
            case UInt8(ascii: "t"): out = 0x09
            case UInt8(ascii: "u"):
                var u = hex4(i + 2)
                i += 6
                if u >= 0xD800 && u <= 0xDBFF {
                    u = 0x10000 + ((u - 0xD800) << 10) + (hex4(i + 2) - 0xDC00)
                    i += 6
                }
                if !emitScalar(u) { return }
                continue
            default: break
            }
            if !body(out) { return }
            i += 2
        }
    }

    @usableFromInline func hex4(_ i: Int) -> UInt32 {
        var v: UInt32 = 0
        for k in 0..<4 { v = v << 4 | (hexValue(base[i + k]) ?? 0) }
        return v
    }

    /// Does this string value equal s (after unescaping)? No allocation.
    public func stringEquals(_ s: StaticString) -> Bool {
        guard kind == .string else { return false }
        let want = s.utf8Start
        let n = s.utf8CodeUnitCount
        if let raw = rawStringBytes {                       // the common case: no escapes
            return raw.count == n && memcmpEqual(raw.baseAddress!.assumingMemoryBound(to: UInt8.self), want, n)
        }
        var k = 0
        var equal = true
        forEachDecodedByte { b in
            if k >= n || want[k] != b { equal = false; return false }
            k += 1
            return true
        }
        return equal && k == n
    }

    /// Copy the decoded string into out; returns the byte count, or nil if it does not fit.
    public func copyString(into out: UnsafeMutableRawBufferPointer) -> Int? {
        guard kind == .string else { return nil }
        var k = 0
        var fits = true
        forEachDecodedByte { b in
            if k == out.count { fits = false; return false }
            out[k] = b
            k += 1
            return true
        }
        return fits ? k : nil
    }

    /// The decoded string (allocates; for convenience off the hot path).
    public var string: String? {
        guard kind == .string else { return nil }
        if let raw = rawStringBytes { return String(decoding: raw, as: UTF8.self) }
        var bytes: [UInt8] = []
        forEachDecodedByte { bytes.append($0); return true }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// A Double (for display; prices use `decimal`).
    public var double: Double? {
        guard kind == .number else { return nil }
        return Double(String(decoding: rawBytes, as: UTF8.self))
    }
}
