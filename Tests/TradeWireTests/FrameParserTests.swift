import CTradeWire
import TradeWire
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// Drives tw_ws over a byte stream the way a socket would deliver it.
struct StreamFeeder {
    let ws: OpaquePointer
    var buffer: [UInt8] = []
    var messages: [(opcode: UInt8, payload: [UInt8], close: UInt16)] = []
    var failure: (err: Int32, code: UInt16)? = nil

    init(role: tw_role = TW_ROLE_CLIENT, maxFrame: UInt64 = 1 << 20, maxMessage: UInt64 = 1 << 21) {
        ws = tw_ws_new(role, tw_limits(max_frame: maxFrame, max_message: maxMessage))
    }

    mutating func feed(_ bytes: some Sequence<UInt8>) {
        buffer.append(contentsOf: bytes)
        guard failure == nil else { return }
        while true {
            var consumed = 0
            var m = tw_ws_message()
            let r = buffer.withUnsafeMutableBufferPointer { tw_ws_next(ws, $0.baseAddress, $0.count, &consumed, &m) }
            if r == 1 {
                messages.append((m.opcode, Array(UnsafeRawBufferPointer(start: m.data, count: m.len)), m.close_code))
            }
            buffer.removeFirst(consumed)
            if r == TW_PARTIAL.rawValue { return }
            if r < 0 { failure = (r, tw_ws_fail_code(ws)); return }
        }
    }

    func free() { tw_ws_free(ws) }
}

func maskedFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, key: [UInt8] = [0x37, 0xfa, 0x21, 0x3d]) -> [UInt8] {
    var f: [UInt8] = [(fin ? 0x80 : 0) | opcode]
    let n = payload.count
    if n < 126 { f.append(0x80 | UInt8(n)) }
    else if n <= 0xffff { f += [0x80 | 126, UInt8(n >> 8), UInt8(n & 0xff)] }
    else { f.append(0x80 | 127); for i in (0..<8).reversed() { f.append(UInt8((n >> (8 * i)) & 0xff)) } }
    f += key
    for (i, b) in payload.enumerated() { f.append(b ^ key[i % 4]) }
    return f
}

func serverFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, rsv: UInt8 = 0) -> [UInt8] {
    var f: [UInt8] = [(fin ? 0x80 : 0) | (rsv << 4) | opcode]
    let n = payload.count
    if n < 126 { f.append(UInt8(n)) }
    else if n <= 0xffff { f += [126, UInt8(n >> 8), UInt8(n & 0xff)] }
    else { f.append(127); for i in (0..<8).reversed() { f.append(UInt8((n >> (8 * i)) & 0xff)) } }
    return f + payload
}

@Suite("RFC 6455 frame parser")
struct FrameParserTests {
    // RFC 6455 §5.7 examples.
    @Test func rfcSingleFrameUnmaskedText() {
        var s = StreamFeeder()
        defer { s.free() }
        s.feed([0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        #expect(s.messages.count == 1)
        #expect(s.messages.first?.payload == Array("Hello".utf8))
        #expect(s.messages.first?.opcode == 1)
    }

    @Test func rfcSingleFrameMaskedTextServerRole() {
        var s = StreamFeeder(role: TW_ROLE_SERVER)
        defer { s.free() }
        s.feed([0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58])
        #expect(s.messages.first?.payload == Array("Hello".utf8))
    }

    @Test func rfcFragmentedUnmaskedText() {
        var s = StreamFeeder()
        defer { s.free() }
        s.feed([0x01, 0x03, 0x48, 0x65, 0x6c])
        #expect(s.messages.isEmpty)
        s.feed([0x80, 0x02, 0x6c, 0x6f])
        #expect(s.messages.map { $0.payload } == [Array("Hello".utf8)])
        #expect(s.messages.first?.opcode == 1)
    }

    @Test func rfcPingAndPong() {
        var s = StreamFeeder()
        defer { s.free() }
        s.feed([0x89, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        s.feed([0x8a, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f])
        #expect(s.messages.map { $0.opcode } == [0x9, 0xA])
        #expect(s.messages.allSatisfy { $0.payload == Array("Hello".utf8) })
    }

    @Test func rfc256ByteAnd64KiBBinary() {
        var s = StreamFeeder()
        defer { s.free() }
        let a = (0..<256).map { UInt8($0 & 0xff) }
        let b = (0..<65536).map { UInt8(($0 * 7) & 0xff) }
        s.feed([0x82, 0x7E, 0x01, 0x00] + a)
        s.feed([0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0] + b)
        #expect(s.messages.map { $0.payload.count } == [256, 65536])
        #expect(s.messages[1].payload == b)
    }

    /// The whole stream, fed one byte at a time, gives the same messages as fed at once.
    @Test func oneByteAtATime() {
        let stream = serverFrame(1, Array("héllo wörld €".utf8))
            + serverFrame(1, Array("frag-".utf8), fin: false)
            + serverFrame(0x9, Array("ping".utf8))
            + serverFrame(0, Array("ment é".utf8))
            + serverFrame(2, (0..<300).map { UInt8($0 & 0xff) })
            + serverFrame(2, (0..<70000).map { UInt8($0 % 251) })
            + serverFrame(0x8, [0x03, 0xe8] + Array("bye".utf8))
        var whole = StreamFeeder()
        var bytewise = StreamFeeder()
        defer { whole.free(); bytewise.free() }
        whole.feed(stream)
        for b in stream { bytewise.feed([b]) }
        #expect(whole.failure == nil && bytewise.failure == nil)
        #expect(whole.messages.count == 6)
        #expect(whole.messages.map { $0.payload } == bytewise.messages.map { $0.payload })
        #expect(whole.messages.map { $0.opcode } == [1, 9, 1, 2, 2, 8])
        #expect(whole.messages[2].payload == Array("frag-ment é".utf8))
        #expect(whole.messages[5].close == 1000)
        #expect(whole.messages[5].payload == Array("bye".utf8))
    }

    /// Payloads straddling every split point of a buffer boundary.
    @Test func straddlingSplits() {
        let stream = serverFrame(1, Array(repeating: UInt8(ascii: "a"), count: 130))
            + serverFrame(1, Array("€€".utf8)) + serverFrame(2, [1, 2, 3])
        for split in 1..<stream.count {
            var s = StreamFeeder()
            s.feed(stream[..<split])
            s.feed(stream[split...])
            #expect(s.failure == nil)
            #expect(s.messages.map { $0.payload.count } == [130, 6, 3], "split at \(split)")
            s.free()
        }
    }

    @Test(arguments: [
        ("masked frame from a server", [0x81, 0x81, 1, 2, 3, 4, 0x61] as [UInt8], UInt16(1002)),
        ("reserved bit 1", serverFrame(1, [0x61], rsv: 4), 1002),
        ("reserved bits 2 and 3", serverFrame(1, [0x61], rsv: 3), 1002),
        ("reserved opcode 3", serverFrame(3, []), 1002),
        ("reserved opcode 0xB", serverFrame(0xB, []), 1002),
        ("fragmented ping", serverFrame(9, [1], fin: false), 1002),
        ("ping over 125 bytes", serverFrame(9, Array(repeating: 0, count: 126)), 1002),
        ("continuation without start", serverFrame(0, [1]), 1002),
        ("new message inside a fragmented one", serverFrame(1, [0x61], fin: false) + serverFrame(1, [0x61]), 1002),
        ("close with 1-byte payload", serverFrame(8, [3]), 1002),
        ("close code 1005 on the wire", serverFrame(8, [0x03, 0xed]), 1002),
        ("close code 999", serverFrame(8, [0x03, 0xe7]), 1002),
        ("close code 2000", serverFrame(8, [0x07, 0xd0]), 1002),
        ("invalid UTF-8 text", serverFrame(1, [0xce, 0xba, 0xe1, 0xbd, 0xb9, 0xcf, 0x83, 0xce, 0xbc, 0xce, 0xb5, 0xed, 0xa0, 0x80]), 1007),
        ("overlong UTF-8", serverFrame(1, [0xc0, 0xaf]), 1007),
        ("truncated UTF-8 at message end", serverFrame(1, [0x61, 0xe2, 0x82]), 1007),
        ("invalid UTF-8 in a fragment", serverFrame(1, [0x61], fin: false) + serverFrame(0, [0xff], fin: false), 1007),
        ("invalid UTF-8 close reason", serverFrame(8, [0x03, 0xe8, 0xff]), 1007),
        ("frame over the limit", serverFrame(2, Array(repeating: 0, count: 2049)), 1009),
        ("message over the limit", serverFrame(2, Array(repeating: 0, count: 2000), fin: false) + serverFrame(0, Array(repeating: 0, count: 2000)), 1009),
    ] as [(String, [UInt8], UInt16)])
    func violationsFailWithTheRightCode(_ name: String, _ bytes: [UInt8], _ code: UInt16) {
        var s = StreamFeeder(maxFrame: 2048, maxMessage: 3000)
        defer { s.free() }
        s.feed(bytes)
        #expect(s.failure?.code == code, "\(name)")
    }

    @Test func invalidUTF8FailsFastInsideAnUnfinishedFragment() {
        var s = StreamFeeder()
        defer { s.free() }
        // The second fragment is invalid before the message ends: fail now, not at FIN.
        s.feed(serverFrame(1, Array("ok".utf8), fin: false) + serverFrame(0, [0xf5], fin: false))
        #expect(s.failure?.code == 1007)
    }

    @Test func interleavedControlFrameInsideFragmentedMessage() {
        var s = StreamFeeder()
        defer { s.free() }
        s.feed(serverFrame(1, Array("a".utf8), fin: false) + serverFrame(9, [7]) + serverFrame(0, Array("b".utf8)))
        #expect(s.messages.map { $0.opcode } == [9, 1])
        #expect(s.messages.last?.payload == Array("ab".utf8))
    }

    @Test func emptyMessages() {
        var s = StreamFeeder()
        defer { s.free() }
        s.feed(serverFrame(1, []) + serverFrame(2, [], fin: false) + serverFrame(0, []) + serverFrame(8, []))
        #expect(s.failure == nil)
        #expect(s.messages.map { $0.payload.count } == [0, 0, 0])
        #expect(s.messages.last?.close == 1005)
    }

    /// The encoder's output parses back (server role unmasks) for every length class.
    @Test(arguments: [0, 1, 125, 126, 127, 65535, 65536, 100_000])
    func encoderRoundTrip(length: Int) {
        let payload = (0..<length).map { UInt8(($0 * 13) & 0x7f) }
        var buf = [UInt8](repeating: 0, count: length + 14)
        var frame: [UInt8] = []
        buf.withUnsafeMutableBufferPointer { p in
            let start = p.baseAddress! + 14
            for i in 0..<length { start[i] = payload[i] }
            let f = tw_frame_write_header(start, UInt64(length), 1, true, true, 0xA1B2C3D4)!
            #expect(14 - (start - f) >= 0)
            #expect(start - f == tw_frame_header_len(UInt64(length), true))
            frame = Array(UnsafeBufferPointer(start: f, count: (start - f) + length))
        }
        var s = StreamFeeder(role: TW_ROLE_SERVER)
        defer { s.free() }
        s.feed(frame)
        #expect(s.messages.first?.payload == payload)
    }

    /// Masking in pieces with a key offset equals masking at once.
    @Test func maskOffsets() {
        let data = (0..<1000).map { UInt8($0 & 0xff) }
        var whole = data, pieces = data
        whole.withUnsafeMutableBufferPointer { tw_mask($0.baseAddress, $0.count, 0x11223344, 0) }
        pieces.withUnsafeMutableBufferPointer { p in
            var off = 0
            for n in [1, 2, 3, 7, 8, 9, 100, 870] {
                tw_mask(p.baseAddress! + off, n, 0x11223344, off)
                off += n
            }
        }
        #expect(whole == pieces)
        #expect(whole != data)
    }
}

@Suite("Guard page: no over-read on any prefix")
struct GuardPageTests {
    /// Place each input so its last byte is the last byte before a PROT_NONE page:
    /// any read past the end faults and kills the test run.
    @Test func parserNeverReadsPastTheEnd() throws {
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let region = mmap(nil, page * 3, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)!
        #expect(region != MAP_FAILED)
        defer { munmap(region, page * 3) }
        #expect(mprotect(region + page * 2, page, PROT_NONE) == 0)
        let end = region.assumingMemoryBound(to: UInt8.self) + page * 2
        let inputs: [[UInt8]] = [
            serverFrame(1, Array("Hello".utf8)),
            serverFrame(2, Array(repeating: 7, count: 300)),
            serverFrame(2, Array(repeating: 7, count: 3000)),
            serverFrame(8, [0x03, 0xe8] + Array("bye".utf8)),
            [0x81, 0x7F, 0, 0, 0, 0, 0, 0, 1, 0],
            serverFrame(1, [0x61, 0xe2, 0x82, 0xac]),
            serverFrame(1, Array("é€".utf8), fin: false) + serverFrame(0, Array("ok".utf8)),
        ]
        var checked = 0
        for input in inputs {
            for len in 0...input.count {
                let start = end - len
                for i in 0..<len { start[i] = input[i] }
                let ws = tw_ws_new(TW_ROLE_CLIENT, tw_limits(max_frame: 1 << 20, max_message: 1 << 20))
                var consumed = 0
                var m = tw_ws_message()
                var off = 0
                while true {
                    let r = tw_ws_next(ws, start + off, len - off, &consumed, &m)
                    off += consumed
                    if r != 1 { break }
                }
                var h = tw_frame_header()
                _ = tw_frame_parse_header(start, len, &h)
                var st: UInt32 = 0
                _ = tw_utf8_validate(&st, start, len)
                tw_ws_free(ws)
                checked += 1
            }
            // HTTP parsers, same placement.
            let head = Array("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n".utf8)
            for len in 0...head.count {
                let start = end - len
                for i in 0..<len { start[i] = head[i] }
                var hh = tw_http_head()
                let p = UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self)
                _ = tw_http_parse_response(p, len, &hh)
                _ = tw_http_parse_request(p, len, &hh)
            }
        }
        #expect(checked > 3000)
    }
}

@Suite("Framing warm-up")
struct FramingWarmerTests {
    /// The warm-up frames its scratch copies and nothing else: the reply's bytes stay as they
    /// were, nothing past either payload is written, and sizes that do not fit are skipped.
    @Test func framesInScratchAndTouchesNothingElse() {
        let h = FramingWarmer.headroom
        let request = UnsafeMutableRawBufferPointer.allocate(byteCount: h + 64 + 16, alignment: 8)
        let reply = UnsafeMutableRawBufferPointer.allocate(byteCount: h + 200 + 16, alignment: 8)
        defer { request.deallocate(); reply.deallocate() }
        request.initializeMemory(as: UInt8.self, repeating: 0xAB)
        reply.initializeMemory(as: UInt8.self, repeating: 0xCD)
        let text = Array(#"{"method":"add_order","req_id":7,"success":true}"#.utf8)
        UnsafeMutableRawBufferPointer(rebasing: reply[h...]).copyBytes(from: text)
        let a = FramingWarmer.run(request: request, requestLength: 64, reply: reply, replyLength: text.count)
        #expect(a != 0)
        #expect(Array(reply[h..<h + text.count]) == text)                          // an unmasked reply: unchanged
        #expect(reply[(h + text.count)...].allSatisfy { $0 == 0xCD })
        #expect(request[(h + 64)...].allSatisfy { $0 == 0xAB })
        #expect(request[h..<h + 64].contains { $0 != 0xAB })                        // masked in place
        #expect(FramingWarmer.run(request: request, requestLength: 1 << 20, reply: reply, replyLength: 1 << 20) == 0)
        #expect(FramingWarmer.run(request: request, requestLength: 0, reply: reply, replyLength: 0) == 0)
    }
}
