import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance

/// The fast path for successful answers must never change an answer: every message it accepts, the general decoder
/// accepts with the same response; everything else goes to the general one.
@Suite("Binance answer fast path")
struct BinanceFastPathTests {
    /// The simulator's and the venue's shape: the docs' ACK answer on the wire (no whitespace).
    static let ack = #"{"id":"tw-17","status":200,"result":{"symbol":"BTCUSDT","orderId":12569099453,"orderListId":-1,"clientOrderId":"TW00000017","transactTime":1660801715639},"rateLimits":[{"rateLimitType":"ORDERS","interval":"SECOND","intervalNum":10,"limit":50,"count":1},{"rateLimitType":"ORDERS","interval":"DAY","intervalNum":1,"limit":160000,"count":1},{"rateLimitType":"REQUEST_WEIGHT","interval":"MINUTE","intervalNum":1,"limit":6000,"count":1}]}"#

    func fast(_ s: String) -> BinanceResponse? { Array(s.utf8).withUnsafeBytes { BinanceResponseFastPath.decode($0) } }
    func fast(_ b: [UInt8]) -> BinanceResponse? { b.withUnsafeBytes { BinanceResponseFastPath.decode($0) } }

    func general(_ b: [UInt8]) -> BinanceResponse? {
        b.withUnsafeBytes { bytes -> BinanceResponse? in
            guard case .response(let r)? = try? BinanceDecoder.decodeGeneral(bytes) else { return nil }
            return r
        }
    }
    func general(_ s: String) -> BinanceResponse? { general(Array(s.utf8)) }


    @Test func theDocsSuccessfulAnswersTakeTheFastPathAndReadAsTheGeneralDecoderReadsThem() throws {
        for name in ["ws_order_place_response_ack", "ws_order_place_response_result", "ws_order_cancel_response", "ws_ping_response",
                     "ws_order_test_response"] {
            let text = compactJSON(try fixture("binance", name + ".json"))
            let f = try #require(fast(text), "fast path refused \(name)")
            #expect(f == general(text), "\(name)")
        }
        let a = try #require(fast(Self.ack))
        #expect(a.id == "tw-17" && a.status == 200 && a.orderID == 12569099453 && a.clientOrderID == "TW00000017")
        #expect(a.orderStatus == nil && a.errorCode == nil)
        #expect(a.rateLimits.map(\.interval) == ["ORDERS/SECOND/10", "ORDERS/DAY/1", "REQUEST_WEIGHT/MINUTE/1"])
        #expect(a.rateLimits.map(\.limit) == [50, 160_000, 6000] && a.reportsOrderCount)
        #expect(try a.orderReport().orderID == 12569099453)
        let result = compactJSON(try fixture("binance", "ws_order_place_response_result.json"))
        let r = try #require(fast(result))
        #expect(r.orderStatus == "NEW" && r.executedQty == FixedDecimal("0") && r.clientOrderID == "4d96324ff9d44481926157ec08158a40")
    }

    /// Everything but the common successful shape: the general decoder, through `decode`, with the same result.
    @Test func otherAnswersGoToTheGeneralDecoder() throws {
        var others = [
            #"{ "id":"a","status":200,"result":{}}"#,                                           // whitespace
            #"{"status":200,"id":"a","result":{}}"#,                                             // member order
            #"{"id":7,"status":200,"result":{}}"#,                                               // a number id
            #"{"id":"\u0061","status":200,"result":{}}"#,                                        // an escape
            #"{"id":"a","status":200,"result":{"clientOrderId":"Ö"}}"#,                          // UTF-8
            #"{"id":"a","status":200,"result":{"fills":[]}}"#,                                   // FULL's fills
            #"{"id":"a","status":200,"result":{"orderId":"5"}}"#,                                // a text where a number is read
            #"{"id":"a","status":200,"result":{"clientOrderId":5}}"#,                            // and the other way round
            #"{"id":"a","status":200,"result":{"orderId":1.5}}"#,                                // a fraction
            #"{"id":"a","status":200,"result":[]}"#,                                             // openOrders.status
            #"{"id":"a","status":200,"result":{},"rateLimits":[{"interval":"DAY","rateLimitType":"ORDERS","intervalNum":1,"limit":2,"count":1}]}"#,
            #"{"id":"a","status":200,"result":{},"rateLimits":[]}"#,
            #"{"id":"a","status":200,"result":{}} "#,                                           // trailing space
            #"{"id":"a","status":200,"result":{},"x":1}"#,                                       // a further member
        ].map { Array($0.utf8) }
        for name in ["ws_order_place_response_full", "ws_error_400_insufficient_balance", "ws_error_429_too_many_orders",
                     "ws_execution_report", "ws_order_cancel_replace_error_409_cancel_failed"] {
            others.append(compactJSON(try fixture("binance", name + ".json")))
        }
        for t in others {
            let viaDecode = t.withUnsafeBytes { try? BinanceDecoder.decode($0) }
            let viaGeneral = t.withUnsafeBytes { try? BinanceDecoder.decodeGeneral($0) }
            if let f = fast(t) {
                // Accepted only when the general decoder reads it the same way (e.g. an empty rate limit list).
                #expect(f == general(t), "\(String(decoding: t, as: UTF8.self))")
            }
            switch (viaDecode, viaGeneral) {
            case (.response(let a)?, .response(let b)?): #expect(a == b)
            case (nil, nil), (.executionReport?, .executionReport?), (.unsolicited?, .unsolicited?): break
            default: Issue.record("decode and decodeGeneral disagree on \(String(decoding: t, as: UTF8.self))")
            }
        }
        #expect(fast(#"{"status":200,"id":"a","result":{}}"#) == nil && fast(#"{"id":"a","status":200,"result":{"fills":[]}}"#) == nil)
        #expect(fast(#"{"id":"a","status":200,"result":{},"rateLimits":[]}"#) != nil)
    }

    @Test func theFirstOfARepeatedMemberCountsOnBothPaths() throws {
        let t = #"{"id":"a","status":200,"result":{"orderId":1,"orderId":"x","clientOrderId":"c","clientOrderId":2}}"#
        let f = try #require(fast(t))
        #expect(f.orderID == 1 && f.clientOrderID == "c" && f == general(t))
    }

    /// Every prefix, and every byte replaced by each of a set of troublesome bytes: whatever the fast path still
    /// accepts, the general decoder reads the same way.
    @Test func noSingleByteChangeMakesTheTwoDecodersDisagree() {
        #expect(expectFastPathAgreesUnderMutation(Array(Self.ack.utf8), fast: fast, general: general) > 100)
    }
}
