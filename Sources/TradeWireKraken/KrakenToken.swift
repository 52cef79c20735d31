import Synchronization
import TradeWire
#if canImport(Glibc)
import Glibc
#endif

/// Kraken's WebSocket token from the REST `GetWebSocketsToken` call (§1.3), made
/// over the core's own TLS: signed with HMAC-SHA512 (`API-Sign`), nonces strictly
/// increasing (Unix ns), cached, and refreshed after 7.5 minutes as Kraken's SDK
/// does (a token must be used within 15).
public final class KrakenTokenProvider: Sendable {
    public static let path = "/0/private/GetWebSocketsToken"
    public let restURL: String
    public let refreshAfter: Duration
    private let credentials: Credentials
    private let tls: TLSConfiguration
    private let loop: EventLoop
    private let state = Mutex<(token: String?, fetchedAt: UInt64, nonce: UInt64)>((nil, 0, 0))

    /// `credentials.apiSecret` is Kraken's base64 secret.
    public init(loop: EventLoop, credentials: Credentials, restURL: String = "https://api.kraken.com",
                tls: TLSConfiguration = .default, refreshAfter: Duration = .seconds(450)) {
        self.loop = loop
        self.credentials = credentials
        self.restURL = restURL
        self.tls = tls
        self.refreshAfter = refreshAfter
    }

    /// The cached token, or a fresh one.
    public func token() async throws -> String {
        let (cached, at) = state.withLock { ($0.token, $0.fetchedAt) }
        let (s, a) = refreshAfter.components
        if let cached, MonotonicClock.nanoseconds() - at < UInt64(s) * 1_000_000_000 + UInt64(a / 1_000_000_000) { return cached }
        return try await fetch()
    }

    /// Drop the cached token (after `EAPI:Invalid token`).
    public func invalidate() { state.withLock { $0.token = nil } }

    /// Call `GetWebSocketsToken` now.
    public func fetch() async throws -> String {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        let now = UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
        let nonce = state.withLock { s -> UInt64 in s.nonce = max(s.nonce + 1, now); return s.nonce }
        let post = "nonce=\(nonce)"
        let sign = try Signing.krakenSignature(secretBase64: credentials.apiSecret, path: Self.path, nonce: String(nonce), postData: post)
        let response = try await HTTPClient.request(
            on: loop, url: restURL + Self.path, method: "POST",
            headers: [("API-Key", credentials.apiKey), ("API-Sign", sign), ("Content-Type", "application/x-www-form-urlencoded")],
            body: post, tls: tls)
        let token: String = try response.body.withUnsafeBytes { raw in
            let doc = try JSONDocument(validating: raw)
            var errors: [String] = []
            doc.root["error"]?.forEachElement { e in e.string.map { errors.append($0) }; return true }
            if !errors.isEmpty { throw TradeWireError(code: .venueRejected, detail: "GetWebSocketsToken: \(errors.joined(separator: ", "))") }
            guard response.status == 200, let t = doc.root["result"]?["token"]?.string else {
                throw TradeWireError(code: .malformedResponse, detail: "GetWebSocketsToken: HTTP \(response.status) without a token")
            }
            return t
        }
        state.withLock { $0.token = token; $0.fetchedAt = MonotonicClock.nanoseconds() }
        return token
    }
}
