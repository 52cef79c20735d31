// What a TradeWire user writes, in Swift 6 language mode, against the embedded simulator: the README's
// "Using it" snippets, for all four venues. `make check-api` builds and runs it.
import Synchronization
import TradeWire
import TradeWireBinance
import TradeWireGateway
import TradeWireKraken
import TradeWireQuotes
import TradeWireSimulator

let venueLoop = try EventLoop()
let exchange = try ExchangeSimulator(on: venueLoop)            // Binance: key demo-api-key, HMAC secret demo-api-secret
let base = "ws://127.0.0.1:\(exchange.port)"
let loop = try EventLoop()                                      // the clients' loop thread

// Kraken Spot WS v2: handlers run on the loop thread, @Sendable (the compiler checks their captures).
let acks = Atomic<Int>(0)
let kraken = try TradeWire.create(.kraken, loop: loop,
                                  configuration: .init(url: try WebSocketURL("\(base)/v2"), token: "demo-ws-token"),
                                  handlers: .init(onResponse: { _, done in
                                      if case .success = done.result { acks.add(1, ordering: .relaxed) }
                                  }))
let executions = kraken.executions                              // an AsyncSequence, buffered from here on
try await kraken.connect()
_ = try await kraken.subscribeExecutions()
let ack = try await kraken.placeOrder(.limit("BTC/USD", .buy, quantity: "0.01", price: "20000", clientOrderID: ClientOrderID("consumer-1")))
print("kraken: order \(ack.response.orderID.map { "\($0)" } ?? "-") in \(ack.latency)")
do {
    _ = try await kraken.amendOrder(KrakenAmendOrder(.orderID("NO-SUCH-ORDER"), quantity: "1"))
} catch {
    // Typed throws: `error` is a TradeWireError; switch on the venue's code, not on its text.
    print("kraken: refused, code \(error.venueError?.code ?? "\(error.code)")")
}
for await item in executions {
    if case .event(let e) = item, e.clientOrderID?.description == "consumer-1" { print("kraken: execution \(e.execType)"); break }
    if case .gap(let n) = item { print("kraken: \(n) executions skipped: reconcile") }
}
print("kraken: add_order", await kraken.latencyStats(for: .addOrder).map { "\($0)" } ?? "-")

// Binance WS API: the same shape; errors carry Binance's code as data.
let binance = try TradeWire.create(.binance, loop: loop, configuration: .init(
    url: try WebSocketURL("\(base)/ws-api/v3"),
    credentials: BinanceCredentials(apiKey: "demo-api-key", key: .hmac(secret: "demo-api-secret"))))
try await binance.connect()
let placed = try await binance.placeOrder(.limit("BTCUSDT", .buy, quantity: "0.01", price: "20000.00"))
print("binance: order \(placed.response.orderID ?? 0) in \(placed.latency)")

// The broker gateway (seed 000): order reports as a stream.
let gateway = try TradeWire.create(.gateway, loop: loop, configuration: .init(url: try WebSocketURL("\(base)/ws/cotizaciones")))
let reports = gateway.orderReports
try await gateway.connect()
_ = try await gateway.ordersSubscribe(account: "16558")
_ = try await gateway.sendOrder(GatewayOrder(symbol: "GGAL", side: .buy, size: "100", price: "1500.0"), clientOrderID: ClientOrderID("gw-1")!)
for await item in reports { if let r = item.value { print("gateway: report \(r.status.rawValue)"); break } }

// The quotes stream (seed 002).
let quotes = try TradeWire.create(.quotes, loop: loop, configuration: .init(
    url: try WebSocketURL("\(base)/quotewebsocket/1.0.0"), bearerToken: "demo-bearer"))
let stream = quotes.quotes
try await quotes.connect()
_ = try await quotes.subscribe(["DWC.4.20"])
for await item in stream { if let q = item.value { print("quotes: \(q.product) \(q.price)"); break } }

// Anywhere else in the program: fetched by venue, typed.
let sameKraken: KrakenClient = try TradeWire.client(.kraken)
precondition(sameKraken === kraken)
print("kraken acks seen by the handler: \(acks.load(ordering: .relaxed))")

// close() returns once each connection is closed and every request has completed.
await kraken.close()
await binance.close()
await gateway.close()
await quotes.close()
loop.shutdown()
venueLoop.shutdown()
print("consumer: done")
