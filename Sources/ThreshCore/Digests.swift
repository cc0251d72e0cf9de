/// SHA-1 (FIPS 180-4), for WARC block and payload digests. Incremental, so large blocks can be hashed
/// as they stream.
public struct SHA1: MerkleDamgardHash {
    /// Adds bytes to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { absorb(bytes) }

    private var h: (UInt32, UInt32, UInt32, UInt32, UInt32) = (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    var block = [UInt8](repeating: 0, count: 64)
    var blockCount = 0
    var length: UInt64 = 0

    public init() {}

    /// Hashes `bytes` in one go.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var s = SHA1()
        s.update(bytes)
        return s.finalize()
    }


    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var pad: [UInt8] = [0x80]
        let padZeros = (55 - blockCount + 64) % 64
        pad += [UInt8](repeating: 0, count: padZeros)
        for k in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(k) * 8))) }
        let savedLength = length
        pad.withUnsafeBytes { update($0) }
        length = savedLength
        var out: [UInt8] = []
        for word in [h.0, h.1, h.2, h.3, h.4] {
            out += [UInt8(word >> 24), UInt8(word >> 16 & 0xFF), UInt8(word >> 8 & 0xFF), UInt8(word & 0xFF)]
        }
        return out
    }

    mutating func compress(_ p: UnsafeRawPointer) {
        var w = [UInt32](repeating: 0, count: 80)
        for t in 0..<16 {
            w[t] = UInt32(p.load(fromByteOffset: t * 4, as: UInt8.self)) << 24
                | UInt32(p.load(fromByteOffset: t * 4 + 1, as: UInt8.self)) << 16
                | UInt32(p.load(fromByteOffset: t * 4 + 2, as: UInt8.self)) << 8
                | UInt32(p.load(fromByteOffset: t * 4 + 3, as: UInt8.self))
        }
        for t in 16..<80 { w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotl(1) }
        var (a, b, c, d, e) = h
        for t in 0..<80 {
            let f: UInt32, k: UInt32
            switch t {
            case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
            case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
            case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
            default: f = b ^ c ^ d; k = 0xCA62_C1D6
            }
            let temp = a.rotl(5) &+ f &+ e &+ k &+ w[t]
            e = d; d = c; c = b.rotl(30); b = a; a = temp
        }
        h = (h.0 &+ a, h.1 &+ b, h.2 &+ c, h.3 &+ d, h.4 &+ e)
    }
}

/// SHA-256 (FIPS 180-4), for `sha256:` WARC digests and shard checksums.
public struct SHA256: MerkleDamgardHash {
    /// Adds bytes to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) { absorb(bytes) }

    private static let k: [UInt32] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
        0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
        0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
        0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
        0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
        0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
        0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
    ]
    private var h: [UInt32] = [0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19]
    var block = [UInt8](repeating: 0, count: 64)
    var blockCount = 0
    var length: UInt64 = 0

    public init() {}

    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var s = SHA256()
        s.update(bytes)
        return s.finalize()
    }


    public mutating func finalize() -> [UInt8] {
        let bitLength = length &* 8
        var pad: [UInt8] = [0x80]
        pad += [UInt8](repeating: 0, count: (55 - blockCount + 64) % 64)
        for k in (0..<8).reversed() { pad.append(UInt8(truncatingIfNeeded: bitLength >> (UInt64(k) * 8))) }
        pad.withUnsafeBytes { update($0) }
        var out: [UInt8] = []
        for word in h { out += [UInt8(word >> 24), UInt8(word >> 16 & 0xFF), UInt8(word >> 8 & 0xFF), UInt8(word & 0xFF)] }
        return out
    }

    mutating func compress(_ p: UnsafeRawPointer) {
        var w = [UInt32](repeating: 0, count: 64)
        for t in 0..<16 {
            w[t] = UInt32(p.load(fromByteOffset: t * 4, as: UInt8.self)) << 24
                | UInt32(p.load(fromByteOffset: t * 4 + 1, as: UInt8.self)) << 16
                | UInt32(p.load(fromByteOffset: t * 4 + 2, as: UInt8.self)) << 8
                | UInt32(p.load(fromByteOffset: t * 4 + 3, as: UInt8.self))
        }
        for t in 16..<64 {
            let s0 = w[t - 15].rotr(7) ^ w[t - 15].rotr(18) ^ (w[t - 15] >> 3)
            let s1 = w[t - 2].rotr(17) ^ w[t - 2].rotr(19) ^ (w[t - 2] >> 10)
            w[t] = w[t - 16] &+ s0 &+ w[t - 7] &+ s1
        }
        var a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7]
        for t in 0..<64 {
            let s1 = e.rotr(6) ^ e.rotr(11) ^ e.rotr(25)
            let ch = (e & f) ^ (~e & g)
            let t1 = hh &+ s1 &+ ch &+ SHA256.k[t] &+ w[t]
            let s0 = a.rotr(2) ^ a.rotr(13) ^ a.rotr(22)
            let maj = (a & b) ^ (a & c) ^ (b & c)
            let t2 = s0 &+ maj
            hh = g; g = f; f = e; e = d &+ t1; d = c; c = b; b = a; a = t1 &+ t2
        }
        h[0] = h[0] &+ a; h[1] = h[1] &+ b; h[2] = h[2] &+ c; h[3] = h[3] &+ d
        h[4] = h[4] &+ e; h[5] = h[5] &+ f; h[6] = h[6] &+ g; h[7] = h[7] &+ hh
    }
}

/// The 64-byte block buffering SHA-1 and SHA-256 share.
protocol MerkleDamgardHash {
    var block: [UInt8] { get set }
    var blockCount: Int { get set }
    var length: UInt64 { get set }
    mutating func compress(_ p: UnsafeRawPointer)
}

extension MerkleDamgardHash {
    mutating func absorb(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var i = 0
        let n = bytes.count
        if blockCount > 0 {
            while blockCount < 64 && i < n { block[blockCount] = bytes[i]; blockCount += 1; i += 1 }
            if blockCount == 64 {
                let full = block
                full.withUnsafeBytes { compress($0.baseAddress!) }
                blockCount = 0
            }
        }
        while n - i >= 64 {
            compress(bytes.baseAddress! + i)
            i += 64
        }
        while i < n { block[blockCount] = bytes[i]; blockCount += 1; i += 1 }
    }
}

extension UInt32 {
    @inline(__always) func rotl(_ n: UInt32) -> UInt32 { (self << n) | (self >> (32 - n)) }
    @inline(__always) func rotr(_ n: UInt32) -> UInt32 { (self >> n) | (self << (32 - n)) }
}

/// RFC 4648 base32 (the alphabet WARC digests use) and hex.
public enum Base32 {
    private static let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".utf8)

    /// Encodes without padding (as WARC writers do for 20-byte SHA-1 digests, which need none).
    public static func encode(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for b in bytes {
            buffer = buffer << 8 | UInt64(b)
            bits += 8
            while bits >= 5 {
                out.append(alphabet[Int(buffer >> UInt64(bits - 5) & 31)])
                bits -= 5
            }
        }
        if bits > 0 { out.append(alphabet[Int(buffer << UInt64(5 - bits) & 31)]) }
        while out.count % 8 != 0 { out.append(UInt8(ascii: "=")) }
        return String(decoding: out, as: UTF8.self)
    }

    /// Decodes base32 (case-insensitive, padding optional); nil if invalid.
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt64 = 0
        var bits = 0
        for c in text.utf8 where c != UInt8(ascii: "=") {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - 97
            case UInt8(ascii: "2")...UInt8(ascii: "7"): v = c - 50 + 26
            default: return nil
            }
            buffer = buffer << 5 | UInt64(v)
            bits += 5
            if bits >= 8 {
                out.append(UInt8(buffer >> UInt64(bits - 8) & 0xFF))
                bits -= 8
            }
        }
        return out
    }
}

/// RFC 4648 base64, standard or URL-safe alphabet, padding optional (decoding only).
public enum Base64 {
    public static func decode(_ text: String) -> [UInt8]? {
        var out: [UInt8] = []
        var buffer: UInt32 = 0
        var bits = 0
        for c in text.utf8 where c != UInt8(ascii: "=") {
            let v: UInt8
            switch c {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): v = c - 65
            case UInt8(ascii: "a")...UInt8(ascii: "z"): v = c - 97 + 26
            case UInt8(ascii: "0")...UInt8(ascii: "9"): v = c - 48 + 52
            case UInt8(ascii: "+"), UInt8(ascii: "-"): v = 62
            case UInt8(ascii: "/"), UInt8(ascii: "_"): v = 63
            default: return nil
            }
            buffer = buffer << 6 | UInt32(v)
            bits += 6
            if bits >= 8 {
                out.append(UInt8(buffer >> UInt32(bits - 8) & 0xFF))
                bits -= 8
            }
        }
        return out
    }
}

/// Lowercase hexadecimal.
public func hexString(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var out: [UInt8] = []
    out.reserveCapacity(bytes.count * 2)
    for b in bytes { out.append(digits[Int(b >> 4)]); out.append(digits[Int(b & 15)]) }
    return String(decoding: out, as: UTF8.self)
}
