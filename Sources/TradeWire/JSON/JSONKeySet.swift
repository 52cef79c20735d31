/// The member names a decoder wants from one kind of object, prepared once so a
/// message is decoded in a single pass over its members (`JSONValue.forEachMember(in:)`,
/// `JSONDocument(validating:capturing:)`) instead of one scan per `value["key"]`
/// lookup, each re-skipping every value before the match.
///
/// The keys live in one block that a lookup reads through a plain pointer: no
/// reference counting per lookup (a key set held in a `static let` is read on
/// every message). Keys are matched by length, then by their first 8 bytes as one
/// word, then the rest.
public struct JSONKeySet: @unchecked Sendable {
    /// Immutable after init, so sharing it across threads is safe.
    final class Storage {
        let table: JSONKeyTable
        init(_ t: JSONKeyTable) { table = t }
        deinit { table.free() }
    }
    private let storage: Storage
    public let count: Int

    /// Up to 64 keys, none holding `"` or `\`; a key's index is its position in `keys`.
    public init(_ keys: [StaticString]) {
        precondition(keys.count <= 64, "JSONKeySet holds up to 64 keys")
        storage = Storage(JSONKeyTable(keys))
        count = keys.count
    }

    /// The index of the key spelled by these bytes (as they appear between the quotes), or nil.
    @inline(__always)
    public func index(of key: UnsafeRawBufferPointer) -> Int? {
        withExtendedLifetime(storage) { storage.table.index(of: key) }
    }

    /// The lookup table itself, for a loop that keeps this key set alive around its use.
    var table: JSONKeyTable { storage.table }
}

/// A key set's block: for each length up to the longest key, the range of its keys;
/// for each key, its first 8 bytes as a word (zero-padded), its offset, length and
/// index; then the key bytes back to back.
struct JSONKeyTable {
    private struct Entry {
        var head: UInt64
        var offset: Int32
        var count: Int32
        var index: Int32
    }
    private let entries: UnsafeMutablePointer<Entry>
    private let firstEntry: UnsafeMutablePointer<Int32>   // [longest + 2]
    private let bytes: UnsafeMutablePointer<UInt8>
    let longest: Int

    init(_ keys: [StaticString]) {
        var all: [UInt8] = []
        var list: [Entry] = []
        for (i, k) in keys.enumerated() {
            let b = UnsafeBufferPointer(start: k.utf8Start, count: k.utf8CodeUnitCount)
            precondition(!b.contains(UInt8(ascii: "\"")) && !b.contains(UInt8(ascii: "\\")), "a wanted key holds no quote or backslash")
            list.append(Entry(head: JSONKeyTable.head(b.baseAddress!, b.count), offset: Int32(all.count), count: Int32(b.count), index: Int32(i)))
            all.append(contentsOf: b)
        }
        list.sort { ($0.count, $0.index) < ($1.count, $1.index) }
        longest = Int(list.last?.count ?? 0)
        entries = .allocate(capacity: max(1, list.count))
        entries.initialize(from: list, count: list.count)
        firstEntry = .allocate(capacity: longest + 2)
        for n in 0...(longest + 1) {
            firstEntry[n] = Int32(list.firstIndex { $0.count >= n } ?? list.count)
        }
        bytes = .allocate(capacity: max(1, all.count))
        bytes.initialize(from: all, count: all.count)
    }

    func free() {
        entries.deallocate()
        firstEntry.deallocate()
        bytes.deallocate()
    }

    /// The first (up to) 8 bytes as a little-endian word, zero-padded; never reads past n.
    @inline(__always) static func head(_ p: UnsafePointer<UInt8>, _ n: Int) -> UInt64 {
        let r = UnsafeRawPointer(p)
        if n >= 8 { return r.loadUnaligned(as: UInt64.self) }
        if n >= 4 {     // two overlapping halves: the shared bytes are the same either way
            return UInt64(r.loadUnaligned(as: UInt32.self)) | UInt64(r.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)) << (8 * UInt64(n - 4))
        }
        var w: UInt64 = 0
        for k in 0..<n { w |= UInt64(p[k]) << (8 * UInt64(k)) }
        return w
    }

    func index(of key: UnsafeRawBufferPointer) -> Int? {
        let n = key.count
        guard n > 0, n <= longest else { return nil }
        let p = key.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let h = JSONKeyTable.head(p, n)
        var e = Int(firstEntry[n])
        let last = Int(firstEntry[n + 1])
        while e < last {
            let k = entries[e]
            if k.head == h && (n <= 8 || memcmpEqual(bytes + Int(k.offset) + 8, p + 8, n - 8)) { return Int(k.index) }
            e += 1
        }
        return nil
    }

    /// The index of a member name (a JSON string value from a validated text), escaped or not.
    func index(ofKeyIn k: JSONValue) -> Int? {
        let raw = UnsafeRawBufferPointer(start: k.base + k.start + 1, count: k.end - k.start - 2)
        if let i = index(of: raw) { return i }          // a match holds no backslash: it was not escaped
        guard firstBackslash(k.base + k.start + 1, raw.count) != nil else { return nil }
        // An escaped name: unescape into a small stack buffer; a name longer than every key is not wanted.
        return withUnsafeTemporaryAllocation(byteCount: longest, alignment: 1) { buf -> Int? in
            guard let n = k.copyString(into: buf) else { return nil }
            return index(of: UnsafeRawBufferPointer(rebasing: buf[..<n]))
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
    /// The index of the key a JSON string value spells (a member name, or a value
    /// matched against a fixed vocabulary), escaped or not; nil for other kinds.
    public func index(ofKeyIn k: JSONValue) -> Int? {
        guard k.base[k.start] == UInt8(ascii: "\"") else { return nil }
        return withExtendedLifetime(storage) { storage.table.index(ofKeyIn: k) }
    }
}
