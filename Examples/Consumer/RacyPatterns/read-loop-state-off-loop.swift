// expect: 'subscriptions' is inaccessible
// Reading the client's loop-confined state from another thread: it is not public (use
// `subscribedProducts()` / `latencyStats(for:)`, which read it on the loop).
import TradeWire
import TradeWireQuotes

let loop = try EventLoop()
let quotes = QuotesClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:1/q"), bearerToken: "t"))
Task { print(quotes.subscriptions.count, quotes.latency.stats(for: "subscribe") as Any) }
