// expect: mutation of captured var 'filled' in concurrently-executing code
// A handler runs on the loop thread: a bare local `var` it writes would race with its reader.
import TradeWire
import TradeWireKraken

func run() throws {
    let loop = try EventLoop()
    var filled = 0
    let kraken = KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:1/v2")),
                              handlers: .init(onPush: { _, _ in filled += 1 }))
    print(filled, kraken)
}
