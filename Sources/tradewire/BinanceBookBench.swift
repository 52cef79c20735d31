import Foundation
import TradeWire
import TradeWireBinance
import TradeWireSimulator

/// `tradewire book-bench`'s Binance part: the same diff depth events as SBE frames and as JSON messages,
/// decoded and applied to an in-sync `BinanceDepthBook` on one core, and SBE best bid/ask events decoded.
enum BinanceBookBench {
    struct Figures {
        var sbeDepthNs: Double, jsonDepthNs: Double, sbeBestBidAskNs: Double
        var events: Int
    }

    static func run(events: Int, seconds: Double) -> Figures {
        let (sbe, json, best) = generate(count: events)
        let depthSBE = measure(seconds: seconds, count: sbe.count) { book in
            for f in sbe {
                f.withUnsafeBytes { b in
                    if let d = try? BinanceSBE.depth(b) {
                        _ = book.apply(firstU: d.firstUpdateID, finalU: d.lastUpdateID, bids: d.bidLevels, asks: d.askLevels)
                    }
                }
            }
        }
        let depthJSON = measure(seconds: seconds, count: json.count) { book in
            for m in json {
                m.withUnsafeBytes { b in
                    guard let doc = try? JSONDocument(validating: b), let first = doc.root["U"]?.int64, let last = doc.root["u"]?.int64 else { return }
                    _ = book.apply(firstU: first, finalU: last, bids: doc.root["b"], asks: doc.root["a"])
                }
            }
        }
        var sink: Int64 = 0
        let start = MonotonicClock.nanoseconds()
        var decoded = 0
        var elapsed: UInt64 = 0
        repeat {
            for f in best {
                f.withUnsafeBytes { b in if let e = try? BinanceSBE.bestBidAsk(b) { sink &+= e.bidPrice &+ e.askQty } }
            }
            decoded += best.count
            elapsed = MonotonicClock.nanoseconds() - start
        } while Double(elapsed) < seconds * 1e9
        precondition(sink != 0)
        return Figures(sbeDepthNs: depthSBE, jsonDepthNs: depthJSON, sbeBestBidAskNs: Double(elapsed) / Double(decoded), events: events)
    }

    /// ns per event: each pass starts a fresh in-sync book (an empty snapshot at id 0) and applies every event.
    private static func measure(seconds: Double, count: Int, _ pass: (BinanceDepthBook) -> Void) -> Double {
        let book = BinanceDepthBook(symbol: "BTCUSDT", depth: 1000, priceScale: 2, qtyScale: 8)
        var applied = 0
        let start = MonotonicClock.nanoseconds()
        var elapsed: UInt64 = 0
        repeat {
            _ = book.applySnapshot(lastUpdateID: 0, bids: JSONLevels(nil), asks: JSONLevels(nil))
            pass(book)
            precondition(book.eventsApplied >= count && book.gaps == 0, "the generated events must stay in sync")
            applied += count
            elapsed = MonotonicClock.nanoseconds() - start
        } while Double(elapsed) < seconds * 1e9
        return Double(elapsed) / Double(applied)
    }

    /// A seeded walk of BTCUSDT (prices at 2 decimals, quantities at 8): each event sets, adds or removes one to
    /// three levels near the top, as SBE frames, the same as JSON `depthUpdate`s, and best bid/ask frames.
    static func generate(count: Int) -> (sbe: [[UInt8]], json: [[UInt8]], best: [[UInt8]]) {
        var rng = SplitMix64(seed: 2027)
        var sbe: [[UInt8]] = [], json: [[UInt8]] = [], best: [[UInt8]] = []
        let mid: Int64 = 9_654_321
        for i in 0..<count {
            var bids: [(price: FixedDecimal, quantity: FixedDecimal)] = [], asks: [(price: FixedDecimal, quantity: FixedDecimal)] = []
            for _ in 0..<Int(1 + rng.next() % 3) {
                let buy = rng.next() % 2 == 0
                let p = buy ? mid - Int64(rng.next() % 40) : mid + 1 + Int64(rng.next() % 40)
                let q = rng.next() % 4 == 0 ? 0 : Int64(1 + rng.next() % 500_000_000)
                let level = (FixedDecimal(mantissa: p, scale: 2), FixedDecimal(mantissa: q, scale: 8))
                if buy { bids.append(level) } else { asks.append(level) }
            }
            let id = Int64(i + 1)
            sbe.append(BinanceSBEEncoder.depthDiff(symbol: "BTCUSDT", eventTimeUs: 1_736_899_200_000_000 + id, first: id, last: id,
                                                   priceExponent: -2, qtyExponent: -8, bids: bids, asks: asks))
            func levels(_ l: [(price: FixedDecimal, quantity: FixedDecimal)]) -> String {
                "[" + l.map { "[\"\($0.price)\",\"\($0.quantity)\"]" }.joined(separator: ",") + "]"
            }
            json.append(Array(("{\"e\":\"depthUpdate\",\"E\":\(1_736_899_200_000 + id),\"s\":\"BTCUSDT\",\"U\":\(id),\"u\":\(id),"
                + "\"b\":\(levels(bids)),\"a\":\(levels(asks))}").utf8))
            best.append(BinanceSBEEncoder.bestBidAsk(
                symbol: "BTCUSDT", eventTimeUs: 1_736_899_200_000_000 + id, updateID: id, priceExponent: -2, qtyExponent: -8,
                bid: (FixedDecimal(mantissa: mid - Int64(i % 7), scale: 2), FixedDecimal(mantissa: Int64(1 + i % 900), scale: 8)),
                ask: (FixedDecimal(mantissa: mid + 1 + Int64(i % 5), scale: 2), FixedDecimal(mantissa: Int64(1 + i % 700), scale: 8))))
        }
        return (sbe, json, best)
    }
}
