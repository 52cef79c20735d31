import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken
@testable import TradeWireSimulator
@testable import TradeWireBinance

/// Collects executions pushes on the loop thread: give a client its `handlers` at creation.
final class ExecutionLog: Sendable {
    let reports = Locked<[KrakenExecution]>([])
    let sequences = Locked<[Int64]>([])
    let gaps = Locked<[(Int64, Int64)]>([])

    var handlers: KrakenClient.Handlers {
        .init(onPush: { [self] _, p in
            guard case .executions(let x) = p else { return }
            reports.withLock { $0 += x.reports }
            if let s = x.sequence { sequences.withLock { $0.append(s) } }
        }, onSequenceGap: { [self] _, e, r in gaps.withLock { $0.append((e, r)) } })
    }

    func wait(_ pred: ([KrakenExecution]) -> Bool) -> [KrakenExecution] {
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let r = reports.withLock { $0 }
            if pred(r) { return r }
            usleep(1000)
        }
        return reports.withLock { $0 }
    }
}

@Suite("Kraken flows against the simulator's book", .serialized)
struct KrakenVenueFlowTests {
    @Test func fillReportsReachTakerAndMaker() async throws {
        let takerLog = ExecutionLog(), makerLog = ExecutionLog()
        let rig = try KrakenRig(handlers: takerLog.handlers)
        try await rig.connect()
        let maker = KrakenClient(loop: rig.loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: rig.server.port, target: "/v2"), rateLimiter: nil),
            handlers: makerLog.handlers)
        try await maker.connect()
        _ = try await rig.client.subscribeExecutions()
        _ = try await maker.subscribeExecutions()
        let resting = try await maker.placeOrder(.limit("BTC/USD", .sell, quantity: "0.8", price: "26000"))
        let taking = try await rig.client.placeOrder(.limit("BTC/USD", .buy, quantity: "1.0", price: "26010"))
        let t = takerLog.wait { $0.contains { $0.execType == .trade } }
        let fill = try #require(t.first { $0.execType == .trade })
        #expect(fill.orderID == taking.response.orderID)
        #expect(fill.lastQty == FixedDecimal("0.8") && fill.lastPrice == FixedDecimal("26000"))
        #expect(fill.isMaker == false)
        #expect(fill.orderStatus == .partiallyFilled)       // 0.2 of 1.0 rests
        let m = makerLog.wait { $0.contains { $0.execType == .filled } }
        #expect(m.contains { $0.execType == .trade && $0.isMaker == true && $0.orderID == resting.response.orderID })
        #expect(m.last?.orderStatus == .filled)
        // Sequence numbers increase by one per frame.
        let seqs = takerLog.sequences.withLock { $0 }
        #expect(seqs == Array((seqs.first ?? 1)...(seqs.first ?? 1) + Int64(seqs.count) - 1))
        #expect(takerLog.gaps.withLock { $0.isEmpty })
    }

    @Test func amendBatchPostOnlyAndCancelAll() async throws {
        let log = ExecutionLog()
        let rig = try KrakenRig(handlers: log.handlers)
        try await rig.connect()
        _ = try await rig.client.subscribeExecutions()
        let a = try await rig.client.placeOrder(.limit("ETH/USD", .buy, quantity: "2", price: "1800",
                                                       clientOrderID: ClientOrderID("amend-me")))
        let amend = try await rig.client.amendOrder(KrakenAmendOrder(.clientOrderID(ClientOrderID("amend-me")!), quantity: "1.5", limitPrice: "1801.25"))
        #expect(amend.response.amendID != nil)
        #expect(amend.response.orderID == a.response.orderID)
        let amended = log.wait { $0.contains { $0.execType == .amended } }.first { $0.execType == .amended }
        #expect(amended?.orderQty == FixedDecimal("1.5") && amended?.limitPrice == FixedDecimal("1801.25"))

        let batch = try await rig.client.batchAdd(symbol: "ETH/USD", [
            .limit("ETH/USD", .buy, quantity: "1", price: "1700"), .limit("ETH/USD", .sell, quantity: "1", price: "1900"),
        ])
        #expect(batch.response.orders?.count == 2)
        #expect(batch.response.orders?.allSatisfy { $0.orderID != nil } == true)
        await #expect(throws: TradeWireError.self) {   // refused before sending: one order is not enough
            _ = try await rig.client.batchAdd(symbol: "ETH/USD", [.limit("ETH/USD", .buy, quantity: "1", price: "1")])
        }

        let post = try await rig.client.placeOrder(.limit("ETH/USD", .buy, quantity: "1", price: "1950", postOnly: true))
        let canceled = log.wait { $0.contains { $0.orderID == post.response.orderID && $0.execType == .canceled } }
        #expect(canceled.last { $0.orderID == post.response.orderID }?.reason?.description == "Post only order")

        let all = try await rig.client.cancelAll()
        #expect(all.response.count == 3)                  // the amended order and the two batch orders
    }

    @Test func simulatorAnswersBadInputWithKrakenErrors() throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        defer { serverLoop.shutdown() }
        let venue = KrakenVenueSimulator()
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let client = TestClient()
        let requests = [
            #"{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":1,"symbol":"BTC/USD","limit_price":1,"bogus":1},"req_id":1}"#,
            #"{"method":"add_order","params":{"order_type":"limit","side":"buy","order_qty":"x","symbol":"BTC/USD","limit_price":1},"req_id":2}"#,
            #"{"method":"no_such","req_id":3}"#,
            #"{"method":"add_order","params":{"order_ty"#,
        ]
        client.onOpen = { c in for r in requests { _ = try? c.send(text: r) } }
        _ = try loop.connect("ws://127.0.0.1:\(server.port)/v2", client: client)
        #expect(client.waitMessages(5))               // status + four answers
        let answers = client.messages.dropFirst().map(\.text)
        #expect(answers[0].contains(#""error":"EGeneral:Invalid arguments:Unsupported field: 'bogus'""#))
        #expect(answers[1].contains(#""error":"EGeneral:Invalid arguments:order_qty""#))
        #expect(answers[2].contains(#""error":"EGeneral:Invalid arguments:Unknown method""#))
        #expect(answers[3].contains(#""success":false"#))
    }
}

@Suite("Simulator with independent clients")
struct SimulatorInteropTests {
    /// Python websockets, verifying our generated CA, places and cancels an order on the simulator over wss://.
    @Test func pythonClientTradesOverWss() throws {
        let dir = try TempDir()
        let cert = try GeneratedCertificate.generate(in: dir.path, prefix: "sim")
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        let venue = KrakenVenueSimulator()
        let server = try WebSocketServer.listen(
            on: loop, tls: .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile)) { _, _ in venue.handler() }
        let script = """
        import asyncio, json, ssl
        from websockets.asyncio.client import connect
        async def main():
            ctx = ssl.create_default_context(cafile="\(cert.caFile)")
            async with connect("wss://localhost:\(server.port)/v2", ssl=ctx) as ws:
                status = json.loads(await ws.recv())
                assert status["channel"] == "status"
                await ws.send(json.dumps({"method": "add_order", "params": {"order_type": "limit", "side": "sell",
                    "order_qty": "0.5", "symbol": "BTC/USD", "limit_price": 30000.5, "cl_ord_id": "py-1"}, "req_id": 11}))
                ack = json.loads(await ws.recv())
                assert ack["success"] and ack["req_id"] == 11 and ack["result"]["cl_ord_id"] == "py-1", ack
                await ws.send(json.dumps({"method": "cancel_order", "params": {"cl_ord_id": ["py-1"]}, "req_id": 12}))
                c = json.loads(await ws.recv())
                assert c["success"] and c["result"]["cl_ord_id"] == "py-1", c
                await ws.send(json.dumps({"method": "cancel_order", "params": {"order_id": ["NOPE"]}, "req_id": 13}))
                e = json.loads(await ws.recv())
                assert not e["success"] and e["error"] == "EOrder:Invalid order", e
            print("PY-SIM-OK")
        asyncio.run(main())
        """
        let run = try PythonPeer.run(script: script)
        let text = run.output
        #expect(run.status == 0)
        #expect(text.contains("PY-SIM-OK"), "\(text)")
    }
}

@Suite("Simulator rate limits")
struct SimulatorRateLimitTests {
    @Test func krakenCounterAndBinanceOrderLimitAnswerWithTheVenuesErrors() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let kraken = KrakenVenueSimulator(options: .init(rateCounter: KrakenOrderCounter(threshold: 3, decayPerSecond: 0.001)))
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in kraken.handler() }
        let client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), rateLimiter: nil))
        try await client.connect()
        for _ in 0..<3 { _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "1")) }
        await #expect { _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "1")) } throws: { e in
            (e as? TradeWireError)?.venueError?.code == "EOrder:Rate limit exceeded"
        }
        _ = try await client.placeOrder(.limit("ETH/USD", .buy, quantity: "1", price: "1"))   // per pair

        // Binance: 2 new orders per 10 s window. Up to five tries: a window boundary may reset the count once.
        let binance = BinanceVenueSimulator(options: .init(apiKey: "k", apiSecret: "s", ordersPer10s: 2))
        let bserver = try WebSocketServer.listen(on: serverLoop) { _, _ in binance.handler() }
        let bclient = BinanceClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: bserver.port, target: "/ws-api/v3"),
            credentials: .init(apiKey: "k", key: .hmac(secret: "s")), rateLimiter: nil))
        try await bclient.connect()
        var refused: TradeWireError? = nil
        for _ in 0..<5 where refused == nil {
            do { _ = try await bclient.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "1")) }
            catch let e as TradeWireError { refused = e }
        }
        #expect(refused?.detail.contains("-1015") == true, "\(String(describing: refused))")
    }
}

@Suite("Kraken REST token over the core's TLS", .serialized)
struct KrakenTokenTests {
    static let secret = "kQH5HW/8p1uGOVjbgWA7FunAmGO8lsSUXNsu3eow76sz84Q18fWxnyRzBHCd3pd5nE9qa99HAZtuZuj6F1huXg=="

    @Test func tokenFetchedSignedAndAcceptedAndBadCredentialsRefused() async throws {
        let dir = try TempDir()
        let cert = try GeneratedCertificate.generate(in: dir.path, prefix: "rest")
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let venue = KrakenVenueSimulator(options: .init(apiKey: "rest-key", apiSecretBase64: Self.secret))
        let server = try WebSocketServer.listen(
            on: serverLoop, tls: .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile)
        ) { r in
            switch r.path {
            case KrakenTokenProvider.path: return venue.restToken(r)
            case "/v2": return .accept(venue.handler())
            default: return .reject(status: 404, body: "")
            }
        }
        let tls = TLSConfiguration(additionalTrust: [.caFile(cert.caFile)])
        let base = "https://localhost:\(server.port)"
        let provider = KrakenTokenProvider(loop: loop, credentials: Credentials(apiKey: "rest-key", apiSecret: Self.secret), restURL: base, tls: tls)
        let token = try await provider.token()
        #expect(token.count == 43)
        #expect(try await provider.token() == token)          // cached
        let client = KrakenClient(loop: loop, configuration: .init(
            url: try WebSocketURL("wss://localhost:\(server.port)/v2"), tls: tls, rateLimiter: nil))
        var cfg = client.configuration
        cfg.tokenProvider = provider
        let withToken = KrakenClient(loop: loop, configuration: cfg)
        try await withToken.connect()
        let ack = try await withToken.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "100"))
        #expect(ack.response.success)
        // Without a token the venue refuses.
        try await client.connect()
        await #expect { _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "100")) } throws: { e in
            (e as? TradeWireError)?.venueError?.code == "EAPI:Invalid token"
        }
        // Wrong secret, wrong key: Kraken's errors.
        let badSecret = KrakenTokenProvider(loop: loop, credentials: Credentials(apiKey: "rest-key", apiSecret: "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), restURL: base, tls: tls)
        await #expect { _ = try await badSecret.fetch() } throws: { ($0 as? TradeWireError)?.detail.contains("EAPI:Invalid signature") == true }
        let badKey = KrakenTokenProvider(loop: loop, credentials: Credentials(apiKey: "other", apiSecret: Self.secret), restURL: base, tls: tls)
        await #expect { _ = try await badKey.fetch() } throws: { ($0 as? TradeWireError)?.detail.contains("EAPI:Invalid key") == true }
        // A plain request to a WebSocket path, or an unknown path, gets an HTTP answer.
        let r = try await HTTPClient.request(on: loop, url: base + "/nowhere", method: "GET", tls: tls)
        #expect(r.status == 404)
    }
}
