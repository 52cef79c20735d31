import CTradeWireFloor
import Glibc
import Testing

/// The raw floors' reply reader: a venue's pushes are never taken for the answer,
/// and bytes read past the answer are kept for the next round trip.
@Suite("Floor reply reader")
struct FloorReplyTests {
    /// An unmasked server text frame.
    func frame(_ text: String) -> [UInt8] {
        let p = Array(text.utf8)
        precondition(p.count < 126)
        return [0x81, UInt8(p.count)] + p
    }

    @Test func pushesAreSkippedAndSurplusIsKept() {
        let status = frame(#"{"channel":"status","type":"update"}"#)
        let ack1 = frame(#"{"method":"add_order","req_id":1,"success":true}"#)
        let beat = frame(#"{"channel":"heartbeat"}"#)
        let ack2 = frame(#"{"error":"EOrder:Insufficient funds","method":"add_order","req_id":2,"success":false}"#)
        var buf = [UInt8](repeating: 0, count: 4096)
        let stream = status + ack1 + beat + ack2
        buf.replaceSubrange(0..<stream.count, with: stream)
        var rd = twf_reader(start: 0, end: stream.count)
        let push = Array(#"{"channel":"#.utf8CString)
        let first = push.withUnsafeBufferPointer { p in buf.withUnsafeMutableBufferPointer { twf_next_reply($0.baseAddress, 4096, &rd, p.baseAddress) } }
        #expect(first == ack1.count - 2)
        #expect(rd.start == status.count + ack1.count)
        let second = push.withUnsafeBufferPointer { p in buf.withUnsafeMutableBufferPointer { twf_next_reply($0.baseAddress, 4096, &rd, p.baseAddress) } }
        #expect(second == ack2.count - 2, "an error answer is an answer too")
        let none = push.withUnsafeBufferPointer { p in buf.withUnsafeMutableBufferPointer { twf_next_reply($0.baseAddress, 4096, &rd, p.baseAddress) } }
        #expect(none == -Int(EAGAIN))
        // Without a push prefix every frame is a reply (the echo server).
        var all = twf_reader(start: 0, end: stream.count)
        let any = buf.withUnsafeMutableBufferPointer { twf_next_reply($0.baseAddress, 4096, &all, nil) }
        #expect(any == status.count - 2)
    }

    @Test func aPartialFrameMovesToTheFrontAndCompletesLater() {
        let ack = frame(#"{"method":"add_order","req_id":3,"success":true}"#)
        var buf = [UInt8](repeating: 0, count: 256)
        // A skipped push, then the first half of the answer.
        let beat = frame(#"{"channel":"heartbeat"}"#)
        let head = beat + ack.prefix(10)
        buf.replaceSubrange(0..<head.count, with: head)
        var rd = twf_reader(start: 0, end: head.count)
        let push = Array(#"{"channel":"#.utf8CString)
        func next() -> Int { push.withUnsafeBufferPointer { p in buf.withUnsafeMutableBufferPointer { twf_next_reply($0.baseAddress, 256, &rd, p.baseAddress) } } }
        #expect(next() == -Int(EAGAIN))
        #expect(rd.start == 0 && rd.end == 10, "the partial answer now starts the buffer")
        #expect(Array(buf[0..<10]) == Array(ack.prefix(10)))
        buf.replaceSubrange(10..<ack.count, with: ack.dropFirst(10))
        rd.end = ack.count
        #expect(next() == ack.count - 2)
    }

    @Test func aFrameLargerThanTheBufferIsRefused() {
        var buf: [UInt8] = [0x81, 126, 0x10, 0x00, 0x41, 0x41]   // 4,096-byte payload announced
        var rd = twf_reader(start: 0, end: buf.count)
        let r = buf.withUnsafeMutableBufferPointer { twf_next_reply($0.baseAddress, 64, &rd, nil) }
        #expect(r == -Int(EMSGSIZE))
    }
}
