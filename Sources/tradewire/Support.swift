import Dispatch
import Foundation
import TradeWire

/// Percentiles over a sample of nanosecond latencies (sorted copy).
struct LatencySummary {
    let count: Int
    let p50, p90, p99, p999, max: Double   // µs

    init(_ samplesNs: [UInt64]) {
        let s = samplesNs.sorted()
        count = s.count
        func at(_ q: Double) -> Double {
            guard !s.isEmpty else { return 0 }
            let i = Swift.min(s.count - 1, Int((q * Double(s.count)).rounded(.up)) - 1)
            return Double(s[Swift.max(0, i)]) / 1000
        }
        p50 = at(0.50); p90 = at(0.90); p99 = at(0.99); p999 = at(0.999)
        max = Double(s.last ?? 0) / 1000
    }

    func row(_ name: String) -> String {
        func f(_ v: Double) -> String { String(format: "%9.1f", v) }
        return "\(name.padding(toLength: 38, withPad: " ", startingAt: 0))\(f(p50))\(f(p90))\(f(p99))\(f(p999))\(f(max))"
    }

    static let header = "\("".padding(toLength: 38, withPad: " ", startingAt: 0))      p50      p90      p99    p99.9      max  (µs)"
}

/// Waits on the calling thread for a connection to end; the handler runs on the loop.
final class Completion: @unchecked Sendable {
    private let sem = DispatchSemaphore(value: 0)
    func signal() { sem.signal() }
    func wait() { sem.wait() }
    func wait(seconds: Double) -> Bool { sem.wait(timeout: .now() + seconds) == .success }
}

/// A 200-byte order-like JSON payload, the size the benchmarks use.
func orderPayload(id: Int, size: Int = 200) -> [UInt8] {
    var s = #"{"method":"add_order","params":{"order_type":"limit","side":"buy","limit_price":26500.4,"order_qty":1.25,"symbol":"BTC/USD","cl_ord_id":"tw-"# + String(id) + #""},"req_id":"# + String(id) + "}"
    if s.count < size { s.insert(contentsOf: String(repeating: " ", count: size - s.count), at: s.index(before: s.endIndex)) }
    return Array(s.utf8)
}


/// Serve until killed. (Not dispatchMain(): under the async root command it would
/// pthread_exit the thread running the async main, which libdispatch traps on.)
func parkForever() -> Never {
    while true { sleep(3600) }
}

/// A value shared with callbacks on the loop thread.
final class Locked<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func withLock<R>(_ body: (inout T) -> R) -> R { lock.lock(); defer { lock.unlock() }; return body(&value) }
}

/// Runs async work to completion from synchronous command code (not on the cooperative pool's threads).
func blockingAwait(_ body: @escaping @Sendable () async throws -> Void) throws {
    let done = Completion()
    let failure = Locked<String?>(nil)
    Task {
        do { try await body() } catch { failure.withLock { $0 = "\(error)" } }
        done.signal()
    }
    done.wait()
    if let f = failure.withLock({ $0 }) { throw BenchFailure(f) }
}
