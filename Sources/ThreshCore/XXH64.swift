/// xxHash64 (seed 0 unless given), for hashes that must be the same on every run and machine (dedup shingles,
/// repeated text blocks). Inlinable: shingling hashes every n-gram through it from another module.
public enum XXH64 {
    @usableFromInline static let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F, p3: UInt64 = 0x1656_67B1_9E37_79F9
    @usableFromInline static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63, p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inlinable @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    @inlinable @inline(__always) static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 { rotl(acc &+ input &* p2, 31) &* p1 }
    @inlinable @inline(__always) static func merge(_ acc: UInt64, _ val: UInt64) -> UInt64 { (acc ^ round(0, val)) &* p1 &+ p4 }

    @inlinable
    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        guard let base = bytes.baseAddress else { return hash(UnsafeRawPointer(bitPattern: 1)!, count: 0, seed: seed) }
        return hash(base, count: bytes.count, seed: seed)
    }

    @inlinable @inline(__always) static func load64(_ p: UnsafeRawPointer, _ offset: Int) -> UInt64 {
        UInt64(littleEndian: p.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
    }

    /// xxHash64 of `count` < 32 bytes at `base`, equal to `hash(base, count:)`, with 32 bytes readable at `base`.
    /// Each tail step is computed and then kept or not by a select: the steps taken depend on the length, which
    /// varies from one n-gram to the next, so branches on it mispredict and cost more than the arithmetic.
    @inlinable @inline(__always)
    public static func hashShort(_ base: UnsafeRawPointer, count n: Int, seed: UInt64 = 0) -> UInt64 {
        var h = seed &+ p5 &+ UInt64(n)
        var i = 0
        for _ in 0..<3 {
            let next = rotl(h ^ round(0, load64(base, i)), 27) &* p1 &+ p4
            let take = i + 8 <= n
            h = take ? next : h
            i = take ? i + 8 : i
        }
        let word = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self)))
        let next4 = rotl(h ^ (word &* p1), 23) &* p2 &+ p3
        let take4 = i + 4 <= n
        h = take4 ? next4 : h
        i = take4 ? i + 4 : i
        for _ in 0..<3 {
            let next = rotl(h ^ (UInt64(base.load(fromByteOffset: i, as: UInt8.self)) &* p5), 11) &* p1
            let take = i < n
            h = take ? next : h
            i = take ? i + 1 : i
        }
        h ^= h >> 33; h = h &* p2; h ^= h >> 29; h = h &* p3; h ^= h >> 32
        return h
    }

    /// xxHash64 of `count` bytes at `base`.
    @inlinable
    public static func hash(_ base: UnsafeRawPointer, count n: Int, seed: UInt64 = 0) -> UInt64 {
        var i = 0
        var h: UInt64
        if n >= 32 {
            var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
            while i + 32 <= n {
                v1 = round(v1, load64(base, i)); v2 = round(v2, load64(base, i + 8))
                v3 = round(v3, load64(base, i + 16)); v4 = round(v4, load64(base, i + 24))
                i += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt64(n)
        while i + 8 <= n { h = rotl(h ^ round(0, load64(base, i)), 27) &* p1 &+ p4; i += 8 }
        if i + 4 <= n {
            h = rotl(h ^ (UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* p1), 23) &* p2 &+ p3
            i += 4
        }
        while i < n { h = rotl(h ^ (UInt64(base.load(fromByteOffset: i, as: UInt8.self)) &* p5), 11) &* p1; i += 1 }
        h ^= h >> 33; h = h &* p2; h ^= h >> 29; h = h &* p3; h ^= h >> 32
        return h
    }
}
