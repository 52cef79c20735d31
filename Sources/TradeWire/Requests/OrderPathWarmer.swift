/// Keeps a busy-polling venue client's order path warm while it waits, for every venue client.
///
/// Between a send and its answer, a busy-polling loop spends microseconds in `recv` calls, and the kernel code they
/// run pushes the encoder's and the answer decoder's code and data out of the core's caches and branch predictors:
/// the next order then runs them cold. From the loop's idle hook (every few empty polls), a client runs `run`: it
/// encodes the last request sent again and decodes the last answer received again, into scratch memory, with the C
/// framing of both (`FramingWarmer`). Nothing is sent, nothing completes, nothing is allocated; an answer that lands
/// meanwhile waits for one pass (under a µs for Kraken; Binance's pass, which signs, encodes in 1.17 µs).
///
/// Measured on Kraken (alternating chunks of one run): encoding an `add_order` 0.37 -> 0.28 µs, the client's own
/// share of a round trip 6-246 ns less at the median in each of twelve runs; the framing took another 16-41 ns off.
/// Per venue: docs/benchmarks.md.
@_spi(VenueClients) public struct OrderPathWarmer<Request>: ~Copyable {
    /// Room for a frame header, then the request encoded again (`FramingWarmer` frames it in place).
    @usableFromInline let scratch: UnsafeMutableRawBufferPointer
    /// The last answer's bytes, copied after its callback, after room for a frame header.
    @usableFromInline let answer: UnsafeMutableRawBufferPointer
    @usableFromInline var answerLength = 0
    @usableFromInline var answerIsText = true
    @usableFromInline var request: Request?
    @usableFromInline var requestID: UInt64 = 0
    /// Folds in every result, so the optimizer cannot drop the work.
    @usableFromInline var folded: UInt64 = 0
    public var sink: UInt64 { folded }

    /// `requestCapacity`: the largest request re-encoded (a larger one is skipped); answers longer than
    /// `answerCapacity` are not kept (answers on the order path are short).
    public init(requestCapacity: Int = 2048, answerCapacity: Int = 1024) {
        scratch = .allocate(byteCount: FramingWarmer.headroom + requestCapacity, alignment: 8)
        answer = .allocate(byteCount: FramingWarmer.headroom + answerCapacity, alignment: 8)
    }

    deinit {
        scratch.deallocate()
        answer.deallocate()
    }

    /// A request's frame left (called after the send, off the latency path).
    @inlinable public mutating func sent(_ r: Request, id: UInt64) {
        request = r
        requestID = id
    }

    /// An answer arrived and its callback ran.
    @inlinable public mutating func received(_ bytes: UnsafeRawBufferPointer, text: Bool = true) {
        guard FramingWarmer.headroom + bytes.count <= answer.count, let base = bytes.baseAddress else { return }
        (answer.baseAddress! + FramingWarmer.headroom).copyMemory(from: base, byteCount: bytes.count)
        answerLength = bytes.count
        answerIsText = text
    }

    /// One warm-up pass. `encode` writes the last request (with its id) into the buffer it is given and returns the
    /// length written (0 when it did not fit or failed); `decode` reads the last answer and returns a value that
    /// depends on the work done.
    /// Inlinable: unspecialized, each pass looked up the request type's metadata at run time.
    @inlinable public mutating func run(encode: (Request, UInt64, UnsafeMutableRawBufferPointer) -> Int,
                             decode: (UnsafeRawBufferPointer) -> UInt64) {
        let h = FramingWarmer.headroom
        var requestLength = 0
        if let r = request {
            requestLength = encode(r, requestID, UnsafeMutableRawBufferPointer(rebasing: scratch[h...]))
            folded &+= UInt64(requestLength)
        }
        if answerLength > 0 { folded &+= decode(UnsafeRawBufferPointer(rebasing: answer[h..<h + answerLength])) }
        folded &+= FramingWarmer.run(request: scratch, requestLength: requestLength, reply: answer, replyLength: answerLength,
                                   replyIsText: answerIsText)
    }

    /// `run` for a JSON venue: `encode` writes the last request into a `JSONWriter` over the scratch (a request that
    /// overflows it is skipped).
    @inlinable public mutating func run(encodeJSON: (Request, UInt64, inout JSONWriter) -> Void,
                                        decode: (UnsafeRawBufferPointer) -> UInt64) {
        run(encode: { r, id, buf in
            var w = JSONWriter(buf)
            encodeJSON(r, id, &w)
            return w.overflowed ? 0 : w.count
        }, decode: decode)
    }
}
