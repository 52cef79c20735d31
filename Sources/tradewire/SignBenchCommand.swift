import ArgumentParser
import Foundation
import TradeWire

/// `tradewire sign-bench`: the cost of signing one Binance order request, one-off (`Signing`: key setup or PEM
/// parse each time) against a key prepared once (`RequestSigner`, what `BinanceClient` uses), per key type.
struct SignBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sign-bench", abstract: "ns per Binance request signature: one-off vs a key prepared once (HMAC, Ed25519, RSA-2048).")

    @Option(help: "Signatures per measurement.") var count = 20_000
    @Flag(help: "End with one JSON line.") var json = false

    func run() throws {
        // A typical order.place payload, as BinanceEncoder signs it (sorted parameters).
        let payload = "apiKey=vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A&newClientOrderId=tw-7&price=52000.00"
            + "&quantity=0.01000000&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"
        let (ed, _) = try Signing.ed25519KeyPair()
        var rows: [(String, Double, Double)] = []
        let hmac = try RequestSigner(hmacSHA256: secret)
        rows.append(("HMAC-SHA256", try Self.p50(count) { _ = try Signing.hmacSHA256Hex(key: secret, message: payload) },
                     try Self.p50(count) { _ = try hmac.sign(payload) }))
        let edSigner = try RequestSigner(privateKeyPEM: ed)
        rows.append(("Ed25519", try Self.p50(count / 4) { _ = try Signing.ed25519Base64(privateKeyPEM: ed, message: payload) },
                     try Self.p50(count / 4) { _ = try edSigner.sign(payload) }))
        if let rsa = Self.rsaKey() {
            let rsaSigner = try RequestSigner(privateKeyPEM: rsa)
            rows.append(("RSA-2048", try Self.p50(count / 40) { _ = try Signing.rsaSHA256Base64(privateKeyPEM: rsa, message: payload) },
                         try Self.p50(count / 40) { _ = try rsaSigner.sign(payload) }))
        }
        print("Binance request signature, \(payload.utf8.count)-byte payload, p50 ns (one core):")
        print("key            one-off   prepared")
        for (name, once, prepared) in rows {
            print(name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: " %9.0f %10.0f", once, prepared))
        }
        if json {
            let fields = rows.map { r -> String in
                let k = r.0.lowercased().replacingOccurrences(of: "-", with: "_")
                return "\"\(k)_oneoff_ns\":\(Int(r.1)),\"\(k)_prepared_ns\":\(Int(r.2))"
            }
            print("{" + fields.joined(separator: ",") + "}")
        }
    }

    /// The median time of one call, over `n` calls each timed on its own.
    static func p50(_ n: Int, _ body: () throws -> Void) throws -> Double {
        for _ in 0..<max(10, n / 10) { try body() }            // warm
        var t: [UInt64] = []
        t.reserveCapacity(n)
        for _ in 0..<max(1, n) {
            let a = MonotonicClock.nanoseconds()
            try body()
            t.append(MonotonicClock.nanoseconds() - a)
        }
        t.sort()
        return Double(t[t.count / 2])
    }

    /// An RSA-2048 key from the `openssl` command, if it is there.
    static func rsaKey() -> String? {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("tradewire-sign-bench-\(getpid()).pem").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        p.arguments = ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", path]
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return nil }
        p.waitUntilExit()
        return p.terminationStatus == 0 ? try? String(contentsOfFile: path, encoding: .utf8) : nil
    }
}
