internal import CTradeWire

/// Why a JSON text was refused: a byte offset and a static reason (no allocation).
public struct JSONError: Error, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: StaticString
    public var description: String { "malformed JSON at byte \(offset): \(reason)" }
}

/// A validated JSON text, read in place. The bytes are borrowed: a document
/// (and every `JSONValue` from it) is valid only while they are, e.g. inside
/// the message callback.
public struct JSONDocument {
    public let bytes: UnsafeRawBufferPointer
    public let root: JSONValue
    public static let maxDepth = 256

    /// Validate the whole text (RFC 8259 grammar, UTF-8, escapes, surrogate pairs).
    public init(validating bytes: UnsafeRawBufferPointer) throws(JSONError) {
        self.bytes = bytes
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw JSONError(offset: 0, reason: "empty input")
        }
        var st: UInt32 = 0
        if tw_utf8_validate(&st, base, bytes.count) != 0 || st != 0 {
            throw JSONError(offset: 0, reason: "invalid UTF-8")
        }
        let v = JSONValidator(p: base, n: bytes.count)
        let start = v.skipSpace(0)
        let end = try v.value(start, depth: 0)
        if v.skipSpace(end) != bytes.count { throw JSONError(offset: end, reason: "trailing characters") }
        root = JSONValue(base: base, start: start, end: end)
    }
}

struct JSONValidator {
    let p: UnsafePointer<UInt8>
    let n: Int

    @inline(__always) func skipSpace(_ i: Int) -> Int {
        var i = i
        while i < n, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        return i
    }

    func value(_ i: Int, depth: Int) throws(JSONError) -> Int {
        guard i < n else { throw JSONError(offset: i, reason: "value expected") }
        switch p[i] {
        case UInt8(ascii: "{"): return try object(i, depth: depth + 1)
        case UInt8(ascii: "["): return try array(i, depth: depth + 1)
        case UInt8(ascii: "\""): return try string(i)
        case UInt8(ascii: "t"): return try literal(i, "true")
        case UInt8(ascii: "f"): return try literal(i, "false")
        case UInt8(ascii: "n"): return try literal(i, "null")
        default: return try number(i)
        }
    }

    func literal(_ i: Int, _ word: StaticString) throws(JSONError) -> Int {
        let k = word.utf8CodeUnitCount
        guard i + k <= n, memcmpEqual(p + i, word.utf8Start, k) else { throw JSONError(offset: i, reason: "bad literal") }
        return i + k
    }

    func number(_ i: Int) throws(JSONError) -> Int {
        var j = i
        if j < n && p[j] == UInt8(ascii: "-") { j += 1 }
        guard j < n, isDigit(p[j]) else { throw JSONError(offset: j, reason: "digit expected") }
        if p[j] == UInt8(ascii: "0") { j += 1 } else { while j < n && isDigit(p[j]) { j += 1 } }
        if j < n && p[j] == UInt8(ascii: ".") {
            j += 1
            guard j < n, isDigit(p[j]) else { throw JSONError(offset: j, reason: "fraction digit expected") }
            while j < n && isDigit(p[j]) { j += 1 }
        }
        if j < n && (p[j] == UInt8(ascii: "e") || p[j] == UInt8(ascii: "E")) {
            j += 1
            if j < n && (p[j] == UInt8(ascii: "+") || p[j] == UInt8(ascii: "-")) { j += 1 }
            guard j < n, isDigit(p[j]) else { throw JSONError(offset: j, reason: "exponent digit expected") }
            while j < n && isDigit(p[j]) { j += 1 }
        }
        return j
    }

    func hex4(_ i: Int) throws(JSONError) -> UInt32 {
        guard i + 4 <= n else { throw JSONError(offset: i, reason: "truncated \\u escape") }
        var v: UInt32 = 0
        for k in 0..<4 {
            guard let d = hexValue(p[i + k]) else { throw JSONError(offset: i + k, reason: "hex digit expected") }
            v = v << 4 | d
        }
        return v
    }

    func string(_ i: Int) throws(JSONError) -> Int {
        var j = i + 1
        while j < n {
            let c = p[j]
            if c == UInt8(ascii: "\"") { return j + 1 }
            if c < 0x20 { throw JSONError(offset: j, reason: "control character in string") }
            if c != UInt8(ascii: "\\") { j += 1; continue }
            guard j + 1 < n else { break }
            switch p[j + 1] {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                 UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                j += 2
            case UInt8(ascii: "u"):
                let u = try hex4(j + 2)
                j += 6
                if u >= 0xD800 && u <= 0xDBFF {
                    guard j + 1 < n, p[j] == UInt8(ascii: "\\"), p[j + 1] == UInt8(ascii: "u") else {
                        throw JSONError(offset: j, reason: "unpaired high surrogate")
                    }
                    let lo = try hex4(j + 2)
                    guard lo >= 0xDC00 && lo <= 0xDFFF else { throw JSONError(offset: j, reason: "unpaired high surrogate") }
                    j += 6
                } else if u >= 0xDC00 && u <= 0xDFFF {
                    throw JSONError(offset: j - 6, reason: "unpaired low surrogate")
                }
            default:
                throw JSONError(offset: j, reason: "bad escape")
            }
        }
        throw JSONError(offset: i, reason: "unterminated string")
    }

    func object(_ i: Int, depth: Int) throws(JSONError) -> Int {
        guard depth <= JSONDocument.maxDepth else { throw JSONError(offset: i, reason: "nesting too deep") }
        var j = skipSpace(i + 1)
        if j < n && p[j] == UInt8(ascii: "}") { return j + 1 }
        while true {
            guard j < n, p[j] == UInt8(ascii: "\"") else { throw JSONError(offset: j, reason: "member name expected") }
            j = skipSpace(try string(j))
            guard j < n, p[j] == UInt8(ascii: ":") else { throw JSONError(offset: j, reason: "':' expected") }
            j = skipSpace(try value(skipSpace(j + 1), depth: depth))
            guard j < n else { throw JSONError(offset: j, reason: "unterminated object") }
            if p[j] == UInt8(ascii: "}") { return j + 1 }
            guard p[j] == UInt8(ascii: ",") else { throw JSONError(offset: j, reason: "',' or '}' expected") }
            j = skipSpace(j + 1)
        }
    }

    func array(_ i: Int, depth: Int) throws(JSONError) -> Int {
        guard depth <= JSONDocument.maxDepth else { throw JSONError(offset: i, reason: "nesting too deep") }
        var j = skipSpace(i + 1)
        if j < n && p[j] == UInt8(ascii: "]") { return j + 1 }
        while true {
            j = skipSpace(try value(j, depth: depth))
            guard j < n else { throw JSONError(offset: j, reason: "unterminated array") }
            if p[j] == UInt8(ascii: "]") { return j + 1 }
            guard p[j] == UInt8(ascii: ",") else { throw JSONError(offset: j, reason: "',' or ']' expected") }
            j = skipSpace(j + 1)
        }
    }
}

@inline(__always) @usableFromInline func isDigit(_ c: UInt8) -> Bool { c >= 48 && c <= 57 }

@inline(__always) @usableFromInline func hexValue(_ c: UInt8) -> UInt32? {
    switch c {
    case 48...57: return UInt32(c - 48)
    case 97...102: return UInt32(c - 87)
    case 65...70: return UInt32(c - 55)
    default: return nil
    }
}

@inline(__always) @usableFromInline func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    for k in 0..<n where a[k] != b[k] { return false }
    return true
}
