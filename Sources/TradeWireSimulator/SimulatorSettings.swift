import Foundation
import TradeWire

/// What `tradewire simulator` takes on its command line, and how it becomes the simulator: the CLI fills one of
/// these from its options and calls `start(on:)`, and the tests build the simulator the same way. Every venue
/// setting a user may need is here, with the defaults `--help` lists (`Defaults`).
public struct SimulatorSettings: Sendable {
    /// The credentials a client connects with when none are given: `tradewire simulator --help` lists them.
    public enum Defaults {
        /// The Kraken WebSocket token requests may carry without fetching one over REST (the one `tradewire demo` uses).
        public static let krakenToken = "demo-ws-token"
        /// Kraken's REST API key and base64 secret, for `POST /0/private/GetWebSocketsToken`.
        public static let krakenAPIKey = "demo-api-key"
        /// base64 of "demo-api-secret-for-the-simulator".
        public static let krakenAPISecret = "ZGVtby1hcGktc2VjcmV0LWZvci10aGUtc2ltdWxhdG9y"
        /// Binance's API key, and the HMAC-SHA256 secret of HMAC-signed requests (the text, used as is: not decoded).
        public static let binanceAPIKey = "demo-api-key"
        public static let binanceAPISecret = "ZGVtby1hcGktc2VjcmV0LWZvci10aGUtc2ltdWxhdG9y"
        /// The bearer token of the product-quotes handshake.
        public static let quotesBearer = "demo-bearer"
        public static let quotesPerSecond = 10
        public static let quotesHeartbeatMs = 5000
        public static let gatewayTicksPerSecond = 10
        public static let binanceOrdersPer10s = 50
        public static let binanceOrdersPerDay = 160_000
        public static let binanceRecvWindowMs: Int64 = 5000
        public static let binanceCommissionRate = "0.001"
        public static let krakenPrecision: (price: UInt8, quantity: UInt8) = (5, 10)
    }

    /// A setting that cannot be served (a key file that is not a public key, a bad decimal, …); `description` says why.
    public struct Invalid: Error, CustomStringConvertible {
        public let description: String
        public init(_ description: String) { self.description = description }
    }

    public var host = "127.0.0.1"
    public var port: UInt16 = 0

    // Kraken
    /// WebSocket tokens requests may carry, besides those the REST endpoint issues (all go stale together with
    /// `krakenTokenLifetimeSeconds`).
    public var krakenTokens: [String] = [Defaults.krakenToken]
    /// Accept every private request whatever its token, or without one.
    public var krakenAnyToken = false
    public var krakenAPIKey = Defaults.krakenAPIKey
    public var krakenAPISecretBase64 = Defaults.krakenAPISecret
    public var krakenAckDelay: Duration = .zero
    /// Kraken's per-pair order counter (Starter tier); false: no limit.
    public var krakenRateLimits = true
    public var krakenFundsLimit: FixedDecimal?
    /// Every S seconds the tokens (issued and configured) go stale.
    public var krakenTokenLifetimeSeconds: Int?
    public var krakenCorruptBookEvery: Int?
    /// A book that moves on its own (`KrakenBookFlow`, symbol FLOW/USD) at this many updates per second; nil: none.
    public var krakenBookFlowPerSecond: Int?
    public var krakenPairPrecision: [String: (price: UInt8, quantity: UInt8)] = [:]
    public var krakenDefaultPrecision = Defaults.krakenPrecision

    // product quotes
    /// nil: any bearer token, or none, is accepted.
    public var quotesBearer: String? = Defaults.quotesBearer
    public var quotesPerSecond = Defaults.quotesPerSecond
    public var quotesHeartbeat: Duration = .milliseconds(Defaults.quotesHeartbeatMs)

    // order gateway
    public var gatewayTicksPerSecond = Defaults.gatewayTicksPerSecond

    // Binance
    public var binanceAPIKey = Defaults.binanceAPIKey
    public var binanceAPISecret = Defaults.binanceAPISecret
    /// A PEM file with the Ed25519 public key of `binanceAPIKey` (Ed25519-signed requests, `session.logon`);
    /// nil: `session.logon` is refused (-4001).
    public var binanceEd25519PublicKeyFile: String?
    /// A PEM file with the RSA public key of `binanceAPIKey` (RSA-signed requests).
    public var binanceRSAPublicKeyFile: String?
    public var binanceRecvWindowMs = Defaults.binanceRecvWindowMs
    /// nil: no ORDERS/10 s limit.
    public var binanceOrdersPer10s: Int? = Defaults.binanceOrdersPer10s
    public var binanceOrdersPerDay = Defaults.binanceOrdersPerDay
    public var binanceRevokeAfter: Int?
    /// Market data faults: every Nth diff depth event skipped; every Nth SBE frame cut short.
    public var binanceSkipDepthEvery: Int?
    public var binanceCutSBEEvery: Int?
    /// Stall each market data stream connection this many ms after it opens (nil: never).
    public var binanceStallStreamsAfterMs: Int?
    public var binanceCommissionRate = FixedDecimal(Defaults.binanceCommissionRate)!
    public var binanceBalances: [String: FixedDecimal] = [:]

    public var fault: FaultInjector.Plan?

    public init() {}

    /// The four venues as these settings describe them (key files read and checked here).
    public func makeVenues() throws -> (kraken: KrakenVenueSimulator, quotes: QuotesVenueSimulator,
                                        gateway: GatewayVenueSimulator, binance: BinanceVenueSimulator) {
        guard !krakenTokens.contains(where: \.isEmpty) else { throw Invalid("a Kraken token cannot be empty") }
        if let s = krakenTokenLifetimeSeconds, s <= 0 { throw Invalid("the Kraken token lifetime must be positive") }
        if krakenAnyToken, krakenTokenLifetimeSeconds != nil { throw Invalid("with any token accepted, tokens cannot go stale") }
        var k = KrakenVenueSimulator.Options(ackDelay: krakenAckDelay, token: krakenTokens.first,
                                             rateCounter: krakenRateLimits ? KrakenOrderCounter() : nil,
                                             apiKey: krakenAPIKey, apiSecretBase64: krakenAPISecretBase64, fundsLimit: krakenFundsLimit)
        k.additionalTokens = Array(krakenTokens.dropFirst())
        k.acceptAnyToken = krakenAnyToken
        k.corruptBookChecksumEvery = krakenCorruptBookEvery
        k.pairPrecision = krakenPairPrecision
        k.defaultPrecision = krakenDefaultPrecision

        guard quotesPerSecond > 0 else { throw Invalid("quotes per second must be positive") }
        guard gatewayTicksPerSecond > 0 else { throw Invalid("gateway ticks per second must be positive") }

        var b = BinanceVenueSimulator.Options(apiKey: binanceAPIKey, apiSecret: binanceAPISecret,
                                              ed25519PublicKeyPEM: try binanceEd25519PublicKeyFile.map { try Self.publicKeyPEM(atPath: $0, kind: .ed25519) },
                                              recvWindowMs: binanceRecvWindowMs, ordersPer10s: binanceOrdersPer10s,
                                              ordersPerDay: binanceOrdersPerDay, revokeSessionAfterRequests: binanceRevokeAfter,
                                              commissionRate: binanceCommissionRate, balances: binanceBalances)
        b.rsaPublicKeyPEM = try binanceRSAPublicKeyFile.map { try Self.publicKeyPEM(atPath: $0, kind: .rsa) }
        b.skipDepthEventEvery = binanceSkipDepthEvery
        b.cutSBEFrameEvery = binanceCutSBEEvery
        b.stallStreamAfter = binanceStallStreamsAfterMs.map { .milliseconds($0) }
        let kraken = KrakenVenueSimulator(options: k)
        if let rate = krakenBookFlowPerSecond {
            guard rate > 0 else { throw Invalid("the book flow rate must be positive") }
            kraken.bookFlow = KrakenBookFlow(perSecond: rate)
        }
        return (kraken,
                QuotesVenueSimulator(options: .init(bearer: quotesBearer, quotesPerSecond: quotesPerSecond, heartbeatInterval: quotesHeartbeat)),
                GatewayVenueSimulator(options: .init(ticksPerSecond: gatewayTicksPerSecond)),
                BinanceVenueSimulator(options: b))
    }

    /// The simulator listening on `host:port`, as `tradewire simulator` runs it (Kraken tokens going stale on `loop`
    /// every `krakenTokenLifetimeSeconds`).
    public func start(on loop: EventLoop, tls: WebSocketServer.TLS? = nil) throws -> ExchangeSimulator {
        let v = try makeVenues()
        let exchange = try ExchangeSimulator(on: loop, host: host, port: port, tls: tls, kraken: v.kraken, quotes: v.quotes,
                                             gateway: v.gateway, binance: v.binance, fault: fault)
        if let s = krakenTokenLifetimeSeconds {
            let kraken = v.kraken
            @Sendable func expire() { _ = loop.schedule(after: .seconds(s)) { kraken.invalidateTokens(); expire() } }
            loop.execute { expire() }
        }
        return exchange
    }

    // MARK: key files

    public enum KeyKind: Sendable { case ed25519, rsa }

    /// The PEM text of a public key file, checked to be a key of `kind` in SubjectPublicKeyInfo form
    /// (`-----BEGIN PUBLIC KEY-----`, what `openssl pkey -pubout` writes).
    public static func publicKeyPEM(atPath path: String, kind: KeyKind) throws -> String {
        let name = kind == .ed25519 ? "Ed25519" : "RSA"
        guard let pem = try? String(contentsOfFile: path, encoding: .utf8) else { throw Invalid("cannot read the \(name) public key file \(path)") }
        if pem.contains("PRIVATE KEY-----") {
            throw Invalid("\(path) holds a private key: give its public key (openssl pkey -in \(path) -pubout -out public.pem)")
        }
        let begin = "-----BEGIN PUBLIC KEY-----", end = "-----END PUBLIC KEY-----"
        guard let b = pem.range(of: begin), let e = pem.range(of: end, range: b.upperBound..<pem.endIndex),
              let der = Data(base64Encoded: pem[b.upperBound..<e.lowerBound].filter { !$0.isWhitespace }) else {
            throw Invalid("\(path) is not a PEM public key (\(begin) … \(end))")
        }
        let bytes = [UInt8](der)
        switch kind {
        case .ed25519:
            // SEQUENCE { SEQUENCE { OID 1.3.101.112 }, BIT STRING (32 bytes) } (RFC 8410)
            let prefix: [UInt8] = [0x30, 0x2A, 0x30, 0x05, 0x06, 0x03, 0x2B, 0x65, 0x70, 0x03, 0x21, 0x00]
            guard bytes.count == 44, bytes.starts(with: prefix) else { throw Invalid("\(path) is not an Ed25519 public key") }
        case .rsa:
            // rsaEncryption, 1.2.840.113549.1.1.1, in the key's AlgorithmIdentifier
            let oid: [UInt8] = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x01]
            guard bytes.count > 32, (0...(24 - oid.count)).contains(where: { bytes[$0..<$0 + oid.count].elementsEqual(oid) }) else {
                throw Invalid("\(path) is not an RSA public key")
            }
        }
        return pem
    }
}
