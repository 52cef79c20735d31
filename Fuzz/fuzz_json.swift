// libFuzzer target: the zero-copy JSON reader. Any input must be refused with
// a JSONError or read completely (every value visited, every string decoded,
// every number converted), never crash or read outside the input (ASan).

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzJSON(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // An exact-size heap copy so ASan sees any over-read.
    let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 1)
    defer { copy.deallocate() }
    copy.copyMemory(from: UnsafeRawBufferPointer(start: data, count: size))
    guard let doc = try? JSONDocument(validating: UnsafeRawBufferPointer(rebasing: copy[..<size])) else { return 0 }
    visit(doc.root, depth: 0)
    return 0
}

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
