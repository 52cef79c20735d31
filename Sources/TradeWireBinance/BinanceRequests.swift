import TradeWire

/// How requests are signed (protocols.md §2.3).
public enum BinanceKey: Sendable {
    /// hex(HMAC-SHA256(secret, payload)).
    case hmac(secret: String)
    /// base64(Ed25519(private key, payload)); also allows `session.logon`.
    case ed25519(privateKeyPEM: String)
}

public struct BinanceCredentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let apiKey: String
    public let key: BinanceKey
    public init(apiKey: String, key: BinanceKey) {
        self.apiKey = apiKey
        self.key = key
    }
    /// Never prints the secret.
    public var description: String { "BinanceCredentials(apiKey: \(apiKey.prefix(4))…, key: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["apiKey": "\(apiKey.prefix(4))…", "key": "<redacted>"]) }
}

/// An `order.place` / `order.test` order.
public struct BinanceOrder: Sendable {
    public enum OrderType: String, Sendable {
        case limit = "LIMIT", limitMaker = "LIMIT_MAKER", market = "MARKET", stopLoss = "STOP_LOSS"
        case stopLossLimit = "STOP_LOSS_LIMIT", takeProfit = "TAKE_PROFIT", takeProfitLimit = "TAKE_PROFIT_LIMIT"
    }
    public enum TimeInForce: String, Sendable { case gtc = "GTC", ioc = "IOC", fok = "FOK" }
    public enum ResponseType: String, Sendable { case ack = "ACK", result = "RESULT", full = "FULL" }

    public var symbol: String
    public var side: Side
    public var type: OrderType
    public var quantity: Quantity
    public var price: Price?
    public var timeInForce: TimeInForce?
    public var newClientOrderId: ClientOrderID?
    public var responseType: ResponseType?
    /// Milliseconds the request stays valid (≤ 60000; the venue's default is 5000).
    public var recvWindow: Int?

    public init(symbol: String, side: Side, type: OrderType, quantity: Quantity, price: Price? = nil,
                timeInForce: TimeInForce? = nil, newClientOrderId: ClientOrderID? = nil, responseType: ResponseType? = nil,
                recvWindow: Int? = nil) {
        self.recvWindow = recvWindow
        self.symbol = symbol
        self.side = side
        self.type = type
        self.quantity = quantity
        self.price = price
        self.timeInForce = timeInForce
        self.newClientOrderId = newClientOrderId
        self.responseType = responseType
    }

    public static func limit(_ symbol: String, _ side: Side, quantity: Quantity, price: Price, timeInForce: TimeInForce = .gtc,
                             clientOrderID: ClientOrderID? = nil) -> BinanceOrder {
        BinanceOrder(symbol: symbol, side: side, type: .limit, quantity: quantity, price: price, timeInForce: timeInForce,
                     newClientOrderId: clientOrderID)
    }
}

public enum BinanceRequest: Sendable {
    case orderPlace(BinanceOrder)
    case orderTest(BinanceOrder)
    case orderCancel(symbol: String, orderId: Int64?, origClientOrderId: String?)
    case ping
    case sessionLogon
    case userDataStreamSubscribe
    /// The account's open orders (all symbols when nil): reconciliation after a reconnect.
    case openOrdersStatus(symbol: String?)
    /// One order's state, open or ended (`order.status`): by `orderId` or by the client id it was placed with.
    case orderStatus(symbol: String, orderId: Int64?, origClientOrderId: String?)

    public var method: String {
        switch self {
        case .orderPlace: return "order.place"
        case .orderTest: return "order.test"
        case .orderCancel: return "order.cancel"
        case .ping: return "ping"
        case .sessionLogon: return "session.logon"
        case .userDataStreamSubscribe: return "userDataStream.subscribe"
        case .openOrdersStatus: return "openOrders.status"
        case .orderStatus: return "order.status"
        }
    }

    var isSigned: Bool {
        switch self {
        case .ping, .userDataStreamSubscribe: return false
        default: return true
        }
    }
}

/// A request parameter: DECIMAL values travel as JSON strings, INT as numbers (§2.3).
enum BinanceParam {
    case string(String)
    case int(Int64)
    var text: String {
        switch self {
        case .string(let s): return s
        case .int(let i): return String(i)
        }
    }
}

public enum BinanceEncoder {
    /// What the signature covers: every param but `signature`, sorted by name, `k=v` joined by `&`, no percent-encoding.
    public static func signingPayload(_ params: [(String, String)]) -> String {
        params.sorted { $0.0 < $1.0 }.map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    static func params(_ r: BinanceRequest) throws(TradeWireError) -> [(String, BinanceParam)] {
        switch r {
        case .orderPlace(let o), .orderTest(let o):
            var p: [(String, BinanceParam)] = [("symbol", .string(o.symbol)), ("side", .string(o.side == .buy ? "BUY" : "SELL")),
                                                ("type", .string(o.type.rawValue)), ("quantity", .string(o.quantity.description))]
            if o.type == .limit || o.type == .stopLossLimit || o.type == .takeProfitLimit {
                guard let price = o.price else { throw TradeWireError(code: .invalidArgument, detail: "a \(o.type.rawValue) order needs a price") }
                guard let tif = o.timeInForce else { throw TradeWireError(code: .invalidArgument, detail: "a \(o.type.rawValue) order needs timeInForce") }
                p += [("price", .string(price.description)), ("timeInForce", .string(tif.rawValue))]
            } else if let price = o.price {
                p.append(("price", .string(price.description)))
            }
            if let c = o.newClientOrderId { p.append(("newClientOrderId", .string(c.description))) }
            if let t = o.responseType { p.append(("newOrderRespType", .string(t.rawValue))) }
            if let r = o.recvWindow {
                guard (1...60_000).contains(r) else { throw TradeWireError(code: .invalidArgument, detail: "recvWindow must be 1...60000 ms") }
                p.append(("recvWindow", .int(Int64(r))))
            }
            return p
        case .orderCancel(let symbol, let orderId, let orig), .orderStatus(let symbol, let orderId, let orig):
            guard orderId != nil || orig != nil else { throw TradeWireError(code: .invalidArgument, detail: "\(r.method) needs orderId or origClientOrderId") }
            var p: [(String, BinanceParam)] = [("symbol", .string(symbol))]
            if let orderId { p.append(("orderId", .int(orderId))) }
            if let orig { p.append(("origClientOrderId", .string(orig))) }
            return p
        case .ping, .sessionLogon, .userDataStreamSubscribe:
            return []
        case .openOrdersStatus(let symbol):
            return symbol.map { [("symbol", .string($0))] } ?? []
        }
    }

    /// Encode a request; signed requests get apiKey, timestamp and signature (or only
    /// the timestamp after an Ed25519 `session.logon`).
    static func encode(_ r: BinanceRequest, id: String, credentials: BinanceCredentials?, loggedOn: Bool,
                       timestampMs: Int64, into w: inout JSONWriter) throws {
        var p = try params(r)
        if r.isSigned {
            guard let credentials else { throw TradeWireError(code: .invalidArgument, detail: "\(r.method) is signed: credentials needed") }
            p.append(("timestamp", .int(timestampMs)))
            let selfSigned = !(loggedOn && r.method != "session.logon")
            if selfSigned {
                p.append(("apiKey", .string(credentials.apiKey)))
                let payload = signingPayload(p.map { ($0.0, $0.1.text) })
                let signature: String
                switch credentials.key {
                case .hmac(let secret): signature = try Signing.hmacSHA256Hex(key: secret, message: payload)
                case .ed25519(let pem): signature = try Signing.ed25519Base64(privateKeyPEM: pem, message: payload)
                }
                p.append(("signature", .string(signature)))
            }
        }
        w.beginObject()
        w.key("id"); w.string(id)
        w.key("method"); w.string(r.method)
        if !p.isEmpty {
            w.key("params"); w.beginObject()
            for (k, v) in p {
                w.key(dynamic: k)
                switch v {
                case .string(let s): w.string(s)
                case .int(let i): w.value(i)
                }
            }
            w.endObject()
        }
        w.endObject()
    }
}
