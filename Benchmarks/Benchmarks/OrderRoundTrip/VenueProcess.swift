import Foundation
import TradeWireSimulator

/// The venue for OrderRoundTrip: `tradewire simulator` in its own process, busy-polling on CPU 1.
final class VenueProcess: @unchecked Sendable {
    let simulator: SimulatorProcess
    let caFile: String?
    var port: UInt16 { simulator.port }
    /// The Kraken WebSocket token the venue is started with.
    static let token = "benchmark-token"

    /// The CLI the root package builds (`make build`), or $TRADEWIRE_CLI.
    static var cli: String {
        if let p = ProcessInfo.processInfo.environment["TRADEWIRE_CLI"] { return p }
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return root.appendingPathComponent(".build/release/tradewire").path
    }

    init(tls: Bool) throws {
        guard FileManager.default.isExecutableFile(atPath: Self.cli) else {
            throw BenchmarkSetupError("\(Self.cli) is missing: build it first (make build in the repository root)")
        }
        let ca = tls ? FileManager.default.temporaryDirectory.appendingPathComponent("tw-bench-ca-\(getpid()).pem").path : nil
        simulator = try SimulatorProcess(executable: Self.cli, arguments: ["--token", Self.token, "--busy-poll", "--cpu", "1"]
            + (ca.map { ["--tls", "--ca-out", $0] } ?? []))
        caFile = ca
    }

    func stop() {
        simulator.stop()
        if let caFile { try? FileManager.default.removeItem(atPath: caFile) }
    }
}

struct BenchmarkSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
