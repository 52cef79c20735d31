// swift-tools-version: 6.1
// TradeWire: low-latency trading WebSocket client. Linux only (io_uring, epoll).
import PackageDescription

let package = Package(
    name: "TradeWire",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "TradeWire", targets: ["TradeWire"]),
        .library(name: "TradeWireKraken", targets: ["TradeWireKraken"]),
        .library(name: "TradeWireQuotes", targets: ["TradeWireQuotes"]),
        .library(name: "TradeWireGateway", targets: ["TradeWireGateway"]),
        .library(name: "TradeWireBinance", targets: ["TradeWireBinance"]),
        .library(name: "TradeWireSimulator", targets: ["TradeWireSimulator"]),
        // The loop and venue clients as swift-service-lifecycle services (graceful shutdown).
        .library(name: "TradeWireLifecycle", targets: ["TradeWireLifecycle"]),
        // The C core on its own (frame parser/encoder, upgrade, TLS, io_uring loop), for C callers and Benchmarks/.
        .library(name: "CTradeWire", targets: ["CTradeWire"]),
        .executable(name: "tradewire", targets: ["tradewire"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        // `swift package generate-documentation` (the DocC catalogs under Sources/*/*.docc).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CLibURing", path: "CSources/CLibURing", pkgConfig: "liburing",
            providers: [.apt(["liburing-dev"])]),
        .systemLibrary(
            name: "COpenSSL", path: "CSources/COpenSSL", pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]),
        .target(
            name: "CTradeWire",
            dependencies: ["CLibURing", "COpenSSL"],
            path: "CSources/CTradeWire",
            publicHeadersPath: "include"),
        // No unsafeFlags here: a package that has them cannot be depended on by version. SwiftPM
        // builds C with -O2 in release anyway; the Makefile adds the warnings (C_WARNINGS).
        .target(
            name: "CTradeWireFloor",
            dependencies: ["COpenSSL"],
            path: "CSources/CTradeWireFloor",
            publicHeadersPath: "include"),
        .target(
            name: "TradeWire",
            dependencies: [
                "CTradeWire",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "CoreMetrics", package: "swift-metrics"),
            ]),
        .target(
            name: "TradeWireLifecycle",
            dependencies: ["TradeWire", .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
        .target(
            name: "TradeWireKraken",
            dependencies: ["TradeWire", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics")]),
        .target(
            name: "TradeWireQuotes",
            dependencies: ["TradeWire", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics")]),
        .target(
            name: "TradeWireGateway",
            dependencies: ["TradeWire", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics")]),
        .target(
            name: "TradeWireBinance",
            dependencies: ["TradeWire", .product(name: "Logging", package: "swift-log"),
                           .product(name: "CoreMetrics", package: "swift-metrics")]),
        .target(
            name: "TradeWireSimulator",
            dependencies: ["TradeWire", .product(name: "Logging", package: "swift-log")]),
        .executableTarget(
            name: "tradewire",
            dependencies: [
                "TradeWire", "TradeWireKraken", "TradeWireQuotes", "TradeWireGateway", "TradeWireBinance", "TradeWireSimulator",
                "CTradeWire", "CTradeWireFloor",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ]),
        .executableTarget(
            name: "fuzz-venues",
            dependencies: ["TradeWire", "TradeWireKraken", "TradeWireBinance", "TradeWireGateway", "TradeWireQuotes"],
            path: "Fuzz/FuzzVenues"),
        .target(name: "CMallocCounter", path: "Tests/CMallocCounter", publicHeadersPath: "include"),
        .testTarget(
            name: "TradeWireTests",
            dependencies: ["TradeWire", "TradeWireKraken", "TradeWireQuotes", "TradeWireGateway", "TradeWireBinance", "TradeWireSimulator", "TradeWireLifecycle", "CTradeWire", "CTradeWireFloor", "CMallocCounter",
                           .product(name: "MetricsTestKit", package: "swift-metrics"),
                           .product(name: "ServiceLifecycleTestKit", package: "swift-service-lifecycle")],
            resources: [.copy("Peers"), .copy("Fixtures")]),
    ]
)
