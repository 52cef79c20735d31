// expect: has no member 'onResponse'
// Setting a callback from another task while the loop thread calls it: there is no mutable callback to set.
import TradeWire
import TradeWireKraken

let loop = try EventLoop()
let kraken = KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:1/v2")))
Task { kraken.onResponse = { _, _ in } }
