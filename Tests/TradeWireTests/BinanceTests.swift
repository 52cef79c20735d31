import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireSimulator

/// Answers every request with -1007 (execution status unknown), after announcing a shutdown.
final class UnknownOutcomeVenue: WebSocketHandler, @unchecked Sendable {
    func webSocketDidOpen(_ c: WebSocketConnection) {
        _ = try? c.send(text: #"{"event":{"e":"serverShutdown","E":1770123456789}}"#)
    }
    func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
        guard let doc = try? JSONDocument(validating: m.bytes), let id = doc.root["id"]?.string else { return }
        _ = try? c.send(text: #"{"id":"\#(id)","status":400,"error":{"code":-1007,"msg":"Timeout waiting for response from backend server. Send status unknown; execution status unknown."}}"#)
    }
}

@Suite("Binance WS API", .serialized)
struct BinanceTests {
    static let apiKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    static let secret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

    func rig(_ options: BinanceVenueSimulator.Options) throws -> (EventLoop, EventLoop, WebSocketServer) {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        let venue = BinanceVenueSimulator(options: options)
        let server = try WebSocketServer.listen(on: serverLoop) { r in r.path == "/ws-api/v3" ? .accept(venue.handler()) : .reject(status: 404, body: "") }
        return (serverLoop, loop, server)
    }

    func url(_ s: WebSocketServer) -> WebSocketURL { WebSocketURL(secure: false, host: "127.0.0.1", port: s.port, target: "/ws-api/v3") }

    @Test func hmacSignedPlaceTestCancelAndABadSignature() async throws {
        let (sl, loop, server) = try rig(.init(apiKey: Self.apiKey, apiSecret: Self.secret))
        defer { loop.shutdown(); sl.shutdown() }
        let limiter = VenueRateLimiter(BinanceRateLimits(), policy: .failFast)
        let client = BinanceClient(loop: loop, configuration: .init(url: url(server), credentials: .init(apiKey: Self.apiKey, key: .hmac(secret: Self.secret)), rateLimiter: limiter))
        try await client.connect()
        _ = try await client.ping()
        let order = BinanceOrder.limit("BTCUSDT", .buy, quantity: "0.01000000", price: "52000.00", clientOrderID: ClientOrderID("tw-b-1"))
        _ = try await client.testOrder(order)
        let placed = try await client.placeOrder(order)
        #expect(placed.response.status == 200 && placed.response.orderID != nil && placed.response.clientOrderID == "tw-b-1")
        #expect(placed.response.rateLimits.map(\.interval) == ["ORDERS/DAY/1", "REQUEST_WEIGHT/MINUTE/1"])
        let cancel = try await client.cancelOrder(symbol: "BTCUSDT", origClientOrderID: "tw-b-1")
        #expect(cancel.response.orderStatus == "CANCELED")
        await #expect { _ = try await client.cancelOrder(symbol: "BTCUSDT", orderID: 1) } throws: { e in
            (e as? TradeWireError)?.code == .venueRejected && (e as? TradeWireError)?.venueCode == -2011
        }
        await #expect { _ = try await client.placeOrder(BinanceOrder.limit("btc", .buy, quantity: "1", price: "1")) } throws: { e in
            (e as? TradeWireError)?.detail.contains("-1121") == true
        }
        let wrong = BinanceClient(loop: loop, configuration: .init(url: url(server), credentials: .init(apiKey: Self.apiKey, key: .hmac(secret: "not-the-secret")), rateLimiter: nil))
        try await wrong.connect()
        await #expect { _ = try await wrong.placeOrder(order) } throws: { e in
            (e as? TradeWireError)?.code == .venueRejected && (e as? TradeWireError)?.detail.contains("-1022") == true
        }
    }

    @Test func ed25519LogonUserDataStreamAndFills() async throws {
        let (priv, pub) = try Signing.ed25519KeyPair()
        let (sl, loop, server) = try rig(.init(apiKey: "ed-key", apiSecret: "unused", ed25519PublicKeyPEM: pub))
        defer { loop.shutdown(); sl.shutdown() }
        let creds = BinanceCredentials(apiKey: "ed-key", key: .ed25519(privateKeyPEM: priv))
        let reports = Locked<[BinanceExecutionReport]>([])
        let trader = BinanceClient(loop: loop, configuration: .init(url: url(server), credentials: creds, rateLimiter: nil),
                                   handlers: .init(onExecutionReport: { _, r in reports.withLock { $0.append(r) } }))
        try await trader.connect()
        _ = try await trader.logon()
        #expect(try await loop.submit { trader.loggedOn })
        let sub = try await trader.subscribeUserDataStream()
        #expect(sub.response.subscriptionID == 0)
        // After logon, signed requests carry only the timestamp.
        _ = try await trader.placeOrder(BinanceOrder.limit("ETHUSDT", .sell, quantity: "1", price: "2000"))
        _ = try await trader.placeOrder(BinanceOrder.limit("ETHUSDT", .buy, quantity: "1", price: "2001"))
        let deadline = Date().addingTimeInterval(10)
        while reports.withLock({ $0.filter { $0.executionType == "TRADE" }.count }) < 2 && Date() < deadline { usleep(1000) }
        let r = reports.withLock { $0 }
        #expect(r.first?.executionType == "NEW" && r.first?.status == .new)
        #expect(r.contains { $0.executionType == "TRADE" && $0.isMaker == true && $0.status == .filled })
        #expect(r.contains { $0.executionType == "TRADE" && $0.isMaker == false && $0.lastPrice == FixedDecimal("2000") })
        let hmacOnly = BinanceClient(loop: loop, configuration: .init(url: url(server), credentials: .init(apiKey: "k", key: .hmac(secret: "s")), rateLimiter: nil))
        try await hmacOnly.connect()
        await #expect { _ = try await hmacOnly.logon() } throws: { ($0 as? TradeWireError)?.code == .invalidArgument }
    }

    @Test func minus1007IsOutcomeUnknownAndServerShutdownIsSurfaced() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in UnknownOutcomeVenue() }
        let shutdown = Locked(false)
        let client = BinanceClient(loop: loop, configuration: .init(url: url(server), credentials: .init(apiKey: "k", key: .hmac(secret: "s")), rateLimiter: nil),
                                   handlers: .init(onSessionEvent: { _, e in
                                       if case .serverShutdown = e { shutdown.withLock { $0 = true } }
                                   }))
        try await client.connect()
        await #expect { _ = try await client.placeOrder(BinanceOrder.limit("BTCUSDT", .buy, quantity: "1", price: "1")) } throws: { e in
            (e as? TradeWireError)?.code == .outcomeUnknown
        }
        #expect(shutdown.withLock { $0 })
    }

    @Test func signingPayloadAndRedaction() throws {
        let payload = BinanceEncoder.signingPayload([("symbol", "BTCUSDT"), ("apiKey", "k"), ("timestamp", "1"), ("price", "52000.00")])
        #expect(payload == "apiKey=k&price=52000.00&symbol=BTCUSDT&timestamp=1")
        let c = BinanceCredentials(apiKey: Self.apiKey, key: .hmac(secret: Self.secret))
        var dumped = ""
        dump(c, to: &dumped)
        for text in ["\(c)", String(reflecting: c), dumped] { #expect(!text.contains(Self.secret), "\(text)") }
    }

    /// The signed text's params in a string sort's order, also for names that share their first 8 bytes (the sort
    /// compares those as one integer, then the rest).
    @Test func paramsSignInNameOrder() {
        let p = BinanceParams()
        let names: [StaticString] = ["cancelRestrictions", "cancelOrigClientOrderId", "symbol", "cancelOrderId", "cancelReplaceMode",
                                     "cancelNewClientOrderId", "type", "typeX", "a", "timeInForce", "timestamp"]
        for n in names { p.add(n, enumValue: "v") }
        let text = p.withSigningText { String(decoding: $0, as: UTF8.self) }
        let sorted = names.map { "\($0)" }.sorted().map { "\($0)=v" }.joined(separator: "&")
        #expect(text == sorted)
    }

    @Test(arguments: [#"{"id":"tw-1"}"#, #"{"status":200,"result":{}}"#, #"{"id":"tw-1","status":400}"#,
                      #"{"event":{"e":"executionReport","s":"X"}}"#, #"{"event":{"e":"executionReport","s":"X","c":"c","x":"NEW","X":"NEW","o":"LIMIT"}}"#, "{"])
    func badBinanceInputIsATypedError(_ text: String) {
        let b = Array(text.utf8)
        #expect { _ = try b.withUnsafeBytes { try BinanceDecoder.decode($0) } } throws: { ($0 as? TradeWireError)?.code == .malformedResponse }
    }
}
