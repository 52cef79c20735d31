import CTradeWire
import Testing

@Suite("UTF-8 validator")
struct UTF8Tests {
    func valid(_ bytes: [UInt8]) -> Bool {
        var st: UInt32 = 0
        let r = bytes.withUnsafeBufferPointer { tw_utf8_validate(&st, $0.baseAddress, $0.count) }
        return r == 0 && st == 0
    }

    /// Agreement with the standard library's decoder on edge cases and random input.
    @Test func agreesWithSwiftOnEdgeCasesAndRandomBytes() {
        var cases: [[UInt8]] = [
            [], [0x7f], [0xc2, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xe0, 0xa0, 0x80], [0xed, 0x9f, 0xbf],
            [0xed, 0xa0, 0x80], [0xef, 0xbf, 0xbf], [0xf0, 0x8f, 0xbf, 0xbf], [0xf0, 0x90, 0x80, 0x80],
            [0xf4, 0x8f, 0xbf, 0xbf], [0xf4, 0x90, 0x80, 0x80], [0xf5, 0x80, 0x80, 0x80], [0xff], [0x80],
            Array("κόσμε".utf8), Array(String(repeating: "a", count: 40).utf8) + [0xe2, 0x82],
        ]
        var rng = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let n = Int.random(in: 0..<24, using: &rng)
            // Bias toward interesting bytes.
            cases.append((0..<n).map { _ in
                Bool.random(using: &rng) ? UInt8.random(in: 0x80...0xf5, using: &rng) : UInt8.random(in: 0...0x7f, using: &rng)
            })
        }
        for c in cases {
            let swift = String(validating: c, as: UTF8.self) != nil
            #expect(valid(c) == swift, "\(c)")
        }
    }

    /// Split anywhere, the incremental state gives the same verdict.
    @Test func incrementalAcrossEverySplit() {
        let text = Array("a€𝄞é\u{10FFFF}z".utf8)
        for split in 0...text.count {
            var st: UInt32 = 0
            let a = text[..<split].withUnsafeBufferPointer { tw_utf8_validate(&st, $0.baseAddress, $0.count) }
            let b = text[split...].withUnsafeBufferPointer { tw_utf8_validate(&st, $0.baseAddress, $0.count) }
            #expect(a == 0 && b == 0 && st == 0, "split \(split)")
        }
    }
}

@Suite("HTTP upgrade parsing")
struct HTTPTests {
    @Test func acceptKeyRFCExample() {
        var out = [CChar](repeating: 0, count: 29)
        let key = "dGhlIHNhbXBsZSBub25jZQ=="
        #expect(tw_ws_accept_key(key, 24, &out) == 28)
        #expect(String(decoding: out.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }

    /// Parse and inspect while the bytes live (the head holds views into them).
    @discardableResult
    func parseResponse(_ s: String, _ inspect: (Int32, inout tw_http_head) -> Void = { _, _ in }) -> (Int32, Int32) {
        var h = tw_http_head()
        let b = Array(s.utf8)
        return b.withUnsafeBufferPointer { p in
            p.withMemoryRebound(to: CChar.self) { buf in
                let r = tw_http_parse_response(buf.baseAddress, buf.count, &h)
                inspect(r, &h)
                return (r, h.status)
            }
        }
    }

    @Test func responseWithHeadersAndTrailingFrameBytes() {
        let s = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\nSec-WebSocket-Accept:  s3pPLMBiTxaQ9kYGzzhZRbK+xOo= \r\n\r\n\u{81}\u{0}"
        parseResponse(s) { r, head in
            #expect(r == Int32(s.utf8.count - 3))   // "\u{81}" is 2 UTF-8 bytes, plus the NUL
            #expect(head.status == 101)
            #expect(head.num_headers == 3)
            let conn = tw_http_find(&head, "connection")!
            #expect(tw_http_has_token(conn.pointee.value, conn.pointee.value_len, "upgrade") == 1)
            let acc = tw_http_find(&head, "Sec-WebSocket-Accept")!
            #expect(acc.pointee.value_len == 28)   // surrounding spaces trimmed
        }
    }

    @Test func partialAndMalformed() {
        #expect(parseResponse("HTTP/1.1 101 Switching").0 == TW_PARTIAL.rawValue)
        #expect(parseResponse("HTTP/1.1 101 OK\r\nUpgrade: websocket\r\n").0 == TW_PARTIAL.rawValue)
        #expect(parseResponse("HTTP/2 101 OK\r\n\r\n").0 == TW_ERR_HTTP_MALFORMED.rawValue)
        #expect(parseResponse("HTTP/1.1 1O1 OK\r\n\r\n").0 == TW_ERR_HTTP_MALFORMED.rawValue)
        #expect(parseResponse("HTTP/1.1 101 OK\r\nBad Header\r\n\r\n").0 == TW_ERR_HTTP_MALFORMED.rawValue)
        #expect(parseResponse("HTTP/1.1 101 OK\r\n folded: x\r\n\r\n").0 == TW_ERR_HTTP_MALFORMED.rawValue)
        #expect(parseResponse("HTTP/1.1 401\r\n\r\n").1 == 401)
    }

    @Test func request() {
        var h = tw_http_head()
        let s = Array("GET /v2?a=1 HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer t0k\r\n\r\n".utf8)
        let r = s.withUnsafeBufferPointer { p in p.withMemoryRebound(to: CChar.self) { tw_http_parse_request($0.baseAddress, $0.count, &h) } }
        #expect(r == Int32(s.count))
        #expect(String(decoding: UnsafeRawBufferPointer(start: h.target, count: h.target_len), as: UTF8.self) == "/v2?a=1")
        #expect(h.num_headers == 2)
    }
}
