#if canImport(Glibc)
import Glibc
#endif

/// Wall-clock timestamps as venues print them: RFC 3339 with microseconds, UTC.
enum VenueClock {
    /// Writes `2023-09-21T14:15:07.197274Z` (27 bytes) into a 32-byte scratch and lends it.
    static func withRFC3339<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        var t = time_t(ts.tv_sec)
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
            ch("."); put(Int(ts.tv_nsec / 1000), 6); ch("Z")
            return body(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(b)[..<i]))
        }
    }
}
