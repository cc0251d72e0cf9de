/// A set of Unicode code points as a bitmap over the whole code space (139 KB), built from the generated range
/// strings (`"41-5A,61-7A,AA"`, hexadecimal), so membership is one load and a mask.
struct ScalarSet: Sendable {
    private var words: [UInt64]

    init(ranges: String) {
        words = [UInt64](repeating: 0, count: 0x110000 / 64)
        for part in ranges.split(separator: ",") {
            let bounds = part.split(separator: "-")
            guard let low = UInt32(bounds[0], radix: 16) else { preconditionFailure("bad range \(part)") }
            let high = bounds.count > 1 ? UInt32(bounds[1], radix: 16)! : low
            for c in low...high { words[Int(c >> 6)] |= 1 << UInt64(c & 63) }
        }
    }

    init(scalars: String) {
        words = [UInt64](repeating: 0, count: 0x110000 / 64)
        for s in scalars.unicodeScalars { words[Int(s.value >> 6)] |= 1 << UInt64(s.value & 63) }
    }

    mutating func insert(_ c: UInt32) { words[Int(c >> 6)] |= 1 << UInt64(c & 63) }

    @inline(__always)
    func contains(_ c: UInt32) -> Bool {
        c < 0x110000 && words[Int(c >> 6)] & (1 << UInt64(c & 63)) != 0
    }
}

/// The character classes the filters need, each built once.
enum CharacterClasses {
    static let alpha = ScalarSet(ranges: SpacyEnglishData.alpha)
    static let alphaLower = ScalarSet(ranges: SpacyEnglishData.alphaLower)
    static let alphaUpper = ScalarSet(ranges: SpacyEnglishData.alphaUpper)
    static let icons = ScalarSet(ranges: SpacyEnglishData.icons)
    static let prefixOne = ScalarSet(ranges: SpacyEnglishData.prefixOne)
    static let suffixOne = ScalarSet(ranges: SpacyEnglishData.suffixOne)
    static let dotAfter = ScalarSet(ranges: SpacyEnglishData.dotAfter)
    static let infixDotBefore = ScalarSet(ranges: SpacyEnglishData.infixDotBefore)
    static let infixDotAfter = ScalarSet(ranges: SpacyEnglishData.infixDotAfter)
    /// Python's `str.isspace` (also what `strip()` and `split()` remove).
    static let space = ScalarSet(ranges: SpacyEnglishData.pythonSpace)
    /// Python's `str.isalpha`.
    static let pythonAlpha = ScalarSet(ranges: SpacyEnglishData.pythonAlpha)
    /// Unicode category P (spaCy's `is_punct` is every character in it).
    static let punctuation = ScalarSet(ranges: SpacyEnglishData.pythonPunctuation)
    /// Python's `\w` and `\d` in a str pattern.
    static let pythonWord = ScalarSet(ranges: SpacyEnglishData.pythonWord)
    static let pythonDigit = ScalarSet(ranges: SpacyEnglishData.pythonDigit)
    static let datatrovePunctuation = ScalarSet(ranges: SpacyEnglishData.datatrovePunctuation)
    static let datatroveTerminalPunctuation = ScalarSet(ranges: SpacyEnglishData.datatroveTerminalPunctuation)
    static let sentencePunctuation = ScalarSet(scalars: SpacyEnglishData.sentencePunctuation.joined())
}
