import Testing
@testable import TradeWire
@testable import TradeWireGateway

/// The gateway's ack fast path must never change an ack: every message it accepts, the general decoder reads as the
/// same ack; everything else goes to the general one.
@Suite("Gateway ack fast path")
struct GatewayFastPathTests {
    /// The simulator's ack on the wire (the seed's ORDER_ACK with the client's order echoed, compact).
    static let ack = #"{"type":"order_ack","request":{"symbol":"GGAL","side":"BUY","size":100,"price":1500.0,"order_type":"LIMIT","tif":"DAY","market":"ROFX","client_order_id":"TW00000000"},"result":{"status":"ok","response":{"orderId":"12345","status":"NEW"}}}"#

    func fast(_ b: [UInt8]) -> GatewayOrderAck? { b.withUnsafeBytes { GatewayAckFastPath.decode($0) } }
    func general(_ b: [UInt8]) -> GatewayOrderAck? {
        b.withUnsafeBytes { bytes -> GatewayOrderAck? in
            guard case .orderAck(let a)? = try? GatewayDecoder.decodeGeneral(bytes) else { return nil }
            return a
        }
    }

    @Test func theSeedsAckTakesTheFastPathAndReadsAsTheGeneralDecoderReadsIt() throws {
        for t in [compactJSON(try fixture("gateway", "ws_order_ack.json")), Array(Self.ack.utf8)] {
            let f = try #require(fast(t), "fast path refused \(String(decoding: t, as: UTF8.self))")
            #expect(f == general(t))
        }
        let a = try #require(fast(compactJSON(try fixture("gateway", "ws_order_ack.json"))))
        #expect(a.ok && a.orderID == "12345" && a.status == "NEW" && a.clientOrderID == "MI_ORDEN_001" && a.message == nil)
        let refused = Array(#"{"type":"order_ack","request":{"client_order_id":"c"},"result":{"status":"error","message":"invalid order"}}"#.utf8)
        let r = try #require(fast(refused))
        #expect(!r.ok && r.message == "invalid order" && r == general(refused))
    }

    /// Everything but the usual shape: the general decoder, through `decode`, with the same result.
    @Test func otherMessagesGoToTheGeneralDecoder() throws {
        let others = [
            try fixture("gateway", "ws_order_ack.json"),                                              // pretty-printed
            Array(#"{"request":{},"type":"order_ack","result":{"status":"ok"}}"#.utf8),               // member order
            Array(#"{"type":"ORDER_ACK","request":{},"result":{"status":"ok"}}"#.utf8),               // the type in capitals
            Array(#"{"type":"order_ack","request":{"client_order_id":"\u0063"},"result":{"status":"ok"}}"#.utf8),
            Array(#"{"type":"order_ack","request":{"client_order_id":7},"result":{"status":"ok"}}"#.utf8),
            Array(#"{"type":"order_ack","request":{},"result":{"status":"ok"},"x":1}"#.utf8),
            try fixture("gateway", "ws_order_report_flat.json"),
        ]
        for t in others {
            #expect(fast(t) == nil, "\(String(decoding: t, as: UTF8.self))")
            let viaDecode = t.withUnsafeBytes { try? GatewayDecoder.decode($0) }
            let viaGeneral = t.withUnsafeBytes { try? GatewayDecoder.decodeGeneral($0) }
            switch (viaDecode, viaGeneral) {
            case (.orderAck(let a)?, .orderAck(let b)?): #expect(a == b)
            case (nil, nil), (.orderReport?, .orderReport?): break
            default: Issue.record("decode and decodeGeneral disagree on \(String(decoding: t, as: UTF8.self))")
            }
        }
    }

    @Test func noSingleByteChangeMakesTheTwoDecodersDisagree() {
        #expect(expectFastPathAgreesUnderMutation(Array(Self.ack.utf8), fast: fast, general: general) > 100)
    }
}
