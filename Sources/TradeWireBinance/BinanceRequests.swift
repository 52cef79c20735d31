import TradeWire

/// How requests are signed (Binance WS API › Request security › SIGNED request security).
public enum BinanceKey: Sendable {
    /// hex(HMAC-SHA256(secret, payload)). The user data stream goes through `userDataStream.subscribe.signature`.
    case hmac(secret: String)
    /// base64(RSASSA-PKCS1-v1_5(SHA-256, payload)); the private key as PEM. Like HMAC keys, the user data stream
    /// goes through `userDataStream.subscribe.signature`.
    case rsa(privateKeyPEM: String)
    /// base64(Ed25519(private key, payload)); the only key type `session.logon` accepts.
    case ed25519(privateKeyPEM: String)

    /// `session.logon` works with Ed25519 keys only ("Only Ed25519 keys are supported for this feature").
    public var canLogOn: Bool { if case .ed25519 = self { return true } else { return false } }
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

/// Which order a cancel, amend or query is about: by `orderId`, by the client order id it was placed with, or both
/// (Binance then looks the order up by `orderId` and checks the client id against it).
public enum BinanceOrderRef: Sendable, Hashable {
    case orderID(Int64)
    case clientOrderID(String)
    case both(orderID: Int64, clientOrderID: String)

    public var orderID: Int64? {
        switch self {
        case .orderID(let i), .both(let i, _): return i
        case .clientOrderID: return nil
        }
    }
    public var clientOrderID: String? {
        switch self {
        case .clientOrderID(let c), .both(_, let c): return c
        case .orderID: return nil
        }
    }
}

/// `cancelRestrictions` of `order.cancel` and `order.cancelReplace`: cancel only in that state (else -2011).
public enum BinanceCancelRestrictions: String, Sendable {
    case onlyNew = "ONLY_NEW", onlyPartiallyFilled = "ONLY_PARTIALLY_FILLED"
}

/// An `order.cancel`.
public struct BinanceCancel: Sendable {
    public var symbol: String
    public var order: BinanceOrderRef
    /// The cancel's own client id (`newClientOrderId`): the report of the cancel carries it in `c`, and it replaces
    /// the cancelled order's `clientOrderId`, freeing that id. Binance makes one up when nil.
    public var newClientOrderID: ClientOrderID?
    public var cancelRestrictions: BinanceCancelRestrictions?
    public var recvWindow: Int?

    public init(symbol: String, order: BinanceOrderRef, newClientOrderID: ClientOrderID? = nil,
                cancelRestrictions: BinanceCancelRestrictions? = nil, recvWindow: Int? = nil) {
        self.symbol = symbol
        self.order = order
        self.newClientOrderID = newClientOrderID
        self.cancelRestrictions = cancelRestrictions
        self.recvWindow = recvWindow
    }
}

/// An `order.cancelReplace`: cancel one order and place another, not atomically.
public struct BinanceCancelReplace: Sendable {
    public enum Mode: String, Sendable {
        /// If the cancel fails, the new order is not attempted.
        case stopOnFailure = "STOP_ON_FAILURE"
        /// The new order is placed whether or not the cancel succeeded.
        case allowFailure = "ALLOW_FAILURE"
    }
    /// What to do when the unfilled order count is exceeded (`orderRateLimitExceededMode`).
    public enum RateLimitExceededMode: String, Sendable {
        case doNothing = "DO_NOTHING", cancelOnly = "CANCEL_ONLY"
    }

    public var mode: Mode
    /// The order to cancel (`cancelOrderId` / `cancelOrigClientOrderId`); its symbol is the new order's.
    public var cancel: BinanceOrderRef
    /// The cancel's own client id (`cancelNewClientOrderId`).
    public var cancelNewClientOrderID: ClientOrderID?
    /// The new order (its `newClientOrderId` names it).
    public var order: BinanceOrder
    public var cancelRestrictions: BinanceCancelRestrictions?
    public var rateLimitExceededMode: RateLimitExceededMode?

    public init(mode: Mode, cancel: BinanceOrderRef, cancelNewClientOrderID: ClientOrderID? = nil, order: BinanceOrder,
                cancelRestrictions: BinanceCancelRestrictions? = nil, rateLimitExceededMode: RateLimitExceededMode? = nil) {
        self.mode = mode
        self.cancel = cancel
        self.cancelNewClientOrderID = cancelNewClientOrderID
        self.order = order
        self.cancelRestrictions = cancelRestrictions
        self.rateLimitExceededMode = rateLimitExceededMode
    }
}

/// An `order.amend.keepPriority`: reduce an open order's quantity, keeping its place in the queue.
public struct BinanceAmend: Sendable {
    public var symbol: String
    public var order: BinanceOrderRef
    /// The amended order's new client id (Binance makes one up when nil; the current one may be reused).
    public var newClientOrderID: ClientOrderID?
    /// Above 0 and below the order's quantity.
    public var newQty: Quantity
    public var recvWindow: Int?

    public init(symbol: String, order: BinanceOrderRef, newQty: Quantity, newClientOrderID: ClientOrderID? = nil, recvWindow: Int? = nil) {
        self.symbol = symbol
        self.order = order
        self.newQty = newQty
        self.newClientOrderID = newClientOrderID
        self.recvWindow = recvWindow
    }
}

/// A Binance WS API request.
public enum BinanceRequest: Sendable {
    case orderPlace(BinanceOrder)
    case orderTest(BinanceOrder)
    case orderCancel(BinanceCancel)
    case orderCancelReplace(BinanceCancelReplace)
    case orderAmendKeepPriority(BinanceAmend)
    /// Cancel every open order on a symbol, order lists included.
    case openOrdersCancelAll(symbol: String)
    /// One order's state, open or ended (`order.status`).
    case orderStatus(symbol: String, order: BinanceOrderRef)
    /// The account's open orders (all symbols when nil): reconciliation after a reconnect.
    case openOrdersStatus(symbol: String?)
    /// `account.status`: commissions, permissions, balances.
    case accountStatus(omitZeroBalances: Bool?)
    /// `account.rateLimits.orders`: the unfilled order count per ORDERS window.
    case accountRateLimitsOrders
    /// `depth`: the order book snapshot (`lastUpdateId`, bids, asks), for keeping a diff depth stream in sync.
    /// `limit` 1 to 5000 (default 100).
    case depth(symbol: String, limit: Int)
    case ping
    /// Ed25519 keys only: later signed requests may carry only their `timestamp`.
    case sessionLogon
    /// The user data stream of the logged-on key (needs `session.logon`).
    case userDataStreamSubscribe
    /// The user data stream of any key, HMAC included, by a signature (no logon needed).
    case userDataStreamSubscribeSignature
    /// Close one subscription (all when nil).
    case userDataStreamUnsubscribe(subscriptionID: Int64?)

    public var method: BinanceMethod {
        switch self {
        case .orderPlace: return .orderPlace
        case .orderTest: return .orderTest
        case .orderCancel: return .orderCancel
        case .orderCancelReplace: return .orderCancelReplace
        case .orderAmendKeepPriority: return .orderAmendKeepPriority
        case .openOrdersCancelAll: return .openOrdersCancelAll
        case .orderStatus: return .orderStatus
        case .openOrdersStatus: return .openOrdersStatus
        case .accountStatus: return .accountStatus
        case .accountRateLimitsOrders: return .accountRateLimitsOrders
        case .depth: return .depth
        case .ping: return .ping
        case .sessionLogon: return .sessionLogon
        case .userDataStreamSubscribe: return .userDataStreamSubscribe
        case .userDataStreamSubscribeSignature: return .userDataStreamSubscribeSignature
        case .userDataStreamUnsubscribe: return .userDataStreamUnsubscribe
        }
    }

    /// How the request is authenticated.
    enum Security {
        /// No key at all (`ping`, and the session-bound `userDataStream.subscribe`/`unsubscribe`).
        case none
        /// apiKey + timestamp + signature, or only the timestamp after `session.logon`.
        case signed
        /// Always its own apiKey + timestamp + signature (`session.logon`, `userDataStream.subscribe.signature`).
        case selfSigned
    }

    var security: Security {
        switch self {
        case .ping, .depth, .userDataStreamSubscribe, .userDataStreamUnsubscribe: return .none
        case .sessionLogon, .userDataStreamSubscribeSignature: return .selfSigned
        default: return .signed
        }
    }

    /// Request weight as each method's section documents it.
    public var weight: Int {
        switch self {
        case .orderPlace, .orderTest, .orderCancel, .orderCancelReplace, .openOrdersCancelAll, .ping: return 1
        case .orderAmendKeepPriority, .orderStatus: return 4
        case .openOrdersStatus(let symbol): return symbol == nil ? 80 : 6
        case .accountStatus: return 20
        case .accountRateLimitsOrders: return 40
        case .depth(_, let limit):             // "Weight: adjusted based on the limit"
            switch limit {
            case ...100: return 5
            case ...500: return 25
            case ...1000: return 50
            default: return 250
            }
        case .sessionLogon, .userDataStreamSubscribe, .userDataStreamSubscribeSignature, .userDataStreamUnsubscribe: return 2
        }
    }

    /// Does the request add to the ORDERS (unfilled order count) windows? `order.place` and `order.cancelReplace`
    /// do (+1, even when the new order is not attempted); cancels, amends and `order.test` do not.
    public var placesOrder: Bool {
        switch self {
        case .orderPlace, .orderCancelReplace: return true
        default: return false
        }
    }

}

/// A Binance WebSocket API method, as sent in `method` (latency statistics and metrics are kept per method).
public enum BinanceMethod: String, Sendable, CaseIterable {
    case orderPlace = "order.place"
    case orderTest = "order.test"
    case orderCancel = "order.cancel"
    case orderCancelReplace = "order.cancelReplace"
    case orderAmendKeepPriority = "order.amend.keepPriority"
    case openOrdersCancelAll = "openOrders.cancelAll"
    case orderStatus = "order.status"
    case openOrdersStatus = "openOrders.status"
    case accountStatus = "account.status"
    case accountRateLimitsOrders = "account.rateLimits.orders"
    case depth = "depth"
    case ping = "ping"
    case sessionLogon = "session.logon"
    case userDataStreamSubscribe = "userDataStream.subscribe"
    case userDataStreamSubscribeSignature = "userDataStream.subscribe.signature"
    case userDataStreamUnsubscribe = "userDataStream.unsubscribe"
}
