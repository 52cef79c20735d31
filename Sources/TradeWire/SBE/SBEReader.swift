/// Simple Binary Encoding (FIX SBE 1.0) read in place: a message header, a root block, repeating groups and
/// variable-length data, little-endian and unaligned, straight out of a received frame. Every read is checked
/// against the frame's length; a short or inconsistent message is a typed error, never a read past the end.
/// Nothing is copied and nothing allocated: the views borrow the frame for the duration of the callback.

/// The standard 8-byte message header: `blockLength`, `templateId`, `schemaId`, `version` (uint16 each).
public struct SBEHeader: Sendable, Equatable {
    public let blockLength: UInt16
    public let templateId: UInt16
    public let schemaId: UInt16
    public let version: UInt16
    public static let size = 8
}

/// A cursor over one SBE message.
@frozen
public struct SBEReader {
    public let bytes: UnsafeRawBufferPointer
    /// Where the next group or var data starts (after the root block, then after each group read).
    public private(set) var position: Int

    public let header: SBEHeader
    /// Offset of the root block (right after the header).
    public var rootOffset: Int { SBEHeader.size }

    /// Reads the header; the root block must fit and be at least `minimumBlockLength` long (a later schema
    /// version may make it longer: the groups start after the block the header declares).
    public init(_ bytes: UnsafeRawBufferPointer, minimumBlockLength: Int = 0) throws(TradeWireError) {
        guard bytes.count >= SBEHeader.size else { throw Self.short("a header") }
        self.bytes = bytes
        header = SBEHeader(blockLength: Self.u16(bytes, 0), templateId: Self.u16(bytes, 2),
                           schemaId: Self.u16(bytes, 4), version: Self.u16(bytes, 6))
        let block = Int(header.blockLength)
        guard block >= minimumBlockLength else {
            throw TradeWireError(code: .malformedResponse, detail: "SBE template \(header.templateId): root block \(block) bytes, below \(minimumBlockLength)")
        }
        position = SBEHeader.size + block
        guard position <= bytes.count else { throw Self.short("its root block") }
    }

    /// A field of the root block (`offset` from the block's start; the caller's schema says it is inside it).
    /// Inlinable: a venue module reads its fields without a generic call per field.
    @inlinable @inline(__always) public func root<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: SBEHeader.size + offset, as: T.self))
    }

    /// The next repeating group, with a dimension of `blockLength` (uint16) and a count of `countWidth` bytes
    /// (2: `groupSize16Encoding`, 4: `groupSizeEncoding`). Entries must be at least `minimumEntryLength`.
    public mutating func group(countWidth: Int, minimumEntryLength: Int) throws(TradeWireError) -> SBEGroup {
        let dimension = 2 + countWidth
        guard position + dimension <= bytes.count else { throw Self.short("a group's dimension") }
        let entryLength = Int(Self.u16(bytes, position))
        let count: Int = countWidth == 2 ? Int(Self.u16(bytes, position + 2))
            : Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 2, as: UInt32.self)))
        guard entryLength >= minimumEntryLength else {
            throw TradeWireError(code: .malformedResponse, detail: "SBE group entries of \(entryLength) bytes, below \(minimumEntryLength)")
        }
        let start = position + dimension
        let (size, overflow) = entryLength.multipliedReportingOverflow(by: count)
        guard !overflow, start + size <= bytes.count else { throw Self.short("a group of \(count) entries") }
        position = start + size
        return SBEGroup(bytes: bytes, start: start, entryLength: entryLength, count: count)
    }

    /// The next `varString8`-style field: a uint8 length, then that many bytes (lent, not copied).
    public mutating func varData8() throws(TradeWireError) -> UnsafeRawBufferPointer {
        guard position < bytes.count else { throw Self.short("a var data length") }
        let n = Int(bytes[position])
        guard position + 1 + n <= bytes.count else { throw Self.short("var data of \(n) bytes") }
        defer { position += 1 + n }
        return UnsafeRawBufferPointer(rebasing: bytes[(position + 1)..<(position + 1 + n)])
    }

    /// The next field with a uint16 length (`varString`, `messageData16`), lent.
    public mutating func varData16() throws(TradeWireError) -> UnsafeRawBufferPointer { try varData(lengthWidth: 2) }

    /// The next field with a uint32 length (`messageData`: a nested message with its own header), lent.
    public mutating func varData32() throws(TradeWireError) -> UnsafeRawBufferPointer { try varData(lengthWidth: 4) }

    private mutating func varData(lengthWidth: Int) throws(TradeWireError) -> UnsafeRawBufferPointer {
        guard position + lengthWidth <= bytes.count else { throw Self.short("a var data length") }
        let n = lengthWidth == 2 ? Int(Self.u16(bytes, position))
            : Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)))
        let start = position + lengthWidth
        guard n <= bytes.count - start else { throw Self.short("var data of \(n) bytes") }
        position = start + n
        return UnsafeRawBufferPointer(rebasing: bytes[start..<(start + n)])
    }

    /// The dimension of a group whose entries end with var data of their own (no fixed stride): the entries'
    /// block length and their count. Walk them in order: `entryBlock(length:)`, then the entry's var data.
    public mutating func groupDimension(countWidth: Int, minimumEntryLength: Int) throws(TradeWireError) -> (entryLength: Int, count: Int) {
        guard position + 2 + countWidth <= bytes.count else { throw Self.short("a group's dimension") }
        let entryLength = Int(Self.u16(bytes, position))
        let count: Int = countWidth == 2 ? Int(Self.u16(bytes, position + 2))
            : Int(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position + 2, as: UInt32.self)))
        guard entryLength >= minimumEntryLength else {
            throw TradeWireError(code: .malformedResponse, detail: "SBE group entries of \(entryLength) bytes, below \(minimumEntryLength)")
        }
        position += 2 + countWidth
        return (entryLength, count)
    }

    /// The fixed block of the next entry of such a group: its offset in the message (read it with `field`).
    public mutating func entryBlock(length: Int) throws(TradeWireError) -> Int {
        guard length <= bytes.count - position else { throw Self.short("a group entry") }
        defer { position += length }
        return position
    }

    /// A fixed field at `offset` from the message's start (a group entry's, from `entryBlock`).
    @inlinable @inline(__always) public func field<T: FixedWidthInteger>(_ offset: Int, as: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: T.self))
    }

    @inlinable @inline(__always) static func u16(_ b: UnsafeRawBufferPointer, _ at: Int) -> UInt16 {
        UInt16(littleEndian: b.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }

    static func short(_ what: String) -> TradeWireError {
        TradeWireError(code: .malformedResponse, detail: "SBE message cut short: no room for \(what)")
    }
}

/// A repeating group's entries, in place. `entry(i)` fields are read at offsets within an entry; the entry's
/// length comes from the message (a later schema version may append fields), never from the reader's schema.
@frozen
public struct SBEGroup {
    @usableFromInline let bytes: UnsafeRawBufferPointer
    @usableFromInline let start: Int
    public let entryLength: Int
    public let count: Int

    @inlinable @inline(__always) public func field<T: FixedWidthInteger>(_ i: Int, _ offset: Int, as: T.Type) -> T {
        T(littleEndian: bytes.loadUnaligned(fromByteOffset: start + i &* entryLength + offset, as: T.self))
    }
}
