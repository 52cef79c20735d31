import Foundation

/// `tradewire simulator` in its own process, so that its allocations and CPU time
/// are not counted against the client under measurement. Busy-polling on CPU 1.
final class VenueProcess: @unchecked Sendable {
    let process = Process()
    let port: Int
    let caFile: String?
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
        process.executableURL = URL(fileURLWithPath: Self.cli)
        process.arguments = ["simulator", "--port", "0", "--no-rate-limits", "--exit-with-parent", "--token", Self.token, "--busy-poll", "--cpu", "1"]
            + (ca.map { ["--tls", "--ca-out", $0] } ?? [])
        let banner = Pipe()
        process.standardOutput = banner
        // Not the runner's stderr: the benchmark tool waits for that pipe to close.
        process.standardError = FileHandle.nullDevice
        try process.run()
        // First line: "TradeWire simulator on ws://127.0.0.1:PORT"
        var text = ""
        while !text.contains("\n") {
            let d = banner.fileHandleForReading.availableData
            if d.isEmpty { break }
            text += String(decoding: d, as: UTF8.self)
        }
        guard let first = text.split(separator: "\n").first, let p = first.split(separator: ":").last.flatMap({ Int($0) }) else {
            kill(process.processIdentifier, SIGKILL)
            throw BenchmarkSetupError("the simulator did not start: \(text)")
        }
        port = p
        caFile = ca
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        if let caFile { try? FileManager.default.removeItem(atPath: caFile) }
    }
}

struct BenchmarkSetupError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}
