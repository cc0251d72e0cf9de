internal import CThreshCrypto

/// SHA-1 (FIPS 180-4), for WARC block and payload digests, through libcrypto (the CPU's SHA instructions where it
/// has them). Incremental, so large blocks can be hashed as they stream; a copy is an independent hash state.
public struct SHA1: Sendable {
    private var context = thresh_sha1_context()

    public init() { thresh_sha1_init(&context) }

    /// Adds bytes to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        thresh_sha1_update(&context, base, bytes.count)
    }

    /// The 20-byte digest of everything added. The state is spent: make a new hash for more.
    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        out.withUnsafeMutableBufferPointer { thresh_sha1_final(&context, $0.baseAddress) }
        return out
    }

    /// Hashes `bytes` in one go.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var s = SHA1()
        s.update(bytes)
        return s.finalize()
    }
}

/// SHA-256 (FIPS 180-4), for `sha256:` WARC digests, shard checksums and fingerprints, through libcrypto.
public struct SHA256: Sendable {
    private var context = thresh_sha256_context()

    public init() { thresh_sha256_init(&context) }

    /// Adds bytes to the hash.
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        thresh_sha256_update(&context, base, bytes.count)
    }

    /// The 32-byte digest of everything added. The state is spent: make a new hash for more.
    public mutating func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        out.withUnsafeMutableBufferPointer { thresh_sha256_final(&context, $0.baseAddress) }
        return out
    }

    /// Hashes `bytes` in one go.
    public static func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var s = SHA256()
        s.update(bytes)
        return s.finalize()
    }
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
