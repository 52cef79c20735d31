internal import CTradeWire

/// WebSocket opcodes an application sees or sends.
public enum Opcode: UInt8, Sendable {
    case text = 0x1
    case binary = 0x2
    case ping = 0x9
    case pong = 0xA
}

/// A received message, lent to the handler: `bytes` points into the receive
/// buffer (zero copy) and is valid only until the callback returns. Copy out
/// what must outlive it (`text`, `data`).
public struct WebSocketMessage: ~Copyable {
    public let opcode: Opcode
    /// The payload, valid during the callback only.
    public let bytes: UnsafeRawBufferPointer
    /// `CLOCK_MONOTONIC` ns when the completion holding the last byte was reaped.
    public let receivedAt: UInt64

    /// A message over bytes the caller lends for the duration of a handler call (a handler that
    /// replays or forwards messages: the simulator's held-frame fault).
    public init(opcode: Opcode, bytes: UnsafeRawBufferPointer, receivedAt: UInt64) {
        self.opcode = opcode
        self.bytes = bytes
        self.receivedAt = receivedAt
    }

    /// A copy of the payload as a String (text messages are already validated UTF-8).
    public var text: String { String(decoding: bytes, as: UTF8.self) }
    /// A copy of the payload.
    public var data: [UInt8] { Array(bytes) }
}

/// How a connection ended.
public struct WebSocketClose: Sendable, CustomStringConvertible {
    /// The peer's close code; 1006 if none arrived (abnormal closure).
    public let code: UInt16
    public let reason: String
    /// nil for a clean closing handshake; otherwise what failed.
    public let error: TradeWireError?

    public var description: String {
        error.map { "closed \(code): \($0)" } ?? "closed \(code) \(reason)"
    }
}

/// Monotonic time as the C core takes it, for latency arithmetic.
public enum MonotonicClock {
    /// `CLOCK_MONOTONIC` in nanoseconds.
    @inline(__always) public static func nanoseconds() -> UInt64 { tw_now_ns() }
}
