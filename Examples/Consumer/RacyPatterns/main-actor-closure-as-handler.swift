// expect: loses global actor 'MainActor'
// A main-actor closure handed over as a handler would be called on the loop thread.
import TradeWire
import TradeWireKraken

@MainActor var lastPush = ""
let onPush: @MainActor @Sendable (KrakenClient, KrakenPush) -> Void = { _, push in lastPush = "\(push)" }
let loop = try EventLoop()
let kraken = KrakenClient(loop: loop, configuration: .init(url: try WebSocketURL("ws://127.0.0.1:1/v2")),
                          handlers: .init(onPush: onPush))
