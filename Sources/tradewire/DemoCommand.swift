import ArgumentParser
import Foundation
import TradeWire

/// Prints each round trip in the form users know from seed 001.
final class DemoClient: WebSocketHandler, @unchecked Sendable {
    let total: Int
    let printFirst: Int
    var sent = 0
    var submitted: UInt64 = 0
    var samples: [UInt64] = []
    let done = Completion()
    var failure: WebSocketClose?

    init(total: Int, printFirst: Int) {
        self.total = total
        self.printFirst = printFirst
        samples.reserveCapacity(total)
    }

    func webSocketDidOpen(_ c: WebSocketConnection) { sendNext(c) }

    private func sendNext(_ c: WebSocketConnection) {
        sent += 1
        let p = orderPayload(id: sent)
        do { submitted = try p.withUnsafeBytes { try c.send(.text, bytes: $0) } } catch { done.signal() }
    }

    func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
        let ns = m.receivedAt - submitted
        samples.append(ns)
        if sent <= printFirst {
            print("WebSocket Request - ID: \(sent) | Method: echo | Latency: \(ns / 1000)µs")
        }
        if sent < total { sendNext(c) } else { try? c.close(code: 1000, reason: "demo done") }
    }

    func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        if close.error != nil { failure = close }
        done.signal()
    }
}

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Start a local server with TradeWire's server role and run a round-trip demo over ws:// and wss://.")

    @Option(help: "Round trips per transport.") var count = 2_000
    @Option(help: "How many round trips to print one by one.") var show = 5

    func run() throws {
        let serverLoop = try EventLoop()
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradewire-demo-\(getpid())").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let cert = try GeneratedCertificate.generate(in: dir)
        let plain = try WebSocketServer.listen(on: serverLoop, port: 0) { _, _ in EchoHandler() }
        let secure = try WebSocketServer.listen(on: serverLoop, port: 0,
                                                tls: .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile)) { _, _ in EchoHandler() }
        let clientLoop = try EventLoop()
        print("TradeWire demo: echo server (TradeWire server role) on ws://127.0.0.1:\(plain.port) and wss://127.0.0.1:\(secure.port); backend \(clientLoop.backend)")
        print("latency = frame handed to the kernel -> reap of the completion holding the reply's last byte\n")
        var rows: [String] = []
        for (name, url, tls) in [("ws://", "ws://127.0.0.1:\(plain.port)/echo", TLSConfiguration.default),
                                 ("wss:// (verified, CA made at start)", "wss://127.0.0.1:\(secure.port)/echo",
                                  TLSConfiguration(additionalTrust: [.caFile(cert.caFile)]))] {
            print("== \(name)")
            let client = DemoClient(total: count, printFirst: show)
            _ = try WebSocketConnection.connect(on: clientLoop, configuration: .init(url: try WebSocketURL(url), tls: tls), handler: client)
            client.done.wait()
            if let f = client.failure { throw ValidationError("\(name) failed: \(f)") }
            rows.append(LatencySummary(client.samples).row("\(name) (\(client.samples.count))"))
            print("")
        }
        print(LatencySummary.header)
        rows.forEach { print($0) }
        clientLoop.shutdown()
        serverLoop.shutdown()
    }
}
