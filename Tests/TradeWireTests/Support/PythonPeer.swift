import Foundation
import Synchronization
import Testing

/// A Python script from `Peers/` as a child process that prints `READY <port>…` once it listens: the
/// independent WebSocket peer (Python `websockets` + a raw scripted server), or the fault proxy.
final class PythonPeer: @unchecked Sendable {
    let process = Process()
    /// The ports of its READY line.
    let ports: [UInt16]
    var wsPort: UInt16 { ports[0] }
    var rawPort: UInt16 { ports[1] }
    private let output = Locked<[String]>([])

    static var python: String {
        if let p = ProcessInfo.processInfo.environment["TRADEWIRE_PYTHON"], !p.isEmpty { return p }
        // `swift test` from the package root: use the venv `make test` creates.
        let venv = FileManager.default.currentDirectoryPath + "/.venv/bin/python"
        return FileManager.default.isExecutableFile(atPath: venv) ? venv : "/usr/bin/python3"
    }

    convenience init(cert: String? = nil, key: String? = nil) throws {
        var args: [String] = []
        if let cert, let key { args += ["--cert", cert, "--key", key] }
        try self.init(script: "ws_peer", arguments: args)
    }

    init(script name: String, arguments: [String]) throws {
        guard let script = Bundle.module.path(forResource: name, ofType: "py", inDirectory: "Peers") else {
            throw PeerError("\(name).py missing from the test bundle")
        }
        process.executableURL = URL(fileURLWithPath: Self.python)
        process.arguments = ["-u", script] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.standardError
        try process.run()
        let handle = pipe.fileHandleForReading
        // Read lines on a background thread; the first must be READY.
        let ready = Locked<[UInt16]?>(nil)
        let lines = output
        Thread.detachNewThread {
            var pending = Data()
            while true {
                let chunk = handle.availableData
                if chunk.isEmpty { return }
                pending.append(chunk)
                while let nl = pending.firstIndex(of: 0x0A) {
                    let line = String(decoding: pending[pending.startIndex..<nl], as: UTF8.self)
                    pending.removeSubrange(pending.startIndex...nl)
                    let parts = line.split(separator: " ")
                    if parts.first == "READY", parts.count >= 2, case let ports = parts.dropFirst().compactMap({ UInt16($0) }),
                       ports.count == parts.count - 1 {
                        ready.withLock { $0 = ports }
                    } else {
                        lines.withLock { $0.append(line) }
                    }
                }
            }
        }
        let deadline = Date().addingTimeInterval(30)
        while ready.withLock({ $0 }) == nil {
            if !process.isRunning || Date() > deadline {
                kill(process.processIdentifier, SIGKILL)
                throw PeerError("python peer did not start (\(Self.python)); run `make test` to create .venv")
            }
            usleep(10_000)
        }
        ports = ready.withLock { $0! }
    }

    /// Wait (bounded) for an output line with this prefix.
    func waitLine(prefix: String, seconds: Double = 10) -> String? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let l = output.withLock({ $0.first { $0.hasPrefix(prefix) } }) { return l }
            usleep(5_000)
        }
        return nil
    }

    /// Run a Python script with the interop interpreter; returns its exit status and standard output.
    /// Run a Python snippet (`sys.argv[1...]` = `arguments`) and collect what it prints.
    static func run(script: String, arguments: [String] = []) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: python)
        p.arguments = ["-c", script] + arguments
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    /// How many output lines with this prefix arrived so far.
    func lineCount(prefix: String) -> Int { output.withLock { $0.filter { $0.hasPrefix(prefix) }.count } }

    /// Wait (bounded) until `count` lines with this prefix arrived; returns them in order.
    func allLines(prefix: String, count: Int, seconds: Double = 10) -> [String] {
        let deadline = Date().addingTimeInterval(seconds)
        var found: [String] = []
        repeat {
            found = output.withLock { $0.filter { $0.hasPrefix(prefix) } }
            if found.count >= count { break }
            usleep(5_000)
        } while Date() < deadline
        return found
    }

    deinit {
        // SIGKILL: Foundation's terminate() did not end the asyncio peer reliably.
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
}

struct PeerError: Error, CustomStringConvertible {
    let description: String
    init(_ d: String) { description = d }
}

/// A temporary directory removed at deinit.
final class TempDir: Sendable {
    let path: String
    init() throws {
        path = NSTemporaryDirectory() + "tradewire-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// A Mutex in a class, so escaping closures can share it.
final class Locked<T: Sendable>: Sendable {
    private let m: Mutex<T>
    init(_ v: T) { m = Mutex(v) }
    func withLock<R>(_ body: (inout sending T) -> sending R) -> sending R { m.withLock(body) }
}
