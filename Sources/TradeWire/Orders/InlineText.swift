/// Up to 64 bytes of UTF-8 stored inline: ids and short venue texts decoded
/// from a response without touching the heap. Longer input is cut at 64 bytes
/// (on a character boundary) and `truncated` is set.
public struct InlineText: Sendable, Hashable, CustomStringConvertible {
    public static let capacity = 64
    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    public private(set) var count = 0
    public private(set) var truncated = false

    public init() {}

    public init(_ s: String) {
        var s = s
        s.withUTF8 { self = InlineText(bytes: UnsafeRawBufferPointer($0)) }
    }

    public init(bytes: UnsafeRawBufferPointer) {
        let n = Self.keptCount(of: bytes)
        if n > 0 { withUnsafeMutableBytes(of: &storage) { copySmall($0.baseAddress!, bytes.baseAddress!, n) } }
        count = n
        truncated = n < bytes.count
    }

    /// How many of `bytes` an inline text keeps: all, or the first 64 cut back to a character boundary.
    @inline(__always) static func keptCount(of bytes: UnsafeRawBufferPointer) -> Int {
        var n = Swift.min(bytes.count, capacity)
        if n < bytes.count {
            while n > 0 && bytes[n] & 0xC0 == 0x80 { n -= 1 }   // do not split a character
        }
        return n
    }

    /// Bytes already cut to `keptCount` (at most `capacity`), with the flag saying whether they were.
    init(kept bytes: UnsafeRawBufferPointer, truncated: Bool) {
        if bytes.count > 0 { withUnsafeMutableBytes(of: &storage) { copySmall($0.baseAddress!, bytes.baseAddress!, bytes.count) } }
        count = bytes.count
        self.truncated = truncated
    }

    /// From a JSON string value (escapes decoded).
    public init?(json v: JSONValue) {
        guard v.kind == .string else { return nil }
        if let raw = v.rawStringBytes {                 // no escapes (the usual case): one copy
            self.init(bytes: raw)
        } else {
            self.init(escaped: v)
        }
    }

    /// A JSON string with escapes, decoded byte by byte.
    private init(escaped v: JSONValue) {
        var k = 0
        var cut = false
        var firstLeftOut: UInt8 = 0
        withUnsafeMutableBytes(of: &storage) { out in
            v.forEachDecodedByte { b in
                if k == Self.capacity { cut = true; firstLeftOut = b; return false }
                out[k] = b
                k += 1
                return true
            }
        }
        // If the first byte left out continues a character, drop that character's stored bytes too.
        if cut && firstLeftOut & 0xC0 == 0x80 {
            withUnsafeBytes(of: storage) { s in
                while k > 0 && s[k - 1] & 0xC0 == 0x80 { k -= 1 }
                if k > 0 { k -= 1 }                     // its lead byte
            }
        }
        count = k
        truncated = cut
    }

    public var isEmpty: Bool { count == 0 }

    public func withBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(of: storage) { try body(UnsafeRawBufferPointer(rebasing: $0[..<count])) }
    }

    public var description: String { withBytes { String(decoding: $0, as: UTF8.self) } }

    public static func == (a: InlineText, b: InlineText) -> Bool {
        a.count == b.count && a.withBytes { x in b.withBytes { y in x.elementsEqual(y) } }
    }

    public func hash(into h: inout Hasher) { withBytes { h.combine(bytes: $0) } }

    public func hasPrefix(_ p: StaticString) -> Bool {
        withBytes { b in
            b.count >= p.utf8CodeUnitCount && (0..<p.utf8CodeUnitCount).allSatisfy { b[$0] == p.utf8Start[$0] }
        }
    }
}

extension JSONWriter {
    /// An inline text as a JSON string.
    public mutating func string(_ t: InlineText) { t.withBytes { string($0) } }
    public mutating func string(_ id: ClientOrderID) { id.withBytes { string($0) } }
}
