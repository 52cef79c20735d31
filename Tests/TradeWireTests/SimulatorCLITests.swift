import Foundation
import Testing
@testable import TradeWire
import TradeWireBinance
import TradeWireKraken
import TradeWireSimulator

/// `tradewire simulator` can do what the in-process simulator does: an Ed25519 (and RSA) public key for Binance,
/// Binance's HMAC secret apart from Kraken's REST secret, and the Kraken token defaults that `--help` names.
/// The venues are built by `SimulatorSettings`, as the CLI builds them; the last tests run the CLI itself.
@Suite("Simulator CLI options", .serialized)
struct SimulatorCLITests {
    typealias D = SimulatorSettings.Defaults

    /// A simulator started from `settings` on its own loop, and a loop for the clients.
    final class Rig {
        let venueLoop: EventLoop
        let loop: EventLoop
        let exchange: ExchangeSimulator
        init(_ settings: SimulatorSettings) throws {
            venueLoop = try EventLoop.forTest(.automatic)
            loop = try EventLoop.forTest(.automatic)
            exchange = try settings.start(on: venueLoop)
        }
        func stop() { loop.shutdown(); venueLoop.shutdown() }

        func binance(_ key: BinanceKey, apiKey: String = D.binanceAPIKey) -> BinanceClient {
            BinanceClient(loop: loop, configuration: .init(
                url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath),
                credentials: .init(apiKey: apiKey, key: key), rateLimiter: nil))
        }
        func kraken(token: String?) -> KrakenClient {
            KrakenClient(loop: loop, configuration: .init(
                url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.krakenPath),
                token: token, rateLimiter: nil))
        }
    }

    static func write(_ text: String, _ name: String, in dir: TempDir) throws -> String {
        let path = dir.path + "/" + name
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    static func venueCode(_ e: any Error) -> Int? { (e as? TradeWireError)?.venueCode }
    static func isInvalidToken(_ e: any Error) -> Bool { (e as? TradeWireError)?.venueError?.code == "EAPI:Invalid token" }
    static let order = BinanceOrder.limit("BTCUSDT", .buy, quantity: "1", price: "100")

    // MARK: Binance keys

    @Test func aSessionLogonSignedWithTheGivenEd25519KeyWorks() async throws {
        let dir = try TempDir()
        let (priv, pub) = try Signing.ed25519KeyPair()
        var s = SimulatorSettings()
        s.binanceEd25519PublicKeyFile = try Self.write(pub, "ed25519.pub", in: dir)
        let rig = try Rig(s)
        defer { rig.stop() }
        let client = rig.binance(.ed25519(privateKeyPEM: priv))
        try await client.connect()
        let ack = try await client.logon()
        #expect(ack.response.status == 200)
        #expect(try await rig.loop.submit { client.loggedOn })
        // After the logon a request carries only its timestamp, and the session vouches for it.
        #expect(try await client.placeOrder(Self.order).response.status == 200)
        #expect(try await client.subscribeUserDataStream().response.status == 200)
    }

    @Test func aSessionLogonSignedWithAnotherEd25519KeyIsRefusedWith1022() async throws {
        let dir = try TempDir()
        let (_, pub) = try Signing.ed25519KeyPair()
        let (otherPriv, _) = try Signing.ed25519KeyPair()
        var s = SimulatorSettings()
        s.binanceEd25519PublicKeyFile = try Self.write(pub, "ed25519.pub", in: dir)
        let rig = try Rig(s)
        defer { rig.stop() }
        let client = rig.binance(.ed25519(privateKeyPEM: otherPriv))
        try await client.connect()
        // Binance: -1022 "Signature for this request is not valid."
        await #expect { _ = try await client.logon() } throws: { Self.venueCode($0) == -1022 }
        #expect(try await rig.loop.submit { !client.loggedOn })
        await #expect { _ = try await client.placeOrder(Self.order) } throws: { Self.venueCode($0) == -1022 }
    }

    @Test func withoutAnEd25519PublicKeySessionLogonIsRefusedWith4001() async throws {
        let rig = try Rig(SimulatorSettings())
        defer { rig.stop() }
        let (priv, _) = try Signing.ed25519KeyPair()
        let client = rig.binance(.ed25519(privateKeyPEM: priv))
        try await client.connect()
        await #expect { _ = try await client.logon() } throws: { Self.venueCode($0) == -4001 }
    }

    @Test func anRSAPublicKeyFileVouchesForRSASignedRequests() async throws {
        let dir = try TempDir()
        let (priv, pub) = try BinanceRSATests.keyPair(in: dir)
        var s = SimulatorSettings()
        s.binanceRSAPublicKeyFile = try Self.write(pub, "rsa-public.pem", in: dir)
        let rig = try Rig(s)
        defer { rig.stop() }
        let client = rig.binance(.rsa(privateKeyPEM: priv))
        try await client.connect()
        #expect(try await client.placeOrder(Self.order).response.status == 200)
        // Without the key the same signature is not valid.
        let plain = try Rig(SimulatorSettings())
        defer { plain.stop() }
        let refused = plain.binance(.rsa(privateKeyPEM: priv))
        try await refused.connect()
        await #expect { _ = try await refused.placeOrder(Self.order) } throws: { Self.venueCode($0) == -1022 }
    }

    @Test func binancesHMACSecretAndKrakensRESTSecretAreSeparate() async throws {
        var s = SimulatorSettings()
        s.binanceAPIKey = "binance-key"
        s.binanceAPISecret = "binance-only-secret"
        s.krakenAPIKey = "kraken-key"
        s.krakenAPISecretBase64 = Data("kraken-only-secret".utf8).base64EncodedString()
        let rig = try Rig(s)
        defer { rig.stop() }
        let good = rig.binance(.hmac(secret: "binance-only-secret"), apiKey: "binance-key")
        try await good.connect()
        #expect(try await good.testOrder(Self.order).response.status == 200)
        let withKrakens = rig.binance(.hmac(secret: s.krakenAPISecretBase64), apiKey: "binance-key")
        try await withKrakens.connect()
        await #expect { _ = try await withKrakens.testOrder(Self.order) } throws: { Self.venueCode($0) == -1022 }
        let withKrakensKey = rig.binance(.hmac(secret: "binance-only-secret"), apiKey: "kraken-key")
        try await withKrakensKey.connect()
        await #expect { _ = try await withKrakensKey.testOrder(Self.order) } throws: { Self.venueCode($0) == -2015 }
        // Kraken's REST endpoint takes its own key and secret, not Binance's.
        let base = "http://127.0.0.1:\(rig.exchange.port)"
        let rest = KrakenTokenProvider(loop: rig.loop, credentials: Credentials(apiKey: "kraken-key", apiSecret: s.krakenAPISecretBase64), restURL: base)
        let token = try await rest.fetch()
        #expect(try await rig.kraken(token: token).connected().placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "100")).response.success)
        let binances = KrakenTokenProvider(loop: rig.loop,
                                           credentials: Credentials(apiKey: "kraken-key", apiSecret: Data("binance-only-secret".utf8).base64EncodedString()),
                                           restURL: base)
        await #expect { _ = try await binances.fetch() } throws: { ($0 as? TradeWireError)?.detail.contains("EAPI:Invalid signature") == true }
    }

    @Test func keyFilesThatAreNotPublicKeysOfTheirKindAreRefusedBeforeTheVenueStarts() throws {
        let dir = try TempDir()
        let (edPriv, edPub) = try Signing.ed25519KeyPair()
        let (_, rsaPub) = try BinanceRSATests.keyPair(in: dir)
        func refusal(ed25519 ed: String? = nil, rsa: String? = nil) -> String? {
            var s = SimulatorSettings()
            s.binanceEd25519PublicKeyFile = ed
            s.binanceRSAPublicKeyFile = rsa
            do { _ = try s.makeVenues(); return nil } catch { return "\(error)" }
        }
        #expect(refusal(ed25519: try Self.write(edPriv, "ed.key", in: dir))?.contains("holds a private key") == true)
        #expect(refusal(ed25519: try Self.write(rsaPub, "rsa.pub", in: dir))?.contains("is not an Ed25519 public key") == true)
        #expect(refusal(rsa: try Self.write(edPub, "ed.pub", in: dir))?.contains("is not an RSA public key") == true)
        #expect(refusal(ed25519: dir.path + "/missing.pem")?.contains("cannot read") == true)
        #expect(refusal(ed25519: try Self.write("hello", "junk.pem", in: dir))?.contains("is not a PEM public key") == true)
        #expect(refusal(ed25519: try Self.write(edPub, "ed.pub", in: dir), rsa: try Self.write(rsaPub, "rsa.pub", in: dir)) == nil)
    }

    // MARK: Kraken tokens

    @Test func theDefaultTokenIsTheOneHelpNamesAndRESTIssuedTokensWorkToo() async throws {
        #expect(SimulatorSettings().krakenTokens == [D.krakenToken])
        let rig = try Rig(SimulatorSettings())
        defer { rig.stop() }
        let order = Order.limit("BTC/USD", .buy, quantity: "1", price: "100")
        #expect(try await rig.kraken(token: D.krakenToken).connected().placeOrder(order).response.success)
        let other = try await rig.kraken(token: "some-other-token").connected()
        await #expect { _ = try await other.placeOrder(order) } throws: { Self.isInvalidToken($0) }
        let none = try await rig.kraken(token: nil).connected()
        await #expect { _ = try await none.placeOrder(order) } throws: { Self.isInvalidToken($0) }
        // A token from GetWebSocketsToken, with the default REST key and secret.
        let rest = KrakenTokenProvider(loop: rig.loop, credentials: Credentials(apiKey: D.krakenAPIKey, apiSecret: D.krakenAPISecret),
                                       restURL: "http://127.0.0.1:\(rig.exchange.port)")
        #expect(try await rig.kraken(token: try await rest.fetch()).connected().placeOrder(order).response.success)
    }

    @Test func givenTokensReplaceTheDefaultAndEachIsAccepted() async throws {
        var s = SimulatorSettings()
        s.krakenTokens = ["token-a", "token-b"]
        let rig = try Rig(s)
        defer { rig.stop() }
        let order = Order.limit("BTC/USD", .buy, quantity: "1", price: "100")
        #expect(try await rig.kraken(token: "token-a").connected().placeOrder(order).response.success)
        #expect(try await rig.kraken(token: "token-b").connected().placeOrder(order).response.success)
        let old = try await rig.kraken(token: D.krakenToken).connected()
        await #expect { _ = try await old.placeOrder(order) } throws: { Self.isInvalidToken($0) }
    }

    @Test func anyTokenAcceptsEveryTokenAndNone() async throws {
        var s = SimulatorSettings()
        s.krakenAnyToken = true
        let rig = try Rig(s)
        defer { rig.stop() }
        let order = Order.limit("BTC/USD", .buy, quantity: "1", price: "100")
        for token in ["whatever", D.krakenToken, nil] {
            #expect(try await rig.kraken(token: token).connected().placeOrder(order).response.success, "\(token ?? "no token")")
        }
        s.krakenTokenLifetimeSeconds = 5
        #expect(throws: SimulatorSettings.Invalid.self) { _ = try s.makeVenues() }
    }

    // MARK: the CLI itself

    static var cli: String {
        URL(fileURLWithPath: Bundle.module.bundlePath).deletingLastPathComponent().appendingPathComponent("tradewire").path
    }

    /// Runs the CLI to its end (killed after `seconds`): exit status and what it printed on stdout and stderr.
    static func runCLI(_ args: [String], seconds: Double = 20) throws -> (status: Int32, output: String) {
        let dir = try TempDir()
        let log = dir.path + "/out.log"
        FileManager.default.createFile(atPath: log, contents: nil)
        let out = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
        let p = Process()
        p.executableURL = URL(fileURLWithPath: cli)
        p.arguments = args
        p.standardOutput = out
        p.standardError = out
        try p.run()
        let deadline = Date().addingTimeInterval(seconds)
        while p.isRunning && Date() < deadline { usleep(10_000) }
        if p.isRunning { kill(p.processIdentifier, SIGKILL) }
        p.waitUntilExit()
        try out.close()
        return (p.terminationStatus, (try? String(contentsOfFile: log, encoding: .utf8)) ?? "")
    }

    @Test func helpListsEachVenuesDefaultsAndTheNewOptions() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.cli), "\(Self.cli)")
        let (status, help) = try Self.runCLI(["simulator", "--help"])
        #expect(status == 0)
        for text in [D.krakenToken, D.krakenAPIKey, D.krakenAPISecret, D.binanceAPIKey, D.binanceAPISecret, D.quotesBearer, "-4001",
                     "--token", "--any-token", "--kraken-api-key", "--kraken-api-secret", "--binance-api-key", "--binance-api-secret",
                     "--binance-ed25519-public-key", "--binance-rsa-public-key", "--any-bearer"] {
            #expect(help.contains(text), "\(text)")
        }
        #expect(!help.contains("default: any)"))
    }

    @Test func theCLIsSimulatorTakesTheEd25519KeyFileAndTheDefaultToken() async throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.cli), "\(Self.cli)")
        let dir = try TempDir()
        let (priv, pub) = try Signing.ed25519KeyPair()
        let (otherPriv, _) = try Signing.ed25519KeyPair()
        let pubFile = try Self.write(pub, "ed25519.pub", in: dir)
        let venue = try SimulatorProcess(executable: Self.cli, arguments: ["--binance-ed25519-public-key", pubFile, "--binance-api-key", "cli-ed-key"])
        defer { venue.stop() }
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown() }
        func binance(_ key: String) -> BinanceClient {
            BinanceClient(loop: loop, configuration: .init(
                url: WebSocketURL(secure: false, host: "127.0.0.1", port: venue.port, target: ExchangeSimulator.binancePath),
                credentials: .init(apiKey: "cli-ed-key", key: .ed25519(privateKeyPEM: key)), rateLimiter: nil))
        }
        let good = binance(priv)
        try await good.connect()
        #expect(try await good.logon().response.status == 200)
        let wrong = binance(otherPriv)
        try await wrong.connect()
        await #expect { _ = try await wrong.logon() } throws: { Self.venueCode($0) == -1022 }
        // --token's default, as --help says.
        func kraken(_ token: String) -> KrakenClient {
            KrakenClient(loop: loop, configuration: .init(
                url: WebSocketURL(secure: false, host: "127.0.0.1", port: venue.port, target: ExchangeSimulator.krakenPath),
                token: token, rateLimiter: nil))
        }
        let order = Order.limit("BTC/USD", .buy, quantity: "1", price: "100")
        #expect(try await kraken(D.krakenToken).connected().placeOrder(order).response.success)
        let other = try await kraken("not-the-token").connected()
        await #expect { _ = try await other.placeOrder(order) } throws: { Self.isInvalidToken($0) }
    }

    @Test func theCLIRefusesAPrivateKeyFileAndExcludingOptionsBeforeListening() throws {
        try #require(FileManager.default.isExecutableFile(atPath: Self.cli), "\(Self.cli)")
        let dir = try TempDir()
        let (priv, _) = try Signing.ed25519KeyPair()
        let privFile = try Self.write(priv, "ed25519.key", in: dir)
        let bad = try Self.runCLI(["simulator", "--port", "0", "--exit-with-parent", "--binance-ed25519-public-key", privFile])
        #expect(bad.status != 0)
        #expect(bad.output.contains("holds a private key"), "\(bad.output)")
        #expect(!bad.output.contains("TradeWire simulator on"))
        let both = try Self.runCLI(["simulator", "--port", "0", "--exit-with-parent", "--any-token", "--token", "t"])
        #expect(both.status != 0)
        #expect(both.output.contains("--any-token and --token"), "\(both.output)")
    }
}

private extension KrakenClient {
    /// Connected, for chaining.
    func connected() async throws -> KrakenClient { try await connect(); return self }
}
