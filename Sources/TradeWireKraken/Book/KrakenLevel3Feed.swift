import TradeWire

/// Kraken's authenticated `level3` channel kept as verified order-by-order books, one per symbol.
///
/// Per the channel's page and the "L3 checksum (WebSocket v2)" guide: a snapshot replaces the book, its orders in
/// the order listed (queue order); an update's events are all applied before the checksum: `add` (to the back of
/// its level; also an order entering the subscribed depth again), `modify` (the remaining quantity; the order keeps
/// its place), `delete`. Then levels left empty are removed, the book is truncated to the subscribed depth (the venue
/// sends no delete for orders that fall out of it) and the checksum of the top 10 levels, order by order, is compared
/// with the message's. There are no sequence numbers: the checksum is the only check, on snapshots too.
///
/// As with `KrakenBookFeed` (both keep their books through `KrakenBookKeeper`), a book known to be wrong is never
/// handed out: on a mismatch or a message it cannot apply, the book is withdrawn, `onEvent` says so, `resubscribe`
/// is asked for a new snapshot, and updates are dropped until it comes. Prices and quantities are held at the pair's precision. Loop-confined.
public final class KrakenLevel3Feed {
    public typealias Precision = KrakenBookFeed.Precision
    public typealias Event = KrakenBookFeed.Event

    /// The per-symbol books, their verification and the counters (shared with `KrakenBookFeed`).
    private let keeper: KrakenBookKeeper<L3Book>
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
    /// `modify` and `delete` events for orders the book did not hold (an order truncated away: normal).
    @exclusivity(unchecked) public private(set) var unknownOrders = 0

    static let topKeys = JSONKeySet(["channel", "type", "data"])
    static let entryKeys = JSONKeySet(["symbol", "bids", "asks", "checksum"])
    static let orderKeys = JSONKeySet(["event", "order_id", "limit_price", "order_qty"])

    public init(depth: Int, precisions: [String: Precision] = [:]) {
        keeper = KrakenBookKeeper(depth: depth, precisions: precisions)
    }

    /// The pair's precision (from the `instrument` channel); a new one drops the book until the next snapshot.
    public func setPrecision(_ p: Precision, for symbol: String) { keeper.setPrecision(p, for: symbol) }

    /// The verified book of a symbol; nil while there is none (before the snapshot, after a mismatch).
    public func book(_ symbol: String) -> L3Book? { keeper.book(InlineText(symbol)) }
    public func book(_ symbol: InlineText) -> L3Book? { keeper.book(symbol) }

    /// Decode and apply one raw `level3` message.
    public func apply(message payload: UnsafeRawBufferPointer) throws(TradeWireError) {
        let doc: JSONDocument
        do { doc = try JSONDocument(validating: payload, capturing: Self.topKeys) } catch {
            throw TradeWireError(code: .malformedResponse, detail: "Kraken level3: \(error)")
        }
        guard doc.captured[0]?.stringEquals("level3") == true else {
            throw TradeWireError(code: .malformedResponse, detail: "Kraken level3: not a level3 message")
        }
        apply(type: doc.captured[1], data: doc.captured[2])
    }

    /// A `level3` message's `type` and `data` (the client's decoder captured them).
    func apply(type: JSONValue?, data: JSONValue?) {
        let snapshot = type?.stringEquals("snapshot") ?? false
        data?.forEachElement { e in
            applyEntry(e, snapshot: snapshot)
            return true
        }
    }

    private func applyEntry(_ e: JSONValue, snapshot: Bool) {
        var symbolValue: JSONValue?, bids: JSONValue?, asks: JSONValue?, checksum: Int64?
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
        guard apply(bids, .buy, to: book, snapshot: snapshot), apply(asks, .sell, to: book, snapshot: snapshot) else {
            return keeper.withdraw(entry, symbol, .unusable(symbol: symbol, reason: "an order is malformed or finer than the pair's precision"))
        }
        keeper.verify(entry, book, symbol, snapshot: snapshot, checksum: checksum)
    }

    /// One side's orders (a snapshot's) or order events (an update's), in the order sent. False: one was malformed.
    private func apply(_ orders: JSONValue?, _ side: Side, to book: L3Book, snapshot: Bool) -> Bool {
        guard let orders else { return true }
        var ok = true
        orders.forEachElement { o in
            var event: JSONValue?, id: InlineText?, price: Int64?, qty: Int64?
            o.forEachMember(in: Self.orderKeys) { k, v in
                switch k {
                case 0: event = v
                case 1: id = InlineText(json: v)
                case 2: price = v.decimal.flatMap { L2Book.units($0, scale: book.priceScale) }
                default: qty = v.decimal.flatMap { L2Book.units($0, scale: book.qtyScale) }
                }
            }
            guard let id else { ok = false; return false }
            if snapshot || event?.stringEquals("add") == true {
                guard let price, let qty, qty >= 0 else { ok = false; return false }
                book.add(side, id: id, price: price, quantity: qty)
            } else if event?.stringEquals("modify") == true {
                guard let price, let qty, qty >= 0 else { ok = false; return false }
                if !book.modify(id: id, price: price, quantity: qty) { unknownOrders += 1 }
            } else if event?.stringEquals("delete") == true {
                if !book.delete(id: id) { unknownOrders += 1 }
            } else {
                ok = false                          // an event this version does not know: the book cannot follow
                return false
            }
            return true
        }
        return ok
    }
}
