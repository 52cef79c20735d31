// swift-tools-version: 6.1
// TradeWire's benchmark suite (ordo-one/benchmark). Its own package, so that users
// of the library never resolve benchmark dependencies. Run from this folder:
//   swift package benchmark                      (everything)
//   swift package benchmark --filter OrderRoundTrip
//   swift package benchmark thresholds check     (fails on a regression past Thresholds/)
import Foundation
import PackageDescription

// The root package's identity is its folder's name (a path dependency), whatever the clone is called.
let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().lastPathComponent

let benchmark: Target.PluginUsage = .plugin(name: "BenchmarkPlugin", package: "benchmark")

let package = Package(
    name: "TradeWireBenchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "OrderRoundTrip",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TradeWire", package: root),
                .product(name: "TradeWireKraken", package: root),
                .product(name: "TradeWireSimulator", package: root),
            ],
            path: "Benchmarks/OrderRoundTrip",
            plugins: [benchmark]),
        .executableTarget(
            name: "FrameParse",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "CTradeWire", package: root),
            ],
            path: "Benchmarks/FrameParse",
            plugins: [benchmark]),
        .executableTarget(
            name: "JSONCodec",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "TradeWire", package: root),
                .product(name: "TradeWireKraken", package: root),
            ],
            path: "Benchmarks/JSONCodec",
            plugins: [benchmark]),
    ]
)
