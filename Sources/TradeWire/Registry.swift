import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// API credentials. Never printed: `description`, `debugDescription` and the mirror redact the secret.
public struct Credentials: Sendable, CustomStringConvertible, CustomDebugStringConvertible, CustomReflectable {
    public let apiKey: String
    public let apiSecret: String
    public init(apiKey: String, apiSecret: String) {
        self.apiKey = apiKey
        self.apiSecret = apiSecret
    }
    public var description: String { "Credentials(apiKey: \(apiKey.prefix(4))…, apiSecret: <redacted>)" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["apiKey": "\(apiKey.prefix(4))…", "apiSecret": "<redacted>"]) }
}

/// One entry of a config file's `ws_apis` list (seed 001's shape, plus optional
/// `url`, `token`, `ca_file` and `insecure` for local venues).
public struct VenueConfig: Sendable {
    public let exchange: String
    public let credentials: Credentials?
    public let url: String?
    public let token: String?
    public let caFile: String?
    public let insecure: Bool
}

/// A venue, typed by its client: `.kraken`, `.binance`, `.gateway`, `.quotes` (each venue module
/// adds its own), so that `TradeWire.client(.binance)` is a `BinanceClient` with no cast and no string.
public struct Venue<Client: VenueClient>: Sendable {
    public init() {}
    public var name: String { Client.venueName }
}

/// The process-wide registry: one client per venue, created once and fetched anywhere.
public enum TradeWire {
    private static let clients = Mutex<[String: AnyObject & Sendable]>([:])
    private static let factories = Mutex<[String: @Sendable (VenueConfig, EventLoop) throws -> AnyObject & Sendable]>([:])

    /// Record a created client under its venue name; creating a venue twice is an error.
    public static func register(_ client: AnyObject & Sendable, venue: String) throws(TradeWireError) {
        let fresh = clients.withLock { c -> Bool in
            if c[venue] != nil { return false }
            c[venue] = client
            return true
        }
        if !fresh { throw TradeWireError(code: .alreadyCreated, detail: "a \(venue) client was already created") }
    }

    /// The client created for a venue.
    public static func client<C>(_ venue: String, as type: C.Type = C.self) throws(TradeWireError) -> C {
        guard let c = clients.withLock({ $0[venue] }) else {
            throw TradeWireError(code: .notCreated, detail: "no \(venue) client was created (call TradeWire.create first)")
        }
        guard let typed = c as? C else {
            throw TradeWireError(code: .invalidArgument, detail: "the \(venue) client is a \(Swift.type(of: c)), not a \(C.self)")
        }
        return typed
    }

    /// Record a created client under its venue (`C.venueName`); creating a venue twice is an error.
    public static func register<C: VenueClient>(_ client: C) throws(TradeWireError) {
        try register(client, venue: C.venueName)
    }

    /// The client created for a venue, typed by the venue: `TradeWire.client(.kraken)` is a `KrakenClient`.
    public static func client<C: VenueClient>(_ venue: Venue<C>) throws(TradeWireError) -> C {
        try client(C.venueName, as: C.self)
    }

    /// Forget every client (for tests and orderly shutdown).
    public static func removeAll() { clients.withLock { $0.removeAll() } }

    /// Let `createAll(configJSON:)` build clients of this venue.
    public static func registerFactory(venue: String, _ make: @escaping @Sendable (VenueConfig, EventLoop) throws -> AnyObject & Sendable) {
        factories.withLock { $0[venue] = make }
    }

    /// Create every client a config's `ws_apis` list names (seed 001's format):
    /// `{"ws_apis": [{"exchange": "kraken", "api_key": "…", "api_secret": "…"}]}`,
    /// at the top level or under any object (e.g. a service's `setting`).
    @discardableResult
    public static func createAll(configJSON bytes: [UInt8], loop: EventLoop) throws -> [String] {
        let configs: [VenueConfig] = try bytes.withUnsafeBytes { raw in
            let doc = try JSONDocument(validating: raw)
            guard let list = findWsApis(doc.root) else {
                throw TradeWireError(code: .invalidArgument, detail: "config has no ws_apis list")
            }
            var out: [VenueConfig] = []
            var problem: TradeWireError? = nil
            list.forEachElement { e in
                guard let ex = e["exchange"]?.string else {
                    problem = TradeWireError(code: .invalidArgument, detail: "a ws_apis entry has no exchange")
                    return false
                }
                let key = e["api_key"]?.string, secret = e["api_secret"]?.string
                out.append(VenueConfig(exchange: ex,
                                       credentials: key.flatMap { k in secret.map { Credentials(apiKey: k, apiSecret: $0) } },
                                       url: e["url"]?.string, token: e["token"]?.string, caFile: e["ca_file"]?.string,
                                       insecure: e["insecure"]?.bool ?? false))
                return true
            }
            if let problem { throw problem }
            return out
        }
        var created: [String] = []
        for c in configs {
            guard let make = factories.withLock({ $0[c.exchange] }) else {
                throw TradeWireError(code: .invalidArgument, detail: "no factory for exchange \(c.exchange) (import its module and call its registerFactory())")
            }
            try register(try make(c, loop), venue: c.exchange)
            created.append(c.exchange)
        }
        return created
    }

    /// `createAll(configJSON:)` from a file.
    @discardableResult
    public static func createAll(configFile path: String, loop: EventLoop) throws -> [String] {
        guard let f = fopen(path, "rb") else {
            throw TradeWireError(code: .system, detail: "cannot open \(path)", errno: Errno(rawValue: errno))
        }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n == 0 { break }
            bytes += chunk[..<n]
        }
        return try createAll(configJSON: bytes, loop: loop)
    }

    private static func findWsApis(_ v: JSONValue) -> JSONValue? {
        if let l = v["ws_apis"], l.kind == .array { return l }
        var found: JSONValue? = nil
        v.forEachMember { _, m in
            if m.kind == .object, let f = findWsApis(m) { found = f; return false }
            return true
        }
        return found
    }
}
