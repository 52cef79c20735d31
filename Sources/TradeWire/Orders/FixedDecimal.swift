/// An exact decimal: `mantissa × 10^-scale`. Parsed from and printed to the
/// exact digits venues send; never passes through `Double`.
public struct FixedDecimal: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let mantissa: Int64
    /// Digits after the decimal point, 0...18.
    public let scale: UInt8

    public static let maxScale: UInt8 = 18

    public init(mantissa: Int64, scale: UInt8) {
        precondition(scale <= Self.maxScale, "scale over 18")
        self.mantissa = mantissa
        self.scale = scale
    }

    /// Parse a JSON-number-shaped decimal (`-12.5`, `1e-3`, `0.000123`) from ASCII
    /// bytes. nil if malformed, or if it does not fit in 18 digits after the
    /// point and Int64 before scaling.
    public init?(ascii p: UnsafeRawBufferPointer) {
        var i = 0
        let n = p.count
        guard n > 0 else { return nil }
        var negative = false
        if p[0] == UInt8(ascii: "-") { negative = true; i = 1 }
        var mant: UInt64 = 0
        var digits = 0, fracDigits = 0
        var sawPoint = false
        while i < n {
            let c = p[i]
            if c >= 48 && c <= 57 {
                // Skip leading zeros for the overflow count; keep every other digit exactly.
                if mant > (UInt64(Int64.max) - UInt64(c - 48)) / 10 { return nil }
                mant = mant * 10 + UInt64(c - 48)
                digits += 1
                if sawPoint { fracDigits += 1 }
            } else if c == UInt8(ascii: ".") && !sawPoint {
                sawPoint = true
            } else {
                break
            }
            i += 1
        }
        guard digits > 0 else { return nil }
        var exp = 0
        if i < n && (p[i] == UInt8(ascii: "e") || p[i] == UInt8(ascii: "E")) {
            i += 1
            var eneg = false
            if i < n && (p[i] == UInt8(ascii: "+") || p[i] == UInt8(ascii: "-")) { eneg = p[i] == UInt8(ascii: "-"); i += 1 }
            var e = 0, ed = 0
            while i < n && p[i] >= 48 && p[i] <= 57 {
                e = e * 10 + Int(p[i] - 48)
                ed += 1
                if e > 400 { return nil }
                i += 1
            }
            guard ed > 0 else { return nil }
            exp = eneg ? -e : e
        }
        guard i == n else { return nil }
        var scale = fracDigits - exp
        // A positive exponent beyond the fraction multiplies the mantissa.
        while scale < 0 {
            if mant > UInt64(Int64.max) / 10 { return nil }
            mant *= 10
            scale += 1
        }
        // Drop trailing zeros only when needed to fit 18 places.
        while scale > Int(Self.maxScale) {
            guard mant % 10 == 0 else { return nil }
            mant /= 10
            scale -= 1
        }
        self.init(mantissa: negative ? -Int64(mant) : Int64(mant), scale: UInt8(scale))
    }

    public init?(_ string: String) {
        var s = string
        guard let v = s.withUTF8({ FixedDecimal(ascii: UnsafeRawBufferPointer($0)) }) else { return nil }
        self = v
    }

    /// Write the exact digits (`-26500.40` keeps its scale) at `out`; returns the byte count (at most 21).
    @inline(__always)
    public func write(to out: UnsafeMutableRawPointer) -> Int {
        var buf: (UInt64, UInt64, UInt64) = (0, 0, 0)   // 24 bytes of scratch on the stack
        return withUnsafeMutableBytes(of: &buf) { tmp -> Int in
            var m = mantissa.magnitude
            var k = 0
            var s = Int(scale)
            repeat {
                tmp[k] = UInt8(48 + m % 10)
                m /= 10
                k += 1
                s -= 1
                if s == 0 { tmp[k] = UInt8(ascii: "."); k += 1 }
            } while m > 0 || s >= 0
            var o = 0
            if mantissa < 0 { out.storeBytes(of: UInt8(ascii: "-"), toByteOffset: 0, as: UInt8.self); o = 1 }
            while k > 0 {
                k -= 1
                out.storeBytes(of: tmp[k], toByteOffset: o, as: UInt8.self)
                o += 1
            }
            return o
        }
    }

    public var description: String {
        var bytes = [UInt8](repeating: 0, count: 24)
        let n = bytes.withUnsafeMutableBytes { write(to: $0.baseAddress!) }
        return String(decoding: bytes[..<n], as: UTF8.self)
    }

    /// Compare numerically (1.20 == 1.2).
    private static func aligned(_ a: FixedDecimal, _ b: FixedDecimal) -> (Int64, Int64)? {
        var x = a.mantissa, y = b.mantissa
        var sa = a.scale, sb = b.scale
        while sa < sb { let (r, o) = x.multipliedReportingOverflow(by: 10); if o { return nil }; x = r; sa += 1 }
        while sb < sa { let (r, o) = y.multipliedReportingOverflow(by: 10); if o { return nil }; y = r; sb += 1 }
        return (x, y)
    }

    public static func == (a: FixedDecimal, b: FixedDecimal) -> Bool {
        if let (x, y) = aligned(a, b) { return x == y }
        return false
    }

    public static func < (a: FixedDecimal, b: FixedDecimal) -> Bool {
        if let (x, y) = aligned(a, b) { return x < y }
        return Double(a.mantissa) / pow10(a.scale) < Double(b.mantissa) / pow10(b.scale)
    }

    public func hash(into h: inout Hasher) {
        var m = mantissa, s = scale
        while s > 0 && m % 10 == 0 { m /= 10; s -= 1 }
        h.combine(m)
        h.combine(s)
    }

    private static func pow10(_ s: UInt8) -> Double {
        var r = 1.0
        for _ in 0..<s { r *= 10 }
        return r
    }
}

extension FixedDecimal {
    public static let zero = FixedDecimal(mantissa: 0, scale: 0)

    private static func align(_ a: FixedDecimal, _ b: FixedDecimal) -> (Int64, Int64, UInt8) {
        var x = a.mantissa, y = b.mantissa, sa = a.scale, sb = b.scale
        while sa < sb { x *= 10; sa += 1 }
        while sb < sa { y *= 10; sb += 1 }
        return (x, y, sa)
    }

    /// Exact sum (traps on Int64 overflow, like Int).
    public static func + (a: FixedDecimal, b: FixedDecimal) -> FixedDecimal {
        let (x, y, s) = align(a, b)
        return FixedDecimal(mantissa: x + y, scale: s)
    }

    /// Exact difference.
    public static func - (a: FixedDecimal, b: FixedDecimal) -> FixedDecimal {
        let (x, y, s) = align(a, b)
        return FixedDecimal(mantissa: x - y, scale: s)
    }

    /// Product, truncated to 18 places.
    public static func * (a: FixedDecimal, b: FixedDecimal) -> FixedDecimal {
        var m = a.mantissa * b.mantissa
        var s = Int(a.scale) + Int(b.scale)
        while s > Int(maxScale) { m /= 10; s -= 1 }
        return FixedDecimal(mantissa: m, scale: UInt8(s))
    }
}

/// A price, exact. `Price("26500.4")`.
public struct Price: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let value: FixedDecimal
    public init(_ value: FixedDecimal) { self.value = value }
    public init?(_ string: String) { guard let d = FixedDecimal(string) else { return nil }; value = d }
    /// For literals in code: traps on a malformed literal.
    public init(stringLiteral s: String) { value = FixedDecimal(s)! }
    public static func < (a: Price, b: Price) -> Bool { a.value < b.value }
    public var description: String { value.description }
}

/// A quantity, exact. `Quantity("1.25")`.
public struct Quantity: Sendable, Hashable, Comparable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let value: FixedDecimal
    public init(_ value: FixedDecimal) { self.value = value }
    public init?(_ string: String) { guard let d = FixedDecimal(string) else { return nil }; value = d }
    public init(stringLiteral s: String) { value = FixedDecimal(s)! }
    public static func < (a: Quantity, b: Quantity) -> Bool { a.value < b.value }
    public var description: String { value.description }
}
