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

        // posix_spawn and waitpid on this pid, not Foundation's Process: its exit is seen here, whatever
        // else in the test process reaps children; output goes to a file, which never fills like a pipe.
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("dying-venue-bench-\(getpid()).log").path
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        let args = [cli, "bench", "--url", "ws://127.0.0.1:\(port)/v2", "--count", "50000000", "--warmup", "100", "--token", "bench-token"]
        var argv: [UnsafeMutablePointer<CChar>?] = args.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid: pid_t = 0
        try #require(posix_spawn(&pid, cli, &actions, nil, &argv, environ) == 0)
        var status: Int32 = 0
        var exited = false
        func reap() { if !exited, waitpid(pid, &status, WNOHANG) == pid { exited = true } }
        defer { if !exited { kill(pid, SIGKILL); waitpid(pid, &status, 0) } }
        usleep(1_500_000)                       // well into the run
        reap()
        #expect(!exited, "the bench should still be running when the venue dies")
        kill(venue.process.processIdentifier, SIGKILL)

        // Hang guard only (not a timing assertion): a bench that hangs is killed and the test fails.
        let deadline = Date().addingTimeInterval(60)
        while !exited && Date() < deadline { usleep(10_000); reap() }
        let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
        #expect(exited, "the bench hung after the venue died; its output so far: \(output)")
        guard exited else { return }
        let exitedNormally = status & 0x7f == 0
        #expect(exitedNormally, "a clean exit with an error, not a crash (status \(status))")
        #expect((status >> 8) & 0xff != 0)
        #expect(output.contains("failed during the run") || output.contains("closed during the run"), "\(output)")
    }
}
