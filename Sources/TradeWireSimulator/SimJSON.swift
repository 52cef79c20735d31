import TradeWire

/// Build one JSON message for the simulator to send (off the client's hot path: a plain byte array).
func simJSON(_ build: (inout JSONWriter) -> Void) -> [UInt8] {
    var capacity = 1024
    while true {
        var buf = [UInt8](repeating: 0, count: capacity)
        let (n, overflowed) = buf.withUnsafeMutableBytes { b -> (Int, Bool) in
            var w = JSONWriter(b)
            build(&w)
            return (w.count, w.overflowed)
        }
        if !overflowed { return Array(buf[..<n]) }
        capacity *= 4
    }
}

extension WebSocketConnection {
    /// Send prepared messages in order (text unless told: SBE events are binary); drop the connection if that fails.
    func sendAll(_ messages: [[UInt8]], opcode: Opcode = .text) {
        for m in messages {
            if FaultInjector.intercept(self, m) { continue }    // a fault plan took it (usually: no plan, a miss)
            do { _ = try m.withUnsafeBytes { try send(opcode, bytes: $0) } } catch { abort(); return }
        }
    }
}
