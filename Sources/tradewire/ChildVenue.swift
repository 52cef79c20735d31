import Foundation

/// `tradewire simulator` started from this same binary in a child process, on a
/// free port: a venue whose memory and CPU time are not the measured process's.
final class ChildVenue: @unchecked Sendable {
    let process = Process()
    let port: UInt16

    init(arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe")
        process.arguments = ["simulator", "--port", "0", "--no-rate-limits", "--exit-with-parent"] + arguments
        let banner = Pipe()
        process.standardOutput = banner
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
            throw BenchFailure("the simulator did not start: \(text)")
        }
        port = p
    }

    func stop() {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
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
