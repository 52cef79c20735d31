import TradeWire

/// Kraken's `book` checksum ("Book checksum (WebSocket v2)" guide): CRC-32 over the top 10 asks (lowest
/// first), then the top 10 bids (highest first), each level written as its price then its quantity, each
/// number at the pair's precision with the decimal point and the leading zeros removed. Computed on the
/// book after an update was applied and the book truncated to its depth. No allocation (a stack buffer).
public enum KrakenBookChecksum {
    public static let levels = 10

    /// The text of the last checksum's levels, kept per book: an update changes one or two of the top 20, so a
    /// checksum formats those and copies the rest (formatting all 40 numbers was ~40 % of an update's time).
    /// Two generations of 20 slots (`slotSize` bytes: price, quantity, length, digits), allocated once.
    public final class Memo {
        static let slotSize = 64
        static let slots = 2 * levels               // asks then bids
        private var previous: UnsafeMutableRawPointer
        private var current: UnsafeMutableRawPointer
        private var previousCount = (asks: 0, bids: 0)

        public init() {
            previous = .allocate(byteCount: Self.slots * Self.slotSize, alignment: 8)
            current = .allocate(byteCount: Self.slots * Self.slotSize, alignment: 8)
        }

        deinit {
            previous.deallocate()
            current.deallocate()
        }

        /// Write a side's text at `out` (through the slots: reused where a level is unchanged); the byte count.
        fileprivate func write(_ side: UnsafeBufferPointer<L2Level>, first: Int, previousCount: Int,
                               into out: UnsafeMutableRawPointer) -> (bytes: Int, count: Int) {
            var n = 0
            var i = 0
            while i < side.count && i < levels {
                let l = side[i]
                let slot = current + (first + i) * Self.slotSize
                if let old = find(l, from: first, count: previousCount, near: i) {
                    slot.copyMemory(from: old, byteCount: Self.slotSize)
                } else {
                    slot.storeBytes(of: l.price, as: Int64.self)
                    slot.storeBytes(of: l.quantity, toByteOffset: 8, as: Int64.self)
                    let k = digits(l.price, into: slot + 24)
                    let len = k + digits(l.quantity, into: slot + 24 + k)
                    slot.storeBytes(of: len, toByteOffset: 16, as: Int.self)
                }
                let len = slot.load(fromByteOffset: 16, as: Int.self)
                (out + n).copyMemory(from: slot + 24, byteCount: len)
                n += len
                i += 1
            }
            return (n, i)
        }

        /// The previous generation's slot of the same level (same index first: most levels stay put).
        @inline(__always)
        private func find(_ l: L2Level, from first: Int, count: Int, near i: Int) -> UnsafeMutableRawPointer? {
            func matches(_ j: Int) -> UnsafeMutableRawPointer? {
                let s = previous + (first + j) * Self.slotSize
                return s.load(as: Int64.self) == l.price && s.load(fromByteOffset: 8, as: Int64.self) == l.quantity ? s : nil
            }
            if i < count, let s = matches(i) { return s }
            var j = 0
            while j < count {
                if j != i, let s = matches(j) { return s }
                j += 1
            }
            return nil
        }

        fileprivate func compute(_ book: L2Book) -> UInt32 {
            withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 8) { buf -> UInt32 in
                let base = buf.baseAddress!
                let a = book.asks.withUnsafeBufferPointer { write($0, first: 0, previousCount: previousCount.asks, into: base) }
                let b = book.bids.withUnsafeBufferPointer { write($0, first: levels, previousCount: previousCount.bids, into: base + a.bytes) }
                swap(&previous, &current)
                previousCount = (a.count, b.count)
                return CRC32.checksum(UnsafeRawBufferPointer(start: base, count: a.bytes + b.bytes))
            }
        }
    }

    /// The checksum, reusing `memo`'s text of the levels that did not change since its last use on this book.
    public static func compute(_ book: L2Book, memo: Memo) -> UInt32 { memo.compute(book) }

    public static func compute(_ book: L2Book) -> UInt32 {
        // 20 levels × 2 numbers × at most 19 digits.
        withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 8) { buf -> UInt32 in
            let base = buf.baseAddress!
            // Index loops over the storage: a slice's iterator allocates in an unoptimized build.
            let n = book.asks.withUnsafeBufferPointer { asks in write(asks, into: base) }
            let m = book.bids.withUnsafeBufferPointer { bids in write(bids, into: base + n) }
            return CRC32.checksum(UnsafeRawBufferPointer(start: base, count: n + m))
        }
    }

    /// The best `levels` levels of a side, price then quantity each; returns the byte count.
    @inline(__always)
    static func write(_ side: UnsafeBufferPointer<L2Level>, into out: UnsafeMutableRawPointer) -> Int {
        var n = 0
        var i = 0
        while i < side.count && i < levels {
            n += digits(side[i].price, into: out + n)
            n += digits(side[i].quantity, into: out + n)
            i += 1
        }
        return n
    }

    /// The decimal digits of `v` without leading zeros (the integer at the pair's precision is exactly the
    /// number with its point removed); returns how many were written.
    /// "00", "01", … "99": two digits per table read.
    static let twoDigits: StaticString = "00010203040506070809101112131415161718192021222324252627282930313233343536373839404142434445464748495051525354555657585960616263646566676869707172737475767778798081828384858687888990919293949596979899"

    @inline(__always)
    static func digits(_ v: Int64, into out: UnsafeMutableRawPointer) -> Int {
        var m = v.magnitude
        var k = 1
        var limit: UInt64 = 10
        while k < 19 && m >= limit { k += 1; limit &*= 10 }        // Int64 has at most 19 digits; no table (a static array costs a once-check)
        let lut = twoDigits.utf8Start
        var i = k
        while m >= 100 {                              // two digits at a time, from the end
            let q = m / 100
            let r = Int(m &- q &* 100)
            i -= 2
            out.storeBytes(of: lut[2 * r], toByteOffset: i, as: UInt8.self)
            out.storeBytes(of: lut[2 * r + 1], toByteOffset: i + 1, as: UInt8.self)
            m = q
        }
        if m >= 10 {
            out.storeBytes(of: lut[2 * Int(m)], toByteOffset: 0, as: UInt8.self)
            out.storeBytes(of: lut[2 * Int(m) + 1], toByteOffset: 1, as: UInt8.self)
        } else {
            out.storeBytes(of: UInt8(48 + m), toByteOffset: 0, as: UInt8.self)
        }
        return k
    }
}
