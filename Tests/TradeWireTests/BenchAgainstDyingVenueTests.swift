import Foundation
import Testing
import TradeWireSimulator

/// `tradewire bench` against a `tradewire simulator` process killed mid-run: the
/// bench ends with a clear error and a non-zero exit status, never a hang.
@Suite("Bench against a dying venue")
struct BenchAgainstDyingVenueTests {
    @Test func benchExitsNonZeroWhenTheVenueDies() throws {
        let binDir = URL(fileURLWithPath: Bundle.module.bundlePath).deletingLastPathComponent()
        let cli = binDir.appendingPathComponent("tradewire").path
        try #require(FileManager.default.isExecutableFile(atPath: cli), "\(cli)")

        let venue = try SimulatorProcess(executable: cli, arguments: ["--token", "bench-token"])
        defer { venue.stop() }
        let port = venue.port

        let bench = Process()
        bench.executableURL = URL(fileURLWithPath: cli)
        bench.arguments = ["bench", "--url", "ws://127.0.0.1:\(port)/v2", "--count", "50000000", "--warmup", "100", "--token", "bench-token"]
        let out = Pipe()
        bench.standardOutput = out
        bench.standardError = out
        // Drained while it runs: a bench writing more than a pipe holds (a sanitizer's report) would block.
        let drained = Locked(Data())
        let reader = Thread { drained.withLock { $0 = out.fileHandleForReading.readDataToEndOfFile() } }
        reader.start()
        try bench.run()
        defer { if bench.isRunning { kill(bench.processIdentifier, SIGKILL) } }
        usleep(1_500_000)                       // well into the run
        #expect(bench.isRunning, "the bench should still be running when the venue dies")
        kill(venue.process.processIdentifier, SIGKILL)

        // Hang guard only (not a timing assertion): a bench that hangs is killed and the test fails.
        let deadline = Date().addingTimeInterval(60)
        while bench.isRunning && Date() < deadline { usleep(10_000) }
        #expect(!bench.isRunning, "the bench hung after the venue died")
        if bench.isRunning { return }
        bench.waitUntilExit()
        try? out.fileHandleForWriting.close()      // our copy of the write end, so the reader sees EOF
        while !reader.isFinished { usleep(10_000) }
        let output = String(decoding: drained.withLock { $0 }, as: UTF8.self)
        #expect(bench.terminationStatus != 0)
        #expect(bench.terminationReason == .exit)           // a clean exit with an error, not a crash
        #expect(output.contains("failed during the run") || output.contains("closed during the run"), "\(output)")
    }
}
