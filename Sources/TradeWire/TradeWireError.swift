internal import CTradeWire

/// Every failure TradeWire reports: a code to match on, plus the detail captured
/// where it happened (OpenSSL's error queue, the HTTP status and body of a refused
/// upgrade, the close code of the peer).
public struct TradeWireError: Error, Sendable, CustomStringConvertible {
    /// What went wrong, for matching: `error.code == .tlsVerification`.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        fileprivate enum Kind: Hashable, Sendable {
            case system, protocolViolation, invalidUTF8, messageTooBig, malformedHandshake
            case upgradeRejected, badAccept, badUpgrade, tls, tlsVerification, closed
            case noSpace, invalidArgument, timeout, connectionLost, resolve, unsupported
            case invalidURL, notOnEventLoop
            case rateLimited, requestTimeout, venueRejected, malformedResponse, alreadyCreated, notCreated, outcomeUnknown
            case banned
        }
        fileprivate let kind: Kind

        /// A system call failed; `errno` holds which.
        public static let system = Code(kind: .system)
        /// The peer broke RFC 6455 (the connection was failed with close code 1002).
        public static let protocolViolation = Code(kind: .protocolViolation)
        /// A text message or close reason was not UTF-8 (close code 1007).
        public static let invalidUTF8 = Code(kind: .invalidUTF8)
        /// A frame or message was over the configured limit (close code 1009).
        public static let messageTooBig = Code(kind: .messageTooBig)
        /// The upgrade response could not be parsed.
        public static let malformedHandshake = Code(kind: .malformedHandshake)
        /// The server answered the upgrade with a status other than 101 (`httpStatus`, `httpBody`).
        public static let upgradeRejected = Code(kind: .upgradeRejected)
        /// `Sec-WebSocket-Accept` was missing or wrong.
        public static let badAccept = Code(kind: .badAccept)
        /// The 101 response lacked `Upgrade`/`Connection`, or chose what was not offered.
        public static let badUpgrade = Code(kind: .badUpgrade)
        /// TLS failed (handshake, record layer).
        public static let tls = Code(kind: .tls)
        /// The certificate chain or host name did not verify.
        public static let tlsVerification = Code(kind: .tlsVerification)
        /// The connection is closed or closing.
        public static let closed = Code(kind: .closed)
        /// A fixed-capacity buffer or table is full.
        public static let noSpace = Code(kind: .noSpace)
        /// An argument was not acceptable.
        public static let invalidArgument = Code(kind: .invalidArgument)
        /// A deadline expired (opening or closing handshake).
        public static let timeout = Code(kind: .timeout)
        /// The peer dropped TCP without a close frame.
        public static let connectionLost = Code(kind: .connectionLost)
        /// The host name could not be resolved.
        public static let resolve = Code(kind: .resolve)
        /// The requested backend is not available here.
        public static let unsupported = Code(kind: .unsupported)
        /// The URL is not a ws:// or wss:// URL.
        public static let invalidURL = Code(kind: .invalidURL)
        /// A loop-confined call was made from another thread.
        public static let notOnEventLoop = Code(kind: .notOnEventLoop)
        /// A request was over a rate limit (`detail` names it) and the policy is fail-fast; `retryAfter` says
        /// how long to wait when the venue or the limiter knows.
        public static let rateLimited = Code(kind: .rateLimited)
        /// The venue banned this client (e.g. Binance 418, an IP ban) until `retryAfter` has passed.
        public static let banned = Code(kind: .banned)
        /// No response before the request's deadline. For an order: outcome unknown.
        public static let requestTimeout = Code(kind: .requestTimeout)
        /// The venue answered with an error (`detail` holds its text).
        public static let venueRejected = Code(kind: .venueRejected)
        /// A venue message could not be decoded (wrong types, missing fields, bad JSON).
        public static let malformedResponse = Code(kind: .malformedResponse)
        /// The venue could not say whether the request took effect (Binance 5xx, -1007): check the order's state.
        public static let outcomeUnknown = Code(kind: .outcomeUnknown)
        /// A venue client was created twice.
        public static let alreadyCreated = Code(kind: .alreadyCreated)
        /// A venue client was fetched before it was created.
        public static let notCreated = Code(kind: .notCreated)

        public var description: String { "\(kind)" }
    }

    public let code: Code
    /// The system error, when `code == .system`.
    public let errno: Errno?
    /// Human-readable detail captured at the failure (never a secret).
    public let detail: String
    /// HTTP status of a refused upgrade.
    public let httpStatus: Int?
    /// An excerpt of the body of a refused upgrade.
    public let httpBody: String?
    /// The close code the peer sent, if the failure came with one.
    public let closeCode: UInt16?
    /// The venue's own error code, when it sends numeric ones (Binance `error.code`, e.g. -2011).
    public let venueCode: Int?
    /// How long to wait before trying again (`.rateLimited`, `.banned`), when known.
    public let retryAfter: Duration?
    /// What the venue said, as data (`.venueRejected`, a venue's rate-limit or ban): switch on
    /// `venueError?.code` rather than parsing `detail`.
    public let venueError: VenueError?

    public init(code: Code, detail: String, errno: Errno? = nil, httpStatus: Int? = nil,
         httpBody: String? = nil, closeCode: UInt16? = nil, venueCode: Int? = nil, retryAfter: Duration? = nil,
         venueError: VenueError? = nil) {
        self.venueError = venueError
        self.code = code
        self.errno = errno
        self.detail = detail
        self.httpStatus = httpStatus
        self.httpBody = httpBody
        self.closeCode = closeCode
        self.venueCode = venueCode
        self.retryAfter = retryAfter
    }

    /// Map a code of the C core's contract (negative errno or `tw_err`) to an error.
    init(cCode: Int32, detail: String = "") {
        let kind: Code.Kind
        var errno: Errno? = nil
        switch cCode {
        case TW_ERR_PROTOCOL.rawValue: kind = .protocolViolation
        case TW_ERR_INVALID_UTF8.rawValue: kind = .invalidUTF8
        case TW_ERR_TOO_BIG.rawValue: kind = .messageTooBig
        case TW_ERR_HTTP_MALFORMED.rawValue: kind = .malformedHandshake
        case TW_ERR_HTTP_STATUS.rawValue: kind = .upgradeRejected
        case TW_ERR_BAD_ACCEPT.rawValue: kind = .badAccept
        case TW_ERR_BAD_UPGRADE.rawValue: kind = .badUpgrade
        case TW_ERR_TLS.rawValue: kind = .tls
        case TW_ERR_TLS_VERIFY.rawValue: kind = .tlsVerification
        case TW_ERR_CLOSED.rawValue: kind = .closed
        case TW_ERR_NO_SPACE.rawValue: kind = .noSpace
        case TW_ERR_INVALID_ARGUMENT.rawValue: kind = .invalidArgument
        case TW_ERR_TIMEOUT.rawValue: kind = .timeout
        case TW_ERR_EOF.rawValue: kind = .connectionLost
        case TW_ERR_RESOLVE.rawValue: kind = .resolve
        case TW_ERR_UNSUPPORTED.rawValue: kind = .unsupported
        default:
            kind = .system
            errno = Errno(rawValue: -cCode)
        }
        self.init(code: Code(kind: kind), detail: Self.sayOnce(String(cString: tw_strerror(cCode)), detail), errno: errno)
    }

    /// The C core's text for a code, then the detail, without saying the same thing twice: a detail that
    /// already names the failure ("upgrade refused: HTTP 401", "connect: Connection refused") stands alone.
    static func sayOnce(_ base: String, _ detail: String) -> String {
        if detail.isEmpty { return base }
        let lowerDetail = detail.lowercased()
        let lowerBase = base.lowercased()
        let head = lowerBase.split(separator: ":").first.map(String.init) ?? lowerBase
        if lowerDetail.contains(lowerBase) || lowerDetail.contains(head) { return detail }
        return "\(base): \(detail)"
    }

    /// An error from untyped code (a task, a token provider) as a `TradeWireError`: itself if it is one, else
    /// `.closed` with its text. For the typed API's edges.
    package static func wrapping(_ error: any Error) -> TradeWireError {
        error as? TradeWireError ?? TradeWireError(code: .closed, detail: "\(error)")
    }

    static func invalidURL(_ s: String) -> TradeWireError {
        TradeWireError(code: .invalidURL, detail: "not a ws:// or wss:// URL: \(s)")
    }

    public var description: String {
        var s = "TradeWireError.\(code): \(detail)"
        if let errno { s += " [errno \(errno.rawValue)]" }
        if let closeCode { s += " [close \(closeCode)]" }
        return s
    }

    /// A venue's refusal of a request, its code and message kept as fields.
    public static func venueRejected(_ v: VenueError, retryAfter: Duration? = nil) -> TradeWireError {
        TradeWireError(code: .venueRejected, detail: v.description, venueCode: v.numericCode, retryAfter: retryAfter, venueError: v)
    }
}

/// A venue's own error, as data: Binance `{"code": -1022, "msg": "Signature for this request is not valid."}`
/// is `code` "-1022" (`numericCode` -1022); Kraken `EOrder:Insufficient funds` is `code` "EOrder:Insufficient funds",
/// `category` "EOrder", `message` "Insufficient funds"; the quotes dialect's `error_code` likewise.
public struct VenueError: Sendable, Equatable, CustomStringConvertible {
    /// The venue that answered ("kraken", "binance", "gateway", "quotes").
    public let venue: String
    /// The venue's code, exactly as sent (a number as its decimal text).
    public let code: String
    /// The venue's human-readable message (Kraken: the part after the category).
    public let message: String

    public init(venue: String, code: String, message: String) {
        self.venue = venue
        self.code = code
        self.message = message
    }

    /// The code as a number, for venues that send numeric codes (Binance, quotes).
    public var numericCode: Int? { Int(code) }
    /// Kraken's category: `EOrder`, `EGeneral`, `EAPI`… (the text before the first ':'), else nil.
    public var category: String? {
        guard let colon = code.firstIndex(of: ":"), code.first == "E" else { return nil }
        return String(code[..<colon])
    }

    /// A Kraken error string (`EOrder:Insufficient funds`): the whole string is the code.
    public static func kraken(_ text: String) -> VenueError {
        let message = text.firstIndex(of: ":").map { String(text[text.index(after: $0)...]) } ?? text
        return VenueError(venue: "kraken", code: text, message: message)
    }

    public var description: String { code == message ? "\(venue) \(code)" : "\(venue) \(code): \(message)" }
}
