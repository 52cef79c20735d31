import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken

/// The fast path for acks must never change an answer: every message it accepts, the
/// general decoder accepts with the same response; everything else goes to the general one.
@Suite("Kraken ack fast path")
struct KrakenFastPathTests {
    static let ack = #"{"method":"add_order","req_id":123456789,"result":{"order_id":"AA5JGQ-SBMRC-SCJ7J7","cl_ord_id":"tw-17","order_userref":100054},"success":true,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}"#

    func fast(_ s: String) -> KrakenResponse? {
        Array(s.utf8).withUnsafeBytes { KrakenResponseFastPath.decode($0) }
    }

    func general(_ s: String) -> KrakenResponse? {
        Array(s.utf8).withUnsafeBytes { b -> KrakenResponse? in
            guard case .response(let r)? = try? KrakenDecoder.decodeGeneral(b) else { return nil }
            return r
        }
    }

    /// Whitespace outside strings removed: the fixtures as a venue puts them on the wire.
    func compact(_ s: String) -> String { String(decoding: compactJSON(Array(s.utf8)), as: UTF8.self) }

    @Test func theVenuesAcksTakeTheFastPathAndReadAsTheGeneralDecoderReadsThem() throws {
        var texts = [Self.ack,
                     #"{"method":"cancel_order","req_id":0,"result":{},"success":true,"time_in":"a","time_out":"b"}"#,
                     #"{"method":"amend_order","req_id":7,"result":{"amend_id":"TTW6PD-RC36L-ZZSWNU","cl_ord_id":"c-1"},"success":true,"time_in":"t","time_out":"u"}"#,
                     #"{"method":"ping","req_id":3,"success":true,"time_in":"","time_out":""}"#]
        for name in ["ws_add_order_response", "ws_add_order_error", "ws_cancel_all_response", "ws_cancel_order_response"] {
            let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
                .appendingPathComponent("../../Fuzz/corpus/fuzz_venues/\(name).json").standardized
            texts.append(compact(try String(contentsOf: url, encoding: .utf8)))
        }
        for t in texts {
            let f = try #require(fast(t), "fast path refused \(t)")
            #expect(f == general(t), "\(t)")
        }
        let a = try #require(fast(Self.ack))
        #expect(a.method == .addOrder && a.requestID == 123456789 && a.success && a.error == nil)
        #expect(a.orderID?.description == "AA5JGQ-SBMRC-SCJ7J7" && a.clientOrderID?.description == "tw-17")
        #expect(a.orderUserref == 100054 && a.count == nil && a.timeOut?.description == "2023-09-21T14:15:07.205301Z")
        let rejected = try #require(fast(compact(#"{"error": "EOrder:Insufficient funds", "method": "add_order", "req_id": 9, "success": false, "time_in": "x", "time_out": "y"}"#)))
        #expect(!rejected.success && rejected.error?.description == "EOrder:Insufficient funds")
    }

    @Test func unusualButValidAnswersGoToTheGeneralDecoder() throws {
        let others = [
            #"{ "method":"add_order","req_id":1,"success":true,"time_in":"a","time_out":"b"}"#,           // whitespace
            #"{"req_id":1,"method":"add_order","success":true,"time_in":"a","time_out":"b"}"#,            // member order
            #"{"method":"add_order","req_id":1,"result":{"order_id":"O\u0041"},"success":true,"time_in":"a","time_out":"b"}"#,  // escape
            #"{"method":"add_order","req_id":1,"result":{"order_id":"Ö"},"success":true,"time_in":"a","time_out":"b"}"#,     // UTF-8
            #"{"method":"add_order","req_id":1,"result":{"order_id":"O","warnings":["w"]},"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1,"result":{"order_id":"O","extra":1},"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1,"result":{"order_id":"O","order_id":"P"},"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"batch_add","req_id":1,"result":[{"order_id":"O"}],"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1,"success":false,"time_in":"a","time_out":"b"}"#,          // no error text
            #"{"method":"add_order","req_id":1,"success":true,"time_in":"a","time_out":"b"} "#,          // trailing space
            #"{"method":"add_order","req_id":1,"success":true,"time_in":"a","time_out":"b","x":1}"#,     // a further member
        ]
        for t in others {
            #expect(fast(t) == nil, "\(t)")
            let viaDecode = Array(t.utf8).withUnsafeBytes { b -> KrakenResponse? in
                guard case .response(let r)? = try? KrakenDecoder.decode(b) else { return nil }
                return r
            }
            let g = try #require(general(t), "the general decoder reads \(t)")
            #expect(viaDecode == g)
        }
        #expect(general(#"{"method":"add_order","req_id":1,"result":{"order_id":"O","order_id":"P"},"success":true,"time_in":"a","time_out":"b"}"#)?.orderID?.description == "O")
    }

    @Test func invalidOrOddNumbersAndStringsAreNeverAccepted() {
        let bad = [
            #"{"method":"add_order","req_id":01,"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1.5,"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1e3,"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":-1,"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1234567890123456789,"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":,"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1,"success":tru,"time_in":"a","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1,"success":true,"time_in":"a\#u{01}","time_out":"b"}"#,
            #"{"method":"add_order","req_id":1,"success":true,"time_in":"a","time_out":"b"#,
            #"{"method":"pong","req_id":1,"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"method":"no_such","req_id":1,"success":true,"time_in":"a","time_out":"b"}"#,
            #"{"error":"E","method":"add_order","req_id":1,"success":true,"time_in":"a","time_out":"b"}"#,
        ]
        for t in bad { #expect(fast(t) == nil, "\(t)") }
        #expect(fast(#"{"method":"add_order","req_id":123456789012345678,"success":true,"time_in":"a","time_out":"b"}"#)?.requestID == 123456789012345678)
    }

    /// Every prefix, and every byte replaced by each of a set of troublesome bytes: whatever the
    /// fast path still accepts, the general decoder reads the same way.
    @Test func noSingleByteChangeMakesTheTwoDecodersDisagree() {
        let accepted = expectFastPathAgreesUnderMutation(Array(Self.ack.utf8), fast: { m in
            m.withUnsafeBytes { KrakenResponseFastPath.decode($0) }
        }, general: { m in
            m.withUnsafeBytes { bytes -> KrakenResponse? in
                guard case .response(let r)? = try? KrakenDecoder.decodeGeneral(bytes) else { return nil }
                return r
            }
        })
        #expect(accepted > 100)
    }

    @Test func plainStringsStopAtTheFirstByteThatNeedsTheGeneralReader() {
        // A special byte at every offset of a 40-byte string: found wherever it sits.
        for special: UInt8 in [0x22, 0x5C, 0x01, 0x1F, 0x80, 0xE2] {
            for at in 0..<40 {
                var s = [UInt8](repeating: UInt8(ascii: "a"), count: 40)
                s[at] = special
                s.append(0x22)
                let r = s.withUnsafeBytes { b -> (Int?, Int) in
                    var c = JSONShapeCursor(b)!
                    return (c.plainString()?.count, c.offset)
                }
                if special == 0x22 { #expect(r.0 == at && r.1 == at + 1) } else { #expect(r.0 == nil && r.1 == 0) }
            }
        }
        let unterminated = Array("abcdefghijklmnop".utf8)
        #expect(unterminated.withUnsafeBytes { b -> Int? in var c = JSONShapeCursor(b)!; return c.plainString()?.count } == nil)
    }
}
