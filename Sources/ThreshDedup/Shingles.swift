public import ThreshQuality
import ThreshCore

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
        /// Punctuation and symbols separate words (as the regex `\w+` finds words); false removes them instead.
        public var punctuationSeparates = true
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
            // Words are written into one normalised buffer separated by single spaces; the n-gram starting at
            // word i is the byte range from its first word's start to its last word's end, hashed in place.
            let (buffer, starts, ends) = normalisedWords(text)
            if starts.isEmpty { return [] }
            buffer.withUnsafeBytes { raw in
                if starts.count < n {
                    values.append(XXH64.hash(UnsafeRawBufferPointer(rebasing: raw[starts[0]..<ends[ends.count - 1]])))
                } else {
                    for i in 0...(starts.count - n) {
                        values.append(XXH64.hash(UnsafeRawBufferPointer(rebasing: raw[starts[i]..<ends[i + n - 1]])))
                    }
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

    /// The normalised words of a text in one buffer (single spaces between), with each word's byte range.
    /// ASCII takes a table-free byte path; other characters go through their Unicode properties.
    func normalisedWords(_ text: String) -> (buffer: [UInt8], starts: [Int], ends: [Int]) {
        var buffer: [UInt8] = []
        var starts: [Int] = [], ends: [Int] = []
        buffer.reserveCapacity(text.utf8.count)
        var inWord = false
        func endWord() { if inWord { ends.append(buffer.count); inWord = false } }
        func startWord() { if !inWord { if !buffer.isEmpty { buffer.append(0x20) }; starts.append(buffer.count); inWord = true } }
        for scalar in text.unicodeScalars {
            let v = scalar.value
            if v < 0x80 {
                let c = UInt8(v)
                let isLower = c >= 0x61 && c <= 0x7A, isUpper = c >= 0x41 && c <= 0x5A, isDigit = c >= 0x30 && c <= 0x39
                if isLower || isUpper || isDigit || c == 0x5F {
                    startWord()
                    if isUpper && normalisation.lowercase { buffer.append(c | 0x20) }
                    else if isDigit && normalisation.digitsToZero { buffer.append(0x30) }
                    else { buffer.append(c) }
                } else if c == 0x20 || (c >= 0x09 && c <= 0x0D) || !normalisation.removePunctuation || normalisation.punctuationSeparates {
                    endWord()
                }
                continue
            }
            let properties = scalar.properties
            if properties.isWhitespace {
                endWord()
            } else if normalisation.removePunctuation && (properties.generalCategory.isPunctuation || properties.generalCategory.isSymbol) {
                if normalisation.punctuationSeparates { endWord() }
            } else {
                startWord()
                if normalisation.digitsToZero && properties.numericType == .decimal {
                    buffer.append(0x30)
                } else if normalisation.lowercase && properties.changesWhenLowercased {
                    buffer += Array(properties.lowercaseMapping.utf8)
                } else {
                    var s = String(scalar)
                    s.withUTF8 { buffer.append(contentsOf: $0) }
                }
            }
        }
        endWord()
        return (buffer, starts, ends)
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
                if normalisation.punctuationSeparates && s != "_" {
                    if !lastSpace { out.append(" ") }
                    lastSpace = true
                }
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
        var random = SplitMix64(state: seed)
        func next() -> UInt64 { random.next() }
        var aa: [UInt64] = [], bb: [UInt64] = []
        for _ in 0..<permutations {
            aa.append(1 + next() % (Self.prime - 1))
            bb.append(next() % Self.prime)
        }
        a = aa
        b = bb
    }

    /// `v mod (2^61 − 1)` for any 64-bit v.
    @inline(__always)
    static func reduce(_ v: UInt64) -> UInt64 {
        let r = (v & prime) &+ (v >> 61)
        return r >= prime ? r &- prime : r
    }

    /// The signature: for each permutation k, min over shingles of `((a_k·x + b_k) mod 2^64) mod (2^61 − 1)`, with x
    /// the shingle's 64-bit hash. (The product wraps at 64 bits before the Mersenne reduction, as datasketch's
    /// numpy arithmetic does; one multiply per shingle and permutation.) Permutation-major loops keep a and b in
    /// registers.
    public func signature(_ shingles: [UInt64]) -> [UInt64] {
        var minimum = [UInt64](repeating: .max, count: a.count)
        shingles.withUnsafeBufferPointer { xs in
            for k in 0..<a.count {
                let ak = a[k], bk = b[k]
                var m = UInt64.max
                for x in xs {
                    let h = Self.reduce(ak &* x &+ bk)
                    if h < m { m = h }
                }
                minimum[k] = m
            }
        }
        return minimum
    }
}
