// libFuzzer target for the four venue decoders (Kraken, Binance, gateway, quotes) and the Kraken book feed.
// Built by `make fuzz` with -sanitize=fuzzer,address and -D FUZZING; a normal
// build gets a main that says so. Any input must decode or be refused with a
// typed error: never a crash, never a read outside the input (ASan).
import TradeWire
import TradeWireBinance
import TradeWireGateway
import TradeWireKraken
import TradeWireQuotes
#if canImport(Glibc)
import Glibc
#endif

#if FUZZING
/// SwiftPM renames an executable's entry point to `fuzz_venues_main`; start libFuzzer's driver from it.
@_cdecl("fuzz_venues_main")
public func fuzzVenuesMain(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32
    typealias Driver = @convention(c) (UnsafeMutablePointer<Int32>, UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>, Callback) -> Int32
    guard let sym = dlsym(nil, "LLVMFuzzerRunDriver") else {   // RTLD_DEFAULT (the null handle on glibc)
        print("LLVMFuzzerRunDriver not linked")
        return 2
    }
    let driver = unsafeBitCast(sym, to: Driver.self)
    var c = argc
    var v = argv
    return driver(&c, &v, { data, size in fuzzVenues(data ?? UnsafePointer(bitPattern: 1)!, size) })
}

/// One feed across inputs, so that updates meet the books earlier inputs built.
nonisolated(unsafe) let fuzzBook = KrakenBookFeed(depth: 10, precisions: ["BTC/USD": .init(price: 1, quantity: 8)])
nonisolated(unsafe) let fuzzLevel3 = KrakenLevel3Feed(depth: 10, precisions: ["BTC/USD": .init(price: 1, quantity: 8)])
nonisolated(unsafe) let fuzzDepth = BinanceDepthBook(symbol: "BNBBTC", depth: 10)
nonisolated(unsafe) let fuzzSBEDepth: BinanceDepthBook = {
    let b = BinanceDepthBook(symbol: "BTCUSDT", depth: 10)
    _ = b.applySnapshot(lastUpdateID: 0, bids: JSONLevels(nil), asks: JSONLevels(nil))
    return b
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzVenues(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
    defer { copy.deallocate() }
    copy.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size))
    let bytes = UnsafeRawBufferPointer(rebasing: copy[..<size])
    let kraken = try? KrakenDecoder.decode(bytes)
    if case .response(let r)? = kraken { _ = r.error?.description; _ = r.orders?.count }
    // The ack fast path inside decode() must read everything it accepts as the general decoder does.
    switch (kraken, try? KrakenDecoder.decodeGeneral(bytes)) {
    case (.response(let a)?, .response(let b)?): if a != b { fatalError("Kraken fast path and general decoder disagree") }
    case (.response?, _), (_, .response?): fatalError("Kraken fast path and general decoder disagree on a response")
    default: break
    }
    if case .push(.executions(let x))? = try? KrakenDecoder.decode(bytes) { _ = x.reports.map { $0.cumQty } }
    // The book feed: any message applies or is refused; a book it keeps is sorted and within its depth.
    fuzzBook.onEvent = nil
    try? fuzzBook.apply(message: bytes)
    if let b = fuzzBook.book("BTC/USD") {
        if b.bids.count > b.depth || b.asks.count > b.depth { fatalError("book over its depth") }
        if zip(b.bids, b.bids.dropFirst()).contains(where: { $0.price <= $1.price }) { fatalError("bids out of order") }
        if zip(b.asks, b.asks.dropFirst()).contains(where: { $0.price >= $1.price }) { fatalError("asks out of order") }
    }
    // The level3 feed: any message applies or is refused; a book it keeps is sorted, within its depth, and every
    // order it indexes is in a level.
    try? fuzzLevel3.apply(message: bytes)
    if let b = fuzzLevel3.book("BTC/USD") {
        if b.bids.count > b.depth || b.asks.count > b.depth { fatalError("level3 book over its depth") }
        if zip(b.bids, b.bids.dropFirst()).contains(where: { $0.price <= $1.price }) { fatalError("level3 bids out of order") }
        if zip(b.asks, b.asks.dropFirst()).contains(where: { $0.price >= $1.price }) { fatalError("level3 asks out of order") }
        if b.orderCount != (b.bids + b.asks).reduce(0, { $0 + $1.orders.count }) { fatalError("level3 index and levels disagree") }
    }
    // Binance diff depth: events and snapshots in any order; a book in sync stays sorted and within its depth.
    if let doc = try? JSONDocument(validating: bytes) {
        let e = doc.root["data"] ?? doc.root
        if let first = e["U"]?.int64, let final = e["u"]?.int64 { _ = fuzzDepth.apply(firstU: first, finalU: final, bids: e["b"], asks: e["a"]) }
        if let id = e["lastUpdateId"]?.int64 { _ = fuzzDepth.applySnapshot(lastUpdateID: id, bids: e["bids"], asks: e["asks"]) }
        if let b = fuzzDepth.book {
            if b.bids.count > b.depth || b.asks.count > b.depth { fatalError("depth book over its depth") }
            if zip(b.bids, b.bids.dropFirst()).contains(where: { $0.price <= $1.price }) { fatalError("depth bids out of order") }
        }
    }
    // Binance's answer fast path inside decode() must read everything it accepts as the general decoder does.
    switch (try? BinanceDecoder.decode(bytes), try? BinanceDecoder.decodeGeneral(bytes)) {
    case (.response(let a)?, .response(let b)?): if a != b { fatalError("Binance fast path and general decoder disagree") }
    case (.response?, _), (_, .response?): fatalError("Binance fast path and general decoder disagree on a response")
    default: break
    }
    // Binance SBE market data: decoded in place, the depth events applied (every read bounds-checked).
    switch try? BinanceSBE.decode(bytes) {
    case .depthDiff(let d)?, .depthSnapshot(let d)?:
        _ = fuzzSBEDepth.apply(firstU: d.firstUpdateID, finalU: d.lastUpdateID, bids: d.bidLevels, asks: d.askLevels)
        if fuzzSBEDepth.book == nil { _ = fuzzSBEDepth.applySnapshot(lastUpdateID: d.lastUpdateID, bids: d.bidLevels, asks: d.askLevels) }
        if let b = fuzzSBEDepth.book, b.bids.count > b.depth || b.asks.count > b.depth { fatalError("SBE depth book over its depth") }
        _ = InlineText(bytes: d.symbolBytes)
    case .trades(let t)?: for i in 0..<t.count { _ = t[i].priceDecimal }
    case .bestBidAsk(let b)?: _ = b.bid; _ = b.ask
    case nil: break
    }
    // Binance WS API answers in SBE: the envelope, the nested answer, and the typed report from it; the user data
    // stream's bare events.
    if case .executionReport(let x)? = try? BinanceSBEUserEvents.decode(bytes) { _ = x.cumQty?.description }
    if let r = try? BinanceSBEAnswers.decode(bytes) {
        _ = r.errorMessage?.count
        if r.resultSBE != nil, let report = try? r.orderReport() { _ = report.fills.count; _ = report.price?.description }
    }
    // The gateway: an ack its fast path takes must read as the general decoder reads it.
    switch (try? GatewayDecoder.decode(bytes), try? GatewayDecoder.decodeGeneral(bytes)) {
    case (.orderAck(let a)?, .orderAck(let b)?): if a != b { fatalError("gateway fast path and general decoder disagree") }
    case (.orderAck?, _), (_, .orderAck?): fatalError("gateway fast path and general decoder disagree on an ack")
    default: break
    }
    // Quotes: the fast path (inside `decode`) must read every message it takes as the general decoder does.
    let quotes = try? QuotesDecoder.decode(bytes)
    if quotes != (try? QuotesDecoder.decodeGeneral(bytes)) { fatalError("quotes fast path and general decoder disagree") }
    if case .quote(let p, let q, _)? = quotes { _ = p.description; _ = q.description }
    return 0
}
#else
@main
struct FuzzVenuesInfo {
    static func main() {
        print("fuzz-venues is a libFuzzer target: build and run it with `make fuzz`.")
    }
}
#endif
