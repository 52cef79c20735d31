/// The member names a decoder wants from one kind of object, prepared once so a
/// message is decoded in a single pass over its members (`JSONValue.forEachMember(in:)`)
/// instead of one scan per `value["key"]` lookup, each re-skipping every value
/// before the match. Keys are matched by length, first byte, then the rest.
public struct JSONKeySet: Sendable {
    private let bytes: [UInt8]                  // every key, back to back
    private let entries: [(offset: Int, count: Int, index: Int)]  // sorted by count
    private let firstEntry: [Int]               // firstEntry[n] ..< firstEntry[n + 1]: keys of n bytes
    public let count: Int

    /// Up to 64 keys; a key's index is its position in `keys`.
    public init(_ keys: [StaticString]) {
        precondition(keys.count <= 64, "JSONKeySet holds up to 64 keys")
        var bytes: [UInt8] = []
        var entries: [(offset: Int, count: Int, index: Int)] = []
        for (i, k) in keys.enumerated() {
            entries.append((bytes.count, k.utf8CodeUnitCount, i))
            bytes.append(contentsOf: UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount))
        }
        entries.sort { ($0.count, $0.index) < ($1.count, $1.index) }
        let longest = entries.last?.count ?? 0
        var first = [Int](repeating: entries.count, count: longest + 2)
        for n in stride(from: longest, through: 0, by: -1) {
            first[n] = entries.firstIndex { $0.count >= n } ?? entries.count
        }
        self.bytes = bytes
        self.entries = entries
        self.firstEntry = first
        self.count = keys.count
    }

    /// The index of the key spelled by these bytes, or nil.
    @inline(__always)
    public func index(of key: UnsafeRawBufferPointer) -> Int? {
        let n = key.count
        guard n > 0, n + 1 < firstEntry.count else { return nil }
        let p = key.baseAddress!.assumingMemoryBound(to: UInt8.self)
        return bytes.withUnsafeBufferPointer { b -> Int? in
            for e in firstEntry[n]..<firstEntry[n + 1] {
                let k = entries[e]
                if b[k.offset] == p[0] && memcmpEqual(b.baseAddress! + k.offset, p, n) { return k.index }
            }
            return nil
        }
    }
}

extension JSONValue {
    /// One pass over an object's members: body(index in `keys`, value) for the first
    /// member of each wanted name (as `self["name"]` would find it); other members are
    /// skipped once. Escaped names are unescaped first. No allocation.
    @inlinable
    public func forEachMember(in keys: JSONKeySet, _ body: (_ key: Int, _ value: JSONValue) throws -> Void) rethrows {
        var seen: UInt64 = 0
        try forEachMember { k, v in
            guard let i = keys.index(ofKeyIn: k), seen & (1 << UInt64(i)) == 0 else { return true }
            seen |= 1 << UInt64(i)
            try body(i, v)
            return true
        }
    }
}

extension JSONKeySet {
    /// The index of a member name (a JSON string value), escaped or not.
    @usableFromInline
    func index(ofKeyIn k: JSONValue) -> Int? {
        if let raw = k.rawStringBytes { return index(of: raw) }
        // An escaped name: unescape into a small stack buffer (no wanted key is longer).
        return withUnsafeTemporaryAllocation(byteCount: 64, alignment: 1) { buf -> Int? in
            guard let n = k.copyString(into: buf) else { return nil }
            return index(of: UnsafeRawBufferPointer(rebasing: buf[..<n]))
        }
    }
}
