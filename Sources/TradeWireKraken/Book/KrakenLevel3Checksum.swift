import TradeWire

/// Kraken's `level3` checksum ("L3 checksum (WebSocket v2)" guide): CRC-32 over the top 10 ask price levels (lowest
/// first), then the top 10 bid levels (highest first), each level's orders in queue order, each order written as
/// its limit price then its quantity, each number at the pair's precision with the decimal point and the leading
/// zeros removed. It checks the queue order too, which is why a book must keep it. No allocation: the text goes
/// through a stack buffer into the CRC as it is written.
public enum KrakenLevel3Checksum {
    public static let levels = 10

    public static func compute(_ book: L3Book) -> UInt32 {
        withUnsafeTemporaryAllocation(byteCount: bufferSize, alignment: 8) { buf -> UInt32 in
            let base = buf.baseAddress!
            var crc: UInt32 = 0
            var n = 0
            book.asks.withUnsafeBufferPointer { write($0, base, &n, &crc) }
            book.bids.withUnsafeBufferPointer { write($0, base, &n, &crc) }
            return CRC32.checksum(UnsafeRawBufferPointer(start: base, count: n), continuing: crc)
        }
    }

    static let bufferSize = 1024      // at most 1024: a larger temporary allocation goes to the heap

    /// A side's top `levels` levels, order by order, through the buffer into the CRC (a static function with inout
    /// state: a local function capturing it would box it on the heap in an unoptimized build).
    private static func write(_ side: UnsafeBufferPointer<L3Level>, _ base: UnsafeMutableRawPointer, _ n: inout Int, _ crc: inout UInt32) {
        var i = 0
        while i < side.count && i < levels {
            let price = side[i].price
            side[i].orders.withUnsafeBufferPointer { orders in
                var k = 0
                while k < orders.count {
                    if n > bufferSize - 64 {            // two numbers of at most 19 digits each fit in what is left
                        crc = CRC32.checksum(UnsafeRawBufferPointer(start: base, count: n), continuing: crc)
                        n = 0
                    }
                    n += KrakenBookChecksum.digits(price, into: base + n)
                    n += KrakenBookChecksum.digits(orders[k].quantity, into: base + n)
                    k += 1
                }
            }
            i += 1
        }
    }
}
