import Testing
@_spi(VenueClients) @testable import TradeWire

/// `OrderPathWarmer`: a pass re-encodes the last request sent (with its id) and re-decodes the last answer received,
/// into its own scratch; before anything was sent or received it does neither.
@Suite("Order path warm-up")
struct OrderPathWarmerTests {
    @Test func aPassReplaysTheLastRequestAndAnswer() {
        var warmer = OrderPathWarmer<String>(requestCapacity: 64, answerCapacity: 32)
        var encoded: [(String, UInt64)] = []
        var decoded: [[UInt8]] = []
        func pass() {
            warmer.run(encodeJSON: { r, id, w in
                encoded.append((r, id))
                w.beginObject(); w.key("op"); w.string(r); w.endObject()
            }, decode: { bytes in
                decoded.append(Array(bytes))
                return UInt64(bytes.count)
            })
        }
        pass()
        #expect(encoded.isEmpty && decoded.isEmpty)

        warmer.sent("place", id: 7)
        let answer = Array(#"{"ok":true}"#.utf8)
        answer.withUnsafeBytes { warmer.received($0) }
        let before = warmer.sink
        pass()
        pass()
        #expect(encoded.count == 2 && encoded.allSatisfy { $0 == ("place", 7) })
        #expect(decoded == [answer, answer])
        #expect(warmer.sink != before)

        // An answer longer than the warmer keeps is not kept: the last one that fit stays.
        Array(repeating: UInt8(ascii: "x"), count: 100).withUnsafeBytes { warmer.received($0) }
        pass()
        #expect(decoded.last == answer)

        // A request that overflows the scratch is encoded, found too long, and skipped by the framing.
        warmer.sent(String(repeating: "y", count: 200), id: 8)
        pass()
        #expect(encoded.last?.1 == 8)
    }
}
