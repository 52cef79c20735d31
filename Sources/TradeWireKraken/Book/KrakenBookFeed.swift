import TradeWire

/// Kraken's public `book` channel kept as verified L2 books, one per symbol.
///
/// Per the "Book checksum (WebSocket v2)" guide: a snapshot replaces the book; an update's levels are all
/// applied in order (quantity 0 removes a level, any other replaces it), the book is truncated to the
/// subscribed depth, and the checksum of the top 10 levels is compared with the message's, on snapshots
/// too. Prices and quantities are held at the pair's precision (the `instrument` channel's
/// `price_precision`, `qty_precision`), which is also what the checksum is computed at.
///
/// A book known to be wrong is never handed out: on a checksum mismatch (or a value finer than the
/// precision) the book is withdrawn (`book(_:)` returns nil), `onEvent` says so, `resubscribe` is asked
/// for a new snapshot, and updates are dropped until it arrives. Loop-confined.
public final class KrakenBookFeed {
    public struct Precision: Sendable, Equatable {
        public var price: UInt8
        public var quantity: UInt8
        public init(price: UInt8, quantity: UInt8) {
            self.price = price
            self.quantity = quantity
        }
    }

    public enum Event: Sendable, Equatable {
        /// A book was (re)built from a snapshot and verified.
        case snapshot(symbol: InlineText)
        /// An update was applied and verified.
        case update(symbol: InlineText)
        /// The book disagreed with the venue's checksum: withdrawn until a new snapshot.
        case checksumMismatch(symbol: InlineText, expected: UInt32, computed: UInt32)
        /// The message could not be applied (no precision known for the symbol, a value finer than it, a
        /// malformed level): withdrawn until a new snapshot.
        case unusable(symbol: InlineText, reason: String)
    }

    /// The per-symbol books, their verification and the counters (shared with `KrakenLevel3Feed`).
    private let keeper: KrakenBookKeeper<L2Book>
    public var depth: Int { keeper.depth }
    /// Each event, on the loop thread.
    package var onEvent: ((Event) -> Void)? {
        get { keeper.onEvent }
        set { keeper.onEvent = newValue }
    }
    /// Asked to unsubscribe and subscribe the symbol again, for a fresh snapshot.
    package var resubscribe: ((String) -> Void)? {
        get { keeper.resubscribe }
        set { keeper.resubscribe = newValue }
    }

    public var updatesApplied: Int { keeper.updatesApplied }
    public var snapshots: Int { keeper.snapshots }
    public var checksumFailures: Int { keeper.checksumFailures }
    public var resyncs: Int { keeper.resyncs }

    /// Time from the read of a book message to its book verified.
    @exclusivity(unchecked) private var applyTimes = ApplyTimes()

    static let entryKeys = JSONKeySet(["symbol", "bids", "asks", "checksum"])
    static let levelKeys = JSONKeySet(["price", "qty"])

    public init(depth: Int, precisions: [String: Precision] = [:]) {
        keeper = KrakenBookKeeper(depth: depth, precisions: precisions)
    }

    /// Note how long a message took from its read to its book verified (the client calls this).
    public func recordApplyTime(_ ns: UInt64) { applyTimes.record(ns) }

    /// The median of the recorded apply times (ns), nil before any.
    public var applyTimeMedian: UInt64? { applyTimes.median }

    /// The pair's precision (from the `instrument` channel or the venue's asset pairs); a new one drops the book
    /// until the next snapshot.
    public func setPrecision(_ p: Precision, for symbol: String) { keeper.setPrecision(p, for: symbol) }

    /// The verified book of a symbol; nil while there is none (before the snapshot, after a mismatch).
    public func book(_ symbol: String) -> L2Book? { keeper.book(InlineText(symbol)) }

    public func book(_ symbol: InlineText) -> L2Book? { keeper.book(symbol) }

    /// Apply a `book` channel message (its top-level members, as `KrakenDecoder` captured them).
    func apply(_ top: JSONCapturedMembers) {
        let isSnapshot = top[KrakenDecoder.Top.type]?.stringEquals("snapshot") ?? false
        top[KrakenDecoder.Top.data]?.forEachElement { entry in
            applyEntry(entry, snapshot: isSnapshot)
            return true
        }
    }

    /// Decode and apply one raw `book` message: the fast path, else the general decoder.
    public func apply(message payload: UnsafeRawBufferPointer) throws(TradeWireError) {
        if applyFast(payload) { return }
        let doc: JSONDocument
        do { doc = try JSONDocument(validating: payload, capturing: KrakenDecoder.topKeys) } catch {
            throw TradeWireError(code: .malformedResponse, detail: "Kraken book: \(error)")
        }
        guard doc.captured[KrakenDecoder.Top.channel]?.stringEquals("book") == true else {
            throw TradeWireError(code: .malformedResponse, detail: "Kraken book: not a book message")
        }
        apply(doc.captured)
    }

    private func applyEntry(_ e: JSONValue, snapshot: Bool) {
        // One pass over the entry's members.
        var symbolValue: JSONValue? = nil, bids: JSONValue? = nil, asks: JSONValue? = nil, checksum: Int64? = nil
        e.forEachMember(in: Self.entryKeys) { k, v in
            switch k {
            case 0: symbolValue = v
            case 1: bids = v
            case 2: asks = v
            default: checksum = v.int64
            }
        }
        guard let sv = symbolValue, let symbol = InlineText(json: sv) else { return }
        guard let entry = keeper.entry(for: symbol), let book = keeper.prepare(entry, snapshot: snapshot) else { return }
        if !Self.applyLevels(bids, .buy, to: book) || !Self.applyLevels(asks, .sell, to: book) {
            return keeper.withdraw(entry, symbol, .unusable(symbol: symbol, reason: "a level is malformed or finer than the pair's precision"))
        }
        keeper.verify(entry, book, symbol, snapshot: snapshot, checksum: checksum)
    }

    /// A `book` message of one entry in Kraken's member order, read in one pass without building anything
    /// (`JSONShapeCursor`): `{"channel":"book","type":…,"data":[{"symbol":…,"bids":[{"price":…,"qty":…},…],
    /// "asks":[…],"checksum":…(,"timestamp":…)?}]}`, at most 64 levels, plain strings, plain decimals no finer than
    /// the pair's precision. The levels are read in full before any is applied. False: nothing was applied, and the
    /// general decoder reads the message (it accepts or refuses every other form).
    public func applyFast(_ payload: UnsafeRawBufferPointer) -> Bool {
        guard var c = JSONShapeCursor(payload), c.literal(#"{"channel":"book","type":""#) else { return false }
        let snapshot: Bool
        if c.literal(#"update""#) { snapshot = false } else if c.literal(#"snapshot""#) { snapshot = true } else { return false }
        guard c.literal(#","data":[{"symbol":""#), let raw = c.plainString(), raw.count <= InlineText.capacity else { return false }
        let symbol = InlineText(bytes: raw)
        guard let entry = keeper.lookup(symbol), snapshot || entry.verified else { return false }
        let ps = entry.precision.price, qs = entry.precision.quantity
        return withUnsafeTemporaryAllocation(of: L2Level.self, capacity: 64) { levels -> Bool in
            var count = 0
            guard Self.side(&c, #","bids":["#, levels, &count, ps, qs) else { return false }
            let bidCount = count
            guard Self.side(&c, #","asks":["#, levels, &count, ps, qs), c.literal(#","checksum":"#),
                  let checksum = c.integer(), checksum >= 0 else { return false }
            if c.literal(#","timestamp":""#) { guard c.plainString() != nil else { return false } }
            guard c.literal("}]}"), c.atEnd, let book = keeper.prepare(entry, snapshot: snapshot) else { return false }
            for i in 0..<count { book.apply(i < bidCount ? .buy : .sell, price: levels[i].price, quantity: levels[i].quantity) }
            keeper.verify(entry, book, symbol, snapshot: snapshot, checksum: checksum)
            return true
        }
    }

    /// One side's `[{"price":…,"qty":…},…]` after `open`, into `levels` from `count` on (a static function: a local
    /// one capturing the cursor would box it on the heap in an unoptimized build).
    private static func side(_ c: inout JSONShapeCursor, _ open: StaticString, _ levels: UnsafeMutableBufferPointer<L2Level>,
                             _ count: inout Int, _ ps: UInt8, _ qs: UInt8) -> Bool {
        guard c.literal(open) else { return false }
        if c.literal("]") { return true }
        repeat {
            guard count < levels.count, c.literal(#"{"price":"#), let p = c.decimal(scale: ps), c.literal(#","qty":"#),
                  let q = c.decimal(scale: qs), c.literal("}") else { return false }
            levels[count] = L2Level(price: p, quantity: q)
            count += 1
        } while c.literal(",")
        return c.literal("]")
    }

    /// Apply one side's levels in order; false at the first that is malformed or finer than the precision.
    private static func applyLevels(_ levels: JSONValue?, _ side: Side, to book: L2Book) -> Bool {
        guard let levels else { return true }
        var ok = true
        levels.forEachElement { l in
            var price: Int64? = nil, qty: Int64? = nil
            l.forEachMember(in: levelKeys) { k, v in
                if k == 0 { price = v.decimal.flatMap { L2Book.units($0, scale: book.priceScale) } }
                else { qty = v.decimal.flatMap { L2Book.units($0, scale: book.qtyScale) } }
            }
            guard let price, let qty, qty >= 0 else {
                ok = false
                return false
            }
            book.apply(side, price: price, quantity: qty)
            return true
        }
        return ok
    }
}
