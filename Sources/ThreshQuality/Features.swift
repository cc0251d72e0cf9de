import Foundation
public import ThreshCore

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

    /// The feature index of a term given as a string.
    public func index(of term: String) -> Int {
        var t = term
        return t.withUTF8 { index(of: UnsafeRawBufferPointer($0)) }
    }

    /// Calls `body` with the feature index of every term of the document, in token order (then n-grams).
    public func forEachIndex(of text: String, _ body: (Int) -> Void) {
        var text = text
        text.withUTF8 { utf8 in
            if isASCII(utf8) {
                asciiTokens(utf8) { token in
                    if ngrams.contains(1) { body(index(of: token)) }
                } tokens: { tokens in
                    forEachNgram(tokens, body)
                }
            } else {
                let tokens = SparkTokenizer.tokenize(String(decoding: utf8, as: UTF8.self))
                if ngrams.contains(1) { for t in tokens { body(index(of: t)) } }
                if ngrams.contains(where: { $0 > 1 }) {
                    let byteTokens = tokens.map { Array($0.utf8) }
                    forEachNgramArrays(byteTokens, body)
                }
            }
        }
    }

    /// The sparse term-frequency vector of a document: ascending indices and their counts (or 1s).
    public func vector(of text: String) -> SparseVector {
        var counts: [Int: Double] = [:]
        forEachIndex(of: text) { i in
            if binary { counts[i] = 1 } else { counts[i, default: 0] += 1 }
        }
        let sorted = counts.sorted { $0.key < $1.key }
        return SparseVector(size: numFeatures, indices: sorted.map { Int32($0.key) }, values: sorted.map(\.value))
    }

    // MARK: ASCII fast path

    @inline(__always)
    private func isASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        var i = 0
        let n = bytes.count
        while i + 8 <= n {
            if UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 != 0 { return false }
            i += 8
        }
        while i < n { if base[i] >= 0x80 { return false }; i += 1 }
        return true
    }

    @inline(__always)
    static func isSeparator(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }

    /// Tokens of an ASCII document, lowercased into a scratch buffer; `token` sees each one as it is found,
    /// `tokens` gets them all (only when n-grams are asked for).
    private func asciiTokens(_ utf8: UnsafeBufferPointer<UInt8>, token: (UnsafeRawBufferPointer) -> Void,
                             tokens: ([UnsafeRawBufferPointer]) -> Void) {
        let n = utf8.count
        let wantNgrams = ngrams.contains { $0 > 1 }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(n, 1)) { lower in
            var separators = 0
            for i in 0..<n {
                let c = utf8[i]
                lower[i] = (c >= 0x41 && c <= 0x5A) ? c | 0x20 : c
                if Self.isSeparator(c) { separators += 1 }
            }
            let base = UnsafeRawPointer(lower.baseAddress!)
            if separators == 0 {
                let whole = UnsafeRawBufferPointer(start: base, count: n)
                token(whole)
                if wantNgrams { tokens([whole]) }
                return
            }
            // Java split: drop trailing empty tokens, so stop at the end of the last token.
            var end = n
            while end > 0 && Self.isSeparator(lower[end - 1]) { end -= 1 }
            var collected: [UnsafeRawBufferPointer] = []
            var start = 0
            var i = 0
            while i < end {
                if Self.isSeparator(lower[i]) {
                    let t = UnsafeRawBufferPointer(start: base + start, count: i - start)
                    token(t)
                    if wantNgrams { collected.append(t) }
                    start = i + 1
                }
                i += 1
            }
            if end > 0 {
                let t = UnsafeRawBufferPointer(start: base + start, count: end - start)
                token(t)
                if wantNgrams { collected.append(t) }
            }
            if wantNgrams { tokens(collected) }
        }
    }

    private func forEachNgram(_ tokens: [UnsafeRawBufferPointer], _ body: (Int) -> Void) {
        forEachNgramArrays(tokens.map { Array($0) }, body)
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
        if text.utf8.allSatisfy({ $0 < 0x80 }) { return text.lowercased() }
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
