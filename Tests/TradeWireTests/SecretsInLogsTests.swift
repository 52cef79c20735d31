import Foundation
import Logging
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireKraken
@testable import TradeWireSimulator

/// Keeps every log line (message and metadata) a client writes.
struct CapturingLogHandler: LogHandler {
    let lines: Locked<[String]>
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .trace
    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }
    func log(event: LogEvent) {
        lines.withLock { $0.append("\(event.level) \(event.message) \(self.metadata.merging(event.metadata ?? [:]) { $1 })") }
    }
}

/// Secrets (API secrets, WebSocket tokens, signatures) never reach logs or errors,
/// even on the paths that log most: refused requests, undecodable frames, lost connections.
@Suite("Secrets stay out of logs and errors", .serialized)
struct SecretsInLogsTests {
    @Test func tokensSecretsAndSignaturesNeverLoggedOrInErrors() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        // The venue wants other credentials, and garbles the connection at its 4th message.
        let exchange = try ExchangeSimulator(
            on: serverLoop, kraken: KrakenVenueSimulator(options: .init(token: "the-venue-token")),
            binance: BinanceVenueSimulator(options: .init(apiKey: "venue-key", apiSecret: "venue-secret")),
            fault: .init(mode: .garbageBytes, atMessage: 4, connections: nil))
        let lines = Locked<[String]>([])
        var errors: [String] = []
        let krakenToken = "KRAKEN-TOKEN-must-not-leak-7f3a"
        let kraken = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.krakenPath),
            token: krakenToken, logRequests: true, rateLimiter: nil),
            logger: Logger(label: "test.kraken") { _ in CapturingLogHandler(lines: lines) })
        try await kraken.connect()
        for i in 0..<4 {
            do { _ = try await kraken.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "1", clientOrderID: ClientOrderID("s\(i)"))) }
            catch { errors.append("\(error)"); errors.append(String(reflecting: error)) }
        }

        let binanceSecret = "BINANCE-SECRET-must-not-leak-9c1d"
        let binance = BinanceClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: exchange.port, target: ExchangeSimulator.binancePath),
            credentials: .init(apiKey: "venue-key", key: .hmac(secret: binanceSecret)), rateLimiter: nil),
            logger: Logger(label: "test.binance") { _ in CapturingLogHandler(lines: lines) })
        try await binance.connect()
        for i in 0..<4 {
            do { _ = try await binance.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "1", clientOrderID: ClientOrderID("b\(i)"))) }
            catch { errors.append("\(error)"); errors.append(String(reflecting: error)) }
        }
        for c in [kraken.configuration, binance.configuration] as [Any] {
            errors.append("\(c)")
            errors.append(String(reflecting: c))
            var dumped = ""
            dump(c, to: &dumped)
            errors.append(dumped)
        }

        let text = (lines.withLock { $0 } + errors).joined(separator: "\n")
        #expect(errors.count >= 8, "the run should have produced errors to inspect")
        #expect(text.contains("EAPI:Invalid token"))              // the refusals are there, and say why…
        #expect(text.contains("-1022"))
        #expect(!text.contains(krakenToken))                       // …without the secrets
        #expect(!text.contains(binanceSecret))
        // An HMAC-SHA256 signature is 64 hex digits: none may appear anywhere.
        #expect(text.range(of: "[0-9a-f]{64}", options: .regularExpression) == nil, "\(text)")
    }
}
