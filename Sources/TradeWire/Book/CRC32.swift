internal import CTradeWire

/// CRC-32 (IEEE 802.3, the zlib polynomial, reflected 0xEDB88320): what Kraken's book checksums use. The C core
/// computes it (`tw_crc32`): carry-less multiplication folds 64 bytes at a time where the CPU has it, a table
/// takes 8 bytes at a time otherwise and for the tail. No allocation.
public enum CRC32 {
    /// The CRC of `bytes`, continuing from `crc` (0 to start).
    @inline(__always)
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return tw_crc32(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    /// The table path alone, without carry-less multiplication (tests check that both agree).
    public static func tableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress else { return crc }
        return tw_crc32_table(crc, base.assumingMemoryBound(to: UInt8.self), bytes.count)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 { bytes.withUnsafeBytes { checksum($0) } }
}
