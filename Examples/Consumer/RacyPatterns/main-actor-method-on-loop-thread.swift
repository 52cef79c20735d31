// expect: main actor-isolated
// A @MainActor view model updated from a handler: the handler runs on the loop thread, not the main actor.
import TradeWire
import TradeWireKraken

@MainActor final class ViewModel {
    var fills = 0
    func record() { fills += 1 }
}

@MainActor func make(_ model: ViewModel) throws -> KrakenClient {
    let loop = try EventLoop()
    return KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:1/v2")),
                        handlers: .init(onPush: { _, _ in model.record() }))
}
