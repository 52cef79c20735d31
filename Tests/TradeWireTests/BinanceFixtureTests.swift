import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance

/// The docs' example messages (Fixtures/binance, sources in SOURCES.md): requests TradeWire builds carry the
/// example's fields with the example's JSON types; answers and pushes decode to the documented values.
@Suite("Binance fixtures: the docs' examples")
struct BinanceFixtureTests {
    static let docsKey = "vmPUZE6mv9SD5VNHk4HlWFsOr6aKE2zvsw0MuIgwCIPy6utIco14y7Ju91duEh8A"
    static let docsSecret = "NhqPtmdSJYdKjVHjA7PZj4Mge3R5YNiP1e3UZjInClVN65XAbvqqM6A7H5fATj0j"

    static func encode(_ r: BinanceRequest, id: String, apiKey: String = docsKey, key: BinanceKey = .hmac(secret: docsSecret),
                       loggedOn: Bool = false, timestamp: Int64) throws -> [UInt8] {
        try written { try BinanceEncoder.encode(r, id: id, credentials: BinanceCredentials(apiKey: apiKey, key: key), loggedOn: loggedOn,
                                                timestampMs: timestamp, into: &$0) }
    }

    /// The example's `id`, `method` and `params` with their JSON types; the signature is the example's own key's
    /// (not published), so only its presence and kind are compared.
    static func sameRequest(_ ours: [UInt8], _ name: String, signatureIsBase64: Bool = false) throws -> Bool {
        let doc = try fixture("binance", name)
        guard var a = try JSONSerialization.jsonObject(with: Data(ours)) as? [String: Any],
              var b = try JSONSerialization.jsonObject(with: Data(doc)) as? [String: Any] else { return false }
        if var pa = a["params"] as? [String: Any], var pb = b["params"] as? [String: Any] {
            let sa = pa.removeValue(forKey: "signature") as? String, sb = pb.removeValue(forKey: "signature") as? String
            guard (sa == nil) == (sb == nil) else { return false }
            if let sa { guard signatureIsBase64 ? sa.hasSuffix("=") : sa.count == 64 else { return false } }
            a["params"] = pa
            b["params"] = pb
        }
        return foundationEqual(a, b)
    }

    func decode(_ name: String) throws -> BinanceInbound { try fixture("binance", name).withUnsafeBytes { try BinanceDecoder.decode($0) } }

    func response(_ name: String) throws -> BinanceResponse {
        switch try decode(name) {
        case .response(let r): return r
        case let other: throw PeerError("\(name) decoded to \(other)")
        }
    }

    // MARK: requests

    @Test func theSignedHMACVectorAndTheSigningPayload() throws {
        let order = BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "0.01000000", price: "52000.00",
                                 timeInForce: .gtc, responseType: .ack, recvWindow: 100)
        let out = try Self.encode(.orderPlace(order), id: "4885f793-e5ad-4c3b-8f6c-55d891472b71", timestamp: 1645423376532)
        #expect(sameJSON(out, try fixture("binance", "ws_signed_hmac_order_place_request.json")))
        // The RSA example signs the same parameters (another key): the payload is the docs' one.
        let text = try BinanceEncoder.signedText(.orderPlace(order), apiKey: "CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ",
                                                 timestampMs: 1645423376532)
        #expect(text == "apiKey=CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ&newOrderRespType=ACK&price=52000.00&quantity=0.01000000&recvWindow=100&side=SELL&symbol=BTCUSDT&timeInForce=GTC&timestamp=1645423376532&type=LIMIT")
        #expect(try Self.sameRequest(try Self.encode(.orderPlace(order), id: "4885f793-e5ad-4c3b-8f6c-55d891472b71",
                                                     apiKey: "CAvIjXy3F44yW6Pou5k8Dy1swsYDWJZLeoK2r8G4cFDnE9nosRppc2eKc1T8TRTQ", timestamp: 1645423376532),
                                     "ws_signed_rsa_order_place_request.json"))   // the same fields (RSA signing: BinanceRSATests)
    }

    @Test func tradingRequestsCarryTheExamplesFields() throws {
        let docsOrder = BinanceOrder.limit("BTCUSDT", .sell, quantity: "0.00847000", price: "23416.10000000")
        #expect(try Self.sameRequest(try Self.encode(.orderPlace(docsOrder), id: "56374a46-3061-486b-a311-99ee972eb648", timestamp: 1660801715431),
                                     "ws_order_place_request.json"))
        #expect(try Self.sameRequest(try Self.encode(.orderTest(docsOrder), id: "6ffebe91-01d9-43ac-be99-57cf062e0e30", timestamp: 1660801715431),
                                     "ws_order_test_request.json"))
        let buy = BinanceOrder.limit("BTCUSDT", .buy, quantity: "10", price: "0.1")
        #expect(try Self.sameRequest(try Self.encode(.orderPlace(buy), id: "e2a85d9f-07a5-4f94-8d5f-789dc3deb097",
                                                     apiKey: "T59MTDLWlpRW16JVeZ2Nju5A5C98WkMm8CSzWC4oqynUlTm1zXOxyauT8LmwXEv9", timestamp: 1655716096498),
                                     "ws_request_format_order_place_request.json"))
        let cancel = BinanceCancel(symbol: "BTCUSDT", order: .clientOrderID("4d96324ff9d44481926157"))
        #expect(try Self.sameRequest(try Self.encode(.orderCancel(cancel), id: "5633b6a2-90a9-4192-83e7-925c90b6a2fd", timestamp: 1660801715830),
                                     "ws_order_cancel_request.json"))
        let replace = BinanceCancelReplace(mode: .allowFailure, cancel: .clientOrderID("4d96324ff9d44481926157"), order: docsOrder)
        #expect(try Self.sameRequest(try Self.encode(.orderCancelReplace(replace), id: "99de1036-b5e2-4e0f-9b5c-13d751c93a1a", timestamp: 1660813156900),
                                     "ws_order_cancel_replace_request.json"))
        let amend = BinanceAmend(symbol: "BTCUSDT", order: .clientOrderID("my_test_order1"), newQty: "5", recvWindow: 5000)
        #expect(try Self.sameRequest(try Self.encode(.orderAmendKeepPriority(amend), id: "56374a46-3061-486b-a311-89ee972eb648",
                                                     apiKey: "Rl1KOMDCpSg6xviMYOkNk9ENUB5QOTnufXukVe0Ijd40yduAlpHn78at3rJyJN4F", timestamp: 1741922620419),
                                     "ws_order_amend_keep_priority_request.json"))
        #expect(try Self.sameRequest(try Self.encode(.openOrdersCancelAll(symbol: "BTCUSDT"), id: "778f938f-9041-4b88-9914-efbf64eeacc8", timestamp: 1660805557200),
                                     "ws_open_orders_cancel_all_request.json"))
    }

    @Test func queryAndSessionRequestsCarryTheExamplesFields() throws {
        #expect(try Self.sameRequest(try Self.encode(.orderStatus(symbol: "BTCUSDT", order: .orderID(12569099453)), id: "aa62318a-5a97-4f3b-bdc7-640bbe33b291",
                                                     timestamp: 1660801720951), "ws_order_status_request.json"))
        #expect(try Self.sameRequest(try Self.encode(.openOrdersStatus(symbol: "BTCUSDT"), id: "55f07876-4f6f-4c47-87dc-43e5fff3f2e7", timestamp: 1660813156812),
                                     "ws_open_orders_status_request.json"))
        #expect(try Self.sameRequest(try Self.encode(.accountStatus(omitZeroBalances: nil), id: "605a6d20-6588-4cb9-afa0-b0ab087507ba", timestamp: 1660801839480),
                                     "ws_account_status_request.json"))
        #expect(try Self.sameRequest(try Self.encode(.accountRateLimitsOrders, id: "d3783d8d-f8d1-4d2c-b8a0-b7596af5a664", timestamp: 1660801839500),
                                     "ws_account_rate_limits_orders_request.json"))
        #expect(sameJSON(try Self.encode(.ping, id: "922bcc6e-9de8-440d-9e84-7c80933a8d0d", timestamp: 1), try fixture("binance", "ws_ping_request.json")))
        #expect(sameJSON(try Self.encode(.userDataStreamSubscribe, id: "d3df8a21-98ea-4fe0-8f4e-0fcea5d418b7", timestamp: 1),
                         try fixture("binance", "ws_user_data_stream_subscribe_request.json")))
        #expect(sameJSON(try Self.encode(.userDataStreamUnsubscribe(subscriptionID: nil), id: "d3df8a21-98ea-4fe0-8f4e-0fcea5d418b7", timestamp: 1),
                         try fixture("binance", "ws_user_data_stream_unsubscribe_request.json")))
        let (priv, _) = try Signing.ed25519KeyPair()
        #expect(try Self.sameRequest(try Self.encode(.sessionLogon, id: "c174a2b1-3f51-4580-b200-8528bd237cb7", key: .ed25519(privateKeyPEM: priv),
                                                     timestamp: 1649729878532), "ws_session_logon_request.json", signatureIsBase64: true))
        // The signature subscription signs even on a logged-on session.
        #expect(try Self.sameRequest(try Self.encode(.userDataStreamSubscribeSignature, id: "d3df8a22-98ea-4fe0-9f4e-0fcea5d418b7",
                                                     apiKey: "mjcKCrJzTU6TChLsnPmgnQJJMR616J4yWvdZWDUeXkk6vL6dLyS7rcVOQlADlVjA",
                                                     key: .ed25519(privateKeyPEM: priv), loggedOn: true, timestamp: 1747385641636),
                                     "ws_user_data_stream_subscribe_signature_request.json", signatureIsBase64: true))
        // On a logged-on session a signed request carries only its timestamp; session.logon with an HMAC key is refused.
        let status = try JSONSerialization.jsonObject(with: Data(try Self.encode(.orderStatus(symbol: "BTCUSDT", order: .orderID(1)), id: "x",
                                                                                  loggedOn: true, timestamp: 5))) as? [String: Any]
        #expect((status?["params"] as? [String: Any]).map { Set($0.keys) } == ["symbol", "orderId", "timestamp"])
        #expect { _ = try Self.encode(.sessionLogon, id: "x", timestamp: 1) } throws: { ($0 as? TradeWireError)?.code == .invalidArgument }
    }

    /// Every optional order parameter goes out with the docs' JSON type: DECIMAL as a string, INT/LONG as a number.
    @Test func orderOptionsHaveTheDocumentedJSONTypes() throws {
        var o = BinanceOrder.stopLossLimit("BTCUSDT", .buy, quantity: "1.5", price: "100.5", stopPrice: "101", clientOrderID: ClientOrderID("s1"))
        o.icebergQty = "0.5"
        o.strategyID = 37463720
        o.strategyType = 1_000_000
        o.selfTradePreventionMode = .expireBoth
        o.responseType = .full
        let out = try Self.encode(.orderPlace(o), id: "1", timestamp: 7)
        let p = try #require((try JSONSerialization.jsonObject(with: Data(out)) as? [String: Any])?["params"] as? [String: Any])
        for k in ["price", "quantity", "stopPrice", "icebergQty", "type", "timeInForce", "selfTradePreventionMode", "newOrderRespType", "newClientOrderId"] {
            #expect(p[k] is String, "\(k)")
        }
        for k in ["strategyId", "strategyType", "timestamp"] { #expect(p[k] is NSNumber && !(p[k] is String), "\(k)") }
        #expect(p["stopPrice"] as? String == "101" && p["type"] as? String == "STOP_LOSS_LIMIT" && p["selfTradePreventionMode"] as? String == "EXPIRE_BOTH")
        let trailing = BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .takeProfit, quantity: "1", trailingDelta: 250)
        let t = try #require((try JSONSerialization.jsonObject(with: Data(try Self.encode(.orderPlace(trailing), id: "2", timestamp: 7))) as? [String: Any])?["params"] as? [String: Any])
        #expect((t["trailingDelta"] as? NSNumber)?.intValue == 250 && !(t["trailingDelta"] is String))
        let pegged = BinanceOrder(symbol: "BTCUSDT", side: .buy, type: .limit, quantity: "1", timeInForce: .gtc,
                                  pegPriceType: .primaryPeg, pegOffsetValue: 5, pegOffsetType: .priceLevel)
        let g = try #require((try JSONSerialization.jsonObject(with: Data(try Self.encode(.orderPlace(pegged), id: "3", timestamp: 7))) as? [String: Any])?["params"] as? [String: Any])
        #expect(g["pegPriceType"] as? String == "PRIMARY_PEG" && g["pegOffsetType"] as? String == "PRICE_LEVEL" && (g["pegOffsetValue"] as? NSNumber)?.intValue == 5)
        #expect(g["price"] == nil)
        let market = BinanceOrder(symbol: "BTCUSDT", side: .buy, type: .market, quoteOrderQty: "100.00")
        let m = try #require((try JSONSerialization.jsonObject(with: Data(try Self.encode(.orderPlace(market), id: "4", timestamp: 7))) as? [String: Any])?["params"] as? [String: Any])
        #expect(m["quoteOrderQty"] as? String == "100.00" && m["quantity"] == nil)
        let c = BinanceCancel(symbol: "BTCUSDT", order: .both(orderID: 12, clientOrderID: "a"), newClientOrderID: ClientOrderID("cxl-1"),
                              cancelRestrictions: .onlyNew)
        let cp = try #require((try JSONSerialization.jsonObject(with: Data(try Self.encode(.orderCancel(c), id: "5", timestamp: 7))) as? [String: Any])?["params"] as? [String: Any])
        #expect((cp["orderId"] as? NSNumber)?.intValue == 12 && cp["origClientOrderId"] as? String == "a")
        #expect(cp["newClientOrderId"] as? String == "cxl-1" && cp["cancelRestrictions"] as? String == "ONLY_NEW")
        let a = try #require((try JSONSerialization.jsonObject(with: Data(try Self.encode(.accountStatus(omitZeroBalances: true), id: "6", timestamp: 7))) as? [String: Any])?["params"] as? [String: Any])
        #expect((a["omitZeroBalances"] as? NSNumber).map(isBoolean) == true)
    }

    @Test(arguments: [
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .stopLoss, quantity: "1"),                                       // no trigger
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .takeProfitLimit, quantity: "1", price: "1", timeInForce: .gtc),  // no trigger
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "1", price: "1", timeInForce: .gtc, stopPrice: "2"), // stop on LIMIT
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "1", price: "1"),                               // no timeInForce
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .market),                                                         // no quantity
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .market, quantity: "1", quoteOrderQty: "1"),                      // both
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "1", price: "1", timeInForce: .ioc, icebergQty: "0.1"),
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .market, quantity: "1", icebergQty: "0.1"),
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "1", price: "1", timeInForce: .gtc, strategyType: 999),
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "1", timeInForce: .gtc, pegPriceType: .marketPeg, pegOffsetValue: 1),
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limitMaker, quantity: "1", pegPriceType: .marketPeg),
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .stopLoss, quantity: "1", trailingDelta: 10, pegPriceType: .primaryPeg),
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .takeProfit, quantity: "1", trailingDelta: 0),
        BinanceOrder(symbol: "BTCUSDT", side: .sell, type: .limit, quantity: "1", price: "1", timeInForce: .gtc, recvWindow: 60_001),
    ])
    func invalidOrdersAreRefusedBeforeSending(_ o: BinanceOrder) {
        #expect { try o.validate() } throws: { ($0 as? TradeWireError)?.code == .invalidArgument }
        #expect { _ = try Self.encode(.orderPlace(o), id: "x", timestamp: 1) } throws: { ($0 as? TradeWireError)?.code == .invalidArgument }
    }

    // MARK: answers

    @Test func orderAnswersDecodeToTheDocumentedValues() throws {
        let ack = try response("ws_order_place_response_ack.json").orderReport()
        #expect(ack.orderID == 12569099453 && ack.clientOrderID == "4d96324ff9d44481926157ec08158a40" && ack.status == nil && ack.orderListID == -1)
        let result = try response("ws_order_place_response_result.json").orderReport()
        #expect(result.status == .new && result.side == .sell && result.type == "LIMIT" && result.price == FixedDecimal("23416.10000000"))
        let fullAnswer = try response("ws_order_place_response_full.json")
        #expect(fullAnswer.rateLimits.map(\.interval) == ["ORDERS/SECOND/10", "ORDERS/DAY/1", "REQUEST_WEIGHT/MINUTE/1"])
        let full = try fullAnswer.orderReport()
        #expect(full.status == .filled && full.fills.count == 2 && full.fills[1].tradeID == 1650422482)
        #expect(full.fills[0].qty == FixedDecimal("0.00635000") && full.fills[0].commissionAsset == "BNB" && full.cummulativeQuoteQty == FixedDecimal("198.33521500"))
        let cancelled = try response("ws_order_cancel_response.json")
        #expect(cancelled.origClientOrderID == "4d96324ff9d44481926157" && cancelled.clientOrderID == "91fe37ce9e69c90d6358c0")
        guard case .order(let c) = try cancelled.cancelResult() else { Issue.record("not an order"); return }
        #expect(c.status == .canceled && c.strategyID == 37463720 && c.strategyType == 1_000_000 && c.trailingDelta == 0 && c.executedQty == FixedDecimal("0.00001000"))
        guard case .orderList(let list) = try response("ws_order_cancel_response_order_list.json").cancelResult() else { Issue.record("not a list"); return }
        #expect(list.orderListID == 19431 && list.contingencyType == "OCO" && list.orders.count == 2 && list.orderReports.count == 2)
        #expect(list.orderReports[0].origClientOrderID == "bX5wROblo6YeDwa9iTLeyY" && list.orderReports[0].type == "STOP_LOSS_LIMIT")
        let status = try response("ws_order_status_response.json").orderReport()
        #expect(status.status == .filled && status.isWorking == true && status.time == 1660801715639 && status.updateTime == 1660801717945)
        #expect(status.trailingDelta == 10 && status.trailingTime == -1 && status.preventedQuantity == FixedDecimal("1.200000") && status.preventedMatchID == 0)
        let open = try response("ws_open_orders_status_response.json").openOrderReports()
        #expect(open.count == 1 && open[0].status == .partiallyFilled && open[0].executedQty == FixedDecimal("0.00720000"))
        let all = try response("ws_open_orders_cancel_all_response.json").cancelAllResults()
        guard all.count == 2, case .order(let one) = all[0], case .orderList(let oco) = all[1] else { Issue.record("\(all)"); return }
        #expect(one.origClientOrderID == "4d96324ff9d44481926157" && oco.orderReports.count == 2 && oco.listStatusType == "ALL_DONE")
    }

    @Test func cancelReplaceAndAmendAnswersDecode() throws {
        let ok = try response("ws_order_cancel_replace_response_success.json").cancelReplace()
        #expect(ok.cancelResult == .success && ok.newOrderResult == .success)
        guard case .order(let cancelLeg)? = ok.cancelResponse, case .order(let newLeg)? = ok.newOrderResponse else { Issue.record("\(ok)"); return }
        #expect(cancelLeg.clientOrderID == "91fe37ce9e69c90d6358c0" && cancelLeg.origClientOrderID == "4d96324ff9d44481926157" && newLeg.status == .new)
        let partial = try response("ws_order_cancel_replace_error_409_new_order_failed.json")
        #expect(partial.status == 409 && partial.errorCode == -2021)
        let legs = try partial.cancelReplace()
        guard case .error(let code, _)? = legs.newOrderResponse else { Issue.record("\(legs)"); return }
        #expect(legs.cancelResult == .success && legs.newOrderResult == .failure && code == -2010)
        let stop = try response("ws_order_cancel_replace_error_400_stop_on_failure.json").cancelReplace()
        #expect(stop.newOrderResult == .notAttempted && stop.newOrderResponse == nil)
        if case .error(let c, let m)? = stop.cancelResponse { #expect(c == -2011 && m == "Unknown order sent.") } else { Issue.record("\(stop)") }
        let both = try response("ws_order_cancel_replace_error_400_both_failed.json").cancelReplace()
        #expect(both.cancelResult == .failure && both.newOrderResult == .failure)
        let cancelFailed = try response("ws_order_cancel_replace_error_409_cancel_failed.json").cancelReplace()
        if case .order(let o)? = cancelFailed.newOrderResponse { #expect(o.fills.isEmpty && o.workingTime == 1669693344508) } else { Issue.record("\(cancelFailed)") }
        let limited = try response("ws_order_cancel_replace_error_409_cancel_only_rate_limited.json").cancelReplace()
        if case .error(let c, _)? = limited.newOrderResponse { #expect(c == -1015) } else { Issue.record("\(limited)") }
        // A partial failure completes the request with its answer (one leg took effect); a full failure is an error
        // that names both legs.
        let cr = BinanceRequest.orderCancelReplace(BinanceCancelReplace(mode: .allowFailure, cancel: .orderID(1), order: .limit("BTCUSDT", .buy, quantity: "1", price: "1")))
        if case .success = BinanceClient.outcome(partial, of: cr) {} else { Issue.record("409 should complete with its legs") }
        guard case .failure(let e) = BinanceClient.outcome(try response("ws_order_cancel_replace_error_400_stop_on_failure.json"), of: cr) else { Issue.record("400"); return }
        #expect(e.code == .venueRejected && e.venueCode == -2022 && e.detail.contains("-2011") && e.detail.contains("NOT_ATTEMPTED"))

        let amend = try response("ws_order_amend_keep_priority_response.json").amendResult()
        #expect(amend.executionID == 16 && amend.transactTime == 1741923284382 && amend.listStatus == nil)
        #expect(amend.amendedOrder.origQty == FixedDecimal("5.00000000") && amend.amendedOrder.origClientOrderID == "my_test_order1")
        #expect(amend.amendedOrder.cummulativeQuoteQty == FixedDecimal("0.00000000") && amend.amendedOrder.preventedQuantity == .zero)
        let listAmend = try response("ws_order_amend_keep_priority_response_order_list.json").amendResult()
        #expect(listAmend.listStatus?.contingencyType == "OTO" && listAmend.listStatus?.orders.count == 2 && listAmend.amendedOrder.orderListID == 4)
    }

    @Test func accountAnswersDecode() throws {
        let a = try response("ws_account_status_response.json").accountStatus()
        #expect(a.makerCommission == 15 && a.canTrade && a.accountType == "SPOT" && a.uid == 354937868 && a.permissions == ["SPOT"])
        #expect(a.balances.count == 3 && a.balances[1] == .init(asset: "BTC", free: FixedDecimal("1.3447112")!, locked: FixedDecimal("0.08600000")!))
        #expect(a.commissionRates?.maker == FixedDecimal("0.00150000") && a.requireSelfTradePrevention == false)
        let limits = try response("ws_account_rate_limits_orders_response.json").orderRateLimits()
        #expect(limits.map(\.key) == ["ORDERS/SECOND/10", "ORDERS/DAY/1"] && limits.map(\.limit) == [50, 160000] && limits.allSatisfy { $0.count == 0 })
        let logon = try response("ws_session_logon_response.json")
        #expect(logon.status == 200 && logon.rateLimits.isEmpty)
        #expect(try response("ws_user_data_stream_subscribe_response.json").subscriptionID == nil)           // GH-2025: result {}
        #expect(try response("ws_user_data_stream_subscribe_response_2026.json").subscriptionID == 0)
        #expect(try response("ws_user_data_stream_subscribe_signature_response.json").subscriptionID == 0)
    }

    @Test func errorsDecodeToTypedErrors() throws {
        guard case .unsolicited(let revoked) = try decode("ws_error_401_session_revoked.json") else { Issue.record("not unsolicited"); return }
        #expect(revoked.status == 401 && revoked.errorCode == -2015)
        let ban = try response("ws_error_418_ip_banned.json")
        #expect(ban.retryAfterMs == 1659146400000 && ban.serverTimeMs == 1659142907531)
        let banned = BinanceClient.venueError(ban)
        #expect(banned.code == .banned && banned.venueCode == -1003 && banned.retryAfter == .milliseconds(1659146400000 - 1659142907531))
        let limited = BinanceClient.venueError(try response("ws_error_429_too_many_orders.json"))
        #expect(limited.code == .rateLimited && limited.venueCode == -1015 && limited.retryAfter == nil)
        let balance = BinanceClient.venueError(try response("ws_error_400_insufficient_balance.json"))
        #expect(balance.code == .venueRejected && balance.venueCode == -2010)
    }

    // MARK: pushes

    @Test func executionReportsDecodeToTheDocumentedValues() throws {
        guard case .executionReport(let new) = try decode("ws_execution_report.json") else { Issue.record("not a report"); return }
        #expect(new.tradeID == nil)                        // "t": -1 on a NEW: no trade
        #expect(new.commission == FixedDecimal("0") && new.commissionAsset == nil && new.cumQuoteQty == .zero && new.lastQuoteQty == .zero)
        #expect(new.executionID == 8641984 && new.isWorking == true && new.orderListID == -1 && new.preventedMatchID == 3 && new.subscriptionID == 0)
        #expect(new.originalClientOrderID == nil && new.orderClientOrderID == "mUvoqJxFIILMdfAW5iGSOW" && new.cancelClientOrderID == nil)
        guard case .executionReport(let cancel) = try decode("made_up_execution_report_canceled.json") else { Issue.record("not a report"); return }
        #expect(cancel.clientOrderID == "91fe37ce9e69c90d6358c0" && cancel.originalClientOrderID == "4d96324ff9d44481926157")
        #expect(cancel.orderClientOrderID == "4d96324ff9d44481926157" && cancel.cancelClientOrderID == "91fe37ce9e69c90d6358c0" && cancel.status == .canceled)
        guard case .executionReport(let fill) = try decode("made_up_execution_report_trade.json") else { Issue.record("not a report"); return }
        #expect(fill.tradeID == 1650422481 && fill.commission == FixedDecimal("0.14869223") && fill.commissionAsset == "USDT")
        #expect(fill.cumQuoteQty == FixedDecimal("148.69223500") && fill.lastQuoteQty == FixedDecimal("148.69223500") && fill.isMaker == true)
    }

    @Test func anExecutionReportWithAStatusThisVersionDoesNotKnowIsKeptNotDropped() throws {
        // The docs' NEW report with its `X` changed to a state Binance might add: the fill must still reach the caller.
        let text = String(decoding: try fixture("binance", "made_up_execution_report_trade.json"), as: UTF8.self)
            .replacingOccurrences(of: #""X": "PARTIALLY_FILLED""#, with: #""X": "SOMETHING_NEW""#)
        guard case .executionReport(let r) = try Array(text.utf8).withUnsafeBytes({ try BinanceDecoder.decode($0) }) else {
            Issue.record("not a report"); return
        }
        #expect(r.status == .unknown("SOMETHING_NEW") && r.tradeID == 1650422481)
        #expect(BinanceOrderStatus(rawValue: "EXPIRED_IN_MATCH") == .expiredInMatch)
    }

    @Test func eventsDecode() throws {
        guard case .streamTerminated(let sub, let t) = try decode("ws_event_stream_terminated.json") else { Issue.record("terminated"); return }
        #expect(sub == 0 && t == 1728973001334)
        guard case .streamTerminated(nil, _) = try decode("ws_event_stream_terminated_2025_no_subscription_id.json") else { Issue.record("2025"); return }
        guard case .serverShutdown(let when) = try decode("ws_event_server_shutdown.json") else { Issue.record("shutdown"); return }
        #expect(when == 1770123456789)
        for (name, type) in [("ws_event_balance_update.json", "balanceUpdate"), ("ws_event_outbound_account_position.json", "outboundAccountPosition"),
                             ("ws_event_external_lock_update.json", "externalLockUpdate"), ("ws_event_list_status.json", "listStatus")] {
            guard case .event(let e) = try decode(name) else { Issue.record("\(name)"); continue }
            #expect(e == type)
        }
        // The deprecated listenKey stream (bare events) and its `"response"` answers are not the WS API: typed refusals.
        for name in ["legacy_execution_report_2022_missing_comma.json", "ws_user_data_stream_ping_response_deprecated.json"] {
            #expect(throws: TradeWireError.self, "\(name)") { _ = try decode(name) }
        }
    }
}
