import CMallocCounter
import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireSimulator

/// Binance's SBE market data streams: frames made by an independent Python encoder written from the schema
/// (Peers/sbe_stream_encoder.py), decoded in place; the same events as JSON and as SBE give the same book.
@Suite("Binance SBE market data")
struct BinanceSBETests {
    static let kinds = ["trade", "best_bid_ask", "depth_snapshot", "depth_diff"]

    static func expected(_ name: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(try fixture("binance-sbe", name + ".json"))) as! [String: Any]
    }

    static func int(_ v: Any?) -> Int64 { (v as! NSNumber).int64Value }
    static func levels(_ v: Any?) -> [[Int64]] { (v as! [[NSNumber]]).map { $0.map(\.int64Value) } }

    @Test(arguments: kinds.flatMap { k in (1...3).map { "\(k)_\($0)" } })
    func fixturesDecodeToTheValuesTheEncoderWrote(_ name: String) throws {
        let bytes = try fixture("binance-sbe", name + ".bin")
        let want = try Self.expected(name)
        try bytes.withUnsafeBytes { b in
            switch try BinanceSBE.decode(b) {
            case .trades(let t):
                #expect(want["kind"] as? String == "trade")
                #expect(t.eventTimeUs == Self.int(want["event_time"]) && t.transactTimeUs == Self.int(want["transact_time"]))
                #expect(Int64(t.priceExponent) == Self.int(want["price_exponent"]) && Int64(t.qtyExponent) == Self.int(want["qty_exponent"]))
                let trades = want["trades"] as! [[String: Any]]
                #expect(t.count == trades.count)
                for (i, w) in trades.enumerated() {
                    let got = t[i]
                    #expect(got.id == Self.int(w["id"]) && got.price == Self.int(w["price"]) && got.qty == Self.int(w["qty"]))
                    #expect(got.isBuyerMaker == (w["is_buyer_maker"] as! Bool))
                }
                #expect(String(decoding: t.symbolBytes, as: UTF8.self) == want["symbol"] as? String)
            case .bestBidAsk(let e):
                #expect(want["kind"] as? String == "best_bid_ask")
                #expect(e.eventTimeUs == Self.int(want["event_time"]) && e.bookUpdateID == Self.int(want["book_update_id"]))
                #expect(e.bidPrice == Self.int(want["bid_price"]) && e.bidQty == Self.int(want["bid_qty"]))
                #expect(e.askPrice == Self.int(want["ask_price"]) && e.askQty == Self.int(want["ask_qty"]))
                #expect(Int64(e.priceExponent) == Self.int(want["price_exponent"]))
                let symbol = want["symbol"] as! String
                #expect(e.symbol.description == String(decoding: Array(symbol.utf8).prefix(InlineText.capacity), as: UTF8.self)
                        || e.symbol.truncated)
            case .depthSnapshot(let d), .depthDiff(let d):
                let kind = want["kind"] as! String
                #expect(kind == "depth_snapshot" || kind == "depth_diff")
                if kind == "depth_diff" {
                    #expect(d.firstUpdateID == Self.int(want["first_book_update_id"]) && d.lastUpdateID == Self.int(want["last_book_update_id"]))
                } else {
                    #expect(d.lastUpdateID == Self.int(want["book_update_id"]))
                }
                func read(_ l: SBELevels) -> [[Int64]] { (0..<l.count).map { let m = l.mantissas($0); return [m.price, m.qty] } }
                #expect(read(d.bidLevels) == Self.levels(want["bids"]))
                #expect(read(d.askLevels) == Self.levels(want["asks"]))
                #expect(String(decoding: d.symbolBytes, as: UTF8.self) == want["symbol"] as? String)
            }
        }
    }

    /// Every cut of every fixture, and a root block or group entry shorter than the schema's, is a typed error.
    @Test func cutOrInconsistentFramesAreTypedErrors() throws {
        for k in Self.kinds {
            for n in 1...3 {
                let bytes = try fixture("binance-sbe", "\(k)_\(n).bin")
                for cut in 0..<bytes.count {
                    let short = Array(bytes[..<cut])
                    #expect(throws: TradeWireError.self, "\(k)_\(n) cut at \(cut)") {
                        _ = try short.withUnsafeBytes { try BinanceSBE.decode($0) }
                    }
                }
                var bad = bytes
                bad[0] = 4; bad[1] = 0                              // root block shorter than the schema's
                #expect(throws: TradeWireError.self) { _ = try bad.withUnsafeBytes { try BinanceSBE.decode($0) } }
                var otherSchema = bytes
                otherSchema[4] = 3                                  // the WS API's schema id, not the stream's
                #expect(throws: TradeWireError.self) { _ = try otherSchema.withUnsafeBytes { try BinanceSBE.decode($0) } }
            }
        }
    }

    /// The same diff events, made by the Python peer as SBE frames and as JSON events, applied to two books.
    @Test func theSameEventsAsJSONAndAsSBEGiveTheSameBook() throws {
        let script = #"""
        import json, random, sys
        sys.path.insert(0, sys.argv[1] if len(sys.argv) > 1 else ".")
        from sbe_stream_encoder import encode
        rng = random.Random(11)
        uid = 1000
        def lv(side_base, sign):
            out = []
            for _ in range(rng.randint(0, 6)):
                price = side_base + sign * rng.randint(0, 40)
                qty = 0 if rng.random() < 0.25 else rng.randint(1, 5_000_000)
                out.append([price, qty])
            return out
        snapshot = {"lastUpdateId": uid, "bids": [["%.2f" % ((2999000 - i) / 100), "1.00000000"] for i in range(20)],
                    "asks": [["%.2f" % ((2999100 + i) / 100), "1.00000000"] for i in range(20)]}
        print(json.dumps(snapshot))
        for i in range(400):
            bids, asks = lv(2999000, -1), lv(2999100, 1)
            first, last = uid + 1, uid + max(1, len(bids) + len(asks))
            uid = last
            frame = encode("depth_diff", event_time=1736899200000000 + i, first_book_update_id=first, last_book_update_id=last,
                           price_exponent=-2, qty_exponent=-8, bids=bids, asks=asks, symbol="BTCUSDT")
            ev = {"e": "depthUpdate", "s": "BTCUSDT", "U": first, "u": last,
                  "b": [["%.2f" % (p / 100), "%.8f" % (q / 1e8)] for p, q in bids],
                  "a": [["%.2f" % (p / 100), "%.8f" % (q / 1e8)] for p, q in asks]}
            print(frame.hex() + "\t" + json.dumps(ev))
        """#
        guard let dir = Bundle.module.resourcePath.map({ $0 + "/Peers" }) else { throw PeerError("no Peers directory") }
        let (status, output) = try PythonPeer.run(script: script, arguments: [dir])
        #expect(status == 0)
        var lines = output.split(separator: "\n").map(String.init)
        let snapshot = lines.removeFirst()
        let fromJSON = BinanceDepthBook(symbol: "BTCUSDT", depth: 100), fromSBE = BinanceDepthBook(symbol: "BTCUSDT", depth: 100)
        for book in [fromJSON, fromSBE] {
            _ = BinanceDepthTests.json(snapshot) { v in book.applySnapshot(lastUpdateID: v["lastUpdateId"]!.int64!, bids: v["bids"], asks: v["asks"]) }
        }
        #expect(lines.count == 400)
        for line in lines {
            let parts = line.split(separator: "\t", maxSplits: 1).map(String.init)
            let frame = Self.bytes(hex: parts[0])
            #expect(BinanceDepthTests.json(parts[1]) { v in
                fromJSON.apply(firstU: v["U"]!.int64!, finalU: v["u"]!.int64!, bids: v["b"], asks: v["a"]) } == nil)
            try frame.withUnsafeBytes { b in
                guard case .depthDiff(let d) = try BinanceSBE.decode(b) else { Issue.record("not a diff"); return }
                #expect(fromSBE.apply(firstU: d.firstUpdateID, finalU: d.lastUpdateID, bids: d.bidLevels, asks: d.askLevels) == nil)
            }
        }
        #expect(fromJSON.eventsApplied == 400 && fromSBE.eventsApplied == 400)
        #expect(fromJSON.book!.bids == fromSBE.book!.bids)
        #expect(fromJSON.book!.asks == fromSBE.book!.asks)
        #expect(fromJSON.updateID == fromSBE.updateID)
    }

    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"))
    func anSBEDepthEventInSyncIsDecodedAndAppliedWithoutAllocating() throws {
        let book = BinanceDepthBook(symbol: "BTCUSDT", depth: 100)
        _ = BinanceDepthTests.snapshot(book, 100, bids: #"[["29990.00","1"]]"#, asks: #"[["29991.00","1"]]"#)
        var frames: [[UInt8]] = []
        for i in 0..<1100 {
            frames.append(BinanceSBEEncoder.depthDiff(
                symbol: "BTCUSDT", eventTimeUs: 0, first: Int64(101 + i), last: Int64(101 + i), priceExponent: -2, qtyExponent: -8,
                bids: [(FixedDecimal(mantissa: 2_998_000 + Int64(i % 50), scale: 2), FixedDecimal(mantissa: Int64(i % 7), scale: 8))],
                asks: [(FixedDecimal(mantissa: 2_999_200 + Int64(i % 50), scale: 2), FixedDecimal(mantissa: Int64(1 + i % 5), scale: 8))]))
        }
        var allocations: UInt64 = 0
        var failures = 0
        for (i, f) in frames.enumerated() {
            f.withUnsafeBytes { b in
                let before = tw_test_thread_allocations()
                if case .depthDiff(let d)? = try? BinanceSBE.decode(b) {
                    if book.apply(firstU: d.firstUpdateID, finalU: d.lastUpdateID, bids: d.bidLevels, asks: d.askLevels) != nil { failures += 1 }
                } else {
                    failures += 1
                }
                if i >= 100 { allocations += tw_test_thread_allocations() - before }
            }
        }
        #expect(failures == 0)
        #expect(allocations == 0)
        #expect(book.eventsApplied == 1100)
    }

    static func bytes(hex: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(hex.utf8.count / 2)
        var it = hex.utf8.makeIterator()
        func nibble(_ c: UInt8) -> UInt8 { c <= 57 ? c - 48 : (c | 0x20) - 87 }
        while let a = it.next(), let b = it.next() { out.append(nibble(a) << 4 | nibble(b)) }
        return out
    }
}
