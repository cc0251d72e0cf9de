/// MurmurHash3_x86_32 as Spark computes it (`Murmur3_x86_32.java`): the standard variant used by Spark ≥ 3
/// `HashingTF`, and the Spark 2 variant whose 0–3 tail bytes are each sign-extended and mixed as a full round.
public enum Murmur3 {
    /// Which tail handling to use.
    public enum Variant: String, Sendable, Codable, CaseIterable {
        /// `hashUnsafeBytes2`: standard MurmurHash3 (Spark 3.0 and later).
        case standard
        /// `hashUnsafeBytes`: the Spark 2.x `HashingTF` hash (GPT-3 most likely used Spark 2.4).
        case spark2
    }

    @inline(__always) static func mixK1(_ k: UInt32) -> UInt32 {
        var k = k &* 0xcc9e_2d51
        k = (k << 15) | (k >> 17)
        return k &* 0x1b87_3593
    }

    @inline(__always) static func mixH1(_ h: UInt32, _ k: UInt32) -> UInt32 {
        var h = h ^ k
        h = (h << 13) | (h >> 19)
        return h &* 5 &+ 0xe654_6b64
    }

    @inline(__always) static func fmix(_ h: UInt32, _ length: Int) -> UInt32 {
        var h = h ^ UInt32(truncatingIfNeeded: length)
        h ^= h >> 16
        h = h &* 0x85eb_ca6b
        h ^= h >> 13
        h = h &* 0xc2b2_ae35
        h ^= h >> 16
        return h
    }

    /// The signed 32-bit hash of `bytes` with `seed`.
    @inline(__always)
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt32 = 42, variant: Variant = .standard) -> Int32 {
        let n = bytes.count
        var h = seed
        let aligned = n & ~3
        var i = 0
        if let base = bytes.baseAddress {
            while i < aligned {
                h = mixH1(h, mixK1(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self))))
                i += 4
            }
        }
        switch variant {
        case .standard:
            var k: UInt32 = 0
            var shift: UInt32 = 0
            while i < n {
                k ^= UInt32(bytes[i]) << shift
                shift += 8
                i += 1
            }
            h ^= mixK1(k)
        case .spark2:
            while i < n {
                h = mixH1(h, mixK1(UInt32(bitPattern: Int32(Int8(bitPattern: bytes[i])))))
                i += 1
            }
        }
        return Int32(bitPattern: fmix(h, n))
    }

    /// `hashInt(v, seed)`: Spark's hash of an integer term.
    public static func hashInt(_ value: Int32, seed: UInt32 = 42) -> Int32 {
        Int32(bitPattern: fmix(mixH1(seed, mixK1(UInt32(bitPattern: value))), 4))
    }

    /// `hashLong(v, seed)`: low 32 bits, then high 32 bits.
    public static func hashLong(_ value: Int64, seed: UInt32 = 42) -> Int32 {
        let bits = UInt64(bitPattern: value)
        var h = mixH1(seed, mixK1(UInt32(truncatingIfNeeded: bits)))
        h = mixH1(h, mixK1(UInt32(truncatingIfNeeded: bits >> 32)))
        return Int32(bitPattern: fmix(h, 8))
    }
}
