import TradeWire

/// Every dialect of the simulator behind one listener, by path, with an optional
/// fault plan: what `tradewire simulator`, the demo and the tests run.
public final class ExchangeSimulator: @unchecked Sendable {
    public static let krakenPath = "/v2"
    public static let krakenTokenPath = "/0/private/GetWebSocketsToken"
    public static let quotesPath = "/quotewebsocket/1.0.0"
    public static let gatewayPath = "/ws/cotizaciones"
    public static let binancePath = "/ws-api/v3"
    /// Binance market streams (combined: `/stream?streams=…`).
    public static let binanceStreamPath = "/stream"

    public let kraken: KrakenVenueSimulator
    public let quotes: QuotesVenueSimulator
    public let gateway: GatewayVenueSimulator
    public let binance: BinanceVenueSimulator
    public let faults: FaultInjector?
    public private(set) var server: WebSocketServer!

    public var port: UInt16 { server.port }

    public init(on loop: EventLoop, host: String = "127.0.0.1", port: UInt16 = 0, tls: WebSocketServer.TLS? = nil,
                kraken: KrakenVenueSimulator = .init(), quotes: QuotesVenueSimulator = .init(),
                gateway: GatewayVenueSimulator = .init(),
                binance: BinanceVenueSimulator = .init(options: .init(apiKey: "demo-api-key", apiSecret: "demo-api-secret")),
                fault: FaultInjector.Plan? = nil) throws {
        self.kraken = kraken
        self.quotes = quotes
        self.gateway = gateway
        self.binance = binance
        let faults = fault.map(FaultInjector.init(plan:))
        self.faults = faults
        server = try WebSocketServer.listen(on: loop, host: host, port: port, tls: faults?.tls(tls) ?? tls) { r in
            let d: WebSocketServer.Decision
            switch r.path {
            case Self.krakenPath: d = .accept(kraken.handler())
            case Self.krakenTokenPath: return kraken.restToken(r)
            case Self.quotesPath: d = quotes.decide(r)
            case Self.gatewayPath: d = .accept(gateway.handler())
            case Self.binancePath: d = binance.decide(r)
            case Self.binanceStreamPath: d = binance.streamDecision(r)
            default: return .reject(status: 404, body: "no such endpoint: \(r.path)\n")
            }
            return faults?.decide(d) ?? d
        }
    }

    /// Stop accepting (existing connections stay).
    public func close() { server.close() }
}
