public import ThreshQuality

/// xxHash64 (seed 0 unless given), for shingle hashes that must be the same on every run and machine.
public enum XXH64 {
    static let p1: UInt64 = 0x9E37_79B1_85EB_CA87, p2: UInt64 = 0xC2B2_AE3D_27D4_EB4F, p3: UInt64 = 0x1656_67B1_9E37_79F9
    static let p4: UInt64 = 0x85EB_CA77_C2B2_AE63, p5: UInt64 = 0x27D4_EB2F_1656_67C5

    @inline(__always) static func rotl(_ x: UInt64, _ r: UInt64) -> UInt64 { (x << r) | (x >> (64 - r)) }
    @inline(__always) static func round(_ acc: UInt64, _ input: UInt64) -> UInt64 { rotl(acc &+ input &* p2, 31) &* p1 }
    @inline(__always) static func merge(_ acc: UInt64, _ val: UInt64) -> UInt64 { (acc ^ round(0, val)) &* p1 &+ p4 }

    public static func hash(_ bytes: UnsafeRawBufferPointer, seed: UInt64 = 0) -> UInt64 {
        let n = bytes.count
        var i = 0
        var h: UInt64
        let load64 = { (o: Int) -> UInt64 in UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: o, as: UInt64.self)) }
        if n >= 32 {
            var v1 = seed &+ p1 &+ p2, v2 = seed &+ p2, v3 = seed, v4 = seed &- p1
            while i + 32 <= n {
                v1 = round(v1, load64(i)); v2 = round(v2, load64(i + 8)); v3 = round(v3, load64(i + 16)); v4 = round(v4, load64(i + 24))
                i += 32
            }
            h = rotl(v1, 1) &+ rotl(v2, 7) &+ rotl(v3, 12) &+ rotl(v4, 18)
            h = merge(h, v1); h = merge(h, v2); h = merge(h, v3); h = merge(h, v4)
        } else {
            h = seed &+ p5
        }
        h = h &+ UInt64(n)
        while i + 8 <= n { h = rotl(h ^ round(0, load64(i)), 27) &* p1 &+ p4; i += 8 }
        if i + 4 <= n {
            h = rotl(h ^ (UInt64(UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self))) &* p1), 23) &* p2 &+ p3
            i += 4
        }
        while i < n { h = rotl(h ^ (UInt64(bytes[i]) &* p5), 11) &* p1; i += 1 }
        h ^= h >> 33; h = h &* p2; h ^= h >> 29; h = h &* p3; h ^= h >> 32
        return h
    }
}

/// What a document is compared by: its set of shingles.
public struct Shingler: Sendable {
    public enum Kind: Sendable, Equatable {
        /// The quality model's features: Spark tokens through HashingTF, as a set of indices (GPT-3).
        case features(FeatureHasher)
        /// Word n-grams (on whitespace-separated words after normalisation).
        case words(Int)
        /// Character n-grams (on the normalised text).
        case characters(Int)
    }

    /// Text normalisation before word and character shingles.
    public struct Normalisation: Sendable, Equatable {
        public var lowercase = true
        public var removePunctuation = true
        public var digitsToZero = false
        public var collapseWhitespace = true
        public init() {}
    }

    public var kind: Kind
    public var normalisation: Normalisation

    public init(kind: Kind, normalisation: Normalisation = Normalisation()) {
        self.kind = kind
        self.normalisation = normalisation
    }

    /// The sorted, distinct shingle values of a text (feature indices, or xxh64 of word/character n-grams).
    public func shingles(_ text: String) -> [UInt64] {
        var values: [UInt64] = []
        switch kind {
        case .features(let hasher):
            hasher.forEachIndex(of: text) { values.append(UInt64($0)) }
        case .words(let n):
            let words = normalised(text).split(separator: " ", omittingEmptySubsequences: true)
            if words.isEmpty { return [] }
            if words.count < n {
                var joined = Array(words.joined(separator: " ").utf8)
                values.append(joined.withUnsafeBytes { XXH64.hash($0) })
                _ = joined.count
                joined.removeAll()
            } else {
                var buffer: [UInt8] = []
                for start in 0...(words.count - n) {
                    buffer.removeAll(keepingCapacity: true)
                    for k in 0..<n {
                        if k > 0 { buffer.append(0x20) }
                        buffer += Array(words[start + k].utf8)
                    }
                    values.append(buffer.withUnsafeBytes { XXH64.hash($0) })
                }
            }
        case .characters(let n):
            let scalars = Array(normalised(text).unicodeScalars)
            if scalars.isEmpty { return [] }
            var buffer: [UInt8] = []
            for start in 0...max(0, scalars.count - n) {
                buffer.removeAll(keepingCapacity: true)
                for s in scalars[start..<min(scalars.count, start + n)] { buffer += Array(String(s).utf8) }
                values.append(buffer.withUnsafeBytes { XXH64.hash($0) })
            }
        }
        values.sort()
        var unique: [UInt64] = []
        unique.reserveCapacity(values.count)
        for v in values where unique.last != v { unique.append(v) }
        return unique
    }

    func normalised(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        var lastSpace = true
        for s in (normalisation.lowercase ? text.lowercased() : text).unicodeScalars {
            var scalar = s
            if s.properties.isWhitespace {
                if normalisation.collapseWhitespace {
                    if !lastSpace { out.append(" ") }
                    lastSpace = true
                    continue
                }
                scalar = " "
            } else if normalisation.removePunctuation && (s.properties.generalCategory.isPunctuation || s.properties.generalCategory.isSymbol) {
                continue
            } else if normalisation.digitsToZero && s.properties.numericType == .decimal {
                scalar = "0"
            }
            out.append(scalar)
            lastSpace = scalar == " "
        }
        return String(out)
    }
}

extension Unicode.GeneralCategory {
    var isPunctuation: Bool {
        switch self {
        case .connectorPunctuation, .dashPunctuation, .openPunctuation, .closePunctuation, .initialPunctuation,
             .finalPunctuation, .otherPunctuation: return true
        default: return false
        }
    }
    var isSymbol: Bool {
        switch self {
        case .mathSymbol, .currencySymbol, .modifierSymbol, .otherSymbol: return true
        default: return false
        }
    }
}

/// A MinHash family over 64-bit shingles: h_k(x) = (a_k·x + b_k) mod (2^61 − 1), with (a_k, b_k) from SplitMix64.
public struct MinHash64: Sendable {
    public static let prime: UInt64 = (1 << 61) - 1
    public let a: [UInt64]
    public let b: [UInt64]

    public init(permutations: Int, seed: UInt64) {
        var state = seed
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        var aa: [UInt64] = [], bb: [UInt64] = []
        for _ in 0..<permutations {
            aa.append(1 + next() % (Self.prime - 1))
            bb.append(next() % Self.prime)
        }
        a = aa
        b = bb
    }

    @inline(__always)
    static func mulmod(_ x: UInt64, _ y: UInt64) -> UInt64 {
        let (high, low) = x.multipliedFullWidth(by: y)
        // x·y = high·2^64 + low, and 2^64 ≡ 2^3 (mod 2^61 − 1).
        var r = (low & prime) + (low >> 61) + (high << 3)
        r = (r & prime) + (r >> 61)
        return r >= prime ? r - prime : r
    }

    public func signature(_ shingles: [UInt64]) -> [UInt64] {
        var minimum = [UInt64](repeating: .max, count: a.count)
        for s in shingles {
            let x = s % Self.prime
            for k in 0..<a.count {
                var h = Self.mulmod(a[k], x) + b[k]
                if h >= Self.prime { h -= Self.prime }
                if h < minimum[k] { minimum[k] = h }
            }
        }
        return minimum
    }
}
