import Foundation

/// `tradewire simulator` in a child process on a free port: a venue whose memory
/// and CPU time are not those of the process under measurement (benchmarks, soak).
/// It dies with its parent (`--exit-with-parent`), so none outlives a crashed run.
public final class SimulatorProcess: @unchecked Sendable {
    public let process = Process()
    public let port: UInt16

    /// `executable`: the `tradewire` CLI; `arguments`: simulator options after
    /// `--port 0 --no-rate-limits --exit-with-parent`.
    public init(executable: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = ["simulator", "--port", "0", "--no-rate-limits", "--exit-with-parent"] + arguments
        let banner = Pipe()
        process.standardOutput = banner
        // Not the caller's stderr: a tool waiting for that pipe to close would wait for the venue too.
        process.standardError = FileHandle.nullDevice
        try process.run()
        // First line: "TradeWire simulator on ws://127.0.0.1:PORT"
        var text = ""
        while !text.contains("\n") {
            let d = banner.fileHandleForReading.availableData
            if d.isEmpty { break }
            text += String(decoding: d, as: UTF8.self)
        }
        guard let first = text.split(separator: "\n").first, let p = first.split(separator: ":").last.flatMap({ UInt16($0) }) else {
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
            throw SimulatorProcessError(description: "the simulator did not start: \(text)")
        }
        port = p
    }

    public func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

public struct SimulatorProcessError: Error, CustomStringConvertible {
    public let description: String
}
