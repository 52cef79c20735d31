import ArgumentParser
import TradeWire

/// Echoes every message of a fuzzingserver case until the server closes.
final class AutobahnCase: WebSocketHandler, @unchecked Sendable {
    let done = Completion()
    var firstText: String?
    var close: WebSocketClose?

    func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
        guard m.opcode == .text || m.opcode == .binary else { return }
        if firstText == nil && m.opcode == .text { firstText = m.text }
        _ = try? c.send(m.opcode, bytes: m.bytes)
    }

    func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
        self.close = close
        done.signal()
    }
}

struct Autobahn: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Echo client for the Autobahn|Testsuite fuzzingserver (RFC 6455 client conformance).")

    @Option(help: "The fuzzingserver, e.g. ws://127.0.0.1:9001") var url: String
    @Option(help: "Agent name in the reports.") var agent = "TradeWire"
    @Option(help: "Run only these cases (1-based), e.g. 1-10; default: all.") var cases: String?

    func run() throws {
        let base = try WebSocketURL(url)
        let loop = try EventLoop()
        // The suite sends up to 16 MiB messages and expects them echoed.
        let limits = WebSocketLimits(maxFrameSize: 64 << 20, maxMessageSize: 64 << 20)
        func session(_ target: String) throws -> AutobahnCase {
            var u = base
            u.target = target
            let h = AutobahnCase()
            _ = try WebSocketConnection.connect(on: loop, configuration: .init(url: u, limits: limits), handler: h)
            h.done.wait()
            return h
        }
        let countCase = try session("/getCaseCount")
        guard let n = countCase.firstText.flatMap({ Int($0) }) else {
            throw ValidationError("no case count from \(url)/getCaseCount (\(countCase.close.map { "\($0)" } ?? "no close"))")
        }
        var range = 1...n
        if let cases {
            let parts = cases.split(separator: "-").compactMap { Int($0) }
            if parts.count == 2 { range = max(1, parts[0])...min(n, parts[1]) }
            else if parts.count == 1 { range = parts[0]...parts[0] }
        }
        print("Autobahn: \(n) cases; running \(range.lowerBound)-\(range.upperBound) as agent \(agent)")
        let agentQ = agent.addingPercentEncodingForQuery()
        for i in range {
            let r = try session("/runCase?case=\(i)&agent=\(agentQ)")
            let how = r.close.map { $0.error == nil ? "closed \($0.code)" : "failed: \($0.error!.code) (\($0.code))" } ?? "?"
            print("case \(i): \(how)")
        }
        _ = try session("/updateReports?agent=\(agentQ)")
        print("reports updated for agent \(agent)")
        loop.shutdown()
    }
}

extension String {
    /// Percent-encode everything outside unreserved characters (RFC 3986).
    func addingPercentEncodingForQuery() -> String {
        var out = ""
        for b in utf8 {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"):
                out.append(Character(Unicode.Scalar(b)))
            default:
                let hex = Array("0123456789ABCDEF")
                out += "%\(hex[Int(b >> 4)])\(hex[Int(b & 15)])"
            }
        }
        return out
    }
}
