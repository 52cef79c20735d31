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

    /// The root object's members named by the key set given to `init(validating:capturing:)`.
    public let captured: JSONCapturedMembers

    /// Validate the whole text (RFC 8259 grammar, UTF-8, escapes, surrogate pairs).
    public init(validating bytes: UnsafeRawBufferPointer) throws(JSONError) {
        try self.init(bytes, keys: nil)
    }

    /// Validate the whole text and, in the same pass, find the root object's members
    /// named in `keys` (first of each name, as `root["name"]` would): a decoder reads
    /// them from `captured` without walking the root again. Up to 16 keys.
    public init(validating bytes: UnsafeRawBufferPointer, capturing keys: JSONKeySet) throws(JSONError) {
        precondition(keys.count <= JSONCapturedMembers.capacity, "capture up to \(JSONCapturedMembers.capacity) keys")
        try self.init(bytes, keys: keys.table)
        withExtendedLifetime(keys) {}                   // the table's block stays allocated throughout
    }

    private init(_ bytes: UnsafeRawBufferPointer, keys: JSONKeyTable?) throws(JSONError) {
        self.bytes = bytes
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self), bytes.count > 0 else {
            throw JSONError(offset: 0, reason: "empty input")
        }
        if keys != nil && bytes.count >= 1 << 32 { throw JSONError(offset: 0, reason: "over 4 GiB: too large to capture members") }
        var found = JSONCapturedMembers(base: base)
        let v = JSONValidator(p: base, n: bytes.count, keys: keys)
        let start = v.skipSpace(0)
        let end = try withUnsafeMutablePointer(to: &found) { f throws(JSONError) in try v.value(start, depth: 0, capture: f) }
        if v.skipSpace(end) != bytes.count { throw JSONError(offset: end, reason: "trailing characters") }
        root = JSONValue(base: base, start: start, end: end)
        captured = found
    }
}

/// Members of a root object found during validation, by key index; inline, no allocation.
public struct JSONCapturedMembers {
    public static let capacity = 16
    @usableFromInline let base: UnsafePointer<UInt8>
    /// start << 32 | end per key; 0 = absent (a root member's value never starts at byte 0).
    @usableFromInline var spans: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                                  UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    init(base: UnsafePointer<UInt8>) { self.base = base }

    /// The value of the key with this index in the capturing key set, if the root had it.
    @inlinable public subscript(key: Int) -> JSONValue? {
        precondition(key >= 0 && key < Self.capacity)
        let s = withUnsafeBytes(of: spans) { $0.load(fromByteOffset: key * 8, as: UInt64.self) }
        return s == 0 ? nil : JSONValue(base: base, start: Int(s >> 32), end: Int(s & 0xFFFF_FFFF))
    }

    /// Record the first occurrence only, as a lookup by name would find it.
    mutating func note(_ key: Int, start: Int, end: Int) {
        withUnsafeMutableBytes(of: &spans) { b in
            if b.load(fromByteOffset: key * 8, as: UInt64.self) == 0 {
                b.storeBytes(of: UInt64(start) << 32 | UInt64(end), toByteOffset: key * 8, as: UInt64.self)
            }
        }
    }
}

/// One pass over the text: grammar, UTF-8 (checked inside strings; any other byte
/// over 0x7F is a grammar error anyway), escapes, depth; and, when asked, the root
/// object's wanted members.
struct JSONValidator {
    let p: UnsafePointer<UInt8>
    let n: Int
    let keys: JSONKeyTable?

    @inline(__always) func skipSpace(_ i: Int) -> Int {
        var i = i
        while i < n, p[i] == 0x20 || p[i] == 0x0A || p[i] == 0x0D || p[i] == 0x09 { i += 1 }
        return i
    }

    func value(_ i: Int, depth: Int, capture: UnsafeMutablePointer<JSONCapturedMembers>) throws(JSONError) -> Int {
        guard i < n else { throw JSONError(offset: i, reason: "value expected") }
        switch p[i] {
        case UInt8(ascii: "{"): return try object(i, depth: depth + 1, capture: capture)
        case UInt8(ascii: "["): return try array(i, depth: depth + 1, capture: capture)
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

    /// The length of the well-formed UTF-8 sequence (RFC 3629: no overlongs, no
    /// surrogates, nothing over U+10FFFF) that starts with a byte over 0x7F at j.
    func utf8Sequence(_ j: Int) throws(JSONError) -> Int {
        let c0 = p[j]
        guard c0 >= 0xC2 && c0 <= 0xF4 else { throw JSONError(offset: j, reason: "invalid UTF-8") }
        let len = c0 < 0xE0 ? 2 : c0 < 0xF0 ? 3 : 4
        guard j + len <= n else { throw JSONError(offset: j, reason: "invalid UTF-8") }
        var lo: UInt8 = 0x80, hi: UInt8 = 0xBF
        switch c0 {
        case 0xE0: lo = 0xA0
        case 0xED: hi = 0x9F
        case 0xF0: lo = 0x90
        case 0xF4: hi = 0x8F
        default: break
        }
        guard p[j + 1] >= lo && p[j + 1] <= hi else { throw JSONError(offset: j, reason: "invalid UTF-8") }
        for k in 2..<len where p[j + k] & 0xC0 != 0x80 { throw JSONError(offset: j, reason: "invalid UTF-8") }
        return len
    }

    func string(_ i: Int) throws(JSONError) -> Int {
        var j = i + 1
        while j < n {
            j = skipPlainRun(p, from: j, n)
            guard j < n else { break }
            let c = p[j]
            if c >= 0x20 && c < 0x80 && c != UInt8(ascii: "\"") && c != UInt8(ascii: "\\") { j += 1; continue }
            if c == UInt8(ascii: "\"") { return j + 1 }
            if c >= 0x80 { j += try utf8Sequence(j); continue }
            if c < 0x20 { throw JSONError(offset: j, reason: "control character in string") }
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

    func object(_ i: Int, depth: Int, capture: UnsafeMutablePointer<JSONCapturedMembers>) throws(JSONError) -> Int {
        guard depth <= JSONDocument.maxDepth else { throw JSONError(offset: i, reason: "nesting too deep") }
        let wanted = depth == 1 ? keys : nil
        var j = skipSpace(i + 1)
        if j < n && p[j] == UInt8(ascii: "}") { return j + 1 }
        while true {
            guard j < n, p[j] == UInt8(ascii: "\"") else { throw JSONError(offset: j, reason: "member name expected") }
            let keyStart = j
            let keyEnd = try string(j)
            j = skipSpace(keyEnd)
            guard j < n, p[j] == UInt8(ascii: ":") else { throw JSONError(offset: j, reason: "':' expected") }
            let valueStart = skipSpace(j + 1)
            let valueEnd = try value(valueStart, depth: depth, capture: capture)
            if let wanted, let k = wanted.index(ofKeyIn: JSONValue(base: p, start: keyStart, end: keyEnd)) {
                capture.pointee.note(k, start: valueStart, end: valueEnd)
            }
            j = skipSpace(valueEnd)
            guard j < n else { throw JSONError(offset: j, reason: "unterminated object") }
            if p[j] == UInt8(ascii: "}") { return j + 1 }
            guard p[j] == UInt8(ascii: ",") else { throw JSONError(offset: j, reason: "',' or '}' expected") }
            j = skipSpace(j + 1)
        }
    }

    func array(_ i: Int, depth: Int, capture: UnsafeMutablePointer<JSONCapturedMembers>) throws(JSONError) -> Int {
        guard depth <= JSONDocument.maxDepth else { throw JSONError(offset: i, reason: "nesting too deep") }
        var j = skipSpace(i + 1)
        if j < n && p[j] == UInt8(ascii: "]") { return j + 1 }
        while true {
            j = skipSpace(try value(j, depth: depth, capture: capture))
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

/// `n` bytes at `a` equal those at `b`: compared as (overlapping) words, not byte by byte.
@inline(__always) @usableFromInline func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ n: Int) -> Bool {
    let x = UnsafeRawPointer(a), y = UnsafeRawPointer(b)
    if n >= 8 {
        var i = 0
        while i + 8 < n {
            if x.loadUnaligned(fromByteOffset: i, as: UInt64.self) != y.loadUnaligned(fromByteOffset: i, as: UInt64.self) { return false }
            i += 8
        }
        return x.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == y.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
    }
    if n >= 4 {
        return x.loadUnaligned(as: UInt32.self) == y.loadUnaligned(as: UInt32.self)
            && x.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == y.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
    }
    for k in 0..<n where a[k] != b[k] { return false }
    return true
}
