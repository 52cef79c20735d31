// Byte-level primitives of the JSON reader and writer's hot paths: short copies
// without a libc call, and eight-bytes-at-a-time (SWAR) searches.

/// Copies `n` bytes. Up to 64 bytes (JSON keys, ids, timestamps) move as overlapping
/// words instead of a call into libc's memmove, which costs more than the copy at
/// these sizes on the order path. Public for the venue modules' encoders.
@inlinable @inline(__always)
public func copySmall(_ dst: UnsafeMutableRawPointer, _ src: UnsafeRawPointer, _ n: Int) {
    switch n {
    case 33...64:
        let a = src.loadUnaligned(as: SIMD16<UInt8>.self), b = src.loadUnaligned(fromByteOffset: 16, as: SIMD16<UInt8>.self)
        let c = src.loadUnaligned(fromByteOffset: n - 32, as: SIMD16<UInt8>.self)
        let d = src.loadUnaligned(fromByteOffset: n - 16, as: SIMD16<UInt8>.self)
        dst.storeBytes(of: a, as: SIMD16<UInt8>.self)
        dst.storeBytes(of: b, toByteOffset: 16, as: SIMD16<UInt8>.self)
        dst.storeBytes(of: c, toByteOffset: n - 32, as: SIMD16<UInt8>.self)
        dst.storeBytes(of: d, toByteOffset: n - 16, as: SIMD16<UInt8>.self)
    case 16...32:
        let a = src.loadUnaligned(as: SIMD16<UInt8>.self), b = src.loadUnaligned(fromByteOffset: n - 16, as: SIMD16<UInt8>.self)
        dst.storeBytes(of: a, as: SIMD16<UInt8>.self)
        dst.storeBytes(of: b, toByteOffset: n - 16, as: SIMD16<UInt8>.self)
    case 8..<16:
        let a = src.loadUnaligned(as: UInt64.self), b = src.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        dst.storeBytes(of: a, as: UInt64.self)
        dst.storeBytes(of: b, toByteOffset: n - 8, as: UInt64.self)
    case 4..<8:
        let a = src.loadUnaligned(as: UInt32.self), b = src.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        dst.storeBytes(of: a, as: UInt32.self)
        dst.storeBytes(of: b, toByteOffset: n - 4, as: UInt32.self)
    case 1..<4:
        for i in 0..<n { dst.storeBytes(of: src.load(fromByteOffset: i, as: UInt8.self), toByteOffset: i, as: UInt8.self) }
    case 0:
        break
    default:
        dst.copyMemory(from: src, byteCount: n)
    }
}

/// Eight bytes at a time (SWAR): a mask with the high bit set in each byte of `x`
/// that is zero; bytes above a flagged one may be flagged falsely, never below, so
/// the lowest flagged byte is always a true one.
@inline(__always) @usableFromInline
func zeroBytes(_ x: UInt64) -> UInt64 { (x &- 0x0101_0101_0101_0101) & ~x & 0x8080_8080_8080_8080 }

/// Eight bytes of a JSON string at a time: flags quotes, backslashes, control bytes (< 0x20)
/// and bytes over 0x7F, the bytes a plain scan must stop at; the lowest flag is exact.
@inline(__always) @usableFromInline
func stringSpecialBytes(_ w: UInt64) -> UInt64 {
    zeroBytes(w ^ 0x2222_2222_2222_2222) | zeroBytes(w ^ 0x5C5C_5C5C_5C5C_5C5C)
        | ((w &- 0x2020_2020_2020_2020) & ~w & 0x8080_8080_8080_8080) | (w & 0x8080_8080_8080_8080)
}

/// Skips plain string bytes (not a quote, backslash, control byte or byte over 0x7F) eight at a time from `i`:
/// returns the offset of the first byte that is not plain, or where fewer than eight bytes are left before `n`
/// (the caller reads those one at a time).
@inline(__always) @usableFromInline
func skipPlainRun(_ p: UnsafePointer<UInt8>, from i: Int, _ n: Int) -> Int {
    var i = i
    while i + 8 <= n {
        let special = stringSpecialBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self))
        if special != 0 { return i + special.trailingZeroBitCount >> 3 }
        i += 8
    }
    return i
}

/// The offset of the first backslash in `n` bytes at `p`, or nil.
@inline(__always) @usableFromInline
func firstBackslash(_ p: UnsafePointer<UInt8>, _ n: Int) -> Int? {
    var i = 0
    while i + 8 <= n {
        let m = zeroBytes(UnsafeRawPointer(p + i).loadUnaligned(as: UInt64.self) ^ 0x5C5C_5C5C_5C5C_5C5C)
        if m != 0 { return i + m.trailingZeroBitCount >> 3 }
        i += 8
    }
    while i < n { if p[i] == UInt8(ascii: "\\") { return i }; i += 1 }
    return nil
}
