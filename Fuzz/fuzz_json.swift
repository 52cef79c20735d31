// libFuzzer target: the zero-copy JSON reader. Any input must be refused with
// a JSONError or read completely (every value visited, every string decoded,
// every number converted), never crash or read outside the input (ASan).

import CTradeWire

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // An exact-size heap copy so ASan sees any over-read.
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
    defer { copy.deallocate() }
    copy.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size))
    let text = UnsafeRawBufferPointer(rebasing: copy[..<size])
    let captured = try? JSONDocument(validating: text, capturing: wanted)
    // The UTF-8 check runs inside strings only (other bytes over 0x7F are grammar errors):
    // whatever it accepts, the C validator of the whole text must accept too.
    var st: UInt32 = 0
    let utf8 = size == 0 || (tw_utf8_validate(&st, data, size) == 0 && st == 0)
    guard let doc = try? JSONDocument(validating: text) else {
        precondition(captured == nil, "capturing accepted what plain validation refused")
        return 0
    }
    precondition(utf8, "accepted invalid UTF-8")
    guard let captured else { preconditionFailure("capturing refused what plain validation accepted") }
    // A captured member is the first member of that name, as a lookup by name finds it.
    for (i, name) in wantedNames.enumerated() {
        let byName = doc.root.kind == .object ? doc.root[name] : nil
        precondition(captured.captured[i]?.start == byName?.start && captured.captured[i]?.end == byName?.end,
                     "captured member differs from the lookup by name")
    }
    visit(doc.root, depth: 0)
    return 0
}

let wantedNames: [StaticString] = ["method", "req_id", "result", "a", "b", "ab", "r\u{e9}sum\u{e9}", "longer_key_name"]
let wanted = JSONKeySet(wantedNames)

func visit(_ v: JSONValue, depth: Int) {
    switch v.kind {
    case .object:
        v.forEachMember { k, x in
            _ = k.stringEquals("method")
            visit(x, depth: depth + 1)
            return true
        }
        _ = v["req_id"]
    case .array:
        v.forEachElement { visit($0, depth: depth + 1); return true }
    case .string:
        var buf = [UInt8](repeating: 0, count: 64)
        _ = buf.withUnsafeMutableBytes { v.copyString(into: $0) }
        _ = v.decimal
        if v.rawStringBytes == nil { _ = v.string }
    case .number:
        _ = v.int64
        _ = v.decimal
    case .bool, .null:
        _ = v.bool
    }
}
