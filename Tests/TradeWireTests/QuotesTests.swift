import Foundation
import Testing
@testable import TradeWire
@testable import TradeWireQuotes
@testable import TradeWireSimulator

final class QuotesRig: @unchecked Sendable {
    let serverLoop: EventLoop
    let loop: EventLoop
    let server: WebSocketServer
    let client: QuotesClient
    let quotes = Locked<[(String, FixedDecimal)]>([])

    init(bearer: String = "good-token", quotesPerSecond: Int = 200, limiter: VenueRateLimiter? = nil,
         handlers: QuotesClient.Handlers = .init()) throws {
        serverLoop = try EventLoop.forTest(.automatic)
        loop = try EventLoop.forTest(.automatic)
        let venue = QuotesVenueSimulator(options: .init(bearer: "good-token", quotesPerSecond: quotesPerSecond, heartbeatInterval: .milliseconds(50)))
        server = try WebSocketServer.listen(on: serverLoop) { r in
            r.path == "/quotewebsocket/1.0.0" ? venue.decide(r) : .reject(status: 404, body: "")
        }
        client = QuotesClient(loop: loop, configuration: .init(
            url: WebSocketURL(secure: false, host: "127.0.0.1", port: server.port, target: "/quotewebsocket/1.0.0"),
            bearerToken: bearer, rateLimiter: limiter), handlers: Self.recording(handlers, into: quotes))
    }

    /// The test's handlers, with every quote recorded (then passed to the test's own `onQuote`, if any).
    private static func recording(_ handlers: QuotesClient.Handlers, into quotes: Locked<[(String, FixedDecimal)]>) -> QuotesClient.Handlers {
        var h = handlers
        let own = handlers.onQuote
        h.onQuote = { client, quote in
            let n = quote.product.description
            quotes.withLock { $0.append((n, quote.price)) }
            own?(client, quote)
        }
        return h
    }

    deinit { loop.shutdown(); serverLoop.shutdown() }
}

@Suite("Product quotes stream", .serialized)
struct QuotesTests {
    @Test func subscribeQuotesPingAndUnsubscribe() async throws {
        let beats = Locked(0)
        let rig = try QuotesRig(handlers: .init(onHeartbeat: { _, _ in beats.withLock { $0 += 1 } }))
        try await rig.client.connect()
        let acks = try await rig.client.subscribe(["DWC.4.20", "LVS.4.20"])
        guard case .subscribed(let status, _, let products) = acks[0].response else { Issue.record("not subscribed"); return }
        #expect(status == .ok)
        #expect(Set(products.map(\.name)) == ["DWC.4.20", "LVS.4.20"])
        #expect(products.allSatisfy { $0.quote != nil })
        let deadline = Date().addingTimeInterval(10)
        while rig.quotes.withLock({ $0.count }) < 5 && Date() < deadline { usleep(2000) }
        #expect(rig.quotes.withLock { Set($0.map(\.0)) } == ["DWC.4.20", "LVS.4.20"])
        let pong = try await rig.client.ping("1234")
        guard case .pong(let msg, let ts) = pong.response else { Issue.record("not a pong"); return }
        #expect(msg == "1234" && ts > 0)
        while beats.withLock({ $0 }) == 0 && Date() < deadline { usleep(2000) }
        #expect(beats.withLock { $0 } > 0)
        let un = try await rig.client.unsubscribeAll()
        guard case .unsubscribed(_, _, let names) = un.response else { Issue.record("not unsubscribed"); return }
        #expect(Set(names) == ["DWC.4.20", "LVS.4.20"])
        #expect(try await rig.client.subscriptionCount() == 0)
        #expect(await rig.client.latencyStats(for: .subscribe)?.count == 1)
    }

    @Test func moreThan100NamesAreSplitAndWarnWhenSomeAreInvalid() async throws {
        let rig = try QuotesRig(quotesPerSecond: 0)
        try await rig.connect()
        let names = (0..<250).map { "A\(Character(UnicodeScalar(65 + $0 / 26)!))\(Character(UnicodeScalar(65 + $0 % 26)!)).1.0" }
        let acks = try await rig.client.subscribe(names)
        #expect(acks.count == 3)                                   // 100 + 100 + 50
        #expect(try await rig.client.subscriptionCount() == 250)
        let mixed = try await rig.client.subscribe(["GOOD.1", "ZZZ.2.0", "not-a-product"])
        if case .subscribed(let status, _, let products) = mixed[0].response {
            #expect(status == .warn && products.map(\.name) == ["ZZZ.2.0"])
        } else { Issue.record("not subscribed") }
        await #expect { _ = try await rig.client.subscribe(["bad name"]) } throws: { e in
            (e as? TradeWireError)?.code == .venueRejected && (e as? TradeWireError)?.venueError?.code == "PRODUCT_NOT_VALID"
        }
    }

    @Test func clientEnforcesTheCapAndTheRequestRate() async throws {
        // 50 requests, no refill within the test: enforcement, not wall-clock timing, is under test.
        let limiter = VenueRateLimiter(TokenBucket(name: "quotes: 50 requests/minute", capacity: 50, ratePerSecond: 1e-9), policy: .failFast)
        let rig = try QuotesRig(quotesPerSecond: 0, limiter: limiter)
        try await rig.connect()
        let many = (0..<10_001).map { "Q\(String(format: "%02d", $0 % 100)).\($0 / 100).0".replacingOccurrences(of: "Q", with: "Q") }
        await #expect { _ = try await rig.client.subscribe(many) } throws: { e in
            (e as? TradeWireError)?.detail.contains("MAX_PRODUCT_SUBSCRIPTIONS_REACHED") == true
        }
        for i in 0..<50 { _ = try await rig.client.ping("\(i)") }
        await #expect { _ = try await rig.client.ping("51") } throws: { e in
            (e as? TradeWireError)?.code == .rateLimited && (e as? TradeWireError)?.detail.contains("50 requests/minute") == true
        }
    }

    @Test func wrongBearerIsRefusedInTheHandshake() async throws {
        let rig = try QuotesRig(bearer: "wrong")
        await #expect { try await rig.client.connect() } throws: { e in
            let t = e as? TradeWireError
            return t?.code == .upgradeRejected && t?.httpStatus == 401
        }
    }

    @Test(arguments: [
        #"{"op":"pq","productName":"DWC.4.20","quote":"x","timestamp":1}"#,
        #"{"op":"pq","quote":1.5,"timestamp":1}"#,
        #"{"op":"subscribed","products":[]}"#,
        #"{"op":"error","msg":"no code"}"#,
        #"{"op":"nope"}"#, #"{"op":5}"#, #"{"op":"hb"}"#, "[]", #"{"op":"pq","#,
    ])
    func badStreamInputIsATypedError(_ text: String) {
        let bytes = Array(text.utf8)
        #expect { _ = try bytes.withUnsafeBytes { try QuotesDecoder.decode($0) } } throws: { ($0 as? TradeWireError)?.code == .malformedResponse }
    }

    @Test func aStatusThisVersionDoesNotKnowStillAnswersTheRequest() throws {
        let b = Array(#"{"op":"subscribed","status":"MAYBE","timestamp":1,"products":[]}"#.utf8)
        guard case .response(.subscribed(let status, _, _)) = try b.withUnsafeBytes({ try QuotesDecoder.decode($0) }) else {
            Issue.record("not a subscribed answer"); return
        }
        #expect(status == .unknown("MAYBE"))
    }

    @Test func decodesTheDocumentedShapes() throws {
        func d(_ s: String) throws -> QuotesInbound { let b = Array(s.utf8); return try b.withUnsafeBytes { try QuotesDecoder.decode($0) } }
        guard case .quote(let p, let q, let t) = try d(#"{"op": "pq", "productName": "DWC.4.20", "quote": 123.45, "timestamp": 1587838905842}"#) else {
            Issue.record("not a quote"); return
        }
        #expect(p.description == "DWC.4.20" && q == FixedDecimal("123.45") && t == 1587838905842)
        guard case .error(let e) = try d(#"{"op": "error", "opRequest": "subscribe", "msg": "Not allowed to subscribe to more than 10.000 products.", "code": "MAX_PRODUCT_SUBSCRIPTIONS_REACHED"}"#) else {
            Issue.record("not an error"); return
        }
        #expect(e.code == .maxProductSubscriptionsReached && e.opRequest == "subscribe")
    }
}

extension QuotesRig {
    func connect() async throws { try await client.connect() }
}
