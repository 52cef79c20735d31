internal import CTradeWire

/// The C framing steps of a client's order path, run on scratch copies: a venue client's
/// warm-up (`OrderPathWarmer`) calls it while its loop spins, so that the next frame
/// finds this code and its tables in the core's caches. Nothing is sent or received.
public enum FramingWarmer {
    /// Room a buffer needs before a payload for `run`'s frame header.
    public static let headroom = Int(TW_FRAME_MAX_HEADER)

    /// Frame and mask `request` as a client sends it; frame, parse and (a text reply) UTF-8-check `reply` as
    /// a client receives it. Both hold `headroom` scratch bytes, then their payload (which
    /// `request`'s masking scrambles). Returns a value that depends on the work done.
    public static func run(request: UnsafeMutableRawBufferPointer, requestLength: Int,
                           reply: UnsafeMutableRawBufferPointer, replyLength: Int, replyIsText: Bool = true) -> UInt64 {
        var sink: UInt64 = 0
        if requestLength > 0, headroom + requestLength <= request.count {
            let payload = request.baseAddress!.assumingMemoryBound(to: UInt8.self) + headroom
            let frame = tw_frame_write_header(payload, UInt64(requestLength), UInt8(TW_OP_TEXT.rawValue), true, true, 0x5EED_F00D)
            sink &+= UInt64(payload - frame!)
        }
        if replyLength > 0, headroom + replyLength <= reply.count {
            let payload = reply.baseAddress!.assumingMemoryBound(to: UInt8.self) + headroom
            let op = UInt8((replyIsText ? TW_OP_TEXT : TW_OP_BINARY).rawValue)
            guard let frame = tw_frame_write_header(payload, UInt64(replyLength), op, true, false, 0) else { return sink }
            var header = tw_frame_header()
            let n = tw_frame_parse_header(frame, headroom + replyLength - (frame - (payload - headroom)), &header)
            sink &+= UInt64(truncatingIfNeeded: n) &+ header.payload_len
            if replyIsText {
                var state: UInt32 = 0
                sink &+= UInt64(bitPattern: Int64(tw_utf8_validate(&state, payload, replyLength)))
            }
        }
        return sink
    }
}
