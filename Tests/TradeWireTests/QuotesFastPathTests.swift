import Testing
@testable import TradeWire
@testable import TradeWireQuotes

/// The quotes fast path must never change a message: every message it accepts, the general decoder accepts with the
/// same result; everything else goes to the general one.
@Suite("Quotes fast path")
struct QuotesFastPathTests {
    /// The seed's documented messages (§ 4 product quotes, § 5 heartbeats, § 6 ping-pong: the fixtures), compact as
    /// the venue writes them on the wire.
    static func documented() throws -> [[UInt8]] {
        try ["ws_pq.json", "ws_hb.json", "ws_pong.json"].map { compactJSON(try fixture("quotes", $0)) }
    }

    func fast(_ b: [UInt8]) -> QuotesInbound? { b.withUnsafeBytes { QuotesFastPath.decode($0) } }
    func general(_ b: [UInt8]) -> QuotesInbound? { b.withUnsafeBytes { try? QuotesDecoder.decodeGeneral($0) } }

    @Test func theDocumentedMessagesTakeTheFastPathAndReadAsTheGeneralDecoderReadsThem() throws {
        let documented = try Self.documented()
        for t in documented {
            let f = try #require(fast(t), "fast path refused \(String(decoding: t, as: UTF8.self))")
            #expect(f == general(t))
        }
        let pq = try #require(fast(documented[0]))
        #expect(pq == .quote(product: InlineText("DWC.4.20"), quote: FixedDecimal("123.45")!, timestamp: 1_587_838_905_842))
        #expect(fast(documented[1]) == .heartbeat(timestamp: 1_587_838_905_842))
        #expect(fast(documented[2]) == .response(.pong(msg: "1234", timestamp: 1_511_545_528_111)))
    }

    /// Everything but those shapes: the general decoder, through `decode`, with the same result.
    @Test func otherMessagesGoToTheGeneralDecoder() {
        let others = [
            #"{"op": "hb", "timestamp": 1}"#,                                               // whitespace (the seed's own layout)
            #"{"timestamp":1,"op":"hb"}"#,                                                 // member order
            #"{"op":"pq","productName":"A","quote":"108.53","timestamp":1}"#,              // a quote as text
            #"{"op":"pq","productName":"\u0041","quote":1,"timestamp":1}"#,                // an escape
            #"{"op":"pq","productName":"Ö","quote":1,"timestamp":1}"#,                     // UTF-8
            #"{"op":"pq","productName":"A","quote":1,"timestamp":1.5}"#,                   // a fractional timestamp
            #"{"op":"pq","productName":"A","quote":1e400,"timestamp":1}"#,                 // a quote no decimal holds
            #"{"op":"pong","timestamp":1}"#,                                               // no msg
            #"{"op":"pong","timestamp":1,"msg":"x","extra":2}"#,                           // a further member
            #"{"op":"hb","timestamp":1} "#,                                                // trailing space
            #"{"op":"subscribed","status":"OK","timestamp":1,"products":[{"productName":"A","quote":1}]}"#,
            #"{"op":"error","opRequest":"subscribe","msg":"m","code":"PRODUCT_NOT_VALID","timestamp":1}"#,
        ].map { Array($0.utf8) }
        for t in others {
            #expect(fast(t) == nil, "\(String(decoding: t, as: UTF8.self))")
            let viaDecode = t.withUnsafeBytes { try? QuotesDecoder.decode($0) }
            #expect(viaDecode == general(t), "\(String(decoding: t, as: UTF8.self))")
        }
    }

    /// Every prefix, and every byte replaced by each of a set of troublesome bytes: whatever the fast path still
    /// accepts, the general decoder reads the same way.
    @Test func noSingleByteChangeMakesTheTwoDecodersDisagree() throws {
        for base in try Self.documented() {
            #expect(expectFastPathAgreesUnderMutation(base, fast: fast, general: general) > 10)
        }
    }
}
