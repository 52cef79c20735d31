import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireBinance
@testable import TradeWireSimulator

/// The WebSocket API answered in SBE (schema 3:5): frames laid out from the schema's tables, and the client against
/// the simulator, where every answer must read as the same answer read from JSON.
@Suite("Binance SBE answers", .serialized)
struct BinanceSBEAnswerTests {
    static func bytes(_ hex: String) -> [UInt8] {
        let digits = hex.filter(\.isHexDigit)
        return stride(from: 0, to: digits.count, by: 2).map { i in
            UInt8(digits[digits.index(digits.startIndex, offsetBy: i)..<digits.index(digits.startIndex, offsetBy: i + 2)], radix: 16)!
        }
    }

    static func decode(_ b: [UInt8]) throws(TradeWireError) -> BinanceResponse {
        let r: Result<BinanceResponse, TradeWireError> = b.withUnsafeBytes { p in
            do throws(TradeWireError) { return .success(try BinanceSBEAnswers.decode(p)) } catch { return .failure(error) }
        }
        return try r.get()
    }

    /// A `WebSocketResponse` around a `NewOrderAckResponse`, laid out byte by byte from spot_3_5.xml's field tables
    /// (not a Binance capture: the docs publish none): header 50, not deprecated, status 200, one rate limit
    /// (ORDERS/SECOND/10, limit 50, count 12), id "42", then the nested ACK (orderId 12345, orderListId null,
    /// transactTime 1736899200123456 µs, "BTCUSDT", "myOrder1").
    static let ack = bytes("""
        03 00 32 00 03 00 05 00  00  c8 00  13 00 01 00  03 00 0a 32 00 00 00 00 00 00 00 0c 00 00 00 00 00 00 00
        02 34 32  31 00 00 00
        18 00 2c 01 03 00 05 00  39 30 00 00 00 00 00 00  00 00 00 00 00 00 00 80  40 82 d5 5b b3 2b 06 00
        07 42 54 43 55 53 44 54  08 6d 79 4f 72 64 65 72 31
        """)

    @Test func anAckLaidOutFromTheSchemaReads() throws {
        #expect(Self.ack.count == 90)
        let r = try Self.decode(Self.ack)
        #expect(r.id == "42" && r.status == 200 && r.orderID == 12345 && r.clientOrderID == "myOrder1" && r.errorCode == nil)
        #expect(r.rateLimits.count == 1 && r.rateLimits[0].interval == "ORDERS/SECOND/10" && r.rateLimits[0].limit == 50 && r.rateLimits[0].count == 12)
        let report = try r.orderReport()
        #expect(report.symbol == "BTCUSDT" && report.orderID == 12345 && report.orderListID == -1 && report.transactTime == 1_736_899_200_123)
    }

    /// `ErrorResponse` (100) inside the envelope: code -2010 as int16, both times null, the message with a uint16
    /// length, no data.
    @Test func anErrorLaidOutFromTheSchemaReads() throws {
        let msg = Array("Account has insufficient balance for requested action.".utf8)
        var nested: [UInt8] = [0x12, 0x00, 0x64, 0x00, 0x03, 0x00, 0x05, 0x00, 0x26, 0xf8]
        nested += [0, 0, 0, 0, 0, 0, 0, 0x80] + [0, 0, 0, 0, 0, 0, 0, 0x80] + [UInt8(msg.count), 0] + msg + [0, 0, 0, 0]
        let frame: [UInt8] = [0x03, 0x00, 0x32, 0x00, 0x03, 0x00, 0x05, 0x00, 0x00, 0x90, 0x01, 0x13, 0x00, 0x00, 0x00,
                              0x02, 0x34, 0x33] + withUnsafeBytes(of: UInt32(nested.count).littleEndian, Array.init) + nested
        let r = try Self.decode(frame)
        #expect(r.id == "43" && r.status == 400 && r.errorCode == -2010 && r.errorMessage == String(decoding: msg, as: UTF8.self))
        #expect(r.retryAfterMs == nil && r.serverTimeMs == nil && r.rateLimits.isEmpty && r.resultSBE == nil)
        #expect(BinanceClient.outcome(r, of: .ping).failure?.venueCode == -2010)
    }

    /// Cut anywhere, or with any one byte changed, a frame reads or is refused with a typed error: never a read
    /// past its end.
    @Test func everyPrefixAndEveryByteChangeIsReadOrRefused() {
        for n in 0..<Self.ack.count {
            #expect(throws: TradeWireError.self) { try Self.decode(Array(Self.ack[..<n])) }
        }
        for i in Self.ack.indices {
            for v: UInt8 in [0x00, 0x7f, 0xff] {
                var b = Self.ack
                b[i] = v
                _ = try? Self.decode(b)
            }
        }
    }

    struct Rig {
        let serverLoop: EventLoop, loop: EventLoop, venue: BinanceVenueSimulator, server: WebSocketServer
        var url: WebSocketURL { WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/ws-api/v3") }
        init() throws {
            serverLoop = try EventLoop.forTest(.automatic)
            loop = try EventLoop.forTest(.automatic)
            let venue = BinanceVenueSimulator(options: .init(apiKey: "k", apiSecret: "s"))
            self.venue = venue
            server = try WebSocketServer.listen(on: serverLoop) { r in venue.decide(r) }
        }
        func client(_ format: BinanceClient.Configuration.ResponseFormat, handlers: BinanceClient.Handlers = .init()) -> BinanceClient {
            var c = BinanceClient.Configuration(url: url, credentials: .init(apiKey: "k", key: .hmac(secret: "s")), rateLimiter: nil)
            c.responseFormat = format
            return BinanceClient(loop: loop, configuration: c, handlers: handlers)
        }

        /// A JSON and an SBE client of the same account, connected.
        func connectedPair(json jsonHandlers: BinanceClient.Handlers = .init(), sbe sbeHandlers: BinanceClient.Handlers = .init())
            async throws -> (json: BinanceClient, sbe: BinanceClient) {
            let json = client(.json, handlers: jsonHandlers), sbe = client(.sbe, handlers: sbeHandlers)
            try await json.connect()
            try await sbe.connect()
            return (json, sbe)
        }
        func shutdown() { loop.shutdown(); serverLoop.shutdown() }
    }

    /// The same orders through a JSON connection and an SBE one: every answer (ACK, RESULT, FULL with its fills,
    /// a cancel, a refusal, `order.status`, `openOrders.status`) reads the same, field by field, but for the ids and
    /// times the venue gives each order.
    @Test func theSimulatorsSBEAnswersReadAsItsJSONAnswers() async throws {
        let rig = try Rig()
        defer { rig.shutdown() }
        let (json, sbe) = try await rig.connectedPair()
        // Numbers by value (JSON answers "0.5"; SBE gives a mantissa at exponent -8).
        func n(_ d: FixedDecimal?) -> String {
            guard var t = d.map({ "\($0)" }) else { return "-" }
            if t.contains(".") { while t.hasSuffix("0") { t.removeLast() }; if t.hasSuffix(".") { t.removeLast() } }
            return t
        }
        func strip(_ r: BinanceOrderReport) -> String {
            "\(r.symbol) \(r.orderListID ?? 0) \(n(r.price)) \(n(r.origQty)) \(n(r.executedQty)) \(n(r.cummulativeQuoteQty)) "
                + "\(r.status?.rawValue ?? "-") \(r.timeInForce ?? "-") \(r.type ?? "-") \(r.side.map { "\($0)" } ?? "-") "
                + "\(r.selfTradePreventionMode ?? "-") " + r.fills.map { "\(n($0.price))@\(n($0.qty)) \(n($0.commission)) \($0.commissionAsset ?? "-")" }.joined(separator: ",")
        }
        var seen: [[String]] = []
        for (i, client) in [json, sbe].enumerated() {
            let tag = i == 0 ? "J" : "S"
            // Resting, then taken in full: the FULL answer carries the fill.
            let rest = try await client.placeOrder(.limit("BTCUSDT", .sell, quantity: "0.5", price: "30000", clientOrderID: ClientOrderID("\(tag)rest")))
            var take = BinanceOrder.limit("BTCUSDT", .buy, quantity: "0.5", price: "30000", clientOrderID: ClientOrderID("\(tag)take"))
            take.responseType = .full
            let full = try await client.placeOrder(take)
            var ackOrder = BinanceOrder.limit("BTCUSDT", .buy, quantity: "1", price: "100", clientOrderID: ClientOrderID("\(tag)ack"))
            ackOrder.responseType = .ack
            let ack = try await client.placeOrder(ackOrder)
            var resultOrder = BinanceOrder.limit("BTCUSDT", .buy, quantity: "2", price: "101", clientOrderID: ClientOrderID("\(tag)res"))
            resultOrder.responseType = .result
            let result = try await client.placeOrder(resultOrder)
            let cancel = try await client.cancelOrder(symbol: "BTCUSDT", origClientOrderID: "\(tag)res", newClientOrderID: ClientOrderID("\(tag)cxl"))
            let refused = await Self.failure { () async throws(TradeWireError) in
                _ = try await client.cancelOrder(symbol: "BTCUSDT", origClientOrderID: "\(tag)none")
            }
            #expect(refused?.code == .venueRejected && refused?.venueCode == -2011)
            for a in [rest.response, full.response, ack.response, result.response] { #expect(a.status == 200 && a.orderID != nil) }
            #expect((i == 0) == (full.response.resultJSON != nil) && (i == 1) == (full.response.resultSBE != nil))
            #expect(full.response.clientOrderID == "\(tag)take" && full.response.orderStatus == "FILLED")
            #expect(cancel.response.origClientOrderID == "\(tag)res" && cancel.response.clientOrderID == "\(tag)cxl")
            #expect(cancel.response.orderStatus == "CANCELED")
            let status = try await client.orderStatus(symbol: "BTCUSDT", order: .clientOrderID("\(tag)rest"))
            #expect(status.ack.response.orderStatus == "FILLED" && status.value.time != nil && status.value.isWorking == true)
            let reports = [try rest.response.orderReport(), try full.response.orderReport(), try ack.response.orderReport(),
                           try result.response.orderReport(), try cancel.response.orderReport(), status.value]
            #expect(reports[1].fills.count == 1 && reports[1].fills.first?.qty == FixedDecimal("0.5"))
            seen.append(reports.map(strip))
        }
        #expect(seen.count == 2 && seen[0] == seen[1], "\(seen)")
        // Both connections see the same open orders (the two ACK orders), read from JSON and from SBE (308).
        let open = try await (json.openOrders(symbol: "BTCUSDT").value, sbe.openOrders(symbol: "BTCUSDT").value)
        #expect(open.0.map { strip($0) + $0.clientOrderID } == open.1.map { strip($0) + $0.clientOrderID })
        #expect(open.1.map(\.clientOrderID).sorted() == ["Jack", "Sack"])
        // What an SBE connection cannot read is refused before it is sent.
        let refusal = await Self.failure { () async throws(TradeWireError) in _ = try await sbe.accountStatus() }
        #expect(refusal?.code == .unsupported)
        #expect(try await sbe.ping().response.status == 200)
        await json.close()
        await sbe.close()
    }

    static func failure(_ body: () async throws(TradeWireError) -> Void) async -> TradeWireError? {
        do { try await body() } catch { return error }
        return nil
    }

    /// The user data stream on an SBE connection: subscribed by signature (503), its events bare `ExecutionReportEvent`s
    /// (603). One JSON and one SBE connection of the same account see the same reports, field by field, for a
    /// resting order, a fill on both sides and a cancel; unsubscribing ends the stream (504, then 602).
    @Test func executionReportsOverSBEReadAsTheJSONOnes() async throws {
        let rig = try Rig()
        defer { rig.shutdown() }
        let reports = Locked<[String: [BinanceExecutionReport]]>([:])
        let events = Locked<[BinanceSessionEvent]>([])
        func handlers(_ tag: String) -> BinanceClient.Handlers {
            .init(onExecutionReport: { _, r in reports.withLock { $0[tag, default: []].append(r) } },
                  onSessionEvent: { _, e in if tag == "S" { events.withLock { $0.append(e) } } })
        }
        let (json, sbe) = try await rig.connectedPair(json: handlers("J"), sbe: handlers("S"))
        #expect(try await json.subscribeUserDataStream().response.subscriptionID == 0)
        #expect(try await sbe.subscribeUserDataStream().response.subscriptionID == 0)
        _ = try await json.placeOrder(.limit("BTCUSDT", .sell, quantity: "0.5", price: "30000", clientOrderID: ClientOrderID("m1")))
        _ = try await sbe.placeOrder(.limit("BTCUSDT", .buy, quantity: "0.2", price: "30000", clientOrderID: ClientOrderID("t1")))
        _ = try await sbe.cancelOrder(symbol: "BTCUSDT", origClientOrderID: "m1", newClientOrderID: ClientOrderID("x1"))
        // NEW m1, NEW t1, TRADE m1, TRADE t1, CANCELED m1: five each.
        let deadline = ContinuousClock.now + .seconds(10)
        while reports.withLock({ ($0["J"]?.count ?? 0) < 5 || ($0["S"]?.count ?? 0) < 5 }), ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(2))
        }
        func line(_ r: BinanceExecutionReport) -> String {
            func n(_ d: FixedDecimal?) -> String { d.map { String(describing: Double("\($0)") ?? .nan) } ?? "-" }
            return "\(r.symbol) \(r.clientOrderID) \(r.originalClientOrderID ?? "-") \(r.side.map { "\($0)" } ?? "-") \(r.orderType) "
                + "\(r.timeInForce ?? "-") \(r.executionType) \(r.status.rawValue) \(r.orderID) \(r.orderListID ?? 0) \(n(r.quantity)) "
                + "\(n(r.price)) \(n(r.stopPrice)) \(n(r.lastQty)) \(n(r.lastPrice)) \(n(r.cumQty)) \(n(r.cumQuoteQty)) \(n(r.lastQuoteQty)) "
                + "\(n(r.commission)) \(r.commissionAsset ?? "-") \(r.tradeID.map(String.init) ?? "-") \(r.executionID.map(String.init) ?? "-") "
                + "\(r.transactionTime.map(String.init) ?? "-") \(r.orderCreationTime.map(String.init) ?? "-") \(r.isWorking.map { "\($0)" } ?? "-") "
                + "\(r.isMaker.map { "\($0)" } ?? "-") \(r.selfTradePreventionMode ?? "-") \(r.subscriptionID.map(String.init) ?? "-")"
        }
        let (j, s) = reports.withLock { ($0["J"] ?? [], $0["S"] ?? []) }
        #expect(j.count == 5 && s.count == 5)
        #expect(j.map(line) == s.map(line), "\(j.map(line))\n\(s.map(line))")
        #expect(s.map(\.executionType) == ["NEW", "NEW", "TRADE", "TRADE", "CANCELED"])
        _ = try await sbe.unsubscribeUserDataStream()
        #expect(await BinanceVenueFlowTests.until { events.withLock { $0.contains { if case .userDataStreamTerminated = $0 { true } else { false } } } })
        await json.close()
        await sbe.close()
    }

    /// `order.cancelReplace` in SBE: a success (307 as the result) and a partial failure (an `ErrorResponse` -2021 whose
    /// `data` holds the 307: the cancel failed, the new order placed) read as the JSON answers do, leg by leg.
    @Test func cancelReplaceReadsAsTheJSONAnswer() async throws {
        let rig = try Rig()
        defer { rig.shutdown() }
        let (json, sbe) = try await rig.connectedPair()
        func leg(_ l: BinanceCancelReplaceResult.Leg?) -> String {
            switch l {
            case .order(let o)?: return "order \(o.symbol) \(o.status?.rawValue ?? "-") \(o.origClientOrderID ?? "-") \(o.type ?? "-")"
            case .error(let code, let message)?: return "error \(code) \(message)"
            case nil: return "none"
            }
        }
        var seen: [[String]] = []
        for (tag, client) in [("J", json), ("S", sbe)] {
            _ = try await client.placeOrder(.limit("BTCUSDT", .buy, quantity: "1", price: "90", clientOrderID: ClientOrderID("\(tag)a")))
            let ok = try await client.cancelReplace(BinanceCancelReplace(
                mode: .stopOnFailure, cancel: .clientOrderID("\(tag)a"),
                order: .limit("BTCUSDT", .buy, quantity: "1", price: "91", clientOrderID: ClientOrderID("\(tag)b"))))
            // The order to cancel is gone: with ALLOW_FAILURE the new order still goes in (409, -2021).
            let partial = try await client.cancelReplace(BinanceCancelReplace(
                mode: .allowFailure, cancel: .clientOrderID("\(tag)a"),
                order: .limit("BTCUSDT", .buy, quantity: "1", price: "92", clientOrderID: ClientOrderID("\(tag)c"))))
            #expect(ok.ack.response.status == 200 && partial.ack.response.status == 409 && partial.ack.response.errorCode == -2021)
            seen.append([ok.value, partial.value].flatMap { r in
                ["\(r.cancelResult) \(r.newOrderResult)", leg(r.cancelResponse), leg(r.newOrderResponse)]
            }.map { $0.replacingOccurrences(of: " \(tag)a ", with: " a ") })
        }
        #expect(seen[0] == seen[1], "\(seen)")
        #expect(seen[1][0] == "success success" && seen[1][3] == "failure success" && seen[1][4].hasPrefix("error -2011"))
        await json.close()
        await sbe.close()
    }

    /// A schema the simulator does not encode is refused at the upgrade, with HTTP 400, as the SBE FAQ says.
    @Test func anotherSchemaIsRefusedAtTheUpgrade() async throws {
        let rig = try Rig()
        defer { rig.shutdown() }
        var u = rig.url
        u.target += "?responseFormat=sbe&sbeSchemaId=2&sbeSchemaVersion=1"
        let client = BinanceClient(loop: rig.loop, configuration: .init(url: u, rateLimiter: nil))
        await #expect(throws: (any Error).self) { try await client.connect() }
        await client.close()
    }
}
