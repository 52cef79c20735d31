import TradeWire

/// A book a Kraken feed keeps per symbol and verifies with the venue's checksum: `L2Book` for `book`, `L3Book` for
/// `level3`. `ChecksumMemo` is what a book keeps between two checksums (the L2 checksum reuses the text of unchanged
/// levels; the L3 checksum keeps nothing).
public protocol KrakenVerifiedBook: AnyObject {
    associatedtype ChecksumMemo
    init(depth: Int, priceScale: UInt8, qtyScale: UInt8)
    static func makeChecksumMemo() -> ChecksumMemo
    func clear()
    func truncate()
    /// The venue's checksum of the book as it is now.
    func krakenChecksum(_ memo: ChecksumMemo) -> UInt32
}

extension L2Book: KrakenVerifiedBook {
    public static func makeChecksumMemo() -> KrakenBookChecksum.Memo { KrakenBookChecksum.Memo() }
    public func krakenChecksum(_ memo: KrakenBookChecksum.Memo) -> UInt32 { KrakenBookChecksum.compute(self, memo: memo) }
}

extension L3Book: KrakenVerifiedBook {
    public static func makeChecksumMemo() {}
    public func krakenChecksum(_: Void) -> UInt32 { KrakenLevel3Checksum.compute(self) }
}

/// The per-symbol bookkeeping both Kraken book feeds share: each symbol's precision, its book once made, whether the
/// book matches the venue's last checksum; the counters; and the one rule of both channels, that a book known to be
/// wrong is never handed out. On a mismatch or a message that cannot be applied, the book is withdrawn (`book(_:)`
/// returns nil), `onEvent` says so, `resubscribe` is asked for a new snapshot, and updates are dropped until it
/// comes. The feeds read their channel's messages and apply them to the books this hands them. Loop-confined.
final class KrakenBookKeeper<Book: KrakenVerifiedBook> {
    typealias Precision = KrakenBookFeed.Precision
    typealias Event = KrakenBookFeed.Event

    final class Entry {
        var precision: Precision
        var book: Book?
        var verified = false
        let memo = Book.makeChecksumMemo()
        init(_ p: Precision) { precision = p }
    }

    let depth: Int
    var onEvent: ((Event) -> Void)?
    var resubscribe: ((String) -> Void)?
    @exclusivity(unchecked) private(set) var updatesApplied = 0
    @exclusivity(unchecked) private(set) var snapshots = 0
    @exclusivity(unchecked) private(set) var checksumFailures = 0
    @exclusivity(unchecked) private(set) var resyncs = 0

    @exclusivity(unchecked) private var entries: [InlineText: Entry] = [:]
    /// The last symbol looked up: a feed of one symbol compares instead of hashing.
    @exclusivity(unchecked) private var last: (symbol: InlineText, entry: Entry)?

    init(depth: Int, precisions: [String: Precision]) {
        self.depth = depth
        for (s, p) in precisions { entries[InlineText(s)] = Entry(p) }
    }

    /// A new precision drops the symbol's book until the next snapshot (its numbers are at the old scale).
    func setPrecision(_ p: Precision, for symbol: String) {
        let key = InlineText(symbol)
        if let e = entries[key] {
            if e.precision != p { e.precision = p; e.book = nil; e.verified = false }
        } else {
            entries[key] = Entry(p)
        }
    }

    /// The verified book of a symbol; nil while there is none (before the snapshot, after a mismatch).
    func book(_ symbol: InlineText) -> Book? {
        guard let e = entries[symbol], e.verified else { return nil }
        return e.book
    }

    @inline(__always)
    func lookup(_ symbol: InlineText) -> Entry? {
        if let l = last, l.symbol == symbol { return l.entry }
        guard let found = entries[symbol] else { return nil }
        last = (symbol, found)
        return found
    }

    /// The entry of a message's symbol, or nil after telling that no precision is known for it.
    func entry(for symbol: InlineText) -> Entry? {
        if let e = lookup(symbol) { return e }
        onEvent?(.unusable(symbol: symbol, reason: "no precision known for \(symbol)"))
        return nil
    }

    /// The entry's book, emptied for a snapshot; nil when an update has no verified book to go to (a resync waits
    /// for its snapshot).
    @inline(__always)
    func prepare(_ entry: Entry, snapshot: Bool) -> Book? {
        let book: Book
        if let b = entry.book {
            book = b
        } else {
            book = Book(depth: depth, priceScale: entry.precision.price, qtyScale: entry.precision.quantity)
            entry.book = book
        }
        if snapshot {
            book.clear()
            snapshots += 1
        } else if !entry.verified {
            return nil
        }
        return book
    }

    /// After a message was applied: truncate to the depth, compare the checksum (when the message has one), tell.
    func verify(_ entry: Entry, _ book: Book, _ symbol: InlineText, snapshot: Bool, checksum: Int64?) {
        book.truncate()
        if let checksum {
            let expected = UInt32(truncatingIfNeeded: checksum)
            let computed = book.krakenChecksum(entry.memo)
            guard expected == computed else {
                checksumFailures += 1
                return withdraw(entry, symbol, .checksumMismatch(symbol: symbol, expected: expected, computed: computed))
            }
        }
        entry.verified = true
        if !snapshot { updatesApplied += 1 }
        onEvent?(snapshot ? .snapshot(symbol: symbol) : .update(symbol: symbol))
    }

    /// The book is wrong or cannot follow: withdrawn, told, and asked for again.
    func withdraw(_ entry: Entry, _ symbol: InlineText, _ event: Event) {
        entry.verified = false
        entry.book?.clear()
        onEvent?(event)
        resyncs += 1
        resubscribe?(symbol.description)
    }
}
