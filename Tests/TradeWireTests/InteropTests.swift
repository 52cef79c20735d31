import Foundation
import Testing
@testable import TradeWire

/// Against an independent implementation: the Python `websockets` server.
@Suite("Interop with Python websockets", .serialized)
struct InteropTests {
    static let certDir = try! TempDir()
    static let cert = try! GeneratedCertificate.generate(in: certDir.path, prefix: "interop")

    func peer(tls: Bool) throws -> (PythonPeer, String, TLSConfiguration) {
        if tls {
            let p = try PythonPeer(cert: Self.cert.certificateFile, key: Self.cert.privateKeyFile)
            return (p, "wss://127.0.0.1:\(p.wsPort)", TLSConfiguration(additionalTrust: [.caFile(Self.cert.caFile)]))
        }
        let p = try PythonPeer()
        return (p, "ws://127.0.0.1:\(p.wsPort)", .default)
    }

    static let matrix: [(Backend, Bool)] = [(.ioUring, false), (.ioUring, true), (.posix, false), (.posix, true)]

    @Test(arguments: matrix)
    func echoTextAndBinary(_ backend: Backend, _ tls: Bool) throws {
        let (p, base, tlsConf) = try peer(tls: tls)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown(); _ = p }
        let client = TestClient()
        client.onOpen = { c in
            _ = try? c.send(text: "hello é€")
            _ = try? c.send(binary: [0, 1, 2, 255])
            _ = try? c.send(text: "")
        }
        let (_, _) = try loop.connect("\(base)/echo", tls: tlsConf, client: client)
        #expect(client.waitMessages(3))
        #expect(client.messages.map(\.opcode) == [.text, .binary, .text])
        #expect(client.messages.first?.text == "hello é€")
        #expect(client.messages[1].bytes == [0, 1, 2, 255])
        #expect(client.messages[2].bytes.isEmpty)
    }

    @Test(arguments: matrix)
    func fragmentedMessagesAreReassembled(_ backend: Backend, _ tls: Bool) throws {
        let (p, base, tlsConf) = try peer(tls: tls)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown(); _ = p }
        let (_, client) = try loop.connect("\(base)/fragmented", tls: tlsConf)
        #expect(client.waitMessages(2))
        #expect(client.messages.first?.text == "frag-1 frag-2 frag-3 é€")
        #expect(client.messages.first?.opcode == .text)
        #expect(client.messages.dropFirst().first?.bytes == [1, 2, 3])
    }

    @Test(arguments: matrix)
    func serverPingIsAnsweredWithPong(_ backend: Backend, _ tls: Bool) throws {
        let (p, base, tlsConf) = try peer(tls: tls)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown(); _ = p }
        let (_, client) = try loop.connect("\(base)/ping", tls: tlsConf)
        // The peer sends "pong received" only after its ping was answered with the same payload.
        #expect(client.waitMessages(1))
        #expect(client.messages.first?.text == "pong received")
    }

    @Test(arguments: matrix)
    func serverCloseCodeAndReasonArrive(_ backend: Backend, _ tls: Bool) throws {
        let (p, base, tlsConf) = try peer(tls: tls)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown(); _ = p }
        let (_, client) = try loop.connect("\(base)/close?code=4001&reason=maintenance", tls: tlsConf)
        let close = client.waitClose()
        #expect(close?.code == 4001)
        #expect(close?.reason == "maintenance")
        #expect(close?.error == nil)   // a clean closing handshake
    }

    @Test(arguments: matrix)
    func clientInitiatedClose(_ backend: Backend, _ tls: Bool) throws {
        let (p, base, tlsConf) = try peer(tls: tls)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown(); _ = p }
        let (conn, client) = try loop.connect("\(base)/echo", tls: tlsConf)
        #expect(client.waitOpen())
        try loop.sync { try conn.close(code: 1000, reason: "done") }
        let close = client.waitClose()
        #expect(close?.code == 1000)
        #expect(close?.error == nil)
    }

    @Test(arguments: matrix)
    func oneMiBMessagesBothWays(_ backend: Backend, _ tls: Bool) throws {
        let (p, base, tlsConf) = try peer(tls: tls)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown(); _ = p }
        let big = (0..<(1 << 20)).map { UInt8(($0 * 31 + 7) & 0xff) }
        let client = TestClient()
        client.onMessage = { c, m in if m.bytes.count == big.count && c.state == .open { _ = try? c.send(binary: m.bytes) } }
        let (_, _) = try loop.connect("\(base)/big", tls: tlsConf, client: client)
        #expect(client.waitMessages(2, 60))
        #expect(client.messages.first?.bytes == big)      // 1 MiB from the peer
        #expect(client.messages.dropFirst().first?.bytes == big)  // echoed back by the peer
        #expect(p.waitLine(prefix: "BIG-ECHO-OK") == "BIG-ECHO-OK True")
    }

    @Test func callerHeadersReachTheServer() throws {
        let (p, base, _) = try peer(tls: false)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); _ = p }
        let (_, client) = try loop.connect("\(base)/headers", headers: [("Authorization", "Bearer abc.def")])
        #expect(client.waitMessages(1))
        #expect(client.messages.first?.text == "Bearer abc.def")
    }

    @Test(arguments: allBackends)
    func refusedUpgradeCarriesStatusAndBody(_ backend: Backend) throws {
        let (p, base, _) = try peer(tls: false)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown(); _ = p }
        let (_, client) = try loop.connect("\(base)/unauthorized")
        let close = client.waitClose()
        #expect(close?.error?.code == .upgradeRejected)
        #expect(close?.error?.httpStatus == 401)
        #expect(close?.error?.httpBody == "bearer token rejected\n")
        #expect(client.isOpen == false)
    }
}

/// Frames no library would send, from a raw scripted server; the peer reports our close code.
@Suite("Protocol violations from a raw peer", .serialized)
struct RawPeerTests {
    static let cases: [(String, String, TradeWireError.Code, UInt16)] = [
        ("masked server frame", "818101020304" + "60", .protocolViolation, 1002),
        ("reserved bit", "c10161", .protocolViolation, 1002),
        ("reserved opcode", "8300", .protocolViolation, 1002),
        ("fragmented ping", "090100", .protocolViolation, 1002),
        ("invalid UTF-8 text", "8102c0af", .invalidUTF8, 1007),
        ("invalid close code", "880203ed", .protocolViolation, 1002),
        ("frame over the limit", "827e0800" + String(repeating: "00", count: 2048), .messageTooBig, 1009),
    ]

    @Test(arguments: allBackends)
    func clientFailsTheConnectionWithTheRightCode(_ backend: Backend) throws {
        let p = try PythonPeer()
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown() }
        for (name, hex, code, _) in Self.cases {
            let (_, client) = try loop.connect("ws://127.0.0.1:\(p.rawPort)/raw/\(hex)",
                                               limits: .init(maxFrameSize: 1024, maxMessageSize: 4096))
            let close = client.waitClose()
            #expect(close?.error?.code == code, "\(name)")
            #expect(close?.code == 1006, "\(name): no close frame came from the peer")
        }
        // The peer saw our close frames, in order, with the RFC's codes.
        let expected = Self.cases.map { "CLIENT-CLOSE \($0.3)" }
        #expect(p.allLines(prefix: "CLIENT-", count: expected.count) == expected)
    }

    @Test(arguments: allBackends)
    func wrongSecWebSocketAcceptIsRefused(_ backend: Backend) throws {
        let p = try PythonPeer()
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown() }
        let (_, client) = try loop.connect("ws://127.0.0.1:\(p.rawPort)/bad-accept")
        #expect(client.waitClose()?.error?.code == .badAccept)
        #expect(client.isOpen == false)
    }
}
