import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireSimulator

/// Binance RSA keys (Request security › SIGNED request example (RSA)): RSASSA-PKCS1-v1_5 over SHA-256, base64.
/// The docs do not publish their example's private key, so a key is made at test time with the `openssl` command,
/// and OpenSSL's own command verifies what TradeWire signs.
@Suite("Binance RSA keys", .serialized)
struct BinanceRSATests {
    static let docsKey = "CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ"

    /// A fresh RSA-2048 key pair as PEM, from the `openssl` command (an independent implementation).
    static func keyPair(in dir: TempDir) throws -> (privatePEM: String, publicPEM: String) {
        try run("/usr/bin/openssl", ["genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", dir.path + "/rsa.pem"])
        try run("/usr/bin/openssl", ["pkey", "-in", dir.path + "/rsa.pem", "-pubout", "-out", dir.path + "/rsa.pub"])
        return (try String(contentsOfFile: dir.path + "/rsa.pem", encoding: .utf8), try String(contentsOfFile: dir.path + "/rsa.pub", encoding: .utf8))
    }

    @discardableResult
    static func run(_ tool: String, _ args: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = args
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }

    /// The docs' RSA example: the same fields with their JSON types, and a signature `openssl dgst -verify` accepts.
    @Test func theDocsRSAExampleIsSignedAsOpenSSLVerifies() throws {
        let dir = try TempDir()
        let (priv, pub) = try Self.keyPair(in: dir)
        let order = BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "0.01000000", price: "52000.00",
                                 timeInForce: .gtc, responseType: .ack, recvWindow: 100)
        let out = try written { try BinanceEncoder.encode(.orderPlace(order), id: "4885f793-e5ad-4c3b-8f6c-55d891472b71",
                                                          credentials: BinanceCredentials(apiKey: Self.docsKey, key: .rsa(privateKeyPEM: priv)),
                                                          loggedOn: false, timestampMs: 1645423376532, into: &$0) }
        #expect(try BinanceFixtureTests.sameRequest(out, "ws_signed_rsa_order_place_request.json", signatureIsBase64: true))
        let params = try #require(try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])["params"] as? [String: Any]
        let signature = try #require(params?["signature"] as? String)
        let payload = "apiKey=\(Self.docsKey)&newOrderRespType=ACK&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL"
            + "&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT"
        try Data(payload.utf8).write(to: URL(fileURLWithPath: dir.path + "/payload"))
        try Data(base64Encoded: signature)!.write(to: URL(fileURLWithPath: dir.path + "/sig"))
        #expect(try Self.run("/usr/bin/openssl", ["dgst", "-sha256", "-verify", dir.path + "/rsa.pub", "-signature", dir.path + "/sig",
                                                  dir.path + "/payload"]) == 0)
        #expect(Signing.rsaSHA256Verify(publicKeyPEM: pub, message: payload, signatureBase64: signature))
        #expect(!Signing.rsaSHA256Verify(publicKeyPEM: pub, message: payload + "x", signatureBase64: signature))
        // An Ed25519 or malformed key is a typed error, not a crash.
        #expect(throws: TradeWireError.self) { try Signing.rsaSHA256Base64(privateKeyPEM: "not a key", message: payload) }
    }

    /// Against the simulator with the key's public half: orders are placed, and the user data stream comes through
    /// `userDataStream.subscribe.signature` (RSA keys cannot `session.logon`), its reports reaching the client.
    @Test func anRSAKeyTradesAndSubscribesToItsUserDataStream() async throws {
        let dir = try TempDir()
        let (priv, pub) = try Self.keyPair(in: dir)
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        var options = BinanceVenueSimulator.Options(apiKey: "rsa-key", apiSecret: "unused-hmac-secret")
        options.rsaPublicKeyPEM = pub
        let exchange = try ExchangeSimulator(on: serverLoop, binance: BinanceVenueSimulator(options: options))
        let reports = Locked<[String]>([])
        let client = BinanceClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath),
            credentials: .init(apiKey: "rsa-key", key: .rsa(privateKeyPEM: priv)), rateLimiter: nil),
            handlers: .init(onExecutionReport: { _, r in reports.withLock { $0.append(r.orderClientOrderID) } }))
        try await client.connect()
        await #expect(throws: TradeWireError.self) { _ = try await client.logon() }
        _ = try await client.subscribeUserDataStream()
        let ack = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "10", clientOrderID: ClientOrderID("rsa-1")))
        #expect(ack.response.status == 200)
        let deadline = Date().addingTimeInterval(10)
        while !reports.withLock({ $0.contains("rsa-1") }) && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(reports.withLock { $0.contains("rsa-1") })
    }
}
