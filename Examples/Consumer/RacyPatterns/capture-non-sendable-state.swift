// expect: non-Sendable type 'Strategy'
// A strategy object with mutable state, captured by a handler (loop thread) and read here (the caller's thread).
import TradeWire
import TradeWireKraken

final class Strategy { var position = 0 }

func run() throws {
    let strategy = Strategy()
    let loop = try EventLoop()
    let kraken = KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:1/v2")),
                              handlers: .init(onPush: { _, _ in strategy.position += 1 }))
    print(strategy.position, kraken)
}
