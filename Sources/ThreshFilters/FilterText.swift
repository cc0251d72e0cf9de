/// A document's text as the rules see it: its code points, and its spaCy tokens computed once, when a rule first
/// asks (C4's line edits make a new `FilterText`).
final class FilterText {
    private var source: String?
    private var cachedScalars: [UInt32]?
    private var cachedTokens: [TextToken]?
    private var cachedWords: [TextToken]?

    /// The text, decoded into code points only when a rule first reads it (the url rule never does).
    init(_ text: String) { source = text }
    init(scalars: [UInt32]) { cachedScalars = scalars }

    var scalars: [UInt32] {
        if let cachedScalars { return cachedScalars }
        let s = PythonText.scalars(source ?? "")
        cachedScalars = s
        return s
    }

    var count: Int { scalars.count }
    var all: Range<Int> { 0..<scalars.count }

    /// The tokens if a rule has already made them.
    var cachedTokenList: [TextToken]? { cachedTokens }

    /// Every spaCy token, whitespace tokens included (the sentencizer sees them).
    var tokens: [TextToken] {
        if let cachedTokens { return cachedTokens }
        let t = SpacyEnglishTokenizer.shared.tokens(scalars)
        cachedTokens = t
        return t
    }

    /// datatrove's `split_into_words`: the tokens that are not whitespace (its `strip_strings`).
    var words: [TextToken] {
        if let cachedWords { return cachedWords }
        let w = tokens.filter { !$0.isSpace }
        cachedWords = w
        return w
    }

    var string: String { PythonText.string(scalars, all) }
}

/// Interned token texts: equal texts get equal numbers, so n-grams compare as number sequences (an open-addressing
/// table over the texts' hashes, texts compared when hashes meet).
struct TokenInterner {
    private var hashes: [UInt64]
    private var starts: [Int32]
    private var ends: [Int32]
    private var ids: [Int32]
    private let mask: Int
    private(set) var count = 0

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        hashes = [UInt64](repeating: 0, count: size)
        starts = [Int32](repeating: 0, count: size)
        ends = [Int32](repeating: 0, count: size)
        ids = [Int32](repeating: -1, count: size)
        mask = size - 1
    }

    mutating func id(_ s: [UInt32], _ start: Int, _ end: Int) -> Int {
        let h = SpacyEnglishTokenizer.hash(s, start, end)
        var slot = Int(truncatingIfNeeded: ((h ^ (h >> 32)) &* 0x9E37_79B9_7F4A_7C15) >> 16) & mask
        while ids[slot] >= 0 {
            if hashes[slot] == h {
                let a = Int(starts[slot]), b = Int(ends[slot])
                if b - a == end - start && s[a..<b].elementsEqual(s[start..<end]) { return Int(ids[slot]) }
            }
            slot = (slot + 1) & mask
        }
        hashes[slot] = h
        starts[slot] = Int32(start)
        ends[slot] = Int32(end)
        ids[slot] = Int32(count)
        count += 1
        return count - 1
    }
}
