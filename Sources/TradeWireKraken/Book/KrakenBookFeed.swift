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

    public let depth: Int
    /// Each event, on the loop thread.
    public var onEvent: ((Event) -> Void)?
    /// Asked to unsubscribe and subscribe the symbol again, for a fresh snapshot.
    public var resubscribe: ((String) -> Void)?

    public private(set) var updatesApplied = 0
    public private(set) var snapshots = 0
    public private(set) var checksumFailures = 0
    public private(set) var resyncs = 0

    /// Time from the read of a book message to its book verified.
    private var applyTimes = ApplyTimes()

    /// Per symbol: its precision, its book once made, and whether the book matches the venue's last checksum.
    final class Entry {
        var precision: Precision
        var book: L2Book?
        var verified = false
        init(_ p: Precision) { precision = p }
    }
    @exclusivity(unchecked) private var entries: [InlineText: Entry] = [:]
    /// The last symbol looked up: a feed of one symbol compares instead of hashing.
    @exclusivity(unchecked) private var last: (symbol: InlineText, entry: Entry)?
    static let entryKeys = JSONKeySet(["symbol", "bids", "asks", "checksum"])
    static let levelKeys = JSONKeySet(["price", "qty"])

    public init(depth: Int, precisions: [String: Precision] = [:]) {
        self.depth = depth
        for (s, p) in precisions { entries[InlineText(s)] = Entry(p) }
    }

    /// Note how long a message took from its read to its book verified (the client calls this).
    public func recordApplyTime(_ ns: UInt64) { applyTimes.record(ns) }

    /// The median of the recorded apply times (ns), nil before any.
    public var applyTimeMedian: UInt64? { applyTimes.median }

    /// The pair's precision (from the `instrument` channel or the venue's asset pairs).
    public func setPrecision(_ p: Precision, for symbol: String) {
        let key = InlineText(symbol)
        if let e = entries[key] {
            if e.precision != p { e.precision = p; e.book = nil; e.verified = false }   // a new scale: a new book at the next snapshot
        } else {
            entries[key] = Entry(p)
        }
    }

    /// The verified book of a symbol; nil while there is none (before the snapshot, after a mismatch).
    public func book(_ symbol: String) -> L2Book? { book(InlineText(symbol)) }

    public func book(_ symbol: InlineText) -> L2Book? { entries[symbol].flatMap { $0.verified ? $0.book : nil } }

    /// Apply a `book` channel message (its top-level members, as `KrakenDecoder` captured them).
    func apply(_ top: JSONCapturedMembers) {
        let isSnapshot = top[KrakenDecoder.Top.type]?.stringEquals("snapshot") ?? false
        top[KrakenDecoder.Top.data]?.forEachElement { entry in
            applyEntry(entry, snapshot: isSnapshot)
            return true
        }
    }

    /// Decode and apply one raw `book` message (the client does this from the message it already parsed).
    public func apply(message payload: UnsafeRawBufferPointer) throws(TradeWireError) {
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
        let entry: Entry
        if let l = last, l.symbol == symbol {
            entry = l.entry
        } else if let found = entries[symbol] {
            entry = found
            last = (symbol, found)
        } else {
            return onEvent?(.unusable(symbol: symbol, reason: "no precision known for \(symbol)")) ?? ()
        }
        let book: L2Book
        if let b = entry.book {
            book = b
        } else {
            book = L2Book(depth: depth, priceScale: entry.precision.price, qtyScale: entry.precision.quantity)
            entry.book = book
        }
        if snapshot {
            book.clear()
            snapshots += 1
        } else if !entry.verified {
            return                                  // waiting for the snapshot of a resync: nothing to apply to
        }
        if !Self.applyLevels(bids, .buy, to: book) || !Self.applyLevels(asks, .sell, to: book) {
            return withdraw(entry, symbol, .unusable(symbol: symbol, reason: "a level is malformed or finer than the pair's precision"))
        }
        book.truncate()
        if let expected = checksum {
            let computed = KrakenBookChecksum.compute(book)
            guard UInt32(truncatingIfNeeded: expected) == computed else {
                checksumFailures += 1
                return withdraw(entry, symbol, .checksumMismatch(symbol: symbol, expected: UInt32(truncatingIfNeeded: expected), computed: computed))
            }
        }
        entry.verified = true
        if !snapshot { updatesApplied += 1 }
        onEvent?(snapshot ? .snapshot(symbol: symbol) : .update(symbol: symbol))
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

    private func withdraw(_ entry: Entry, _ symbol: InlineText, _ event: Event) {
        entry.verified = false
        entry.book?.clear()
        onEvent?(event)
        resyncs += 1
        resubscribe?(symbol.description)
    }

}
