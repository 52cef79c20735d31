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
    @inline(__always)
    static func digits(_ v: Int64, into out: UnsafeMutableRawPointer) -> Int {
        var m = v.magnitude
        var k = 1
        var t = m / 10
        while t > 0 { k += 1; t /= 10 }
        var i = k
        repeat {                                  // last digit first, from the end
            i -= 1
            out.storeBytes(of: UInt8(48 + m % 10), toByteOffset: i, as: UInt8.self)
            m /= 10
        } while i > 0
        return k
    }
}
