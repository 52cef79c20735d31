import TradeWire

/// Keeps a busy-polling Kraken client's order path warm while it waits.
///
/// Between a send and its ack, a busy-polling loop spends tens of microseconds in
/// `recv` calls, and the kernel code they run pushes the encoder's and the ack
/// decoder's code and data out of the core's caches and branch predictors: the
/// next order then runs them cold. From the loop's idle hook (every few empty
/// polls), this encodes the last request sent and decodes the last ack received
/// again, into scratch memory. Nothing is sent, nothing completes, nothing is
/// allocated; a reply that lands meanwhile waits for one pass (well under a µs).
///
/// Measured in place with warm-up on and off in alternating chunks of one bench
/// run: encoding an `add_order` 0.37 -> 0.28 µs, decoding its ack 0.36 -> 0.35 µs
/// (0.75 -> 0.68 in a slow phase of the VM), TradeWire's own share of a round trip
/// (send -> callback minus the wire) 6-246 ns less at the median in each of twelve
/// runs (167 ns the median of those). Adding the C framing of both frames
/// (`FramingWarmer`) took another 16-41 ns off it in each of six runs.
struct KrakenPathWarmer: ~Copyable {
    /// Where the last request is encoded again (and thrown away).
    /// Room for a frame header, then the request (`FramingWarmer` frames it in place).
    private let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: FramingWarmer.headroom + 1024, alignment: 8)
    /// The last ack's bytes, copied after its callback, after room for a frame header.
    private let ack = UnsafeMutableRawBufferPointer.allocate(byteCount: FramingWarmer.headroom + 512, alignment: 8)
    private var ackLength = 0
    private var request: KrakenRequest?
    private var requestID: UInt64 = 0
    /// Folds in every result, so the optimizer cannot drop the work.
    private(set) var sink: UInt64 = 0

    init() {}

    deinit {
        scratch.deallocate()
        ack.deallocate()
    }

    /// A request's frame left (called after the send, off the latency path).
    mutating func sent(_ r: KrakenRequest, id: UInt64) {
        request = r
        requestID = id
    }

    /// An ack arrived and its callback ran. Longer ones are not kept: acks on the order path are short.
    mutating func received(_ bytes: UnsafeRawBufferPointer) {
        guard FramingWarmer.headroom + bytes.count <= ack.count else { return }
        UnsafeMutableRawBufferPointer(rebasing: ack[FramingWarmer.headroom...]).copyMemory(from: bytes)
        ackLength = bytes.count
    }

    /// One warm-up pass: encode the last request, decode the last ack, and run the C framing of both.
    mutating func run(token: String?) {
        let h = FramingWarmer.headroom
        var requestLength = 0
        if let r = request {
            // A large batch may overflow: the writer stops, no harm.
            var w = JSONWriter(UnsafeMutableRawBufferPointer(rebasing: scratch[h...]))
            KrakenEncoder.encode(r, id: requestID, token: token, into: &w)
            requestLength = w.overflowed ? 0 : w.count
            sink &+= UInt64(w.count)
        }
        if ackLength > 0, let a = KrakenResponseFastPath.decode(UnsafeRawBufferPointer(rebasing: ack[h..<h + ackLength])) {
            sink &+= a.requestID
        }
        sink &+= FramingWarmer.run(request: scratch, requestLength: requestLength, reply: ack, replyLength: ackLength)
    }
}
