import Foundation
import Testing

/// `tradewire autobahn` against a server that follows the fuzzingserver's URL
/// contract and judges each case as the suite does (Peers/autobahn_contract.py).
@Suite("Autobahn contract")
struct AutobahnContractTests {
    @Test func everyCasePassesAndReportsAreUpdated() throws {
        guard let script = Bundle.module.path(forResource: "autobahn_contract", ofType: "py", inDirectory: "Peers") else {
            throw PeerError("autobahn_contract.py missing")
        }
        // The CLI is built next to the test bundle by `swift build --build-tests`.
        let binDir = URL(fileURLWithPath: Bundle.module.bundlePath).deletingLastPathComponent()
        let cli = binDir.appendingPathComponent("tradewire").path
        #expect(FileManager.default.isExecutableFile(atPath: cli), "\(cli)")

        let server = Process()
        server.executableURL = URL(fileURLWithPath: PythonPeer.python)
        server.arguments = ["-u", script]
        let out = Pipe()
        server.standardOutput = out
        try server.run()
        defer { kill(server.processIdentifier, SIGKILL); server.waitUntilExit() }
        let reader = out.fileHandleForReading
        var text = ""
        func readLine() -> String? {
            while !text.contains("\n") {
                let d = reader.availableData
                if d.isEmpty { return nil }
                text += String(decoding: d, as: UTF8.self)
            }
            let i = text.firstIndex(of: "\n")!
            let line = String(text[..<i])
            text = String(text[text.index(after: i)...])
            return line
        }
        let ready = try #require(readLine())
        let port = try #require(ready.split(separator: " ").last.flatMap { Int($0) })

        let client = Process()
        client.executableURL = URL(fileURLWithPath: cli)
        client.arguments = ["autobahn", "--url", "ws://127.0.0.1:\(port)", "--agent", "TradeWireTest"]
        client.standardOutput = FileHandle.nullDevice
        try client.run()
        client.waitUntilExit()
        #expect(client.terminationStatus == 0)
        let report = try #require(readLine())
        // "REPORT <agent> <passed> <total> <failed ids>"
        let f = report.split(separator: " ")
        #expect(f.count == 5 && f[0] == "REPORT" && f[1] == "TradeWireTest")
        #expect(f[2] == f[3], "failed cases: \(f.last ?? "")")
        #expect(Int(f[3]) ?? 0 >= 13)
    }
}
