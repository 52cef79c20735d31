internal import CTradeWire
#if canImport(Glibc)
import Glibc
#endif

/// A WebSocket connection (client or server role) owned by one `EventLoop`.
///
/// Every method except `loop` must be called on the loop's thread (from a
/// handler callback, `loop.execute`, or `loop.runSync`); others get
/// `TradeWireError.Code.notOnEventLoop`. `AsyncWebSocket` wraps it for use
/// from any task.
public final class WebSocketConnection: @unchecked Sendable {
    public enum State: Sendable { case connecting, open, closed }

    public let loop: EventLoop
    public let handler: any WebSocketHandler
    /// The C handle; nil once CLOSED was delivered (the core's memory is released then).
    // Read on every send; loop-confined (see the venue clients on @exclusivity(unchecked)).
    @exclusivity(unchecked) private var handle: OpaquePointer?
    @exclusivity(unchecked) public private(set) var state: State = .connecting
    /// Server role: the request target (path and query) of the upgrade.
    public let requestTarget: String?
    /// Server role: the upgrade request's headers.
    public let requestHeaders: [(name: String, value: String)]

    private init(loop: EventLoop, handler: any WebSocketHandler, target: String?,
                 headers: [(name: String, value: String)]) {
        self.loop = loop
        self.handler = handler
        self.requestTarget = target
        self.requestHeaders = headers
    }

    /// Open a client connection. Name resolution happens now; connect, TLS and
    /// upgrade proceed on the loop, ending in `webSocketDidOpen` or `didClose`.
    public static func connect(on loop: EventLoop, configuration: WebSocketConfiguration,
                               handler: any WebSocketHandler) throws -> WebSocketConnection {
        try loop.runSync {
            let c = WebSocketConnection(loop: loop, handler: handler, target: nil, headers: [])
            try c.start(configuration)
            return c
        }
    }

    /// A one-shot HTTP request on the loop (see `HTTPClient`).
    static func http(on loop: EventLoop, configuration: WebSocketConfiguration, method: String, body: [UInt8],
                     handler: any WebSocketHandler) throws -> WebSocketConnection {
        try loop.runSync {
            let c = WebSocketConnection(loop: loop, handler: handler, target: nil, headers: [])
            try c.start(configuration, httpMethod: method, body: body)
            return c
        }
    }

    private func start(_ cfg: WebSocketConfiguration, httpMethod: String? = nil, body: [UInt8] = []) throws {
        // OpenSSL's own error for a missing file says neither which file nor that it is missing.
        for case .caFile(let path) in cfg.tls.additionalTrust where cfg.url.secure && access(path, R_OK) != 0 {
            throw TradeWireError(code: .invalidArgument, detail: "CA file \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        var o = tw_connect_options()
        let host = strdup(cfg.url.host), target = strdup(cfg.url.target)
        let headerText = cfg.headers.map { "\($0.name): \($0.value)\r\n" }.joined()
        let headers = strdup(headerText)
        var caFile: UnsafeMutablePointer<CChar>? = nil
        var caPEM: UnsafeMutablePointer<CChar>? = nil
        for trust in cfg.tls.additionalTrust {
            switch trust {
            case .caFile(let path): free(caFile); caFile = strdup(path)
            case .caPEM(let pem): free(caPEM); caPEM = strdup(pem)
            }
        }
        let serverName = cfg.tls.serverName.map { strdup($0) } ?? nil
        defer { free(host); free(target); free(headers); free(caFile); free(caPEM); free(serverName) }
        o.host = UnsafePointer(host)
        o.port = cfg.url.port
        o.target = UnsafePointer(target)
        o.extra_headers = UnsafePointer(headers)
        o.tls.enabled = cfg.url.secure ? 1 : 0
        o.tls.verify = cfg.tls.verifiesPeer ? 1 : 0
        o.tls.ca_file = UnsafePointer(caFile)
        o.tls.ca_pem = UnsafePointer(caPEM)
        o.tls.server_name = UnsafePointer(serverName)
        o.limits.max_frame = UInt64(cfg.limits.maxFrameSize)
        o.limits.max_message = UInt64(cfg.limits.maxMessageSize)
        o.close_timeout_ms = cfg.closeTimeout.milliseconds
        o.open_timeout_ms = cfg.openTimeout.milliseconds
        // The core holds one retain of this object until CLOSED is delivered.
        o.user = Unmanaged.passRetained(self).toOpaque()
        var h: OpaquePointer?
        let r = httpMethod.map { m in body.withUnsafeBytes { tw_http_request(loop.handle, &o, m, $0.baseAddress, $0.count, &h) } }
            ?? tw_conn_connect(loop.handle, &o, &h)
        if r != 0 {
            Unmanaged<WebSocketConnection>.fromOpaque(o.user).release()
            state = .closed
            throw TradeWireError(cCode: r, detail: "connect to \(cfg.url)")
        }
        handle = h
        loop.register(self)
    }

    /// Server side, before the 101: let the application decide; wrap the conn if accepted.
    /// (`didOpen` follows with the OPEN event, once the 101 is out.)
    static func upgrading(_ conn: OpaquePointer, loop: EventLoop,
                          decide: (WebSocketServer.UpgradeRequest) -> WebSocketServer.Decision) {
        var len = 0
        let t = tw_conn_request_target(conn, &len)
        let target = t.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: len), as: UTF8.self) } ?? "/"
        var headers: [(name: String, value: String)] = []
        var i = 0
        var n: UnsafePointer<CChar>? = nil, v: UnsafePointer<CChar>? = nil
        var nl = 0, vl = 0
        while tw_conn_request_header_at(conn, i, &n, &nl, &v, &vl) == 0, let n, let v {
            headers.append((String(decoding: UnsafeRawBufferPointer(start: n, count: nl), as: UTF8.self),
                            String(decoding: UnsafeRawBufferPointer(start: v, count: vl), as: UTF8.self)))
            i += 1
        }
        var request = WebSocketServer.UpgradeRequest(target: target, headers: headers)
        request.isUpgrade = tw_conn_request_is_upgrade(conn) == 1
        var ml = 0, bl = 0
        if let m = tw_conn_request_method(conn, &ml) { request.method = String(decoding: UnsafeRawBufferPointer(start: m, count: ml), as: UTF8.self) }
        if let b = tw_conn_request_body(conn, &bl), bl > 0 { request.body = Array(UnsafeRawBufferPointer(start: b, count: bl)) }
        var decision = decide(request)
        if !request.isUpgrade, case .accept = decision {
            decision = .reject(status: 400, body: "not a WebSocket upgrade\n")
        }
        switch decision {
        case .reject(let status, let body):
            if tw_conn_reject(conn, Int32(status), body) != 0 { tw_conn_release(conn) }
        case .respond(let status, let type, let body):
            let bytes = Array(body.utf8)
            if tw_conn_respond(conn, Int32(status), type, bytes, bytes.count) != 0 { tw_conn_release(conn) }
        case .accept(let handler), .acceptWithWrongKey(let handler):
            if case .acceptWithWrongKey = decision { tw_conn_fault_bad_accept(conn) }
            let c = WebSocketConnection(loop: loop, handler: handler, target: target, headers: headers)
            c.handle = conn
            tw_conn_set_user(conn, Unmanaged.passRetained(c).toOpaque())
            loop.register(c)
        }
    }

    /// The HTTP status of a one-shot HTTP response (0 otherwise).
    var httpStatus: Int { handle.map { Int(tw_conn_http_status($0)) } ?? 0 }

    // MARK: events from the loop

    func didOpen() {
        state = .open
        handler.webSocketDidOpen(self)
    }

    func didReceive(_ ev: UnsafePointer<tw_event>) {
        let e = ev.pointee
        let msg = WebSocketMessage(opcode: Opcode(rawValue: e.opcode) ?? .binary,   // 0: an HTTP response body
                                   bytes: UnsafeRawBufferPointer(start: e.data, count: e.len),
                                   receivedAt: e.recv_ns)
        handler.webSocket(self, didReceive: msg)
    }

    func didClose(_ ev: UnsafePointer<tw_event>) {
        let e = ev.pointee
        let reason = String(decoding: UnsafeRawBufferPointer(start: e.data, count: e.len), as: UTF8.self)
        var error: TradeWireError? = nil
        if e.error != 0, let h = handle {
            let detail = String(cString: tw_conn_error_text(h))
            var bodyLen = 0
            let body = tw_conn_http_body(h, &bodyLen).map {
                String(decoding: UnsafeRawBufferPointer(start: $0, count: bodyLen), as: UTF8.self)
            }
            let status = Int(tw_conn_http_status(h))
            let base = TradeWireError(cCode: e.error, detail: detail)
            error = TradeWireError(code: base.code, detail: base.detail, errno: base.errno,
                                   httpStatus: status == 0 ? nil : status, httpBody: body,
                                   closeCode: e.close_code == 1006 ? nil : e.close_code)
        }
        state = .closed
        let close = WebSocketClose(code: e.close_code, reason: reason, error: error)
        if let h = handle {
            handle = nil
            tw_conn_release(h)
        }
        loop.unregister(self)
        handler.webSocket(self, didClose: close)
        Unmanaged.passUnretained(self).release()   // the core's retain from connect/accept
    }

    // MARK: sending (loop thread)

    @inline(__always) private func openHandle() throws -> OpaquePointer {
        guard loop.inEventLoop else {
            throw TradeWireError(code: .notOnEventLoop, detail: "send and close must run on the connection's event loop")
        }
        guard let h = handle, state == .open else { throw TradeWireError(code: .closed, detail: "connection is not open") }
        return h
    }

    /// Zero-copy send: `body` writes at most `capacity` payload bytes straight
    /// into the send buffer (after the frame-header gap) and returns how many it
    /// wrote. Returns the monotonic ns at which the frame went to the kernel, or,
    /// if it was queued behind a send still in flight, at which it was queued
    /// (latency then includes the wait for the earlier send).
    @discardableResult
    public func send(_ opcode: Opcode = .text, capacity: Int,
                     _ body: (UnsafeMutableRawBufferPointer) throws -> Int) throws -> UInt64 {
        let h = try openHandle()
        guard let p = tw_conn_reserve(h, capacity) else {
            throw TradeWireError(code: .closed, detail: "cannot reserve \(capacity) bytes on a closing connection")
        }
        let n = try body(UnsafeMutableRawBufferPointer(start: p, count: capacity))
        precondition(n >= 0 && n <= capacity, "wrote \(n) bytes into a \(capacity)-byte reservation")
        var submitted: UInt64 = 0
        let r = tw_conn_commit(h, opcode.rawValue, n, &submitted)
        if r != 0 { throw TradeWireError(cCode: r, detail: String(cString: tw_conn_error_text(h))) }
        return submitted != 0 ? submitted : tw_now_ns()
    }

    /// Send a payload (copied once into the send buffer).
    @discardableResult
    public func send(_ opcode: Opcode, bytes: UnsafeRawBufferPointer) throws -> UInt64 {
        try send(opcode, capacity: bytes.count) { buf in
            if bytes.count > 0 { buf.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count) }
            return bytes.count
        }
    }

    /// Send a text message.
    @discardableResult
    public func send(text: String) throws -> UInt64 {
        var t = text
        return try t.withUTF8 { try send(.text, bytes: UnsafeRawBufferPointer($0)) }
    }

    /// Send a binary message.
    @discardableResult
    public func send(binary: [UInt8]) throws -> UInt64 {
        try binary.withUnsafeBytes { try send(.binary, bytes: $0) }
    }

    /// Start the closing handshake; `didClose` follows.
    public func close(code: UInt16 = 1000, reason: String = "") throws {
        guard loop.inEventLoop else {
            throw TradeWireError(code: .notOnEventLoop, detail: "close must run on the connection's event loop")
        }
        guard let h = handle else { return }
        var reason = reason
        let r = reason.withUTF8 { tw_conn_close(h, code, UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: CChar.self), $0.count) }
        if r != 0 && r != TW_ERR_CLOSED.rawValue { throw TradeWireError(cCode: r) }
    }

    /// Drop the TCP connection now; `didClose` follows with `.closed`.
    public func abort() {
        if loop.inEventLoop { abortOnLoop() } else { loop.execute { self.abortOnLoop() } }
    }

    func abortOnLoop() {
        if let h = handle { tw_conn_abort(h) }
    }

    /// Drop the TCP connection with a reset (RST) rather than a FIN; `didClose` follows.
    public func reset() {
        if loop.inEventLoop { if let h = handle { tw_conn_reset(h) } } else { loop.execute { self.reset() } }
    }

    /// Monotonic ns at which bytes last arrived on this connection (0 before any):
    /// staleness checks read it instead of timing every message.
    public var lastReceiveNanoseconds: UInt64 { handle.map { tw_conn_last_recv_ns($0) } ?? 0 }

    /// Fault injection (test venues): put bytes on the stream as they are, bypassing
    /// the framer (a half frame, garbage, a lying length). Loop thread, open connection.
    public func writeRawBytes(_ bytes: [UInt8]) throws {
        let h = try openHandle()
        let r = bytes.withUnsafeBytes { tw_conn_write_bytes(h, $0.baseAddress, $0.count) }
        if r != 0 { throw TradeWireError(cCode: r, detail: String(cString: tw_conn_error_text(h))) }
    }
}
