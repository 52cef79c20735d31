internal import CTradeWire
#if canImport(Glibc)
import Glibc
#endif

/// The server role of the same core: accepts TCP (and TLS) connections,
/// answers the upgrade, reads masked frames and sends unmasked ones.
public final class WebSocketServer: @unchecked Sendable {
    public typealias Accept = (_ connectionTarget: String, _ headers: [(name: String, value: String)]) -> (any WebSocketHandler)?

    /// What to do with an upgrade request.
    public enum Decision {
        /// Answer 101 and hand the connection to this handler.
        case accept(any WebSocketHandler)
        /// Answer with this HTTP status and body (e.g. 401 for a bad bearer token), then close.
        case reject(status: Int, body: String)
        /// Answer a plain HTTP request (a REST endpoint), then close.
        case respond(status: Int, contentType: String, body: String)
        /// Fault injection (test venues): answer 101 with a wrong `Sec-WebSocket-Accept`; a correct client refuses it.
        case acceptWithWrongKey(any WebSocketHandler)
    }

    /// An upgrade request as the server sees it before answering.
    public struct UpgradeRequest: Sendable {
        /// Path and query.
        public let target: String
        public let headers: [(name: String, value: String)]
        /// `GET` for an upgrade; any method for a plain HTTP request.
        public var method: String = "GET"
        /// false for a plain HTTP request (answer it with `.respond`).
        public var isUpgrade: Bool = true
        /// The body of a plain request.
        public var body: [UInt8] = []
        /// The path without the query.
        public var path: String { target.split(separator: "?", maxSplits: 1).first.map(String.init) ?? target }
        /// A header's value (case-insensitive name).
        public func header(_ name: String) -> String? {
            headers.first { $0.name.lowercased() == name.lowercased() }?.value
        }
    }

    /// Certificate and key (PEM files) for wss://.
    public struct TLS: Sendable {
        public var certificateFile: String
        public var privateKeyFile: String
        /// Refuse clients that present no certificate. Trading clients present none, so
        /// every handshake ends in a TLS alert: a fault mode of the simulator.
        public var requireClientCertificate: Bool
        public init(certificateFile: String, privateKeyFile: String, requireClientCertificate: Bool = false) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
            self.requireClientCertificate = requireClientCertificate
        }
    }

    public let loop: EventLoop
    /// The bound port (useful with port 0).
    public private(set) var port: UInt16 = 0
    private var handle: OpaquePointer?
    private let decide: (UpgradeRequest) -> Decision

    private init(loop: EventLoop, decide: @escaping (UpgradeRequest) -> Decision) {
        self.loop = loop
        self.decide = decide
    }

    /// Listen on host:port. `accept` runs for each upgrade request with its
    /// target and headers; it returns the handler, or nil to refuse with 404.
    public static func listen(on loop: EventLoop, host: String = "127.0.0.1", port: UInt16 = 0,
                              tls: TLS? = nil, limits: WebSocketLimits = .init(),
                              accept: @escaping Accept) throws -> WebSocketServer {
        try listen(on: loop, host: host, port: port, tls: tls, limits: limits) { (r: UpgradeRequest) -> Decision in
            accept(r.target, r.headers).map { .accept($0) } ?? .reject(status: 404, body: "no such endpoint: \(r.path)\n")
        }
    }

    /// Listen, deciding each upgrade before it is answered.
    public static func listen(on loop: EventLoop, host: String = "127.0.0.1", port: UInt16 = 0,
                              tls: TLS? = nil, limits: WebSocketLimits = .init(),
                              upgrade: @escaping (UpgradeRequest) -> Decision) throws -> WebSocketServer {
        let server = WebSocketServer(loop: loop, decide: upgrade)
        let box = UnsafeSendable(server)
        try loop.runSync {
            let server = box.value
            var t = tw_tls_options()
            let cert = tls.map { strdup($0.certificateFile) } ?? nil
            let key = tls.map { strdup($0.privateKeyFile) } ?? nil
            defer { free(cert); free(key) }
            t.enabled = tls == nil ? 0 : 1
            t.cert_file = UnsafePointer(cert)
            t.key_file = UnsafePointer(key)
            t.require_client_cert = tls?.requireClientCertificate == true ? 1 : 0
            let l = tw_limits(max_frame: UInt64(limits.maxFrameSize), max_message: UInt64(limits.maxMessageSize))
            var h: OpaquePointer?
            let r = tw_listen(loop.handle, host, port, &t, l, Unmanaged.passUnretained(server).toOpaque(), &h)
            if r != 0 { throw TradeWireError(cCode: r, detail: "listen on \(host):\(port)") }
            server.handle = h
            server.port = tw_listener_port(h)
            loop.register(server)
        }
        return server
    }

    func upgrade(_ conn: OpaquePointer) {
        // Accepted before the server closed: not served after it.
        guard handle != nil else { tw_conn_release(conn); return }
        WebSocketConnection.upgrading(conn, loop: loop, decide: decide)
    }

    /// Stop accepting; existing connections stay.
    public func close() {
        if loop.inEventLoop { closeOnLoop() } else { try? loop.runSync { [box = UnsafeSendable(self)] in box.value.closeOnLoop() } }
    }

    func closeOnLoop() {
        if let h = handle {
            handle = nil
            tw_listener_close(h)
            loop.unregister(self)
        }
    }
}

/// Carries a loop-confined reference across the hop to its loop.
struct UnsafeSendable<T>: @unchecked Sendable {
    let value: T
    init(_ value: T) { self.value = value }
}
