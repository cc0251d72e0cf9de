public import ThreshQuality
public import ThreshCore
import CThreshKernels
import Foundation

/// What a document is compared by: its set of shingles.
public struct Shingler: Sendable {
    public enum Kind: Sendable, Equatable {
        /// The quality model's features: Spark tokens through HashingTF, as a set of indices (GPT-3).
        case features(FeatureHasher)
        /// Word n-grams (on whitespace-separated words after normalisation).
        case words(Int)
        /// Character n-grams (on the normalised text).
        case characters(Int)
        /// The whole text as one value: xxh64 of the text, normalised (lower-cased, whitespace runs made one space,
        /// trimmed) or as it is (exact dedup).
        case wholeText(normalised: Bool)
        /// The document's URL as one value: xxh64 of its canonical form (URL dedup; see `URLCanonicalizer`).
        case url(URLCanonicalizer)
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

    /// The shingle values of a document: of its URL for URL dedup (none when it has none), else of its text.
    public func shingleValues(of document: Document) -> [UInt64] {
        if case .url(let canonicalizer) = kind {
            guard let url = document.url, let canonical = canonicalizer.canonical(url) else { return [] }
            return [Array(canonical.utf8).withUnsafeBytes { XXH64.hash($0) }]
        }
        return shingleValues(document.text)
    }

    /// The sorted, distinct shingle values of a text (feature indices, or xxh64 of word/character n-grams).
    public func shingles(_ text: String) -> [UInt64] {
        var values = shingleValues(text)
        Self.sortAndUniqueIfNeeded(&values)  // feature indices come sorted and distinct already
        return values
    }

    /// The shingle values of a text as it yields them: every distinct value at least once, in no stated order.
    /// MinHash needs no more (a minimum over a multiset is the minimum over its set), and skipping the sort is a
    /// sixth of the dedup signature phase. Feature indices come back sorted and distinct, since unigram sets
    /// repeat values often.
    public func shingleValues(_ text: String) -> [UInt64] {
        var values: [UInt64] = []
        switch kind {
        case .wholeText(let normalised):
            guard !text.isEmpty else { return [] }
            let bytes: [UInt8]
            if normalised {
                let words = text.lowercased().split(whereSeparator: { $0.isWhitespace })
                guard !words.isEmpty else { return [] }
                bytes = Array(words.joined(separator: " ").utf8)
            } else {
                bytes = Array(text.utf8)
            }
            return [bytes.withUnsafeBytes { XXH64.hash($0) }]
        case .url:
            return []  // from the document's URL: see shingleValues(of:)
        case .features(let hasher):
            // Indices are below numFeatures (at most 2^24): radix-sorted as Int32s, then widened once distinct.
            var indices: [Int32] = []
            indices.reserveCapacity(text.utf8.count / 4)
            hasher.forEachIndex(of: text) { indices.append(Int32($0)) }
            FeatureHasher.radixSort(&indices, bits: hasher.numFeatures.trailingZeroBitCount)
            values.reserveCapacity(indices.count)
            var last: Int32 = -1
            for i in indices where i != last {
                values.append(UInt64(i))
                last = i
            }
        case .words(let n):
            // Words are written into one normalised buffer separated by single spaces; the n-gram starting at
            // word i is the byte range from its first word's start to its last word's end, hashed in place.
            let words = normalisedWords(text)
            let count = words.bounds.count / 2
            if count == 0 { return [] }
            let grams = count < n ? 1 : count - n + 1
            let last = count < n ? count - 1 : n - 1
            values = [UInt64](unsafeUninitializedCapacity: grams) { out, initialized in
                words.buffer.withUnsafeBytes { raw in
                    words.bounds.withUnsafeBufferPointer { bounds in
                        let base = raw.baseAddress!
                        for i in 0..<grams {
                            let start = Int(bounds[2 * i]), end = Int(bounds[2 * (i + last) + 1])
                            // Most n-grams are under 32 bytes: those take the branch-free path (the padding
                            // makes its fixed-size loads safe).
                            out[i] = end - start < 32 ? XXH64.hashShort(base + start, count: end - start)
                                : XXH64.hash(base + start, count: end - start)
                        }
                    }
                }
                initialized = grams
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
        return values
    }

    /// Whether the values are sorted and distinct already.
    static func isStrictlyAscending<Values: RandomAccessCollection<UInt64>>(_ values: Values) -> Bool where Values.Index == Int {
        for i in values.indices.dropFirst() where values[i - 1] >= values[i] { return false }
        return true
    }

    /// `sortAndUnique` for values that are not already strictly ascending.
    static func sortAndUniqueIfNeeded(_ values: inout [UInt64]) {
        if !isStrictlyAscending(values) { sortAndUnique(&values) }
    }

    static func sortAndUnique(_ values: inout [UInt64]) {
        values.sort()
        var kept = 0
        for i in values.indices where kept == 0 || values[kept - 1] != values[i] {
            values[kept] = values[i]
            kept += 1
        }
        values.removeLast(values.count - kept)
    }

    /// Zero bytes after the words in `normalisedWords`' buffer.
    static let padding = 32

    /// The normalised words of a text in one buffer (single spaces between, then `padding` zero bytes), with each
    /// word's byte range as `bounds[2i] ..< bounds[2i + 1]`. ASCII bytes go through a branch-free table step; other characters are
    /// decoded from UTF-8 and classified by their Unicode properties.
    func normalisedWords(_ text: String) -> (buffer: [UInt8], bounds: [Int32]) {
        var text = text
        return text.withUTF8 { input -> ([UInt8], [Int32]) in
            // Lowercasing grows a character by at most half again (U+0130 → "i̇", U+023A → U+2C65), and a
            // separating space is only written where a separator byte stood, so 2x the input would fit; 3x
            // leaves room for any future case mapping. Words are separated by at least one byte, so there are
            // at most (n + 1) / 2 of them and n + 2 bounds.
            var bounds = [Int32](repeating: 0, count: input.count + 2)
            var boundCount = 0
            let buffer = [UInt8](unsafeUninitializedCapacity: input.count * 3 + 8 + Self.padding) { out, written in
                bounds.withUnsafeMutableBufferPointer { bounds in
                    (written, boundCount) = writeWords(input, out: out.baseAddress!, bounds: bounds.baseAddress!)
                }
                // Zero padding after the words, so short n-grams can be hashed with fixed-size loads.
                for k in written..<(written + Self.padding) { out[k] = 0 }
                written += Self.padding
            }
            bounds.removeLast(bounds.count - boundCount)
            return (buffer, bounds)
        }
    }

    /// How `normalisedWords` treats each ASCII byte under this normalisation: the byte it writes for a word
    /// character, or 0 for a separator (whitespace; punctuation that separates) and 1 for a byte that is dropped
    /// without ending the word (punctuation when it neither separates nor stays).
    private func asciiTable() -> [UInt8] {
        (0..<128).map { c -> UInt8 in
            let byte = UInt8(c)
            switch byte {
            case 0x30...0x39: return normalisation.digitsToZero ? 0x30 : byte
            case 0x41...0x5A: return normalisation.lowercase ? byte | 0x20 : byte
            case 0x61...0x7A, 0x5F: return byte
            case 0x20, 0x09...0x0D: return 0
            default: return normalisation.removePunctuation && !normalisation.punctuationSeparates ? 1 : 0
            }
        }
    }

    /// Writes the words of `input` to `out`; returns the bytes written and the number of bounds.
    ///
    /// Each ASCII byte is one branch-free step (word starts and ends are data, not jumps, since they come every
    /// few bytes and mispredict): a word byte is written; the first separator after a word writes a space and
    /// records the word's end; a word's first byte records its start. The space after the last word is trimmed.
    private func writeWords(_ input: UnsafeBufferPointer<UInt8>, out: UnsafeMutablePointer<UInt8>,
                            bounds: UnsafeMutablePointer<Int32>) -> (Int, Int) {
        let table = asciiTable()
        let lowercase = normalisation.lowercase, digitsToZero = normalisation.digitsToZero
        let removePunctuation = normalisation.removePunctuation, punctuationSeparates = normalisation.punctuationSeparates
        var o = 0, boundCount = 0, inWord = 0
        table.withUnsafeBufferPointer { table in
            var i = 0
            let n = input.count
            while i < n {
                let c = input[i]
                if c < 0x80 {
                    let mapped = table[Int(c)]
                    let isWord = mapped > 1 ? 1 : 0, isSeparator = mapped == 0 ? 1 : 0
                    let starts = isWord & (inWord ^ 1), ends = isSeparator & inWord
                    bounds[boundCount] = Int32(o)
                    boundCount += starts | ends
                    out[o] = isWord == 1 ? mapped : 0x20
                    o += isWord | ends
                    inWord = isWord | (inWord & (isSeparator ^ 1))
                    i += 1
                    continue
                }
                // A multi-byte UTF-8 sequence (the String is valid UTF-8).
                let length = c >= 0xF0 ? 4 : (c >= 0xE0 ? 3 : 2)
                var value = UInt32(c) & (length == 2 ? 0x1F : (length == 3 ? 0x0F : 0x07))
                for k in 1..<length { value = value << 6 | UInt32(input[i + k] & 0x3F) }
                let sequence = i..<(i + length)
                i += length
                let properties = Unicode.Scalar(value)!.properties
                let separates: Bool
                if properties.isWhitespace {
                    separates = true
                } else if removePunctuation && (properties.generalCategory.isPunctuation || properties.generalCategory.isSymbol) {
                    if !punctuationSeparates { continue }
                    separates = true
                } else {
                    separates = false
                }
                if separates {
                    if inWord == 1 { bounds[boundCount] = Int32(o); boundCount += 1; out[o] = 0x20; o += 1; inWord = 0 }
                    continue
                }
                if inWord == 0 { bounds[boundCount] = Int32(o); boundCount += 1; inWord = 1 }
                if digitsToZero && properties.numericType == .decimal {
                    out[o] = 0x30; o += 1
                } else if lowercase && properties.changesWhenLowercased {
                    for byte in properties.lowercaseMapping.utf8 { out[o] = byte; o += 1 }
                } else {
                    for k in sequence { out[o] = input[k]; o += 1 }
                }
            }
        }
        if inWord == 1 {
            bounds[boundCount] = Int32(o); boundCount += 1
        } else if boundCount > 0 {
            o -= 1 // the space written after the last word
        }
        return (o, boundCount)
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
    /// numpy arithmetic does; one multiply per shingle and permutation.) The loop runs in `CThreshKernels`: eight
    /// permutations per AVX-512 instruction where the CPU has it, else a portable loop with identical results.
    public func signature(_ shingles: [UInt64]) -> [UInt64] {
        run(thresh_minhash64_signature, shingles)
    }

    /// The signature by the kernel's portable loop, whatever the CPU (tests compare it with `signature`).
    func portableSignature(_ shingles: [UInt64]) -> [UInt64] {
        run(thresh_minhash64_signature_portable, shingles)
    }

    private typealias Kernel = (UnsafePointer<UInt64>?, UnsafePointer<UInt64>?, Int, UnsafePointer<UInt64>?, Int,
                                UnsafeMutablePointer<UInt64>?) -> Void

    private func run(_ kernel: Kernel, _ shingles: [UInt64]) -> [UInt64] {
        [UInt64](unsafeUninitializedCapacity: a.count) { out, initialized in
            a.withUnsafeBufferPointer { a in
                b.withUnsafeBufferPointer { b in
                    shingles.withUnsafeBufferPointer { x in
                        kernel(a.baseAddress, b.baseAddress, a.count, x.baseAddress, x.count, out.baseAddress)
                    }
                }
            }
            initialized = a.count
        }
    }

    /// The same signature by a plain Swift loop: the reference the kernel is tested against.
    public func referenceSignature(_ shingles: [UInt64]) -> [UInt64] {
        var minimum = [UInt64](repeating: .max, count: a.count)
        for k in 0..<a.count {
            var m = UInt64.max
            for x in shingles { m = Swift.min(m, Self.reduce(a[k] &* x &+ b[k])) }
            minimum[k] = m
        }
        return minimum
    }

    /// Which loop `signature` runs on this machine ("avx512" or "portable").
    public static var kernel: String { String(cString: thresh_minhash64_kernel()) }
}

/// The canonical form of a URL for URL dedup: scheme and host lower-cased, the scheme's default port dropped, the
/// fragment dropped, tracking parameters (`utm_*` and the names given) dropped from the query, the remaining
/// parameters kept in their order; an empty path is "/".
public struct URLCanonicalizer: Sendable, Equatable {
    /// Query parameters dropped besides every `utm_*` one (compared lower-cased).
    public var dropParameters: Set<String>

    /// Click and campaign identifiers that trackers add to links.
    public static let trackingParameters: Set<String> = ["fbclid", "gclid", "dclid", "msclkid", "yclid", "mc_cid", "mc_eid",
                                                         "_ga", "igshid", "ref_src", "spm"]

    public init(dropParameters: Set<String> = URLCanonicalizer.trackingParameters) { self.dropParameters = dropParameters }

    /// The canonical URL, or nil for a string with no scheme and host.
    public func canonical(_ url: String) -> String? {
        var s = Substring(url.trimmingCharacters(in: .whitespaces))
        if let hash = s.firstIndex(of: "#") { s = s[..<hash] }
        guard let colon = s.range(of: "://") else { return nil }
        let scheme = s[..<colon.lowerBound].lowercased()
        var rest = s[colon.upperBound...]
        let authorityEnd = rest.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
        var authority = rest[..<authorityEnd].lowercased()
        rest = rest[authorityEnd...]
        if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
        if let portColon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            let port = authority[authority.index(after: portColon)...]
            if port.isEmpty || (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
                authority = String(authority[..<portColon])
            }
        }
        guard !authority.isEmpty else { return nil }
        var path = rest
        var query: Substring = ""
        if let q = rest.firstIndex(of: "?") {
            path = rest[..<q]
            query = rest[rest.index(after: q)...]
        }
        let kept = query.split(separator: "&", omittingEmptySubsequences: true).filter { parameter in
            let name = (parameter.split(separator: "=", maxSplits: 1).first.map(String.init) ?? "").lowercased()
            return !name.hasPrefix("utm_") && !dropParameters.contains(name)
        }
        var out = scheme + "://" + authority + (path.isEmpty ? "/" : String(path))
        if !kept.isEmpty { out += "?" + kept.joined(separator: "&") }
        return out
    }
}
