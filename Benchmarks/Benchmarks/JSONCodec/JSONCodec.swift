// Encoding and decoding of the Kraken messages on the order path, in memory:
// an add_order request, its ack, and an execution report. 1,000 per iteration.
import Benchmark
import TradeWire
import TradeWireKraken

let ack = Array(#"""
{"method":"add_order","req_id":123456789,"result":{"order_id":"OQCLML-BW3P3-BUCMWZ","cl_ord_id":"tw-17"},"success":true,"time_in":"2023-09-27T15:37:36.486423Z","time_out":"2023-09-27T15:37:36.487191Z"}
"""#.utf8)

let executionReport = Array(#"""
{"channel":"executions","type":"update","data":[{"order_id":"OQCLML-BW3P3-BUCMWZ","cl_ord_id":"tw-17","symbol":"BTC/USD","side":"buy","order_type":"limit","order_qty":1.25,"limit_price":26500.4,"order_status":"partially_filled","exec_type":"trade","exec_id":"TLXVUN-3GZGR-LXRKIA","trade_id":2810345,"last_qty":0.5,"last_price":26500.4,"cum_qty":0.5,"avg_price":26500.4,"cost":13250.2,"liquidity_ind":"t","timestamp":"2023-09-27T15:37:36.487191Z"}],"sequence":42}
"""#.utf8)

let order = KrakenRequest.addOrder(KrakenAddOrder(
    Order.limit("BTC/USD", .buy, quantity: "1.25", price: "26500.4", clientOrderID: ClientOrderID("tw-17")!)))

nonisolated(unsafe) let kilo = Benchmark.Configuration(
    metrics: [.throughput, .wallClock, .mallocCountTotal],
    scalingFactor: .kilo,
    maxDuration: .seconds(3),
    // No allocation is allowed on these paths: any is a regression.
    thresholds: [.mallocCountTotal: .init(absolute: [.p90: 0])])

let benchmarks: @Sendable () -> Void = {
    Benchmark("JSONCodec encode add_order", configuration: kilo) { benchmark in
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 1024, alignment: 8)
        defer { buffer.deallocate() }
        benchmark.startMeasurement()
        for i in benchmark.scaledIterations {
            var w = JSONWriter(buffer)
            KrakenEncoder.encode(order, id: UInt64(i), token: nil, into: &w)
            blackHole(w.count)
        }
    }

    Benchmark("JSONCodec decode add_order ack", configuration: kilo) { benchmark in
        try ack.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                guard case .response(let r) = try KrakenDecoder.decode(bytes), r.success else { fatalError("ack did not decode") }
                blackHole(r.requestID)
            }
        }
    }

    Benchmark("JSONCodec decode execution report", configuration: kilo) { benchmark in
        try executionReport.withUnsafeBytes { bytes in
            for _ in benchmark.scaledIterations {
                guard case .push(.executions(let x)) = try KrakenDecoder.decode(bytes), x.reports.count == 1 else {
                    fatalError("execution report did not decode")
                }
                blackHole(x.reports[0].cumQty)
            }
        }
    }
}
