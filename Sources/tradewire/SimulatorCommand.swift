import ArgumentParser
import CTradeWireFloor
import Dispatch
import Foundation
import TradeWire
import TradeWireSimulator

extension FaultMode: ExpressibleByArgument {}

struct Simulator: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the exchange simulator: a local venue for clients of any WebSocket library.",
        discussion: """
        Dialects by path: Kraken Spot WS v2 at /v2, its token from POST /0/private/GetWebSocketsToken (API-Key, \
        API-Sign with --api-secret as the base64 secret), (add_order, amend_order, cancel_order, cancel_all, \
        cancel_all_orders_after, batch_add, ping, the executions channel); the product-quotes stream at \
        /quotewebsocket/1.0.0 (bearer token in the handshake, subscribe/unsubscribe/unsubscribeAll/ping, \
        pq quotes, hb heartbeats); the broker order gateway at /ws/cotizaciones (orders_subscribe, \
        send_order with clOrdId, order_ack, order_report in both shapes, subscribe with ticks, ping); the Binance \
        WS API at /ws-api/v3 (signed order.place/test/cancel/cancelReplace/amend.keepPriority, openOrders.cancelAll, \
        order.status, openOrders.status, account.status, account.rateLimits.orders checked with --api-key/--api-secret, \
        ping, session.logon, the user data stream, Binance error codes, rateLimits with 429 retryAfter; \
        --binance-revoke-after N revokes sessions). Other paths are refused with HTTP 404. With --tls a certificate is made \
        at start and its CA written to --ca-out.
        """)

    @Option(help: "Address to bind.") var host = "127.0.0.1"
    @Option(help: "Port.") var port: UInt16 = 9443
    @Flag(help: "Serve wss:// with a certificate generated at start.") var tls = false
    @Option(help: "Where to write the CA certificate clients should trust (with --tls).") var caOut = "tradewire-simulator-ca.pem"
    @Option(help: "Kraken WebSocket token requests must carry (default: any).") var token: String?
    @Option(help: "Delay every Kraken answer by this many µs.") var ackDelayUs = 0
    @Option(help: "Bearer token the quotes stream requires (default: demo-bearer).") var bearer = "demo-bearer"
    @Option(help: "Quotes per second per quotes connection.") var quotesPerSecond = 10
    @Flag(help: "Turn off the venues' rate limits (Kraken Starter-tier counter, Binance 50 orders/10 s).") var noRateLimits = false
    @Option(help: "Binance API key requests must carry.") var apiKey = "demo-api-key"
    @Option(help: "API secret: Kraken's base64 REST secret and Binance's HMAC key.") var apiSecret = "ZGVtby1hcGktc2VjcmV0LWZvci10aGUtc2ltdWxhdG9y"
    @Option(help: "Kraken: the account's funds as the largest order quantity; a larger order fails the pre-match check (EOrder:Insufficient funds), alone in a batch.")
    var krakenFundsLimit: String?
    @Option(help: "Kraken: every S seconds the tokens issued so far go stale (EAPI:Invalid token until a client fetches a new one over REST).")
    var krakenTokenLifetimeS: Int?
    @Option(help: "Kraken: every N-th book message carries a wrong checksum (the client must resynchronize).")
    var krakenCorruptBookEvery: Int?
    @Option(help: "Binance: revoke a logged-on session after its N-th request (401 -2015 with id null, as when an API key stops being valid).") var binanceRevokeAfter: Int?

    @Flag(help: "Busy-poll the venue's loop (benchmarks: no wake-up per request; takes a core).") var busyPoll = false
    @Option(help: "Pin the venue's loop to this CPU.") var cpu: Int?
    @Flag(help: "Die with the process that started this one (benchmarks, soak), so no venue outlives its run.") var exitWithParent = false

    @Option(help: "Misbehave: \(FaultMode.allCases.map(\.rawValue).joined(separator: ", ")).") var fault: FaultMode?
    @Option(help: "The fault hits at this outbound message of a connection (1 = the first).") var faultAt = 1
    @Option(help: "How many connections get the fault (0 = all); later ones are served normally.") var faultConnections = 1
    @Option(help: "Delay of --fault delayed-acks; for hold-inbound, how long after the client dropped the connection the held messages are read, in ms.") var faultDelayMs = 200

    func run() throws {
        if exitWithParent, twf_die_with_parent() != 0 { throw ExitCode(1) }
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
        var krakenOptions = KrakenVenueSimulator.Options(ackDelay: .microseconds(ackDelayUs), token: token,
                                                         rateCounter: noRateLimits ? nil : KrakenOrderCounter(),
                                                         apiKey: apiKey, apiSecretBase64: apiSecret)
        if let limit = krakenFundsLimit {
            guard let q = FixedDecimal(limit) else { throw ValidationError("--kraken-funds-limit: not a decimal: \(limit)") }
            krakenOptions.fundsLimit = q
        }
        krakenOptions.corruptBookChecksumEvery = krakenCorruptBookEvery
        let kraken = KrakenVenueSimulator(options: krakenOptions)
        if let s = krakenTokenLifetimeS {
            guard s > 0 else { throw ValidationError("--kraken-token-lifetime-s must be positive") }
            @Sendable func expire() { _ = loop.schedule(after: .seconds(s)) { kraken.invalidateTokens(); expire() } }
            loop.execute { expire() }
        }
        let quotes = QuotesVenueSimulator(options: .init(bearer: bearer, quotesPerSecond: quotesPerSecond))
        let binance = BinanceVenueSimulator(options: .init(apiKey: apiKey, apiSecret: apiSecret, ordersPer10s: noRateLimits ? nil : 50,
                                                           revokeSessionAfterRequests: binanceRevokeAfter))
        let plan = fault.map { FaultInjector.Plan(mode: $0, atMessage: faultAt, connections: faultConnections == 0 ? nil : faultConnections,
                                                   delay: .milliseconds(faultDelayMs)) }
        let exchange = try ExchangeSimulator(on: loop, host: host, port: port, tls: serverTLS, kraken: kraken, quotes: quotes,
                                             binance: binance, fault: plan)
        let server = exchange.server!
        let scheme = tls ? "wss" : "ws"
        print("TradeWire simulator on \(scheme)://\(host):\(server.port)")
        print("  Kraken WS v2:   \(scheme)://\(host):\(server.port)/v2  (token: POST \(tls ? "https" : "http")://\(host):\(server.port)/0/private/GetWebSocketsToken)")
        print("  product quotes: \(scheme)://\(host):\(server.port)/quotewebsocket/1.0.0  (Authorization: Bearer \(bearer))")
        print("  order gateway:  \(scheme)://\(host):\(server.port)/ws/cotizaciones")
        print("  Binance WS API: \(scheme)://\(host):\(server.port)/ws-api/v3  (API key \(apiKey.prefix(4))…)")
        if tls { print("  trust this CA: \(caOut)") }
        if let fault { print("  fault: \(fault.rawValue) at message \(faultAt) of \(faultConnections == 0 ? "every" : "the first \(faultConnections)") connection(s)") }
        fflush(nil)    // the banner must reach a log or pipe at once
        parkForever()
    }
}
