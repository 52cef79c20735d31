import CMallocCounter
import Testing
@testable import TradeWire
@testable import TradeWireBinance

/// `ByteRecycler` reuses a buffer only once no `RecycledBytes` refers to it: answers a caller keeps never change.
@Suite("Recycled answer bytes")
struct RecycledBytesTests {
    func keep(_ r: inout ByteRecycler, _ s: String) -> RecycledBytes {
        Array(s.utf8).withUnsafeBytes { r.keep($0) }
    }

    @Test func keptBytesNeverChangeWhenEverySlotIsHeld() {
        var r = ByteRecycler(slots: 2, initialCapacity: 4)
        let texts = (0..<10).map { "answer \($0) " + String(repeating: "x", count: $0 * 50) }
        let kept = texts.map { keep(&r, $0) }
        for (k, t) in zip(kept, texts) { #expect(k.text == t) }
        #expect(kept[3] == kept[3] && kept[3] != kept[4])
    }

    @Test(.enabled(if: tw_test_allocation_counting() == 1, "allocation counting is off under AddressSanitizer and ThreadSanitizer"))
    func aReleasedSlotIsReusedWithoutAllocating() {
        var r = ByteRecycler(slots: 2)
        let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: 300, alignment: 1)
        defer { bytes.deallocate() }
        bytes.initializeMemory(as: UInt8.self, repeating: UInt8(ascii: "a"))
        var held = r.keep(UnsafeRawBufferPointer(bytes))
        held = r.keep(UnsafeRawBufferPointer(bytes))     // both slots made
        var total = 0
        let start = tw_test_thread_allocations()
        for _ in 0..<1000 {
            let next = r.keep(UnsafeRawBufferPointer(bytes))     // the other slot: `held` still refers to the first
            held = next
            total &+= held.count
        }
        let allocations = tw_test_thread_allocations() - start
        #expect(allocations == 0 && total == 300_000, "\(allocations) allocations")
    }

    /// Through the client's decoder: more answers kept than there are slots, each still reads as its own.
    @Test func keptBinanceAnswersKeepTheirOwnResult() throws {
        var r = ByteRecycler()
        let answers = try (0..<(3 * ByteRecycler.defaultSlots)).map { n -> BinanceResponse in
            let text = #"{"id":"tw-\#(n)","status":200,"result":{"symbol":"BTCUSDT","orderId":\#(1000 + n),"orderListId":-1,"clientOrderId":"C\#(n)","transactTime":1660801715639}}"#
            let inbound = try Array(text.utf8).withUnsafeBytes { b throws(TradeWireError) in try BinanceDecoder.decode(b, recycling: &r) }
            guard case .response(let a) = inbound else { throw TradeWireError(code: .malformedResponse, detail: "not a response") }
            return a
        }
        for (n, a) in answers.enumerated() {
            let report = try a.orderReport()
            #expect(report.orderID == Int64(1000 + n) && report.clientOrderID == "C\(n)" && a.resultFormat == .json)
        }
    }
}
