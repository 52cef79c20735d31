import ArgumentParser
import Foundation
import Dispatch
import TradeWire

struct EchoServer: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo-server", abstract: "Run a WebSocket echo server with TradeWire's server role.")

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port (0 = any; the chosen one is printed).") var port: UInt16 = 9001
    @Option(help: "Serve wss:// with this certificate (PEM).") var cert: String?
    @Option(help: "Private key for --cert (PEM).") var key: String?
    @Flag(help: "Busy-poll the server loop.") var busyPoll = false

    func run() throws {
        let loop = try EventLoop(configuration: .init(waitMode: busyPoll ? .busyPoll : .wait))
        let tls = try cert.map { c -> WebSocketServer.TLS in
            guard let key else { throw ValidationError("--cert needs --key") }
            return .init(certificateFile: c, privateKeyFile: key)
        }
        let server = try WebSocketServer.listen(on: loop, host: host, port: port, tls: tls) { _, _ in EchoHandler() }
        print("echo server on \(tls == nil ? "ws" : "wss")://\(host):\(server.port)/ (backend \(loop.backend))")
        fflush(nil)    // the banner must reach a log or pipe at once
        parkForever()
    }
}
