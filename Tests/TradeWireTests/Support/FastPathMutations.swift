import Testing

/// A venue fast path held to its general decoder on damaged copies of a message it takes: every prefix of `base` is
/// refused, and with each byte replaced by each of a set of troublesome bytes (quotes, backslashes, control and
/// non-ASCII bytes, structure, digits, letters), whatever the fast path still accepts, the general decoder reads the
/// same way. Returns how many damaged copies the fast path accepted (changes inside texts and digits stay on it).
func expectFastPathAgreesUnderMutation<T: Equatable>(_ base: [UInt8], fast: ([UInt8]) -> T?, general: ([UInt8]) -> T?) -> Int {
    for n in 0..<base.count { #expect(fast(Array(base[..<n])) == nil, "prefix of \(n) bytes") }
    let swaps: [UInt8] = [0x00, 0x1F, 0x20, 0x22, 0x5C, 0x7F, 0x80, 0xC3, 0xFF, 0x2C, 0x3A, 0x7B, 0x7D, 0x5B, 0x5D,
                          0x2D, 0x2E, 0x30, 0x39, 0x65, 0x45, 0x61, 0x74, 0x66, 0x6E]
    var accepted = 0
    for i in 0..<base.count {
        for b in swaps where b != base[i] {
            var m = base
            m[i] = b
            guard let f = fast(m) else { continue }
            accepted += 1
            #expect(general(m) == f, "byte \(i) -> \(b): \(String(decoding: m, as: UTF8.self))")
        }
    }
    return accepted
}

/// A pretty-printed example (the venues' docs print theirs so) with the whitespace outside strings taken out, member
/// order kept: the shape a venue sends on the wire.
func compactJSON(_ s: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var inString = false, escaped = false
    for c in s {
        if inString {
            out.append(c)
            if escaped { escaped = false } else if c == UInt8(ascii: "\\") { escaped = true } else if c == UInt8(ascii: "\"") { inString = false }
        } else if c == UInt8(ascii: "\"") {
            inString = true
            out.append(c)
        } else if c != 0x20 && c != 0x0A && c != 0x0D && c != 0x09 {
            out.append(c)
        }
    }
    return out
}
