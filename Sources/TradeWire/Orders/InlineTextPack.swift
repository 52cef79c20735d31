/// Up to eight optional short texts (`InlineText`s) packed into one inline buffer.
///
/// A venue's answer has several optional text fields (ids, timestamps, an error) of which
/// it uses a few. As separate `InlineText?` members each costs an 80-byte slot, zeroed and
/// copied whether used or not: Kraken's ack was 544 bytes, and decoding it spent more time
/// building and moving those slots than reading the JSON. Here the bytes of the fields that
/// are present sit back to back in 160 bytes, and a field becomes an `InlineText` only when
/// it is read. Each field keeps `InlineText`'s rules (64 bytes at most, cut on a character
/// boundary, `truncated` set). Fields that no longer fit go to a shared heap box: an
/// allocation, only for answers whose texts add up to more than 160 bytes.
public struct InlineTextPack: Sendable, Hashable {
    public static let capacity = 160
    public static let fields = 8

    private var storage: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                          UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64)
        = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    /// Byte `f` of each: field `f`'s offset and length in `storage`.
    private var offsets: UInt64 = 0
    private var lengths: UInt64 = 0
    /// Bit `f` of each: field `f` is present, was truncated, lives in `overflow`.
    private var present: UInt8 = 0
    private var truncatedBits: UInt8 = 0
    private var overflowed: UInt8 = 0
    private var used: UInt8 = 0
    private var overflow: Overflow? = nil

    /// Texts that did not fit. Immutable: a change makes a new box, so copies stay independent.
    private final class Overflow: Sendable {
        let texts: [InlineText?]
        init(_ texts: [InlineText?]) { self.texts = texts }
    }

    public init() {}

    /// Field `f` (0..<8), or nil if it was never set (or set to nil).
    public subscript(f: Int) -> InlineText? {
        get {
            let bit: UInt8 = 1 << f
            guard present & bit != 0 else { return nil }
            if overflowed & bit != 0 { return overflow?.texts[f] }
            let off = Int(truncatingIfNeeded: offsets >> (8 * f)) & 0xFF
            let len = Int(truncatingIfNeeded: lengths >> (8 * f)) & 0xFF
            return withUnsafeBytes(of: storage) {
                InlineText(kept: UnsafeRawBufferPointer(rebasing: $0[off..<off + len]), truncated: truncatedBits & bit != 0)
            }
        }
        set {
            if let t = newValue { t.withBytes { store(f, kept: $0, truncated: t.truncated) } } else { clear(f) }
        }
    }

    /// Set field `f` from raw bytes (cut as `InlineText(bytes:)` cuts them), without building an `InlineText`.
    public mutating func set(_ f: Int, bytes: UnsafeRawBufferPointer) {
        let n = InlineText.keptCount(of: bytes)
        store(f, kept: UnsafeRawBufferPointer(rebasing: bytes[..<n]), truncated: n < bytes.count)
    }

    /// Whether field `f` is set.
    public func contains(_ f: Int) -> Bool { present & (1 << f) != 0 }

    private mutating func store(_ f: Int, kept bytes: UnsafeRawBufferPointer, truncated: Bool) {
        precondition(f >= 0 && f < Self.fields, "InlineTextPack has fields 0..<\(Self.fields)")
        let bit: UInt8 = 1 << f
        present |= bit
        if truncated { truncatedBits |= bit } else { truncatedBits &= ~bit }
        let start = Int(used)
        guard start + bytes.count <= Self.capacity else {
            var texts = overflow?.texts ?? [InlineText?](repeating: nil, count: Self.fields)
            texts[f] = InlineText(kept: bytes, truncated: truncated)
            overflow = Overflow(texts)
            overflowed |= bit
            return
        }
        overflowed &= ~bit
        if bytes.count > 0 {
            withUnsafeMutableBytes(of: &storage) { copySmall($0.baseAddress! + start, bytes.baseAddress!, bytes.count) }
        }
        let shift = UInt64(8 * f)
        offsets = offsets & ~(0xFF << shift) | UInt64(start) << shift
        lengths = lengths & ~(0xFF << shift) | UInt64(bytes.count) << shift
        used = UInt8(start + bytes.count)
    }

    private mutating func clear(_ f: Int) {
        precondition(f >= 0 && f < Self.fields, "InlineTextPack has fields 0..<\(Self.fields)")
        let bit: UInt8 = 1 << f
        present &= ~bit
        truncatedBits &= ~bit
        overflowed &= ~bit
    }

    /// Equal when every field is: how the bytes are laid out does not matter.
    public static func == (a: InlineTextPack, b: InlineTextPack) -> Bool {
        guard a.present == b.present else { return false }
        for f in 0..<fields where a.present & (1 << f) != 0 {
            if a[f] != b[f] { return false }
        }
        return true
    }

    public func hash(into h: inout Hasher) {
        h.combine(present)
        for f in 0..<Self.fields where present & (1 << f) != 0 { h.combine(self[f]) }
    }
}
