import TradeWire

/// Kraken's `book` checksum ("Book checksum (WebSocket v2)" guide): CRC-32 over the top 10 asks (lowest
/// first), then the top 10 bids (highest first), each level written as its price then its quantity, each
/// number at the pair's precision with the decimal point and the leading zeros removed. Computed on the
/// book after an update was applied and the book truncated to its depth. No allocation (a stack buffer).
public enum KrakenBookChecksum {
    public static let levels = 10

    /// The text of the last checksum's levels, kept per book: an update changes one or two of the top 20, so a
    /// checksum formats those and reuses the text of the rest (formatting all 40 numbers was ~40 % of an update's
    /// time). Each of the 20 places (asks then bids) points at a slot of a pool (`slotSize` bytes: price, quantity,
    /// text length, text); an unchanged level keeps its slot, so nothing is copied but its text into the checksum
    /// buffer, a fixed 40 bytes at a time. A slot is free when neither this generation nor the last points at it.
    /// Allocated once.
    public final class Memo {
        static let slotSize = 64
        static let textCapacity = 40            // two numbers of at most 19 digits
        static let places = 2 * levels
        static let poolSlots = 2 * places + 8   // this generation's and the last's, with room to find a free one
        private let pool: UnsafeMutableRawPointer
        /// Per place, the slot of this generation (`current`) and of the last (`previous`).
        private var previous: UnsafeMutablePointer<Int>
        private var current: UnsafeMutablePointer<Int>
        /// The generation that last pointed at each slot.
        private let stamps: UnsafeMutablePointer<UInt64>
        private var generation: UInt64 = 2
        private var cursor = 0
        private var previousCount = (asks: 0, bids: 0)

        public init() {
            pool = .allocate(byteCount: Self.poolSlots * Self.slotSize, alignment: 8)
            previous = .allocate(capacity: Self.places)
            current = .allocate(capacity: Self.places)
            stamps = .allocate(capacity: Self.poolSlots)
            stamps.initialize(repeating: 0, count: Self.poolSlots)
        }

        deinit {
            pool.deallocate()
            previous.deallocate()
            current.deallocate()
            stamps.deallocate()
        }

        /// Write a side's text at `out` (each level's from its slot, formatted only when new); the byte count.
        fileprivate func write(_ side: UnsafeBufferPointer<L2Level>, first: Int, previousCount: Int,
                               into out: UnsafeMutableRawPointer) -> (bytes: Int, count: Int) {
            var n = 0
            var i = 0
            while i < side.count && i < levels {
                let l = side[i]
                let s = find(l, from: first, count: previousCount, near: i) ?? format(l)
                stamps[s] = generation
                current[first + i] = s
                let slot = pool + s * Self.slotSize
                // A fixed 40 bytes (the buffer has room past the end): no call to copy a short, varying length.
                var k = 0
                while k < Self.textCapacity {
                    (out + n + k).storeBytes(of: slot.load(fromByteOffset: 24 + k, as: UInt64.self), as: UInt64.self)
                    k += 8
                }
                n += slot.load(fromByteOffset: 16, as: Int.self)
                i += 1
            }
            return (n, i)
        }

        /// The last generation's slot of the same level (same place first: most levels stay put).
        @inline(__always)
        private func find(_ l: L2Level, from first: Int, count: Int, near i: Int) -> Int? {
            func matches(_ j: Int) -> Int? {
                let s = previous[first + j]
                let slot = pool + s * Self.slotSize
                return slot.load(as: Int64.self) == l.price && slot.load(fromByteOffset: 8, as: Int64.self) == l.quantity ? s : nil
            }
            if i < count, let s = matches(i) { return s }
            var j = 0
            while j < count {
                if j != i, let s = matches(j) { return s }
                j += 1
            }
            return nil
        }

        /// A free slot with the level's text.
        private func format(_ l: L2Level) -> Int {
            while stamps[cursor] &+ 1 >= generation { cursor = cursor + 1 == Self.poolSlots ? 0 : cursor + 1 }
            let slot = pool + cursor * Self.slotSize
            slot.storeBytes(of: l.price, as: Int64.self)
            slot.storeBytes(of: l.quantity, toByteOffset: 8, as: Int64.self)
            let k = digits(l.price, into: slot + 24)
            slot.storeBytes(of: k + digits(l.quantity, into: slot + 24 + k), toByteOffset: 16, as: Int.self)
            return cursor
        }

        fileprivate func compute(_ book: L2Book) -> UInt32 {
            withUnsafeTemporaryAllocation(byteCount: 1024, alignment: 8) { buf -> UInt32 in
                let base = buf.baseAddress!
                let a = book.asks.withUnsafeBufferPointer { write($0, first: 0, previousCount: previousCount.asks, into: base) }
                let b = book.bids.withUnsafeBufferPointer { write($0, first: levels, previousCount: previousCount.bids, into: base + a.bytes) }
                swap(&previous, &current)
                previousCount = (a.count, b.count)
                generation += 1
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
