import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken

func encodeKraken(_ r: KrakenRequest, id: UInt64 = 42, token: String? = "tok") -> [String: Any] {
    var buf = [UInt8](repeating: 0, count: 2048)
    let n = buf.withUnsafeMutableBytes { b -> Int in
        var w = JSONWriter(b)
        KrakenEncoder.encode(r, id: id, token: token, into: &w)
        return w.count
    }
    return (try? JSONSerialization.jsonObject(with: Data(buf[..<n]))) as? [String: Any] ?? [:]
}

func decodeKraken(_ s: String) throws -> KrakenInbound {
    let bytes = Array(s.utf8)
    return try bytes.withUnsafeBytes { try KrakenDecoder.decode($0) }
}

@Suite("Kraken dialect: encoding and decoding")
struct KrakenCodecTests {
    @Test func addOrderMatchesTheDocumentedShape() {
        let order = Order.limit("BTC/USD", .buy, quantity: "1.2", price: "26500.4", postOnly: true,
                                clientOrderID: ClientOrderID("636a0574df7c4aa09c3b119a97f7c58b"))
        let j = encodeKraken(.addOrder(KrakenAddOrder(order)), id: 123456789)
        #expect(j["method"] as? String == "add_order")
        #expect((j["req_id"] as? NSNumber)?.int64Value == 123456789)
        let p = j["params"] as? [String: Any] ?? [:]
        #expect(p["order_type"] as? String == "limit")
        #expect(p["side"] as? String == "buy")
        #expect((p["limit_price"] as? NSNumber)?.doubleValue == 26500.4)      // a JSON number, not a string
        #expect((p["order_qty"] as? NSNumber)?.doubleValue == 1.2)
        #expect(p["symbol"] as? String == "BTC/USD")
        #expect(p["post_only"] as? Bool == true)
        #expect(p["cl_ord_id"] as? String == "636a0574df7c4aa09c3b119a97f7c58b")
        #expect(p["token"] as? String == "tok")
        #expect(p["time_in_force"] == nil)                                      // gtc is the default: not sent
    }

    @Test func cancelVariantsAreArrays() {
        let a = encodeKraken(.cancelOrder(.orderIDs(["OK4GZK-XOTOY-U4C4X5"])))["params"] as? [String: Any]
        #expect(a?["order_id"] as? [String] == ["OK4GZK-XOTOY-U4C4X5"])
        let b = encodeKraken(.cancelOrder(.userrefs([1, 2])))["params"] as? [String: Any]
        #expect((b?["order_userref"] as? [NSNumber])?.map(\.int64Value) == [1, 2])
        let c = encodeKraken(.cancelAllOrdersAfter(timeoutSeconds: 60))["params"] as? [String: Any]
        #expect((c?["timeout"] as? NSNumber)?.intValue == 60)
        #expect(encodeKraken(.ping)["params"] == nil)
    }

    @Test func invalidRequestsAreRefusedBeforeSending() {
        let noPrice = Order(symbol: "BTC/USD", side: .sell, type: .limit, quantity: "1")
        #expect(throws: TradeWireError.self) { try KrakenEncoder.check(.addOrder(KrakenAddOrder(noPrice))) }
        let both = KrakenAddOrder(Order.limit("BTC/USD", .buy, quantity: "1", price: "1", clientOrderID: ClientOrderID("x")), orderUserref: 5)
        #expect(throws: TradeWireError.self) { try KrakenEncoder.check(.addOrder(both)) }
        #expect(throws: TradeWireError.self) { try KrakenEncoder.check(.cancelOrder(.orderIDs([]))) }
        #expect(ClientOrderID(String(repeating: "x", count: 49)) == nil)
    }

    @Test func decodesTheDocumentedResponses() throws {
        // protocols.md §1.2 and §1.4.
        guard case .response(let ok) = try decodeKraken(#"{"method": "add_order", "req_id": 123456789, "result": {"order_id": "AA5JGQ-SBMRC-SCJ7J7", "order_userref": 100054}, "success": true, "time_in": "2023-09-21T14:15:07.197274Z", "time_out": "2023-09-21T14:15:07.205301Z"}"#) else {
            Issue.record("not a response"); return
        }
        #expect(ok.success && ok.requestID == 123456789 && ok.method == .addOrder)
        #expect(ok.orderID?.description == "AA5JGQ-SBMRC-SCJ7J7")
        #expect(ok.orderUserref == 100054)
        #expect(ok.timeIn?.description == "2023-09-21T14:15:07.197274Z")
        guard case .response(let bad) = try decodeKraken(#"{"error":"EGeneral:Invalid arguments:volume minimum not met","method":"add_order","req_id":2,"success":false,"time_in":"2025-07-24T00:56:33.320028Z","time_out":"2025-07-24T00:56:33.328907Z"}"#) else {
            Issue.record("not a response"); return
        }
        #expect(!bad.success && bad.error?.description == "EGeneral:Invalid arguments:volume minimum not met")
        guard case .response(let all) = try decodeKraken(#"{"method": "cancel_all", "req_id": 1234567890, "result": {"count": 5}, "success": true, "time_in": "2023-09-26T13:09:48.463201Z", "time_out": "2023-09-26T13:09:48.471419Z"}"#) else {
            Issue.record("not a response"); return
        }
        #expect(all.count == 5)
        guard case .push(.status(let system, _)) = try decodeKraken(#"{"channel":"status","type":"update","data":[{"api_version":"v2","connection_id":1,"system":"online","version":"2.0.0"}]}"#) else {
            Issue.record("not a status"); return
        }
        #expect(system.description == "online")
        // Unknown fields are ignored; a missing success reads as failure.
        guard case .response(let odd) = try decodeKraken(#"{"method":"ping","req_id":1,"brand_new_field":{"x":[1]}}"#) else {
            Issue.record("not a response"); return
        }
        #expect(!odd.success)
    }

    @Test(arguments: [
        #"{"method":"add_order","req_id":"7","success":true}"#,              // req_id of the wrong type
        #"{"method":"add_order","req_id":7,"success":true,"result":[]}"#,    // result not an object
        #"{"method":"add_order","req_id":7,"success":true,"result":{"order_id":5}}"#,
        #"{"method":"add_order","req_id":7,"success":false,"error":["EOrder"]}"#,
        #"{"method":"add_order","req_id":7,"succ"#,                          // truncated
        #"{"method":"no_such_method","req_id":7}"#,
        #"[1,2,3]"#, #"{"foo":1}"#, "", "\u{0}",
    ])
    func badVenueInputIsATypedError(_ text: String) {
        #expect { _ = try decodeKraken(text) } throws: { ($0 as? TradeWireError)?.code == .malformedResponse }
    }
}

@Suite("Kraken add_order parameters")
struct KrakenAddOrderParameterTests {
    @Test func everyParameterOfTheDocsIsWritten() {
        var order = Order(symbol: "BTC/USD", side: .sell, type: .iceberg, quantity: "3", limitPrice: "30000",
                          triggerPrice: "29000", timeInForce: .gtd, postOnly: true, reduceOnly: true)
        order.clientOrderID = ClientOrderID("every-param")
        let a = KrakenAddOrder(order, deadline: "2026-11-22T10:00:00.000000Z", validate: true, limitPriceType: .pct,
                               displayQty: "0.5", feePreference: .quote, noMPP: true, selfTradePrevention: .cancelBoth,
                               effectiveTime: "2026-11-22T09:00:00Z", expireTime: "2026-11-23T09:00:00Z", cashOrderQty: "100",
                               margin: true, conditional: .init(orderType: .stopLossLimit, limitPrice: "28000", triggerPrice: "28100"))
        let p = encodeKraken(.addOrder(a))["params"] as? [String: Any] ?? [:]
        for key in ["order_type", "side", "order_qty", "symbol", "limit_price", "limit_price_type", "time_in_force", "post_only",
                    "reduce_only", "margin", "cl_ord_id", "deadline", "triggers", "conditional", "display_qty", "fee_preference",
                    "no_mpp", "stp_type", "effective_time", "expire_time", "cash_order_qty", "validate", "token"] {
            #expect(p[key] != nil, "\(key)")
        }
        #expect(p["order_type"] as? String == "iceberg" && p["stp_type"] as? String == "cancel_both")
        #expect((p["conditional"] as? [String: Any])?["order_type"] as? String == "stop-loss-limit")
        // gtd without an expiry is refused before sending.
        let noExpiry = KrakenAddOrder(Order(symbol: "BTC/USD", side: .buy, type: .limit, quantity: "1", limitPrice: "1", timeInForce: .gtd))
        #expect(throws: TradeWireError.self) { try KrakenEncoder.check(.addOrder(noExpiry)) }
    }

    @Test func pingAndDeadMansSwitchEndToEnd() async throws {
        let pushes = Locked(0)
        let rig = try KrakenRig(handlers: .init(onPush: { _, p in if case .pong = p { pushes.withLock { $0 += 1 } } }))
        try await rig.connect()
        let armed = try await rig.client.request(.cancelAllOrdersAfter(timeoutSeconds: 60))
        #expect(armed.response.success)
        let off = try await rig.client.request(.cancelAllOrdersAfter(timeoutSeconds: 0))
        #expect(off.response.success)
        let pong = try await rig.client.request(.ping)       // completed by the pong, not by a timeout
        #expect(pong.response.method == .ping && pong.latency.nanoseconds > 0)
        #expect(pushes.withLock { $0 } == 1)
        #expect(await rig.client.latencyStats(for: .ping)?.count == 1)
    }
}
