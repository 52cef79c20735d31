import ArgumentParser
import CTradeWireFloor
import Dispatch
import Foundation
import TradeWire
import TradeWireSimulator

extension FaultMode: ExpressibleByArgument {}

private typealias D = SimulatorSettings.Defaults

struct Simulator: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the exchange simulator: a local venue for clients of any WebSocket library.",
        discussion: """
        Dialects by path: Kraken Spot WS v2 at /v2, its token from POST /0/private/GetWebSocketsToken (API-Key, \
        API-Sign with the base64 REST secret), (add_order, amend_order, cancel_order, cancel_all, \
        cancel_all_orders_after, batch_add, ping, the executions channel); the product-quotes stream at \
        /quotewebsocket/1.0.0 (bearer token in the handshake, subscribe/unsubscribe/unsubscribeAll/ping, \
        pq quotes, hb heartbeats); the broker order gateway at /ws/cotizaciones (orders_subscribe, \
        send_order with clOrdId, order_ack, order_report in both shapes, subscribe with ticks, ping); the Binance \
        WS API at /ws-api/v3 (signed order.place/test/cancel/cancelReplace/amend.keepPriority, openOrders.cancelAll, \
        order.status, openOrders.status, account.status, account.rateLimits.orders, signed with HMAC-SHA256, Ed25519 \
        or RSA; ping, session.logon (Ed25519), the user data stream, Binance error codes, rateLimits with 429 \
        retryAfter; --binance-revoke-after N revokes sessions). Other paths are refused with HTTP 404. With --tls a \
        certificate is made at start and its CA written to --ca-out.

        Connect with the defaults (the options below change them):
          Kraken /v2: private requests carry "token": "\(D.krakenToken)", or a
            token fetched from POST /0/private/GetWebSocketsToken with
            API-Key \(D.krakenAPIKey) and API-Sign made with the base64 secret
            \(D.krakenAPISecret)
          Binance /ws-api/v3: apiKey \(D.binanceAPIKey), HMAC-SHA256 secret
            \(D.binanceAPISecret)
            (the text as it is, not decoded). Ed25519 (session.logon) and RSA
            signatures only for the public keys given with
            --binance-ed25519-public-key and --binance-rsa-public-key; without
            an Ed25519 key session.logon is refused with -4001.
          quotes: Authorization: Bearer \(D.quotesBearer)
          order gateway: no credentials
        """)

    struct KrakenOptions: ParsableArguments {
        @Option(name: .customLong("token"),
                help: "A WebSocket token private requests may carry, besides those GetWebSocketsToken issues; repeat for more (default: \(D.krakenToken)).")
        var tokens: [String] = []
        @Flag(help: "Accept every private request whatever its token, or without one.") var anyToken = false
        @Option(help: "REST API key of GetWebSocketsToken (default: --api-key, else \(D.krakenAPIKey)).") var krakenApiKey: String?
        @Option(help: "REST API secret, base64, of GetWebSocketsToken (default: --api-secret, else \(D.krakenAPISecret)).")
        var krakenApiSecret: String?
        @Option(help: "Delay every Kraken answer by this many µs.") var ackDelayUs = 0
        @Option(help: "The account's funds as the largest order quantity; a larger order fails the pre-match check (EOrder:Insufficient funds), alone in a batch (default: no limit).")
        var krakenFundsLimit: String?
        @Option(help: "Every S seconds the tokens, issued and --token ones, go stale (EAPI:Invalid token until a client fetches a new one over REST) (default: never).")
        var krakenTokenLifetimeS: Int?
        @Option(help: "Every N-th book message carries a wrong checksum (the client must resynchronize) (default: never).")
        var krakenCorruptBookEvery: Int?
        @Option(help: "A Kraken book that moves on its own, FLOW/USD (price 1 decimal, quantity 8), at this many updates per second (default: none).")
        var krakenBookFlow: Int?
        @Option(help: ArgumentHelp("A pair's price and quantity decimals, as SYMBOL=PRICE,QTY (e.g. BTC/USD=1,8); repeat for more (others: \(D.krakenPrecision.price),\(D.krakenPrecision.quantity)).",
                                   valueName: "symbol=price,qty"))
        var krakenPrecision: [String] = []
    }

    struct BinanceOptions: ParsableArguments {
        @Option(help: "API key requests must carry (default: --api-key, else \(D.binanceAPIKey)).") var binanceApiKey: String?
        @Option(help: "HMAC-SHA256 secret of HMAC-signed requests (default: --api-secret, else \(D.binanceAPISecret)).") var binanceApiSecret: String?
        @Option(help: ArgumentHelp("PEM file with the API key's Ed25519 public key: Ed25519-signed requests and session.logon (default: none; session.logon is refused with -4001).",
                                   valueName: "file"))
        var binanceEd25519PublicKey: String?
        @Option(help: ArgumentHelp("PEM file with the API key's RSA public key: RSA-signed requests (default: none).", valueName: "file"))
        var binanceRsaPublicKey: String?
        @Option(help: "recvWindow of requests without one, in ms.") var binanceRecvWindowMs = D.binanceRecvWindowMs
        @Option(name: .customLong("binance-orders-per-10s"),
                help: "New orders per 10 s (ORDERS/SECOND/10; 429 -1015 with retryAfter past it; --no-rate-limits: none).")
        var binanceOrdersPer10s = D.binanceOrdersPer10s
        @Option(help: "New orders per UTC day (ORDERS/DAY/1).") var binanceOrdersPerDay = D.binanceOrdersPerDay
        @Option(help: "Maker and taker commission rate (0.001 = 10 bps).") var binanceCommission = D.binanceCommissionRate
        @Option(help: ArgumentHelp("A balance account.status reports, as ASSET=AMOUNT (e.g. USDT=10000); repeat for more (default: none).",
                                   valueName: "asset=amount"))
        var binanceBalance: [String] = []
        @Option(help: "Revoke a logged-on session after its N-th request (401 -2015 with id null, as when an API key stops being valid).")
        var binanceRevokeAfter: Int?
        @Option(help: "Market data fault: skip every N-th diff depth event (a client sees a gap and must resynchronize).")
        var binanceSkipDepthEvery: Int?
        @Option(help: "Market data fault: cut every N-th SBE frame short (a client must count it and go on).")
        var binanceCutSbeEvery: Int?
        @Option(help: "Market data fault: each stream connection stalls (stays open, sends nothing more) this many ms after it opens.")
        var binanceStallStreamsAfterMs: Int?
    }

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port.") var port: UInt16 = 9443
    @Flag(help: "Serve wss:// with a certificate generated at start.") var tls = false
    @Option(help: "Where to write the CA certificate clients should trust (with --tls).") var caOut = "tradewire-simulator-ca.pem"
    @Option(help: "API key of both Kraken's REST endpoint and Binance (--kraken-api-key, --binance-api-key win) (default: \(D.binanceAPIKey)).")
    var apiKey: String?
    @Option(help: "API secret of both Kraken's REST endpoint (base64) and Binance's HMAC (--kraken-api-secret, --binance-api-secret win) (default: \(D.krakenAPISecret)).")
    var apiSecret: String?
    @Flag(help: "Turn off the venues' rate limits (Kraken Starter-tier counter, Binance orders per 10 s).") var noRateLimits = false

    @OptionGroup(title: "Kraken (/v2)") var kraken: KrakenOptions

    @OptionGroup(title: "Binance (/ws-api/v3)") var binance: BinanceOptions

    @Option(help: ArgumentHelp("Quotes: the bearer token the handshake must carry (default: \(D.quotesBearer)).", valueName: "token")) var bearer: String?
    @Flag(help: "Quotes: accept any bearer token, or none.") var anyBearer = false
    @Option(help: "Quotes per second per quotes connection.") var quotesPerSecond = D.quotesPerSecond
    @Option(help: "Quotes: heartbeat interval in ms.") var quotesHeartbeatMs = D.quotesHeartbeatMs
    @Option(help: "Order gateway: ticks per second per subscription.") var gatewayTicksPerSecond = D.gatewayTicksPerSecond

    @Flag(help: "Busy-poll the venue's loop (benchmarks: no wake-up per request; takes a core).") var busyPoll = false
    @Option(help: "Pin the venue's loop to this CPU.") var cpu: Int?
    @Flag(help: "Die with the process that started this one (benchmarks, soak), so no venue outlives its run.") var exitWithParent = false

    @Option(help: "Misbehave: \(FaultMode.allCases.map(\.rawValue).joined(separator: ", ")).") var fault: FaultMode?
    @Option(help: "The fault hits at this outbound message of a connection (1 = the first).") var faultAt = 1
    @Option(help: "How many connections get the fault (0 = all); later ones are served normally.") var faultConnections = 1
    @Option(help: "Delay of --fault delayed-acks; for hold-inbound, how long after the client dropped the connection the held messages are read, in ms.") var faultDelayMs = 200

    /// The simulator's settings from these options (host and port included; TLS is the caller's).
    func settings() throws -> SimulatorSettings {
        var s = SimulatorSettings()
        s.host = host
        s.port = port
        // Kraken
        if kraken.anyToken, !kraken.tokens.isEmpty { throw ValidationError("--any-token and --token exclude each other") }
        if !kraken.tokens.isEmpty { s.krakenTokens = kraken.tokens }
        s.krakenAnyToken = kraken.anyToken
        s.krakenAPIKey = kraken.krakenApiKey ?? apiKey ?? D.krakenAPIKey
        s.krakenAPISecretBase64 = kraken.krakenApiSecret ?? apiSecret ?? D.krakenAPISecret
        if Data(base64Encoded: s.krakenAPISecretBase64) == nil {
            // --api-secret may be meant for Binance's HMAC alone: then Kraken's REST endpoint refuses every signature.
            guard kraken.krakenApiSecret == nil else { throw ValidationError("--kraken-api-secret must be base64, as Kraken's secrets are") }
            FileHandle.standardError.write(Data("warning: --api-secret is not base64: Kraken's GetWebSocketsToken will refuse every signature (give --kraken-api-secret)\n".utf8))
        }
        s.krakenAckDelay = .microseconds(kraken.ackDelayUs)
        s.krakenRateLimits = !noRateLimits
        if let limit = kraken.krakenFundsLimit {
            guard let q = FixedDecimal(limit) else { throw ValidationError("--kraken-funds-limit: not a decimal: \(limit)") }
            s.krakenFundsLimit = q
        }
        s.krakenTokenLifetimeSeconds = kraken.krakenTokenLifetimeS
        s.krakenCorruptBookEvery = kraken.krakenCorruptBookEvery
        s.krakenBookFlowPerSecond = kraken.krakenBookFlow
        for p in kraken.krakenPrecision {
            let parts = p.split(separator: "=", maxSplits: 1)
            let digits = parts.count == 2 ? parts[1].split(separator: ",").compactMap { UInt8($0) } : []
            guard parts.count == 2, !parts[0].isEmpty, digits.count == 2 else {
                throw ValidationError("--kraken-precision: SYMBOL=PRICE,QTY (e.g. BTC/USD=1,8), not \(p)")
            }
            s.krakenPairPrecision[String(parts[0])] = (digits[0], digits[1])
        }
        // quotes, gateway
        if anyBearer, bearer != nil { throw ValidationError("--any-bearer and --bearer exclude each other") }
        s.quotesBearer = anyBearer ? nil : bearer ?? D.quotesBearer
        s.quotesPerSecond = quotesPerSecond
        s.quotesHeartbeat = .milliseconds(quotesHeartbeatMs)
        s.gatewayTicksPerSecond = gatewayTicksPerSecond
        // Binance
        s.binanceAPIKey = binance.binanceApiKey ?? apiKey ?? D.binanceAPIKey
        s.binanceAPISecret = binance.binanceApiSecret ?? apiSecret ?? D.binanceAPISecret
        s.binanceEd25519PublicKeyFile = binance.binanceEd25519PublicKey
        s.binanceRSAPublicKeyFile = binance.binanceRsaPublicKey
        s.binanceRecvWindowMs = binance.binanceRecvWindowMs
        s.binanceOrdersPer10s = noRateLimits ? nil : binance.binanceOrdersPer10s
        s.binanceOrdersPerDay = binance.binanceOrdersPerDay
        guard let rate = FixedDecimal(binance.binanceCommission) else {
            throw ValidationError("--binance-commission: not a decimal: \(binance.binanceCommission)")
        }
        s.binanceCommissionRate = rate
        for b in binance.binanceBalance {
            let parts = b.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, !parts[0].isEmpty, let amount = FixedDecimal(String(parts[1])) else {
                throw ValidationError("--binance-balance: ASSET=AMOUNT (e.g. USDT=10000), not \(b)")
            }
            s.binanceBalances[String(parts[0])] = amount
        }
        s.binanceRevokeAfter = binance.binanceRevokeAfter
        s.binanceSkipDepthEvery = binance.binanceSkipDepthEvery
        s.binanceCutSBEEvery = binance.binanceCutSbeEvery
        s.binanceStallStreamsAfterMs = binance.binanceStallStreamsAfterMs
        s.fault = fault.map { FaultInjector.Plan(mode: $0, atMessage: faultAt, connections: faultConnections == 0 ? nil : faultConnections,
                                                 delay: .milliseconds(faultDelayMs)) }
        // Key files, secrets: refused here, before anything listens.
        do { _ = try s.makeVenues() } catch let e as SimulatorSettings.Invalid { throw ValidationError(e.description) }
        return s
    }

    func run() throws {
        if exitWithParent, twf_die_with_parent() != 0 { throw ExitCode(1) }
        let settings = try settings()
        let loop = try EventLoop(configuration: .init(waitMode: busyPoll ? .busyPoll : .wait, cpu: cpu))
        var serverTLS: WebSocketServer.TLS? = nil
        if tls {
            let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tradewire-sim-\(getpid())").path
            try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
            let cert = try GeneratedCertificate.generate(in: dir, dnsName: host == "127.0.0.1" ? "localhost" : host, ip: "127.0.0.1")
            try? FileManager.default.removeItem(atPath: caOut)    // a CA from an earlier run is stale
            try FileManager.default.copyItem(atPath: cert.caFile, toPath: caOut)
            serverTLS = .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile)
        }
        let exchange = try settings.start(on: loop, tls: serverTLS)
        let port = exchange.port
        let scheme = tls ? "wss" : "ws"
        let s = settings
        // Defaults are public (--help lists them); other credentials are shown by their first characters only.
        func shown(_ value: String, _ byDefault: String) -> String { value == byDefault ? value : String(value.prefix(4)) + "…" }
        // The first line is what SimulatorProcess reads the port from.
        print("TradeWire simulator on \(scheme)://\(host):\(port)")
        let tokens = s.krakenAnyToken ? "any token" : "token " + s.krakenTokens.map { shown($0, D.krakenToken) }.joined(separator: " or ") + ", or one from"
        print("  Kraken WS v2:   \(scheme)://\(host):\(port)/v2  (\(tokens) POST \(tls ? "https" : "http")://\(host):\(port)\(ExchangeSimulator.krakenTokenPath) with API key \(shown(s.krakenAPIKey, D.krakenAPIKey)))")
        print("  product quotes: \(scheme)://\(host):\(port)/quotewebsocket/1.0.0  (\(s.quotesBearer.map { "Authorization: Bearer \(shown($0, D.quotesBearer))" } ?? "any bearer token"))")
        print("  order gateway:  \(scheme)://\(host):\(port)/ws/cotizaciones")
        let keys = ["HMAC"] + (s.binanceEd25519PublicKeyFile.map { ["Ed25519 (\($0))"] } ?? []) + (s.binanceRSAPublicKeyFile.map { ["RSA (\($0))"] } ?? [])
        print("  Binance WS API: \(scheme)://\(host):\(port)/ws-api/v3  (API key \(shown(s.binanceAPIKey, D.binanceAPIKey)); signatures: \(keys.joined(separator: ", ")))")
        if tls { print("  trust this CA: \(caOut)") }
        if let fault { print("  fault: \(fault.rawValue) at message \(faultAt) of \(faultConnections == 0 ? "every" : "the first \(faultConnections)") connection(s)") }
        fflush(nil)    // the banner must reach a log or pipe at once
        withExtendedLifetime(exchange) { parkForever() }
    }
}
