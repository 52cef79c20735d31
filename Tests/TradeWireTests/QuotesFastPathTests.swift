import Testing
@testable import TradeWire
@testable import TradeWireQuotes

/// The quotes fast path must never change a message: every message it accepts, the general decoder accepts with the
/// same result; everything else goes to the general one.
@Suite("Quotes fast path")
struct QuotesFastPathTests {
    /// The seed's documented shapes (§ 4, § 5, § 6) with values in their placeholders, as the venue writes them.
    static let documented = [
        #"{"op":"pq","productName":"DWC.4.20","quote":108.53,"timestamp":1511545528111}"#,
        #"{"op":"hb","timestamp":1511545528111}"#,
        #"{"op":"pong","timestamp":1511545528111,"msg":"1234"}"#,
    ]

    func fast(_ b: [UInt8]) -> QuotesInbound? { b.withUnsafeBytes { QuotesFastPath.decode($0) } }
    func general(_ b: [UInt8]) -> QuotesInbound? { b.withUnsafeBytes { try? QuotesDecoder.decodeGeneral($0) } }

    @Test func theDocumentedMessagesTakeTheFastPathAndReadAsTheGeneralDecoderReadsThem() throws {
        for t in Self.documented.map({ Array($0.utf8) }) {
            let f = try #require(fast(t), "fast path refused \(String(decoding: t, as: UTF8.self))")
            #expect(f == general(t))
        }
        let pq = try #require(fast(Array(Self.documented[0].utf8)))
        #expect(pq == .quote(product: InlineText("DWC.4.20"), quote: FixedDecimal("108.53")!, timestamp: 1_511_545_528_111))
        #expect(fast(Array(Self.documented[2].utf8)) == .response(.pong(msg: "1234", timestamp: 1_511_545_528_111)))
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
    @Test func noSingleByteChangeMakesTheTwoDecodersDisagree() {
        for base in Self.documented.map({ Array($0.utf8) }) {
            #expect(expectFastPathAgreesUnderMutation(base, fast: fast, general: general) > 10)
        }
    }
}
