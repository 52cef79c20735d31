/// Bytes a decoder keeps from a message for a value that outlives it (a Binance answer's `result`, which its typed
/// accessors read later), copied into storage a `ByteRecycler` reuses: no allocation per message once warm.
///
/// A value type with the usual guarantees: copies share storage, and nothing ever writes to storage a
/// `RecycledBytes` still refers to. The recycler writes into a buffer only when it holds the only reference, the
/// same uniqueness rule `Array`'s copy-on-write relies on (also across threads).
public struct RecycledBytes: Sendable, Equatable, CustomStringConvertible {
    private let storage: ByteStorage?
    public let count: Int

    public init() {
        storage = nil
        count = 0
    }

    /// A copy in storage of its own (what a value built outside a client, e.g. in a test, holds).
    public init(copying bytes: UnsafeRawBufferPointer) {
        if bytes.isEmpty { self.init() } else { self.init(ByteStorage(capacity: bytes.count), copying: bytes) }
    }

    public init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { RecycledBytes(copying: $0) }
    }

    fileprivate init(_ storage: ByteStorage, copying bytes: UnsafeRawBufferPointer) {
        if let base = bytes.baseAddress, !bytes.isEmpty { storage.base.copyMemory(from: base, byteCount: bytes.count) }
        self.storage = storage
        count = bytes.count
    }

    public var isEmpty: Bool { count == 0 }

    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        guard let storage else { return try body(UnsafeRawBufferPointer(start: nil, count: 0)) }
        defer { withExtendedLifetime(storage) {} }
        return try body(UnsafeRawBufferPointer(start: storage.base, count: count))
    }

    /// The bytes as an array (a copy: allocates).
    public var array: [UInt8] { withUnsafeBytes { Array($0) } }
    /// The bytes as UTF-8 text (a copy: allocates unless short).
    public var text: String { withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }
    public var description: String { "\(count) bytes" }

    public static func == (a: RecycledBytes, b: RecycledBytes) -> Bool {
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in
                for i in 0..<x.count where x[i] != y[i] { return false }
                return true
            }
        }
    }
}

/// A buffer behind `RecycledBytes`.
///
/// `@unchecked Sendable`, and why that is sound: its mutable state (`base`, `capacity` and the bytes) is written in
/// two places only, `reserve` and the copy in `RecycledBytes.init(_:copying:)`, both called by `ByteRecycler.keep`
/// right after `isKnownUniquelyReferenced` found the recycler's the only reference (or on a new buffer no one else
/// has seen). Every reader reaches the bytes through a `RecycledBytes` that holds a strong reference, so while any
/// reader exists on any thread the buffer is not uniquely referenced and is not written. A reader on another thread
/// lets go with an atomic release of its reference, which the uniqueness check then observes: the ordering
/// `Array`'s copy-on-write relies on. The recycler itself is confined to one thread (not `Sendable`).
final class ByteStorage: @unchecked Sendable {
    private(set) var base: UnsafeMutableRawPointer
    private(set) var capacity: Int

    init(capacity: Int) {
        self.capacity = Swift.max(capacity, 1)
        base = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    func reserve(_ n: Int) {
        guard n > capacity else { return }
        base.deallocate()
        capacity = Swift.max(n, 2 * capacity)
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 16)
    }

    deinit { base.deallocate() }
}

/// A few buffers a decoder copies message bytes into, each reused once every `RecycledBytes` made from it is gone.
/// A caller that keeps more answers than there are slots gets buffers of their own (an allocation each), never a
/// buffer another answer still uses. Confined to one thread (a client's event loop).
public struct ByteRecycler {
    public static let defaultSlots = 4
    private var slots: [ByteStorage?]
    private let initialCapacity: Int

    /// `slots` buffers, each starting at `initialCapacity` bytes and grown (once) to the largest message kept.
    public init(slots: Int = ByteRecycler.defaultSlots, initialCapacity: Int = 512) {
        self.slots = Array(repeating: nil, count: Swift.max(1, slots))
        self.initialCapacity = initialCapacity
    }

    /// `bytes` copied into a free slot's buffer.
    public mutating func keep(_ bytes: UnsafeRawBufferPointer) -> RecycledBytes {
        if bytes.isEmpty { return RecycledBytes() }
        var i = 0
        while i < slots.count {
            if slots[i] == nil { slots[i] = ByteStorage(capacity: Swift.max(initialCapacity, bytes.count)) }
            if isKnownUniquelyReferenced(&slots[i]) {
                let storage = slots[i]!
                storage.reserve(bytes.count)
                return RecycledBytes(storage, copying: bytes)
            }
            i += 1
        }
        return RecycledBytes(copying: bytes)    // every slot is still held by an answer the caller kept
    }
}
