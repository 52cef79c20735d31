// expect: risks causing data races
// The book feed is lent on the loop thread only; handing it to a task would read it while the loop writes it.
import TradeWire
import TradeWireKraken

func peek(_ kraken: KrakenClient) throws {
    try kraken.withBookFeed { feed in
        Task.detached { print(feed.book("BTC/USD") as Any) }
    }
}
