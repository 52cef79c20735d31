import Synchronization
import TradeWire

/// A way for the venue to misbehave (`tradewire simulator --fault MODE`).
public enum FaultMode: String, CaseIterable, Sendable {
    /// Half of a frame, then the TCP connection closes.
    case dropMidFrame = "drop-mid-frame"
    /// A TCP reset (RST) instead of the answer.
    case tcpReset = "tcp-reset"
    /// Nothing more is sent, TCP stays up (a half-open peer): staleness or timeouts must notice.
    case halfOpenStall = "half-open-stall"
    /// Bytes that are no WebSocket frame (the client fails the connection, 1002).
    case garbageBytes = "garbage-bytes"
    /// A frame header announcing 1 GiB (over any sane limit: close 1009).
    case oversizedFrame = "oversized-frame"
    /// Frames leave one byte per millisecond.
    case slowDrip = "slow-drip"
    /// Every TLS handshake ends in an alert (the listener asks for a client certificate).
    case tlsAlert = "tls-alert"
    /// The upgrade is answered 429 with a body.
    case handshake4xx = "handshake-4xx"
    /// The upgrade is answered 503 with a body.
    case handshake5xx = "handshake-5xx"
    /// The 101 carries a wrong `Sec-WebSocket-Accept`.
    case wrongAccept = "wrong-accept"
    /// Every message waits `delay` before it is sent.
    case delayedAcks = "delayed-acks"
    /// From the trigger on, the venue sends nothing and reads nothing (a stalled path, TCP up), but keeps
    /// what the client sent; `delay` after the client dropped the connection, the venue reads those held
    /// messages as if they had just arrived on it: orders sent into a stall reach the book after the client
    /// has reconnected and taken its snapshot, as an old connection's bytes can on a real network.
    case holdInbound = "hold-inbound"
}

/// Which connections misbehave and when. Loop-confined (the simulator's loop).
public final class FaultInjector: @unchecked Sendable {
    public struct Plan: Sendable {
        public var mode: FaultMode
        /// The fault hits at this outbound message of a connection (1 = the first; greetings count).
        public var atMessage: Int
        /// How many connections get the fault (nil = all); later ones are served normally, so a
        /// client that reconnects recovers.
        public var connections: Int?
        /// Connections served normally before the plan starts (e.g. 1: the reconnect meets the fault).
        public var afterConnections: Int
        /// For `.delayedAcks` and `.holdInbound`.
        public var delay: Duration
        /// `.holdInbound`: keep the held messages until `FaultInjector.releaseHeld()` (a test's own moment) instead of `delay`.
        public var releaseOnDemand = false
        public init(mode: FaultMode, atMessage: Int = 1, connections: Int? = 1, afterConnections: Int = 0,
                    delay: Duration = .milliseconds(200)) {
            self.mode = mode
            self.afterConnections = afterConnections
            self.atMessage = atMessage
            self.connections = connections
            self.delay = delay
        }
    }

    /// Per faulty connection: messages seen, whether the fault already hit, bytes dripping out.
    final class Victim {
        let plan: Plan
        var sent = 0
        var tripped = false
        var drip: [UInt8] = []
        var dripTimer: Int?
        /// `.holdInbound`: what the client sent after the trigger, unread.
        var held: [[UInt8]] = []
        init(_ plan: Plan) { self.plan = plan }
    }

    public let plan: Plan
    /// Connections that got the fault so far.
    public private(set) var faulted = 0
    private var seen = 0
    /// Connections that are served by the fault plan; `sendAll` looks its connection up here.
    private static let victims = Mutex<[ObjectIdentifier: Victim]>([:])

    public init(plan: Plan) { self.plan = plan }

    /// `.holdInbound` with `releaseOnDemand`: the held messages of closed connections, waiting for `releaseHeld()`.
    var heldBack: [() -> Void] = []

    /// Let the venue read the held messages now (on the simulator's loop); how many connections' worth.
    @discardableResult
    public func releaseHeld() -> Int {
        let n = heldBack.count
        for d in heldBack { d() }
        heldBack.removeAll()
        return n
    }

    /// The listener's TLS settings under this plan (`.tlsAlert` asks every client for a certificate).
    public func tls(_ base: WebSocketServer.TLS?) -> WebSocketServer.TLS? {
        guard var t = base else { return nil }
        if plan.mode == .tlsAlert { t.requireClientCertificate = true }
        return t
    }

    /// Apply the plan to an upgrade decision.
    public func decide(_ decision: WebSocketServer.Decision) -> WebSocketServer.Decision {
        guard case .accept(let handler) = decision else { return decision }
        seen += 1
        guard seen > plan.afterConnections, plan.connections.map({ faulted < $0 }) ?? true else { return decision }
        switch plan.mode {
        case .handshake4xx:
            faulted += 1
            return .reject(status: 429, body: "simulated fault: too many connection attempts, retry later\n")
        case .handshake5xx:
            faulted += 1
            return .reject(status: 503, body: "simulated fault: venue in maintenance\n")
        case .wrongAccept:
            faulted += 1
            return .acceptWithWrongKey(handler)
        case .tlsAlert:
            return decision
        default:
            faulted += 1
            return .accept(FaultyHandler(inner: handler, victim: Victim(plan), injector: self))
        }
    }

    /// Forwards to the venue; registers the connection so that its sends pass through the plan.
    final class FaultyHandler: WebSocketHandler, @unchecked Sendable {
        let inner: any WebSocketHandler
        let victim: Victim
        weak var injector: FaultInjector?
        init(inner: any WebSocketHandler, victim: Victim, injector: FaultInjector) {
            self.inner = inner
            self.victim = victim
            self.injector = injector
        }

        func webSocketDidOpen(_ c: WebSocketConnection) {
            FaultInjector.victims.withLock { $0[ObjectIdentifier(c)] = victim }
            inner.webSocketDidOpen(c)
        }
        func webSocket(_ c: WebSocketConnection, didReceive message: borrowing WebSocketMessage) {
            if victim.tripped && victim.plan.mode == .halfOpenStall { return }    // a dead peer reads nothing either
            if victim.tripped && victim.plan.mode == .holdInbound { victim.held.append(Array(message.bytes)); return }
            inner.webSocket(c, didReceive: message)
        }
        func webSocket(_ c: WebSocketConnection, didClose close: WebSocketClose) {
            FaultInjector.victims.withLock { $0[ObjectIdentifier(c)] = nil }
            if let t = victim.dripTimer { c.loop.cancelTimer(t) }
            inner.webSocket(c, didClose: close)
            if !victim.held.isEmpty {
                // The venue reads the held bytes late, on the connection they came on (its answers go nowhere).
                let held = victim.held, inner = inner
                victim.held.removeAll()
                let deliver = {
                    for m in held {
                        m.withUnsafeBytes { inner.webSocket(c, didReceive: WebSocketMessage(opcode: .text, bytes: $0, receivedAt: MonotonicClock.nanoseconds())) }
                    }
                }
                if victim.plan.releaseOnDemand { injector?.heldBack.append(deliver) } else { c.loop.schedule(after: victim.plan.delay, deliver) }
            }
        }
    }

    /// An unmasked server text frame, built by hand so that it can be cut or dripped.
    static func frame(_ payload: [UInt8]) -> [UInt8] {
        var f: [UInt8] = [0x81]
        if payload.count < 126 { f.append(UInt8(payload.count)) }
        else if payload.count <= 0xFFFF { f += [126, UInt8(payload.count >> 8), UInt8(payload.count & 0xFF)] }
        else { f.append(127); for s in stride(from: 56, through: 0, by: -8) { f.append(UInt8(truncatingIfNeeded: payload.count >> s)) } }
        return f + payload
    }

    /// Called by `sendAll` for each message: true when the plan took it over.
    static func intercept(_ c: WebSocketConnection, _ message: [UInt8]) -> Bool {
        guard let v = victims.withLock({ $0[ObjectIdentifier(c)] }) else { return false }
        v.sent += 1
        if !v.tripped && v.sent < v.plan.atMessage { return false }
        let first = !v.tripped
        v.tripped = true
        switch v.plan.mode {
        case .dropMidFrame:
            let f = frame(message)
            try? c.writeRawBytes(Array(f[..<(f.count / 2)]))
            c.abort()
        case .tcpReset:
            c.reset()
        case .halfOpenStall, .holdInbound:
            break                                   // swallowed, and so is everything after it
        case .garbageBytes:
            if first { try? c.writeRawBytes([0xFF, 0xFE, 0x13, 0x37] + Array("not a frame".utf8)) }
        case .oversizedFrame:
            if first { try? c.writeRawBytes([0x81, 127, 0, 0, 0, 0, 0x40, 0, 0, 0] + Array(message.prefix(64))) }
        case .slowDrip:
            v.drip += frame(message)
            if v.dripTimer == nil { dripNext(c, v) }
        case .delayedAcks:
            c.loop.schedule(after: v.plan.delay) { [weak c] in
                guard let c, c.state == .open else { return }
                _ = try? message.withUnsafeBytes { try c.send(.text, bytes: $0) }
            }
        case .tlsAlert, .handshake4xx, .handshake5xx, .wrongAccept:
            return false
        }
        return true
    }

    /// One byte now, the next in a millisecond.
    private static func dripNext(_ c: WebSocketConnection, _ v: Victim) {
        v.dripTimer = nil
        guard !v.drip.isEmpty, c.state == .open else { return }
        try? c.writeRawBytes([v.drip.removeFirst()])
        if !v.drip.isEmpty { v.dripTimer = c.loop.schedule(after: .milliseconds(1)) { [weak c] in if let c { dripNext(c, v) } } }
    }
}
