// swift-tools-version: 6.1
// A separate package that uses TradeWire as a user would: by path, in Swift 6 language mode
// (tools 6.1 defaults to it; stated below so that it stays so). `make check-api` builds and runs
// `Consumer` against the embedded simulator, then checks that each file of RacyPatterns/ fails to
// compile (built one at a time as the `RacyCheck` target).
import PackageDescription

let package = Package(
    name: "Consumer",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "TradeWire", path: "../..")],
    targets: [
        .executableTarget(
            name: "Consumer",
            dependencies: [
                .product(name: "TradeWire", package: "TradeWire"),
                .product(name: "TradeWireKraken", package: "TradeWire"),
                .product(name: "TradeWireBinance", package: "TradeWire"),
                .product(name: "TradeWireGateway", package: "TradeWire"),
                .product(name: "TradeWireQuotes", package: "TradeWire"),
                .product(name: "TradeWireSimulator", package: "TradeWire"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
        .executableTarget(
            name: "RacyCheck",
            dependencies: [
                .product(name: "TradeWire", package: "TradeWire"),
                .product(name: "TradeWireKraken", package: "TradeWire"),
                .product(name: "TradeWireQuotes", package: "TradeWire"),
            ],
            swiftSettings: [.swiftLanguageMode(.v6)]),
    ]
)
