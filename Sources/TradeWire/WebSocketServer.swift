internal import CTradeWire
#if canImport(Glibc)
import Glibc
#endif

/// The server role of the same core: accepts TCP (and TLS) connections,
/// answers the upgrade, reads masked frames and sends unmasked ones.
public final class WebSocketServer: @unchecked Sendable {
    public typealias Accept = (_ connectionTarget: String, _ headers: [(name: String, value: String)]) -> (any WebSocketHandler)?

    /// Certificate and key (PEM files) for wss://.
    public struct TLS: Sendable {
        public var certificateFile: String
        public var privateKeyFile: String
        public init(certificateFile: String, privateKeyFile: String) {
            self.certificateFile = certificateFile
            self.privateKeyFile = privateKeyFile
        }
    }

    public let loop: EventLoop
    /// The bound port (useful with port 0).
    public private(set) var port: UInt16 = 0
    private var handle: OpaquePointer?
    private let makeHandler: Accept

    private init(loop: EventLoop, makeHandler: @escaping Accept) {
        self.loop = loop
        self.makeHandler = makeHandler
    }

    /// Listen on host:port. `accept` runs for each completed upgrade with its
    /// request target and headers; it returns the handler, or nil to refuse
    /// (close code 1008).
    public static func listen(on loop: EventLoop, host: String = "127.0.0.1", port: UInt16 = 0,
                              tls: TLS? = nil, limits: WebSocketLimits = .init(),
                              accept: @escaping Accept) throws -> WebSocketServer {
        let server = WebSocketServer(loop: loop, makeHandler: accept)
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

    func accept(_ conn: OpaquePointer) {
        WebSocketConnection.accepted(conn, loop: loop, makeHandler: makeHandler)
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
