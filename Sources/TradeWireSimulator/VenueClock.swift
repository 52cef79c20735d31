#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timestamps as venues print them: RFC 3339 with microseconds, UTC.
enum VenueClock {
    /// Writes `2023-09-21T14:15:07.197274Z` (27 bytes) into a 32-byte scratch and lends it.
    static func withRFC3339<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return withRFC3339(seconds: Int(ts.tv_sec), nanoseconds: Int(ts.tv_nsec), fractionDigits: 6, body)
    }

    /// The current time, seconds since the epoch.
    static var epochSeconds: Int {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int(ts.tv_sec)
    }

    /// Writes a given time with `fractionDigits` (at most 9) digits of its second, e.g. Kraken's candle
    /// `interval_begin`, `2023-10-04T15:25:00.000000000Z`.
    static func withRFC3339<R>(seconds: Int, nanoseconds: Int, fractionDigits: Int, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var t = time_t(seconds)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        return withUnsafeMutableBytes(of: &buf) { b in
            var i = 0
            func put(_ v: Int, _ width: Int) {
                var d = width - 1
                var x = v
                while d >= 0 { b[i + d] = UInt8(48 + x % 10); x /= 10; d -= 1 }
                i += width
            }
            func ch(_ c: Character) { b[i] = c.asciiValue!; i += 1 }
            put(Int(tmv.tm_year) + 1900, 4); ch("-"); put(Int(tmv.tm_mon) + 1, 2); ch("-"); put(Int(tmv.tm_mday), 2)
            ch("T"); put(Int(tmv.tm_hour), 2); ch(":"); put(Int(tmv.tm_min), 2); ch(":"); put(Int(tmv.tm_sec), 2)
            var fraction = nanoseconds
            for _ in fractionDigits..<9 { fraction /= 10 }
            ch("."); put(fraction, fractionDigits); ch("Z")
            return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[..<i]))
        }
    }
}
