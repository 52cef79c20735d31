import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireKraken
@testable import TradeWireSimulator

/// Kraken Spot WS v2 as docs.kraken.com documents it: every example message of the pages TradeWire
/// implements (`Fixtures/kraken/docs/`, INDEX.md names each one's page) encoded or decoded to the
/// documented values, and the client's behaviour where the docs say how the venue answers.
@Suite("Kraken as its documentation says")
struct KrakenDocsTests {
    static func docs(_ name: String) throws -> [UInt8] { try fixture("kraken", "docs/\(name)") }

    static func decode(_ name: String) throws -> KrakenInbound {
        try docs(name).withUnsafeBytes { try KrakenDecoder.decode($0) }
    }

    static func response(_ name: String) throws -> KrakenResponse {
        guard case .response(let r) = try decode(name) else { throw PeerError("\(name) is not a response") }
        return r
    }

    static func executions(_ name: String) throws -> KrakenExecutions {
        guard case .push(.executions(let x)) = try decode(name) else { throw PeerError("\(name) is not an executions frame") }
        return x
    }

    // MARK: requests carry the example's fields with the example's JSON types

    @Test func requestsEncodeToTheDocsExamples() throws {
        let add = KrakenAddOrder(Order(symbol: "BTC/USD", side: .buy, type: .limit, quantity: "1.2", limitPrice: "26500.4"), orderUserref: 100054)
        #expect(sameJSON(written { KrakenEncoder.encode(.addOrder(add), id: 123456789, token: "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY", into: &$0) },
                         try Self.docs("ws_add_order_request.json")))

        // A stop-loss 2 % under the last trade: triggers with price_type pct (item 5).
        let stop = KrakenAddOrder(Order(symbol: "MATIC/USD", side: .sell, type: .stopLoss, quantity: "100", triggerPrice: "-2.0"),
                                  triggerReference: .last, triggerPriceType: .pct)
        try KrakenEncoder.check(.addOrder(stop))
        var stopJSON = written { KrakenEncoder.encode(.addOrder(stop), id: 0, token: "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY", into: &$0) }
        stopJSON = try Self.withoutReqID(stopJSON)          // the example sends no req_id
        #expect(sameJSON(stopJSON, try Self.docs("ws_add_order_request_stop_loss.json")))

        // batch_add: deadline and validate at the batch's level (item 8), stp_type per order.
        var second = KrakenAddOrder(Order(symbol: "BTC/USD", side: .sell, type: .limit, quantity: "0.987654321", limitPrice: "2020.20"), orderUserref: 2)
        second.selfTradePrevention = .cancelBoth
        let batch: KrakenRequest = .batchAdd(symbol: "BTC/USD", orders: [
            KrakenAddOrder(Order(symbol: "BTC/USD", side: .buy, type: .limit, quantity: "0.123456789", limitPrice: "1010.10"), orderUserref: 1),
            second,
        ], validate: false, deadline: "2022-06-13T08:09:10.123456Z")
        try KrakenEncoder.check(batch)
        #expect(sameJSON(written { KrakenEncoder.encode(batch, id: 1234567890, token: "TxxxxxxxxxOxxxxxxxxxxKxxxxxxxExxxxxxxxN", into: &$0) },
                         try Self.docs("ws_batch_add_request.json")))

        let cancel: KrakenRequest = .cancelOrder(.orderIDs(["OM5CRX-N2HAL-GFGWE9", "OLUMT4-UTEGU-ZYM7E9"]))
        #expect(sameJSON(written { KrakenEncoder.encode(cancel, id: 123456789, token: "zGXT1dUQQjJjy5VmGXMegdDQngXXehNo5qbMBVolwEQ", into: &$0) },
                         try Self.docs("ws_cancel_order_request.json")))

        let after: KrakenRequest = .cancelAllOrdersAfter(timeoutSeconds: 100)
        #expect(sameJSON(written { KrakenEncoder.encode(after, id: 1234567890, token: "zwpdzWUe18Bn6h4TAMorh26+QbcMeST2B5tamfe+pgQ", into: &$0) },
                         try Self.docs("ws_cancel_all_orders_after_request.json")))
    }

    static func withoutReqID(_ json: [UInt8]) throws -> [UInt8] {
        guard var o = try JSONSerialization.jsonObject(with: Data(json)) as? [String: Any] else { throw PeerError("not an object") }
        o["req_id"] = nil
        return Array(try JSONSerialization.data(withJSONObject: o))
    }

    @Test func whatTheDocsForbidIsATypedErrorBeforeSending() {
        func refused(_ r: KrakenRequest) -> Bool {
            do { try KrakenEncoder.check(r); return false } catch { return error.code == .invalidArgument }
        }
        // A batch entry's own deadline or validate: they are the batch's.
        var withDeadline = KrakenAddOrder(.limit("BTC/USD", .buy, quantity: "1", price: "1"))
        withDeadline.deadline = "2022-06-13T08:09:10.123456Z"
        #expect(refused(.batchAdd(symbol: "BTC/USD", orders: [withDeadline, KrakenAddOrder(.limit("BTC/USD", .buy, quantity: "1", price: "2"))])))
        // A trailing stop's trigger is a positive offset.
        let trailing = Order(symbol: "BTC/USD", side: .sell, type: .trailingStop, quantity: "1", triggerPrice: "1")
        #expect(refused(.addOrder(KrakenAddOrder(trailing))))
        #expect(refused(.addOrder(KrakenAddOrder(Order(symbol: "BTC/USD", side: .sell, type: .trailingStop, quantity: "1", triggerPrice: "-1"),
                                                 triggerPriceType: .pct))))
        #expect(!refused(.addOrder(KrakenAddOrder(trailing, triggerPriceType: .quote))))
        // A triggered type without its trigger.
        #expect(refused(.addOrder(KrakenAddOrder(Order(symbol: "BTC/USD", side: .sell, type: .stopLoss, quantity: "1")))))
        // fok: limit orders only (the docs), not refused outright.
        #expect(!refused(.addOrder(KrakenAddOrder(Order(symbol: "BTC/USD", side: .buy, type: .limit, quantity: "1", limitPrice: "1", timeInForce: .fok)))))
        #expect(refused(.addOrder(KrakenAddOrder(Order(symbol: "BTC/USD", side: .buy, type: .market, quantity: "1", timeInForce: .fok)))))
    }

    // MARK: responses and pushes decode to the documented values

    @Test func responsesDecodeToTheDocsValues() throws {
        let first = try Self.response("ws_cancel_order_response_1.json"), second = try Self.response("ws_cancel_order_response_2.json")
        #expect(first.requestID == 123456789 && second.requestID == 123456789)          // one answer per order, one req_id
        #expect(Set([first.orderID?.description, second.orderID?.description]) == ["OLUMT4-UTEGU-ZYM7E9", "OM5CRX-N2HAL-GFGWE9"])

        let after = try Self.response("ws_cancel_all_orders_after_response.json")       // item 9
        #expect(after.currentTime?.description == "2023-09-21T15:49:29Z" && after.triggerTime?.description == "2023-09-21T15:51:09Z")

        let batch = try Self.response("ws_batch_add_response.json")
        #expect(batch.success && batch.orders?.map { $0.orderID?.description } == ["ORDERX-IDXXX-XXXXX1", "ORDERX-IDXXX-XXXXX2"])
        #expect(batch.orders?.map(\.orderUserref) == [1, 2])

        let refused = try Self.response("ws_add_order_response_error.json")
        #expect(!refused.success && refused.errorText == "EOrder:Insufficient funds")
        let placed = try Self.response("ws_add_order_response.json")
        #expect(placed.success && placed.orderID != nil)
        let amended = try Self.response("ws_amend_order_response.json")
        #expect(amended.success && amended.amendID != nil)
    }

    @Test func theOtherSupportedMessagesMatchTheDocs() throws {
        #expect(sameJSON(written { KrakenEncoder.encode(.ping, id: 101, token: nil, into: &$0) }, try Self.docs("ws_ping_request.json")))
        guard case .push(.pong(let pong)) = try Self.decode("ws_ping_response.json") else { Issue.record("pong"); return }
        #expect(pong == 101)
        guard case .push(.heartbeat) = try Self.decode("ws_heartbeat.json") else { Issue.record("heartbeat"); return }
        // connection_id 13834774380200032777 is above Int64.max: the status still decodes.
        guard case .push(.status(let system, let version)) = try Self.decode("ws_status_update.json") else { Issue.record("status"); return }
        #expect(system.description == "online" && version.description == "2.0.0")
        var subscribe = written { KrakenEncoder.encode(.subscribeExecutions(snapOrders: true, snapTrades: true), id: 0,
                                                       token: "G38a1tGFzqGiUCmnegBcm8d4nfP3tytiNQz6tkCBYXY", into: &$0) }
        subscribe = try Self.withoutReqID(subscribe)
        #expect(sameJSON(subscribe, try Self.docs("ws_executions_subscribe_request.json")))
        let subscribed = try Self.response("ws_executions_subscribe_response.json")
        #expect(subscribed.success && subscribed.method == .subscribe && subscribed.requestID == 0)
        #expect(sameJSON(written { KrakenEncoder.encode(.cancelAll, id: 1234567890, token: "weeBxllys/7kHy/zHpkATSDIS42BvDgWS2b04ZSZHZ5", into: &$0) },
                         try Self.docs("ws_cancel_all_request.json")))
        #expect(try Self.response("ws_cancel_all_response.json").count == 1)
    }

    /// Item 9: a venue's explanation longer than an inline text (64 bytes) is never cut.
    @Test func aLongErrorTextIsKeptWhole() throws {
        let text = "EGeneral:Invalid arguments:limit_price must be a multiple of the tick size 0.1 for pair BTC/USD"
        let json = #"{"error":"\#(text)","method":"add_order","req_id":5,"success":false,"time_in":"2023-09-21T14:15:07.197274Z","time_out":"2023-09-21T14:15:07.205301Z"}"#
        let r = try Array(json.utf8).withUnsafeBytes { b -> KrakenResponse in
            guard case .response(let r) = try KrakenDecoder.decode(b) else { throw PeerError("not a response") }
            return r
        }
        #expect(r.errorText == text)
        #expect(r.error?.truncated == true)      // the inline copy says it was cut; errorText is whole
    }

    /// Items 6 and 7: every documented fill field, and a `new` report with five fields.
    @Test func executionsCarryEveryDocumentedFillField() throws {
        let trade = try Self.executions("ws_executions_update_trade.json")
        let fill = try #require(trade.reports.first)
        #expect(trade.sequence == 10 && fill.execType == .trade && fill.orderStatus == .partiallyFilled)
        #expect(fill.lastQty == FixedDecimal("0.005") && fill.lastPrice == FixedDecimal("26599.9") && fill.cost == FixedDecimal("132.9995"))
        #expect(fill.cumQty == FixedDecimal("0.005") && fill.cumCost == FixedDecimal("132.9995") && fill.avgPrice == FixedDecimal("26599.9"))
        #expect(fill.fees == [KrakenFee(asset: InlineText("USD"), quantity: FixedDecimal("0.3458")!)])
        #expect(fill.feeUSDEquivalent == FixedDecimal("0.3458") && fill.isMaker == false && fill.tradeID == 62887576)
        #expect(fill.orderType?.description == "limit" && fill.execID?.description == "TGBB7L-HT5LX-J3BZ4A")
        #expect(fill.malformedFields.isEmpty)

        let new = try Self.executions("ws_executions_update_new.json")
        #expect(new.reports.count == 1 && new.reports[0].execType == .new && new.reports[0].symbol == nil && new.reports[0].orderUserref == 3)
        for name in ["ws_executions_update_pending_new.json"] {
            #expect(try Self.executions(name).reports.count == 1)
        }
    }

    /// Item 6: one odd entry never hides the others; an unknown status is kept.
    @Test func oneOddEntryNeverHidesTheFills() throws {
        let json = #"{"channel":"executions","type":"update","sequence":4,"data":["#
            + #"7,{"order_id":"O1"},"#                                                                   // not a report at all
            + #"{"exec_type":"trade","order_id":"O2","last_qty":"x","last_price":100.5,"order_status":"held_for_review"},"#
            + #"{"exec_type":"trade","order_id":"O3","last_qty":1,"last_price":100.5,"order_status":"filled"}]}"#
        let x = try Array(json.utf8).withUnsafeBytes { b -> KrakenExecutions in
            guard case .push(.executions(let x)) = try KrakenDecoder.decode(b) else { throw PeerError("not executions") }
            return x
        }
        #expect(x.unreadable.count == 2)
        #expect(x.reports.map { $0.orderID?.description } == ["O2", "O3"])
        #expect(x.reports[0].orderStatus == .unknown(InlineText("held_for_review")))
        #expect(x.reports[0].malformedFields == ["last_qty"] && x.reports[0].lastPrice == FixedDecimal("100.5"))
        #expect(x.reports[1].lastQty == FixedDecimal("1") && x.reports[1].orderStatus == .filled)
    }

    // MARK: the rate counter of the "Spot rate limits" guide (item 3)

    @Test func theGuidesWorkedExampleCostsEight() {
        // "add, then amend at 7 s, then cancel 36 s later: 1 + 1 + 2 + 4 = 8" (no decay: tier with none).
        var counter = KrakenOrderCounter(threshold: 1000, decayPerSecond: 0)
        var rates = KrakenRateControl()
        let s: UInt64 = 1_000_000_000
        let add = KrakenRequest.addOrder(KrakenAddOrder(.limit("BTC/USD", .buy, quantity: "1", price: "1", clientOrderID: ClientOrderID("w1"))))
        func charge(_ r: KrakenRequest, at t: UInt64) {
            let c = rates.costs(of: r, now: t)
            if let x = c.refusable { #expect(counter.acquire(cost: x.cost, key: x.pair, now: t) == nil) }
            for x in c.always { counter.charge(cost: x.cost, key: x.pair, now: t) }
        }
        charge(add, at: 0)
        rates.acknowledged(add, KrakenResponse(method: .addOrder, requestID: 1, success: true, error: nil, orderID: InlineText("OW1"),
                                               clientOrderID: InlineText("w1"), orderUserref: nil, count: nil, timeIn: nil, timeOut: nil,
                                               hasWarnings: false), now: 0)
        let amend = KrakenRequest.amendOrder(KrakenAmendOrder(.orderID("OW1"), limitPrice: "2"))
        charge(amend, at: 7 * s)
        rates.acknowledged(amend, KrakenResponse(method: .amendOrder, requestID: 2, success: true, error: nil, orderID: InlineText("OW1"),
                                                 clientOrderID: nil, orderUserref: nil, count: nil, timeIn: nil, timeOut: nil,
                                                 hasWarnings: false), now: 7 * s)
        charge(.cancelOrder(.clientOrderIDs([ClientOrderID("w1")!])), at: 43 * s)    // 36 s after the amend: 4
        #expect(counter.count(key: "BTC/USD", now: 43 * s) == 8)
        // Tiers as the guide lists them; a batch of 10 costs 5.
        #expect(KrakenOrderCounter.Tier.intermediate.threshold == 125 && KrakenOrderCounter.Tier.pro.decayPerSecond == 3.75)
        #expect(KrakenOrderCounter.batchAddCost(orders: 10) == 5)
    }
}

/// The client against the simulator where the docs say how Kraken answers.
@Suite("Kraken client: documented answers", .serialized)
struct KrakenDocumentedAnswerTests {
    /// Item 1: one answer per order with the request's req_id; one completion carrying every order's outcome.
    @Test func aMultiIDCancelReportsEveryOrderAndCompletesOnce() async throws {
        let rig = try KrakenRig()
        try await rig.connect()
        let a = try await rig.client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "10", clientOrderID: ClientOrderID("mc-a")))
        let b = try await rig.client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "11", clientOrderID: ClientOrderID("mc-b")))
        let ids = [a.response.orderID!.description, "OXXXXX-NOT00-THERE0", b.response.orderID!.description]
        let ack = try await rig.client.cancelOrder(.orderIDs(ids))
        let rows = try #require(ack.response.orders)
        #expect(rows.count == 3)
        #expect(Set(rows.compactMap { $0.succeeded ? $0.orderID?.description : nil }) == [ids[0], ids[2]])
        #expect(rows.filter { !$0.succeeded }.map(\.error) == ["EOrder:Invalid order"])
        #expect(ack.response.success == false)
        // Exactly one completion for the cancel, none "unknown" left over: a ping after it is answered next.
        _ = try await rig.client.request(.ping)
        #expect(rig.outcomes.withLock { $0.filter { $0.1 == .cancelOrder }.count } == 1)
    }

    /// Item 2: orders that fail the engine's pre-match check are rejected alone; the live orders' ids reach the
    /// caller even though `success` is false.
    @Test func aPartlyPlacedBatchReportsTheLiveOrdersIDs() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let venue = KrakenVenueSimulator(options: .init(fundsLimit: FixedDecimal("10")))
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        let client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), token: "t", rateLimiter: nil))
        try await client.connect()
        let ack = try await client.batchAdd(symbol: "ETH/USD", [
            .limit("ETH/USD", .buy, quantity: "1", price: "100", clientOrderID: ClientOrderID("pb-1")),
            .limit("ETH/USD", .buy, quantity: "500", price: "100", clientOrderID: ClientOrderID("pb-2")),     // over the funds
            .limit("ETH/USD", .buy, quantity: "2", price: "100", clientOrderID: ClientOrderID("pb-3")),
        ])
        #expect(!ack.response.success && ack.response.errorText == "EOrder:Insufficient funds")
        let rows = try #require(ack.response.orders)
        #expect(rows.map { $0.clientOrderID?.description } == ["pb-1", "pb-2", "pb-3"])
        #expect(rows.map { $0.orderID != nil } == [true, false, true])
        #expect(rows[1].error == "EOrder:Insufficient funds")
        let live = try serverLoop.runSync { Set(venue.orders.compactMap { $0.value.clOrdID }) }
        #expect(live == ["pb-1", "pb-3"])
        // A whole batch failing validation is still a failure, with nothing placed.
        await #expect { _ = try await client.batchAdd(symbol: "ETH/USD", [.limit("ETH/USD", .buy, quantity: "1", price: "1")]) } throws: {
            ($0 as? TradeWireError)?.code == .invalidArgument
        }
    }

    /// Item 4: a stale token is refused with `EAPI:Invalid token`; the client fetches a fresh one at once and sends
    /// that one refused request again (it was refused, so this is safe), instead of waiting for its refresh timer.
    @Test func aStaleTokenIsReplacedAndTheRefusedRequestSentAgainOnce() async throws {
        let secret = "ZGVtby1hcGktc2VjcmV0LWZvci10aGUtc2ltdWxhdG9y"
        let dir = try TempDir()
        let cert = try GeneratedCertificate.generate(in: dir.path, prefix: "stale")
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let venue = KrakenVenueSimulator(options: .init(apiKey: "k", apiSecretBase64: secret))
        let server = try WebSocketServer.listen(on: serverLoop, tls: .init(certificateFile: cert.certificateFile, privateKeyFile: cert.privateKeyFile)) { r in
            r.path == KrakenTokenProvider.path ? venue.restToken(r) : .accept(venue.handler())
        }
        let tls = TLSConfiguration(additionalTrust: [.caFile(cert.caFile)])
        let provider = KrakenTokenProvider(loop: loop, credentials: Credentials(apiKey: "k", apiSecret: secret),
                                           restURL: "https://localhost:\(server.port)", tls: tls)
        var configuration = KrakenClient.Configuration(url: try WebSocketURL("wss://localhost:\(server.port)/v2"), tls: tls, rateLimiter: nil)
        configuration.tokenProvider = provider
        let outcomes = Locked<[Result<KrakenResponse, TradeWireError>]>([])
        let client = KrakenClient(loop: loop, configuration: configuration,
                                  handlers: .init(onResponse: { _, done in outcomes.withLock { $0.append(done.result) } }))
        try await client.connect()
        _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "10"))
        try serverLoop.runSync { venue.invalidateTokens() }                  // the session's token is now stale
        let ack = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "11", clientOrderID: ClientOrderID("after-stale")))
        #expect(ack.response.success && ack.response.clientOrderID?.description == "after-stale")
        // One outcome per request: the refusal was not reported, the order was placed once.
        #expect(outcomes.withLock { $0.count } == 2)
        #expect(try serverLoop.runSync { venue.orders.filter { $0.value.clOrdID == "after-stale" }.count } == 1)
    }

    /// Item 3: the venue's `EOrder:Rate limit exceeded` fills the local model for the pair: the next add is
    /// refused locally (typed, with its retry time), while a cancel still goes out.
    @Test func theVenuesRateLimitRefusalFeedsTheLocalModel() async throws {
        let serverLoop = try EventLoop.forTest(.automatic)
        let loop = try EventLoop.forTest(.automatic)
        defer { loop.shutdown(); serverLoop.shutdown() }
        let venue = KrakenVenueSimulator(options: .init(rateCounter: KrakenOrderCounter(threshold: 5, decayPerSecond: 0.001)))
        let server = try WebSocketServer.listen(on: serverLoop) { _, _ in venue.handler() }
        // The local model believes in a far higher threshold: only the venue's word can stop it.
        let limiter = VenueRateLimiter(KrakenOrderCounter(threshold: 10_000, decayPerSecond: 0.001), policy: .failFast)
        let client = KrakenClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/v2"), token: "t", rateLimiter: limiter))
        try await client.connect()
        var placed: [String] = []
        for i in 0..<5 { placed.append(try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: Price("\(10 + i)")!)).response.orderID!.description) }
        await #expect { _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "20")) } throws: {
            ($0 as? TradeWireError)?.venueError?.code == "EOrder:Rate limit exceeded"
        }
        await #expect { _ = try await client.placeOrder(.limit("BTC/USD", .buy, quantity: "1", price: "21")) } throws: {
            ($0 as? TradeWireError)?.code == .rateLimited
        }
        // Another pair is not affected; a cancel is never held back locally.
        _ = try await client.placeOrder(.limit("ETH/USD", .buy, quantity: "1", price: "1"))
        let cancel = try await client.cancelOrder(.orderIDs([placed[0]]))
        #expect(cancel.response.success)
    }
}
