import TradeWire
#if canImport(Glibc)
import Glibc
#endif

/// The product-quotes stream of seed 002 (protocols.md §3): bearer token checked
/// in the handshake, subscribe/unsubscribe/unsubscribeAll/ping, the seed's error
/// codes, the 10,000-subscription cap, `pq` quotes from a generator and `hb`
/// heartbeats. Products are DARWIN-style names: three capitals, a dot, a version
/// (`DWC.4.20`). Loop-confined.
public final class QuotesVenueSimulator: @unchecked Sendable {
    public struct Options: Sendable {
        /// The bearer token clients must present; nil accepts any.
        public var bearer: String?
        /// Quotes per second across all subscriptions of a connection.
        public var quotesPerSecond: Int
        public var heartbeatInterval: Duration
        public init(bearer: String? = nil, quotesPerSecond: Int = 10, heartbeatInterval: Duration = .seconds(5)) {
            self.bearer = bearer
            self.quotesPerSecond = quotesPerSecond
            self.heartbeatInterval = heartbeatInterval
        }
    }

    public let options: Options
    /// Quotes sent so far, over all connections (loop thread).
    public private(set) var quotesSent = 0
    /// Stop the quote stream (heartbeats go on), e.g. to compare counts. Loop thread.
    public var paused = false
    public init(options: Options = .init()) { self.options = options }

    /// The upgrade decision: 401 unless the bearer token matches.
    public func decide(_ r: WebSocketServer.UpgradeRequest) -> WebSocketServer.Decision {
        if let want = options.bearer, r.header("authorization") != "Bearer \(want)" {
            return .reject(status: 401, body: "Invalid Credentials. Make sure you have provided the correct security credentials\n")
        }
        return .accept(Connection(venue: self))
    }

    static func isValidProduct(_ name: String) -> Bool {
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[0].count == 3, parts[0].allSatisfy({ $0.isASCII && $0.isUppercase }) else { return false }
        return parts.dropFirst().allSatisfy { !$0.isEmpty && $0.allSatisfy(\.isNumber) }
    }

    static func nowMs() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec / 1_000_000)
    }

    /// A deterministic quote walk per product.
    static func quote(_ name: String, tick: Int) -> FixedDecimal {
        var h: UInt64 = 1469598103934665603
        for b in name.utf8 { h = (h ^ UInt64(b)) &* 1099511628211 }
        let base = Int64(5_000 + h % 20_000)                 // 50.00 .. 250.00
        let wiggle = Int64((h >> 20 &+ UInt64(tick) &* 7919) % 200) - 100
        return FixedDecimal(mantissa: base * 100 + wiggle, scale: 4)
    }

    final class Connection: WebSocketHandler, @unchecked Sendable {
        let venue: QuotesVenueSimulator
        var subscribed: [String] = []
        var index: [String: Int] = [:]
        var tick = 0
        var open = true
        init(venue: QuotesVenueSimulator) { self.venue = venue }

        func webSocketDidOpen(_ c: WebSocketConnection) {
            scheduleQuotes(c)
            scheduleHeartbeat(c)
        }

        func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) { open = false }

        /// Quotes are due at the configured rate from the first tick on; each tick sends every quote due
        /// since the last (a timer per quote cannot keep 10,000/s on a busy loop, and the rate would sag).
        var streamStartNs: UInt64 = 0
        var streamed = 0

        func scheduleQuotes(_ c: WebSocketConnection) {
            let rate = venue.options.quotesPerSecond
            guard rate > 0 else { return }
            c.loop.schedule(after: .nanoseconds(Int64(max(100_000, 1_000_000_000 / rate)))) { [self] in
                guard open else { return }
                let now = MonotonicClock.nanoseconds()
                if streamStartNs == 0 { streamStartNs = now }
                let due = min(1_000, Int(Double(now - streamStartNs) * Double(rate) / 1e9) - streamed)
                if due > 0 && !subscribed.isEmpty && !venue.paused {
                    var frames: [[UInt8]] = []
                    frames.reserveCapacity(due)
                    for _ in 0..<due {
                        tick += 1
                        venue.quotesSent += 1
                        let name = subscribed[tick % subscribed.count]
                        let q = QuotesVenueSimulator.quote(name, tick: tick)
                        frames.append(simJSON { w in
                            w.beginObject(); w.key("op"); w.value("pq"); w.key("productName"); w.string(name)
                            w.key("quote"); w.value(q); w.key("timestamp"); w.value(QuotesVenueSimulator.nowMs()); w.endObject()
                        })
                    }
                    c.sendAll(frames)
                }
                if due > 0 { streamed += due }     // quotes not sent while paused or unsubscribed are skipped, not owed
                scheduleQuotes(c)
            }
        }

        func scheduleHeartbeat(_ c: WebSocketConnection) {
            c.loop.schedule(after: venue.options.heartbeatInterval) { [self] in
                guard open else { return }
                c.sendAll([simJSON { w in
                    w.beginObject(); w.key("op"); w.value("hb"); w.key("timestamp"); w.value(QuotesVenueSimulator.nowMs()); w.endObject()
                }])
                scheduleHeartbeat(c)
            }
        }

        func error(_ c: WebSocketConnection, op: String?, code: String, msg: String) {
            c.sendAll([simJSON { w in
                w.beginObject(); w.key("op"); w.value("error")
                if let op { w.key("opRequest"); w.string(op) }
                w.key("msg"); w.string(msg); w.key("code"); w.string(code)
                w.key("timestamp"); w.value(QuotesVenueSimulator.nowMs()); w.endObject()
            }])
        }

        func webSocket(_ c: WebSocketConnection, didReceive m: borrowing WebSocketMessage) {
            let text = m.text
            if text.allSatisfy({ $0.isWhitespace }) {
                return error(c, op: nil, code: "EMPTY_MESSAGE_RECEIVED", msg: "Empty message received.")
            }
            guard let doc = try? JSONDocument(validating: m.bytes), let op = doc.root["op"]?.string else {
                return error(c, op: nil, code: "MESSAGE_NOT_RECOGNIZED", msg: "Message (\(text.prefix(200))) is not recognized.")
            }
            func names() -> [String] {
                var out: [String] = []
                doc.root["productNames"]?.forEachElement { v in v.string.map { out.append($0) }; return true }
                return out
            }
            switch op {
            case "subscribe":
                let wanted = names()
                let valid = wanted.filter { QuotesVenueSimulator.isValidProduct($0) && index[$0] == nil }
                let invalid = wanted.filter { !QuotesVenueSimulator.isValidProduct($0) }
                if subscribed.count + valid.count > 10_000 {
                    return error(c, op: op, code: "MAX_PRODUCT_SUBSCRIPTIONS_REACHED", msg: "Not allowed to subscribe to more than 10.000 products.")
                }
                if valid.isEmpty, let bad = invalid.first ?? wanted.first {
                    return error(c, op: op, code: "PRODUCT_NOT_VALID", msg: "No active product found with the name \(bad)")
                }
                for n in valid { index[n] = subscribed.count; subscribed.append(n) }
                let t = tick
                c.sendAll([simJSON { w in
                    w.beginObject(); w.key("op"); w.value("subscribed")
                    w.key("status"); w.value(invalid.isEmpty ? "OK" : "WARN")
                    w.key("timestamp"); w.value(QuotesVenueSimulator.nowMs())
                    w.key("products"); w.beginArray()
                    for n in valid {
                        w.beginObject(); w.key("productName"); w.string(n)
                        w.key("quote"); w.value(QuotesVenueSimulator.quote(n, tick: t)); w.endObject()
                    }
                    w.endArray(); w.endObject()
                }])
            case "unsubscribe", "unsubscribeAll":
                let gone = op == "unsubscribeAll" ? subscribed : names().filter { index[$0] != nil }
                let goneSet = Set(gone)
                subscribed.removeAll { goneSet.contains($0) }
                index = Dictionary(uniqueKeysWithValues: subscribed.enumerated().map { ($1, $0) })
                c.sendAll([simJSON { w in
                    w.beginObject(); w.key("op"); w.value("unsubscribed"); w.key("status"); w.value("OK")
                    w.key("timestamp"); w.value(QuotesVenueSimulator.nowMs())
                    w.key("productNames"); w.beginArray(); gone.forEach { w.string($0) }; w.endArray(); w.endObject()
                }])
            case "ping":
                let msg = doc.root["msg"]?.string ?? ""
                c.sendAll([simJSON { w in
                    w.beginObject(); w.key("op"); w.value("pong"); w.key("timestamp"); w.value(QuotesVenueSimulator.nowMs())
                    w.key("msg"); w.string(msg); w.endObject()
                }])
            default:
                error(c, op: op, code: "MESSAGE_NOT_RECOGNIZED", msg: "Event (\(op)) in message (\(text.prefix(200))) not recognized.")
            }
        }
    }
}
