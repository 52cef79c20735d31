import Foundation
import Testing
@testable import TradeWire

/// Records what a server-side handler saw; echoes unless told to close.
final class RecordingServerHandler: WebSocketHandler, @unchecked Sendable {
    let closeOn: String?
    let seen = Locked<[String]>([])
    init(closeOn: String? = nil) { self.closeOn = closeOn }
    func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
        let t = m.text
        seen.withLock { $0.append(t) }
        if t == closeOn { try? c.close(code: 4002, reason: "server says bye"); return }
        _ = try? c.send(m.opcode, bytes: m.bytes)
    }
}

@Suite("Server role", .serialized)
struct ServerRoleTests {
    static let dir = try! TempDir()

    @Test(arguments: [(Backend.ioUring, false), (.ioUring, true), (.posix, false), (.posix, true)])
    func clientAndServerOfTheSameCore(_ backend: Backend, _ tls: Bool) throws {
        let serverLoop = try EventLoop.forTest(backend)
        let clientLoop = try EventLoop.forTest(backend)
        defer { clientLoop.shutdown(); serverLoop.shutdown() }
        let cert = try GeneratedCertificate.generate(in: Self.dir.path, prefix: "srv-\(backend)-\(tls)")
        let targets = Locked<[String]>([])
        let auth = Locked<[String]>([])
        let handler = RecordingServerHandler(closeOn: "bye")
        let server = try WebSocketServer.listen(
            on: serverLoop, tls: tls ? .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile) : nil
        ) { target, headers in
            targets.withLock { $0.append(target) }
            auth.withLock { $0.append(headers.first { $0.name.lowercased() == "authorization" }?.value ?? "") }
            return handler
        }
        let client = TestClient()
        client.onOpen = { c in
            _ = try? c.send(text: "one")
            _ = try? c.send(binary: Array(repeating: 9, count: 100_000))
            _ = try? c.send(text: "bye")
        }
        let url = "\(tls ? "wss" : "ws")://127.0.0.1:\(server.port)/v2?session=7"
        _ = try clientLoop.connect(url, tls: TLSConfiguration(additionalTrust: [.caFile(cert.caFile)]),
                                   headers: [("Authorization", "Bearer xyz")], client: client)
        let close = client.waitClose()
        #expect(client.messages.map(\.bytes.count) == [3, 100_000])
        #expect(close?.code == 4002)
        #expect(close?.reason == "server says bye")
        #expect(close?.error == nil)
        #expect(targets.withLock { $0 } == ["/v2?session=7"])
        #expect(auth.withLock { $0 } == ["Bearer xyz"])
        #expect(handler.seen.withLock { $0.count } == 3)
    }

    /// An independent client (Python websockets) against our server role.
    @Test(arguments: allBackends)
    func pythonClientAgainstOurServer(_ backend: Backend) throws {
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown() }
        let server = try WebSocketServer.listen(on: loop) { _, _ in EchoHandler() }
        let script = """
        import asyncio, sys
        from websockets.asyncio.client import connect
        async def main():
            async with connect("ws://127.0.0.1:\(server.port)/echo", max_size=None, compression=None) as ws:
                await ws.send("héllo")
                assert await ws.recv() == "héllo"
                await ws.send(["frag-a ", "frag-b"])
                assert await ws.recv() == "frag-a frag-b"
                big = bytes(range(256)) * 4096
                await ws.send(big)
                assert await ws.recv() == big
                pong = await ws.ping(b"p")
                await pong
            print("PY-CLIENT-OK", ws.close_code)
        asyncio.run(main())
        """
        let run = try PythonPeer.run(script: script)
        let text = run.output
        #expect(run.status == 0)
        #expect(text.contains("PY-CLIENT-OK 1000"), "\(text)")
    }

    @Test func badUpgradeRequestsAreRefusedWithAStatus() throws {
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let server = try WebSocketServer.listen(on: loop) { _, _ in EchoHandler() }
        let script = """
        import socket
        def ask(req):
            s = socket.create_connection(("127.0.0.1", \(server.port)))
            s.sendall(req.encode())
            data = b""
            while True:
                chunk = s.recv(4096)
                if not chunk: break
                data += chunk
            return data.split(b"\\r\\n")[0].decode()
        print(ask("GET / HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n"))
        print(ask("GET / HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 8\\r\\n\\r\\n"))
        print(ask("POST / HTTP/1.1\\r\\nHost: x\\r\\nUpgrade: websocket\\r\\nConnection: Upgrade\\r\\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\\r\\nSec-WebSocket-Version: 13\\r\\n\\r\\n"))
        print(ask("garbage\\r\\n\\r\\n"))
        """
        let run = try PythonPeer.run(script: script)
        let lines = run.output.split(separator: "\n")
        #expect(lines == ["HTTP/1.1 400 Bad Request", "HTTP/1.1 426 Upgrade Required", "HTTP/1.1 400 Bad Request", "HTTP/1.1 400 Bad Request"])
    }
}

@Suite("Connection errors and lifecycle")
struct LifecycleTests {
    @Test(arguments: allBackends)
    func connectionRefusedIsASystemError(_ backend: Backend) throws {
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown() }
        // A port nothing listens on: bind one, close it.
        let probe = try WebSocketServer.listen(on: loop) { _, _ in nil }
        let port = probe.port
        probe.close()
        let (_, client) = try loop.connect("ws://127.0.0.1:\(port)/")
        let close = client.waitClose()
        #expect(close?.error?.code == .system)
        #expect(close?.error?.errno == .connectionRefused)
    }

    @Test func unresolvableHostThrowsAtOnce() throws {
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        #expect(throws: TradeWireError.self) { try loop.connect("ws://no-such-host.invalid/") }
    }

    @Test func urlsAreParsedStrictly() throws {
        let u = try WebSocketURL("wss://[::1]:9443/v2?a=b")
        #expect(u.host == "::1" && u.port == 9443 && u.target == "/v2?a=b" && u.secure)
        #expect(try WebSocketURL("ws://h").port == 80)
        #expect(try WebSocketURL("wss://h?x=1").target == "/?x=1")
        for bad in ["http://h/", "ws://", "ws://h:0/", "ws://h:99999/", "ws://u@h/", "ws://h/a b"] {
            #expect(throws: TradeWireError.self, "\(bad)") { _ = try WebSocketURL(bad) }
        }
    }

    @Test func sendingOffTheLoopThreadIsATypedError() throws {
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let server = try WebSocketServer.listen(on: loop) { _, _ in EchoHandler() }
        let (conn, client) = try loop.connect("ws://127.0.0.1:\(server.port)/")
        #expect(client.waitOpen())
        #expect { try conn.send(text: "x") } throws: { ($0 as? TradeWireError)?.code == .notOnEventLoop }
    }

    @Test(arguments: allBackends)
    func abortEndsWithClosedAndLoopShutdownClosesEverything(_ backend: Backend) throws {
        let loop = try EventLoop.forTest(backend)
        let server = try WebSocketServer.listen(on: loop) { _, _ in EchoHandler() }
        let (conn, a) = try loop.connect("ws://127.0.0.1:\(server.port)/")
        let (_, b) = try loop.connect("ws://127.0.0.1:\(server.port)/")
        #expect(a.waitOpen() && b.waitOpen())
        conn.abort()
        #expect(a.waitClose()?.error?.code == .closed)
        loop.shutdown()
        #expect(b.close?.error?.code == .closed)  // delivered during shutdown, exactly once
    }

    @Test func asyncAPIRoundTrip() async throws {
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let server = try WebSocketServer.listen(on: loop) { _, _ in EchoHandler() }
        let ws = try await AsyncWebSocket.connect(try .init(url: "ws://127.0.0.1:\(server.port)/"), on: loop)
        let t = try await ws.send(text: "async hello")
        #expect(t > 0)
        var it = ws.messages.makeAsyncIterator()
        let m = try await it.next()
        #expect(m?.text == "async hello")
        #expect((m?.receivedAt ?? 0) > t)
        try await ws.close()
        while try await it.next() != nil {}
        #expect(ws.closeInfo?.code == 1000)
        #expect(ws.closeInfo?.error == nil)
    }

    @Test func asyncConnectFailureThrows() async throws {
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let probe = try WebSocketServer.listen(on: loop) { _, _ in nil }
        let port = probe.port
        probe.close()
        await #expect(throws: TradeWireError.self) {
            _ = try await AsyncWebSocket.connect(try .init(url: "ws://127.0.0.1:\(port)/"), on: loop)
        }
    }
}

@Suite("Server role: refusing upgrades")
struct UpgradeRefusalTests {
    @Test(arguments: allBackends)
    func badBearerGets401AndUnknownPathGets404(_ backend: Backend) throws {
        let serverLoop = try EventLoop.forTest(backend)
        let loop = try EventLoop.forTest(backend)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let server = try WebSocketServer.listen(on: serverLoop) { r in
            guard r.path == "/quotes" else { return .reject(status: 404, body: "no such endpoint\n") }
            guard r.header("authorization") == "Bearer good" else { return .reject(status: 401, body: "invalid bearer token\n") }
            return .accept(EchoHandler())
        }
        let base = "ws://127.0.0.1:\(server.port)"
        let (_, bad) = try loop.connect("\(base)/quotes", headers: [("Authorization", "Bearer nope")])
        let e1 = bad.waitClose()?.error
        #expect(e1?.code == .upgradeRejected && e1?.httpStatus == 401 && e1?.httpBody == "invalid bearer token\n")
        let (_, lost) = try loop.connect("\(base)/elsewhere", headers: [("Authorization", "Bearer good")])
        #expect(lost.waitClose()?.error?.httpStatus == 404)
        let good = TestClient()
        good.onOpen = { c in _ = try? c.send(text: "in") }
        _ = try loop.connect("\(base)/quotes", headers: [("Authorization", "Bearer good")], client: good)
        #expect(good.waitMessages(1))
    }
}
