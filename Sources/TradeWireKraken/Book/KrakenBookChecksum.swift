import TradeWire

/// Kraken's `book` checksum ("Book checksum (WebSocket v2)" guide): CRC-32 over the top 10 asks (lowest
/// first), then the top 10 bids (highest first), each level written as its price then its quantity, each
/// number at the pair's precision with the decimal point and the leading zeros removed. Computed on the
/// book after an update was applied and the book truncated to its depth. No allocation (a stack buffer).
public enum KrakenBookChecksum {
    public static let levels = 10

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
