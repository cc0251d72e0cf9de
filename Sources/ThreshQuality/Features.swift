import Foundation
import ThreshCore

/// Spark ML's `Tokenizer` followed by `HashingTF`: the features GPT-3's quality classifier used.
///
/// - Tokenizer: Java `toLowerCase()` in the en-US locale (full Unicode lowercasing, Greek final sigma), then a
///   split on exactly the six Java `\s` characters (space, tab, LF, VT, FF, CR) with Java's `split` rules: each
///   separator cuts, so runs give empty tokens; a leading empty token stays; trailing empty tokens go; the empty
///   document is `[""]`; a document of separators only is `[]`.
/// - HashingTF: MurmurHash3_x86_32 (seed 42) of each token's UTF-8 bytes, index = non-negative modulo
///   `numFeatures`; term counts, or 1 with `binary`.
/// - Optionally word n-grams (tokens joined by one space, as Spark's `NGram`), hashed into the same space.
///
/// ASCII documents take a fast path: lowercasing, splitting and hashing run over bytes, and no `String` is
/// made per token.
public struct FeatureHasher: Sendable, Equatable, Codable {
    /// Size of the feature space (a power of two up to 2^24).
    public var numFeatures: Int
    /// Count terms (false) or mark presence (true).
    public var binary: Bool
    /// Which Murmur3 tail rule (Spark 3+ standard, or Spark 2).
    public var hashVariant: Murmur3.Variant
    /// Word n-gram orders to add (1 = the tokens themselves).
    public var ngrams: [Int]
    /// Murmur3 seed (Spark: 42).
    public var seed: UInt32

    public init(numFeatures: Int = 1 << 18, binary: Bool = false, hashVariant: Murmur3.Variant = .standard,
                ngrams: [Int] = [1], seed: UInt32 = 42) {
        precondition(numFeatures > 0 && numFeatures & (numFeatures - 1) == 0 && numFeatures <= 1 << 24,
                     "numFeatures must be a power of two up to 2^24")
        self.numFeatures = numFeatures
        self.binary = binary
        self.hashVariant = hashVariant
        self.ngrams = ngrams
        self.seed = seed
    }

    /// The feature index of one term (its UTF-8 bytes).
    @inline(__always)
    public func index(of term: UnsafeRawBufferPointer) -> Int {
        Int(UInt32(bitPattern: Murmur3.hash(term, seed: seed, variant: hashVariant)) & UInt32(numFeatures - 1))
    }

    /// Spark's non-string terms (HashingTF accepts arrays of any atomic type).
    public enum Term: Sendable {
        case string(String), int(Int32), long(Int64), double(Double), bool(Bool), null
    }

    /// The feature index of a typed term, hashed as Spark's `FeatureHasher.murmur3Hash` does: ints and booleans
    /// with `hashInt`, longs with `hashLong`, doubles by their bit pattern (so −0.0 ≠ 0.0), null as the seed.
    public func index(of term: Term) -> Int {
        let h: Int32
        switch term {
        case .string(let s): return index(of: s)
        case .int(let v): h = Murmur3.hashInt(v, seed: seed)
        case .bool(let b): h = Murmur3.hashInt(b ? 1 : 0, seed: seed)
        case .long(let v): h = Murmur3.hashLong(v, seed: seed)
        case .double(let d): h = Murmur3.hashLong(Int64(bitPattern: d.bitPattern), seed: seed)
        case .null: h = Int32(bitPattern: seed)
        }
        return Int(UInt32(bitPattern: h) & UInt32(numFeatures - 1))
    }

    /// The feature index of a term given as a string.
    public func index(of term: String) -> Int {
        var t = term
        return t.withUTF8 { index(of: UnsafeRawBufferPointer($0)) }
    }

    /// Calls `body` with the feature index of every term of the document, in token order (then n-grams).
    ///
    /// Tokens are cut on the raw UTF-8 (the six separators are ASCII), then lowercased one by one: ASCII tokens
    /// byte by byte, others with Java's en-US rules. Lowercasing token by token equals lowercasing the whole
    /// text, because no lowercase mapping makes or removes a separator and the final-sigma context stops at one.
    public func forEachIndex(of text: String, _ body: (Int) -> Void) {
        let wantUnigrams = ngrams.contains(1)
        let wantNgrams = ngrams.contains { $0 > 1 }
        var collected: [[UInt8]] = []
        var text = text
        text.withUTF8 { utf8 in
            Self.forEachToken(utf8) { token in
                if wantUnigrams { body(index(of: token)) }
                if wantNgrams { collected.append(Array(token)) }
            }
        }
        if wantNgrams { forEachNgramArrays(collected, body) }
    }

    @inline(__always)
    static func isSeparator(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

    /// Spark's tokens of UTF-8 text, each lowercased, in order (Java `split` rules: runs of separators give
    /// empty tokens, a leading one stays, trailing ones go; no separator gives the whole text).
    static func forEachToken(_ utf8: UnsafeBufferPointer<UInt8>, _ token: (UnsafeRawBufferPointer) -> Void) {
        let n = utf8.count
        var end = n
        var sawSeparator = false
        for i in 0..<n where isSeparator(utf8[i]) { sawSeparator = true; break }
        if sawSeparator { while end > 0 && isSeparator(utf8[end - 1]) { end -= 1 } }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(n, 1)) { scratch in
            var start = 0
            var i = 0
            func emit(_ from: Int, _ to: Int) {
                var ascii = true
                for k in from..<to where utf8[k] >= 0x80 { ascii = false; break }
                if ascii {
                    for k in from..<to { let c = utf8[k]; scratch[k - from] = (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c }
                    token(UnsafeRawBufferPointer(start: scratch.baseAddress, count: to - from))
                } else {
                    var lower = SparkTokenizer.javaLowercase(String(decoding: UnsafeBufferPointer(rebasing: utf8[from..<to]), as: UTF8.self))
                    lower.withUTF8 { token(UnsafeRawBufferPointer($0)) }
                }
            }
            if !sawSeparator {
                emit(0, n)
                return
            }
            while i < end {
                if isSeparator(utf8[i]) {
                    emit(start, i)
                    start = i + 1
                }
                i += 1
            }
            if end > 0 { emit(start, end) }
        }
    }

    /// The sparse term-frequency vector of a document: ascending indices and their counts (or 1s).
    public func vector(of text: String) -> SparseVector {
        // Every term's index, sorted, then counted in runs: much cheaper than a dictionary of counts.
        var all: [Int32] = []
        all.reserveCapacity(text.utf8.count / 4)
        forEachIndex(of: text) { all.append(Int32($0)) }
        Self.radixSort(&all, bits: numFeatures.trailingZeroBitCount)
        var indices: [Int32] = [], values: [Double] = []
        var k = 0
        while k < all.count {
            let index = all[k]
            var end = k + 1
            while end < all.count && all[end] == index { end += 1 }
            indices.append(index)
            values.append(binary ? 1 : Double(end - k))
            k = end
        }
        return SparseVector(size: numFeatures, indices: indices, values: values)
    }

    /// Sorts non-negative values below 2^bits in ascending order: least-significant-byte radix passes, which
    /// beat comparison sorts on the few thousand term indices of a document.
    public static func radixSort(_ values: inout [Int32], bits: Int) {
        guard values.count > 32 else { values.sort(); return }
        var scratch = [Int32](repeating: 0, count: values.count)
        var shift = 0
        while shift < max(bits, 1) {
            var counts = [Int](repeating: 0, count: 257)
            values.withUnsafeBufferPointer { source in
                scratch.withUnsafeMutableBufferPointer { target in
                    for v in source { counts[Int((UInt32(bitPattern: v) >> UInt32(shift)) & 0xFF) + 1] += 1 }
                    for b in 1...256 { counts[b] += counts[b - 1] }
                    for v in source {
                        let b = Int((UInt32(bitPattern: v) >> UInt32(shift)) & 0xFF)
                        target[counts[b]] = v
                        counts[b] += 1
                    }
                }
            }
            swap(&values, &scratch)
            shift += 8
        }
    }

    /// Spark's `NGram`: windows of n tokens joined by one space (no n-gram when there are fewer tokens).
    private func forEachNgramArrays(_ tokens: [[UInt8]], _ body: (Int) -> Void) {
        for n in ngrams where n > 1 && tokens.count >= n {
            var joined: [UInt8] = []
            for start in 0...(tokens.count - n) {
                joined.removeAll(keepingCapacity: true)
                for k in 0..<n {
                    if k > 0 { joined.append(0x20) }
                    joined += tokens[start + k]
                }
                body(joined.withUnsafeBytes { index(of: $0) })
            }
        }
    }
}

/// A sparse vector: size, ascending indices, values.
public struct SparseVector: Sendable, Equatable {
    public var size: Int
    public var indices: [Int32]
    public var values: [Double]
}

/// Spark's `Tokenizer` on strings (the general path; see `FeatureHasher` for the semantics).
public enum SparkTokenizer {
    /// Lowercases as `java.lang.String.toLowerCase()` does in the en-US locale (final sigma included).
    public static func javaLowercase(_ text: String) -> String {
        // Java's en-US lowercasing is Unicode's full lowercase mapping plus one condition that is not
        // language-specific: Σ (U+03A3, UTF-8 CE A3) becomes ς at the end of a word. The stdlib applies the full
        // mapping without that condition and without ICU's per-call locale lookup, so most text skips ICU. Its
        // Unicode tables are newer than ICU's (and Java's) in Latin Extended-D (U+A700–A7FF, EA 9C–9F …) and
        // outside the first plane (lead bytes F0 and up), so text with those takes the locale-aware path too.
        var needsLocale = false, previous: UInt8 = 0
        for c in text.utf8 {
            if (previous == 0xCE && c == 0xA3) || (previous == 0xEA && c >= 0x9C && c <= 0x9F) || c >= 0xF0 { needsLocale = true; break }
            previous = c
        }
        if !needsLocale { return text.lowercased() }
        return text.lowercased(with: Locale(identifier: "en_US"))
    }

    /// The tokens of a document.
    public static func tokenize(_ text: String) -> [String] {
        let lower = javaLowercase(text)
        var tokens: [String] = []
        var current = String.UnicodeScalarView()
        var sawSeparator = false
        for scalar in lower.unicodeScalars {
            let v = scalar.value
            if v == 0x20 || (v >= 0x09 && v <= 0x0D) {
                tokens.append(String(current))
                current = String.UnicodeScalarView()
                sawSeparator = true
            } else {
                current.append(scalar)
            }
        }
        tokens.append(String(current))
        if !sawSeparator { return [lower] }
        while let last = tokens.last, last.isEmpty { tokens.removeLast() }
        return tokens
    }
}
