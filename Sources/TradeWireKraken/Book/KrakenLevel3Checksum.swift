import TradeWire

/// Kraken's `level3` checksum ("L3 checksum (WebSocket v2)" guide): CRC-32 over the top 10 ask price levels (lowest
/// first), then the top 10 bid levels (highest first), each level's orders in queue order, each order written as
/// its limit price then its quantity, each number at the pair's precision with the decimal point and the leading
/// zeros removed. It checks the queue order too, which is why a book must keep it. No allocation: the text goes
/// through a stack buffer into the CRC as it is written.
public enum KrakenLevel3Checksum {
    public static let levels = 10

    public static func compute(_ book: L3Book) -> UInt32 {
        withUnsafeTemporaryAllocation(byteCount: 4096, alignment: 8) { buf -> UInt32 in
            let base = buf.baseAddress!
            var crc: UInt32 = 0
            var n = 0
            func side(_ levels: [L3Level]) {
                var i = 0
                while i < levels.count && i < Self.levels {
                    let level = levels[i]
                    var k = 0
                    while k < level.orders.count {
                        if n > 4096 - 64 {              // two numbers of at most 19 digits each fit in what is left
                            crc = CRC32.checksum(UnsafeRawBufferPointer(start: base, count: n), continuing: crc)
                            n = 0
                        }
                        n += KrakenBookChecksum.digits(level.price, into: base + n)
                        n += KrakenBookChecksum.digits(level.orders[k].quantity, into: base + n)
                        k += 1
                    }
                    i += 1
                }
            }
            side(book.asks)
            side(book.bids)
            return CRC32.checksum(UnsafeRawBufferPointer(start: base, count: n), continuing: crc)
        }
    }
}
