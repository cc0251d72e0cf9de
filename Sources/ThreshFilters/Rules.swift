import ThreshCore

/// One quantity a rule measured, against the threshold it is held to.
public struct Measurement: Sendable {
    /// The signal's name (`attrs.RULE.NAME` with `--annotate`).
    public var name: String
    public var value: Double
    /// The threshold, when the rule compares this value with one (nil: a signal only, or the check is off).
    public var threshold: Double?
    /// `"<"`: the document fails when the value is below the threshold; `">"`: when above.
    public var failsWhen: String
    /// The reason string (datatrove's) this check gives when it fails.
    public var reason: String
    public var failed: Bool
}

/// What one rule found on one document.
public struct RuleOutcome: Sendable {
    public var measurements: [Measurement] = []
    /// The first failing check's reason (datatrove's string), nil when the document passes.
    public var reason: String?
    /// The text after the rule's line edits (C4), when it changed.
    var editedText: [UInt32]?
    /// Per-line counters (C4's line-total, line-kept, line-filter-…).
    public var counters: [(String, Int)] = []

    /// Records a check; returns true when the document fails it (and records the reason if it is the first).
    @discardableResult
    mutating func check(_ name: String, _ value: Double, threshold: Double?, failsWhen: String, reason: String) -> Bool {
        var failed = false
        if let threshold {
            failed = failsWhen == "<" ? value < threshold : value > threshold
        }
        measurements.append(Measurement(name: name, value: value, threshold: threshold, failsWhen: failsWhen, reason: reason, failed: failed))
        if failed && self.reason == nil { self.reason = reason }
        return failed
    }

    mutating func fail(_ reason: String) {
        if self.reason == nil { self.reason = reason }
    }

    mutating func signal(_ name: String, _ value: Double) {
        measurements.append(Measurement(name: name, value: value, threshold: nil, failsWhen: "", reason: "", failed: false))
    }
}

/// datatrove's `find_duplicates` (Gopher repetition's lines and paragraphs, FineWeb's lines): the parts equal to an
/// earlier part, and their characters.
func findDuplicates(_ s: [UInt32], _ parts: [Range<Int>]) -> (elements: Int, characters: Int) {
    var seen: [UInt64: [Range<Int>]] = [:]
    var elements = 0, characters = 0
    for p in parts {
        let h = SpacyEnglishTokenizer.hash(s, p.lowerBound, p.upperBound)
        if let same = seen[h], same.contains(where: { $0.count == p.count && s[$0].elementsEqual(s[p]) }) {
            elements += 1
            characters += p.count
        } else {
            seen[h, default: []].append(p)
        }
    }
    return (elements, characters)
}

/// A heuristic rule: datatrove's decision on one document. With `complete`, every check is measured even after the
/// first failure (for `--annotate` and `--explain`); otherwise evaluation stops there, as datatrove's does.
protocol FilterRule: Sendable {
    var name: String { get }
    func evaluate(_ text: FilterText, url: String?, complete: Bool) -> RuleOutcome
}

/// `a / b` where datatrove divides: Python would raise on a zero denominator, which only thresholds turned off
/// upstream can reach; Thresh measures 0 there.
@inline(__always) func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }

/// A threshold datatrove applies only when it is truthy (`if self.x and …`): 0 turns the check off.
@inline(__always) func truthy(_ x: Double) -> Double? { x == 0 ? nil : x }

// MARK: Gopher quality

/// datatrove 0.10.1's `GopherQualityFilter` (Gopher, Rae et al. 2021, appendix A): word counts and lengths, symbol
/// ratios, bullet and ellipsis lines, alphabetic words and stop words, over spaCy's English words.
struct GopherQualityRule: FilterRule {
    let name = "gopher-quality"
    var minDocWords = 50.0, maxDocWords = 100_000.0
    var minAvgWordLength = 3.0, maxAvgWordLength = 10.0
    var maxSymbolWordRatio = 0.1, maxBulletLinesRatio = 0.9, maxEllipsisLinesRatio = 0.3
    var maxNonAlphaWordsRatio = 0.8
    var minStopWords = 2.0
    var stopWords: [[UInt32]] = ["the", "be", "to", "of", "and", "that", "have", "with"].map(PythonText.scalars)

    private static let hash = PythonText.scalars("#"), dots = PythonText.scalars("..."), ellipsis = PythonText.scalars("…")
    private static let bullet = PythonText.scalars("•"), dash = PythonText.scalars("-")

    func evaluate(_ text: FilterText, url: String?, complete: Bool) -> RuleOutcome {
        var out = RuleOutcome()
        let s = text.scalars
        let words = text.words
        let nWords = words.count
        var nonSymbol = 0, nonSymbolLength = 0, alphaWords = 0
        for w in words {
            var symbolOnly = true, hasAlpha = false
            for i in w.start..<w.end {
                let c = s[i]
                if symbolOnly && !CharacterClasses.datatrovePunctuation.contains(c) { symbolOnly = false }
                if !hasAlpha && CharacterClasses.pythonAlpha.contains(c) { hasAlpha = true }
            }
            if !symbolOnly { nonSymbol += 1; nonSymbolLength += w.end - w.start }
            if hasAlpha { alphaWords += 1 }
        }
        if out.check("words", Double(nonSymbol), threshold: truthy(minDocWords), failsWhen: "<", reason: "gopher_short_doc") && !complete { return out }
        if out.check("words", Double(nonSymbol), threshold: truthy(maxDocWords), failsWhen: ">", reason: "gopher_long_doc") && !complete { return out }
        let average = nonSymbol == 0 ? Double.nan : Double(nonSymbolLength) / Double(nonSymbol)
        if out.check("avg_word_length", average, threshold: truthy(minAvgWordLength), failsWhen: "<", reason: "gopher_below_avg_threshold") && !complete { return out }
        if out.check("avg_word_length", average, threshold: truthy(maxAvgWordLength), failsWhen: ">", reason: "gopher_above_avg_threshold") && !complete { return out }
        let hashes = PythonText.count(s, text.all, Self.hash)
        if out.check("hash_ratio", ratio(hashes, nWords), threshold: truthy(maxSymbolWordRatio), failsWhen: ">", reason: "gopher_too_many_hashes") && !complete { return out }
        let ellipses = PythonText.count(s, text.all, Self.dots) + PythonText.count(s, text.all, Self.ellipsis)
        if out.check("ellipsis_ratio", ratio(ellipses, nWords), threshold: truthy(maxSymbolWordRatio), failsWhen: ">", reason: "gopher_too_many_ellipsis") && !complete { return out }
        let lines = PythonText.splitlines(s)
        var bullets = 0, endEllipsis = 0
        for line in lines {
            let l = PythonText.lstrip(s, line)
            if PythonText.hasPrefix(s, l, Self.bullet) || PythonText.hasPrefix(s, l, Self.dash) { bullets += 1 }
            let r = PythonText.rstrip(s, line)
            if PythonText.hasSuffix(s, r, Self.dots) || PythonText.hasSuffix(s, r, Self.ellipsis) { endEllipsis += 1 }
        }
        if out.check("bullet_lines_ratio", ratio(bullets, lines.count), threshold: truthy(maxBulletLinesRatio), failsWhen: ">", reason: "gopher_too_many_bullets") && !complete { return out }
        if out.check("end_ellipsis_lines_ratio", ratio(endEllipsis, lines.count), threshold: truthy(maxEllipsisLinesRatio), failsWhen: ">", reason: "gopher_too_many_end_ellipsis") && !complete { return out }
        if out.check("alpha_words_ratio", ratio(alphaWords, nWords), threshold: truthy(maxNonAlphaWordsRatio), failsWhen: "<", reason: "gopher_below_alpha_threshold") && !complete { return out }
        // Distinct stop words among the words (datatrove intersects sets).
        var present = 0
        for stop in stopWords where words.contains(where: { $0.end - $0.start == stop.count && s[$0.start..<$0.end].elementsEqual(stop) }) { present += 1 }
        out.check("stop_words", Double(present), threshold: truthy(minStopWords), failsWhen: "<", reason: "gopher_enough_stop_words")
        return out
    }
}

// MARK: Gopher repetition

/// datatrove 0.10.1's `GopherRepetitionFilter` (Gopher's table A1): duplicate paragraphs and lines (by count and by
/// characters), the most frequent 2- to 4-gram's characters, and the characters in repeated 5- to 10-grams.
struct GopherRepetitionRule: FilterRule {
    let name = "gopher-repetition"
    var dupLineFrac = 0.3, dupParaFrac = 0.3, dupLineCharFrac = 0.2, dupParaCharFrac = 0.2
    var topNGrams: [(Int, Double)] = [(2, 0.2), (3, 0.18), (4, 0.16)]
    var dupNGrams: [(Int, Double)] = [(5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10)]

    func evaluate(_ text: FilterText, url: String?, complete: Bool) -> RuleOutcome {
        var out = RuleOutcome()
        let s = text.scalars
        guard !s.isEmpty else { out.fail("empty"); return out }
        let length = s.count
        // re.split(r"\n{2,}", text.strip())
        let stripped = PythonText.strip(s, text.all)
        var paragraphs: [Range<Int>] = []
        var start = stripped.lowerBound, i = stripped.lowerBound
        while i < stripped.upperBound {
            if s[i] == 0x0A && i + 1 < stripped.upperBound && s[i + 1] == 0x0A {
                var e = i
                while e < stripped.upperBound && s[e] == 0x0A { e += 1 }
                paragraphs.append(start..<i)
                start = e
                i = e
            } else {
                i += 1
            }
        }
        paragraphs.append(start..<stripped.upperBound)
        let (paraDups, paraChars) = findDuplicates(s, paragraphs)
        if out.check("dup_para_frac", ratio(paraDups, paragraphs.count), threshold: truthy(dupParaFrac), failsWhen: ">", reason: "dup_para_frac") && !complete { return out }
        if out.check("dup_para_char_frac", ratio(paraChars, length), threshold: truthy(dupParaCharFrac), failsWhen: ">", reason: "dup_para_char_frac") && !complete { return out }
        // re.split("\n+", text)
        var lines: [Range<Int>] = []
        start = 0
        i = 0
        while i < length {
            if s[i] == 0x0A {
                var e = i
                while e < length && s[e] == 0x0A { e += 1 }
                lines.append(start..<i)
                start = e
                i = e
            } else {
                i += 1
            }
        }
        lines.append(start..<length)
        let (lineDups, lineChars) = findDuplicates(s, lines)
        if out.check("dup_line_frac", ratio(lineDups, lines.count), threshold: truthy(dupLineFrac), failsWhen: ">", reason: "dup_line_frac") && !complete { return out }
        if out.check("dup_line_char_frac", ratio(lineChars, length), threshold: truthy(dupLineCharFrac), failsWhen: ">", reason: "dup_line_char_frac") && !complete { return out }
        let words = text.words
        var interner = TokenInterner(capacity: words.count)
        let ids = words.map { interner.id(s, $0.start, $0.end) }
        let lengths = words.map { $0.end - $0.start }
        let idHashes = RollingHash(ids.map { UInt64($0) &+ 1 })
        let table = NGramTable(capacity: words.count)
        for (n, fraction) in topNGrams {
            guard words.count >= n, n > 0 else {
                out.signal("top_\(n)_gram", 0)
                continue
            }
            let top = topNGramCharacters(ids: ids, hashes: idHashes, lengths: lengths, n: n, table: table)
            if out.check("top_\(n)_gram", ratio(top, length), threshold: fraction, failsWhen: ">", reason: "top_\(n)_gram") && !complete { return out }
        }
        // The words' code points end to end, for the joined n-grams of the dup-n-grams checks.
        var units: [UInt64] = []
        var offsets = [0]
        units.reserveCapacity(length)
        for w in words {
            for k in w.start..<w.end { units.append(UInt64(s[k])) }
            offsets.append(units.count)
        }
        let joined = RollingHash(units)
        for (n, fraction) in dupNGrams {
            let repeated = repeatedNGramCharacters(words, joined: joined, offsets: offsets, n: n, table: table)
            if out.check("duplicated_\(n)_n_grams", ratio(repeated, length), threshold: fraction, failsWhen: ">", reason: "duplicated_\(n)_n_grams") && !complete { return out }
        }
        return out
    }

    /// datatrove's `find_top_duplicate`: the characters of the most frequent n-gram (joined with spaces) times its
    /// count; among equally frequent ones, the first seen (Counter.most_common's order). N-grams are keyed by a
    /// rolling hash of their token numbers and compared number by number when hashes meet.
    private func topNGramCharacters(ids: [Int], hashes: RollingHash, lengths: [Int], n: Int, table: NGramTable) -> Int {
        table.reset()
        var best = (count: 0, first: Int.max)
        for i in 0...(ids.count - n) {
            let entry = table.record(hashes.of(i, i + n), at: i) { ids[$0..<$0 + n].elementsEqual(ids[i..<i + n]) }
            if entry.count > best.count || (entry.count == best.count && entry.first < best.first) {
                best = (entry.count, entry.first)
            }
        }
        var characters = n - 1
        for k in best.first..<best.first + n { characters += lengths[k] }
        return characters * best.count
    }

    /// datatrove's `find_all_duplicate`: walking the words, an n-gram (joined without spaces) seen before adds its
    /// characters and skips n words; otherwise it is remembered and the walk moves one word. The joined strings are
    /// keyed by a rolling hash over the words' code points laid end to end, and compared when hashes meet.
    private func repeatedNGramCharacters(_ words: [TextToken], joined: RollingHash, offsets: [Int], n: Int, table: NGramTable) -> Int {
        guard n > 0, words.count >= n else { return 0 }
        table.reset()
        var repeated = 0
        var idx = 0
        func joinedEqual(_ a: Int, _ b: Int) -> Bool {
            offsets[a + n] - offsets[a] == offsets[b + n] - offsets[b]
                && joined.units[offsets[a]..<offsets[a + n]].elementsEqual(joined.units[offsets[b]..<offsets[b + n]])
        }
        while idx < words.count - n + 1 {
            let i = idx
            if table.containsOrInsert(joined.of(offsets[i], offsets[i + n]), at: i, equal: { joinedEqual($0, i) }) {
                repeated += offsets[i + n] - offsets[i]
                idx += n
            } else {
                idx += 1
            }
        }
        return repeated
    }
}

/// A polynomial hash of every slice of a sequence in constant time (prefix hashes modulo 2^64, an odd multiplier).
/// Collisions are possible, so callers compare contents when two hashes meet.
struct RollingHash {
    let units: [UInt64]
    private var prefix: [UInt64]
    private var powers: [UInt64]
    private static let base: UInt64 = 0x9E37_79B9_7F4A_7C15 | 1

    init(_ units: [UInt64]) {
        self.units = units
        prefix = [UInt64](repeating: 0, count: units.count + 1)
        powers = [UInt64](repeating: 1, count: units.count + 1)
        for (i, u) in units.enumerated() {
            prefix[i + 1] = prefix[i] &* Self.base &+ u
            powers[i + 1] = powers[i] &* Self.base
        }
    }

    /// The hash of `units[a..<b]`, mixed so that nearby values spread over a table.
    @inline(__always)
    func of(_ a: Int, _ b: Int) -> UInt64 {
        var h = prefix[b] &- prefix[a] &* powers[b - a]
        h ^= h >> 31
        h &*= 0xBF58_476D_1CE4_E5B9
        h ^= h >> 29
        return h
    }
}

/// An open-addressing table from n-gram hashes to the first position with that n-gram and how often it occurred.
/// Equal hashes with different contents (told apart by the caller's comparison) take separate slots. `reset` empties
/// it in constant time (a slot is in use only when stamped with the current generation), so one table serves every
/// n of a document. The slots live in one buffer this class owns (one cache line per probe, no copy-on-write
/// checks in the loop); nothing else sees the pointer.
final class NGramTable {
    /// 16 bytes: the hash's high half as a tag (contents are compared when tags meet), the first position, the count
    /// and the generation, so a table of a few thousand n-grams stays in the first-level cache.
    private struct Slot {
        var tag: UInt32
        var first: Int32
        var count: Int32
        var stamp: UInt32
    }

    private let slots: UnsafeMutableBufferPointer<Slot>
    private var generation: UInt32 = 1
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity * 2 { size <<= 1 }
        slots = .allocate(capacity: size)
        slots.initialize(repeating: Slot(tag: 0, first: 0, count: 0, stamp: 0))
        mask = size - 1
    }

    deinit { slots.deallocate() }

    func reset() { generation &+= 1 }

    /// Counts one occurrence at `position`; returns the n-gram's count so far and its first position.
    func record(_ hash: UInt64, at position: Int, equal: (Int) -> Bool) -> (count: Int, first: Int) {
        var i = Int(truncatingIfNeeded: hash) & mask
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        while slots[i].stamp == generation {
            if slots[i].tag == tag && equal(Int(slots[i].first)) {
                slots[i].count += 1
                return (Int(slots[i].count), Int(slots[i].first))
            }
            i = (i + 1) & mask
        }
        slots[i] = Slot(tag: tag, first: Int32(position), count: 1, stamp: generation)
        return (1, position)
    }

    /// Whether an equal n-gram is in the table; if not, adds this one.
    func containsOrInsert(_ hash: UInt64, at position: Int, equal: (Int) -> Bool) -> Bool {
        var i = Int(truncatingIfNeeded: hash) & mask
        let tag = UInt32(truncatingIfNeeded: hash >> 32)
        while slots[i].stamp == generation {
            if slots[i].tag == tag && equal(Int(slots[i].first)) { return true }
            i = (i + 1) & mask
        }
        slots[i] = Slot(tag: tag, first: Int32(position), count: 1, stamp: generation)
        return false
    }
}

// MARK: C4

/// datatrove 0.10.1's `C4QualityFilter` (Raffel et al. 2020 as datatrove implements it): lines are kept only if
/// they end in terminal punctuation (not an ellipsis), have enough words, no over-long word, and mention neither
/// javascript nor a cookie or terms policy; Wikipedia citation marks are removed; "lorem ipsum" or a curly bracket
/// drops the document; too few sentences in what is kept drops it. The text becomes the kept lines.
struct C4Rule: FilterRule {
    let name = "c4"
    var splitParagraph = true
    var removeCitations = true
    var filterNoTerminalPunct = true
    var minNumSentences = 5
    var minWordsPerLine = 3
    var maxWordLength = 1000
    var filterLoremIpsum = true
    var filterJavascript = true
    var filterCurlyBracket = true
    var filterPolicy = true

    private static let endPunctuation: [UInt32] = [0x2E, 0x3F, 0x21, 0x22, 0x27]
    private static let dots = PythonText.scalars("...")
    private static let lorem = PythonText.scalars("lorem ipsum"), javascript = PythonText.scalars("javascript")
    private static let policies = ["terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies"].map(PythonText.scalars)
    private static let edit = PythonText.scalars("[edit]"), citationNeeded = PythonText.scalars("[citation needed]")

    func evaluate(_ text: FilterText, url: String?, complete: Bool) -> RuleOutcome {
        var out = RuleOutcome()
        let s = text.scalars
        let pieces: [Range<Int>]
        if splitParagraph {
            pieces = PythonText.splitlines(s)
        } else {
            pieces = SentenceSplitter.parts(text)
        }
        var sentences = 0
        var kept: [[UInt32]] = []
        var total = 0, tooLong = 0, noTerminal = 0, tooFew = 0, javascriptLines = 0, policyLines = 0
        var documentReason: String?
        for piece in pieces {
            let stripped = PythonText.strip(s, piece)
            let (wordCount, longestWord) = PythonText.wordCountAndLongest(s, stripped)
            total += 1
            if maxWordLength != -1 && longestWord > maxWordLength { tooLong += 1; continue }
            var line = Array(s[stripped])
            if removeCitations { line = Self.removeCitations(line) }
            let all = 0..<line.count
            if filterNoTerminalPunct && (!(line.last.map { Self.endPunctuation.contains($0) } ?? false) || PythonText.hasSuffix(line, all, Self.dots)) {
                noTerminal += 1
                continue
            }
            if wordCount < minWordsPerLine { tooFew += 1; continue }
            let lower = PythonText.lowerForASCIINeedles(line, all)
            let lowerAll = 0..<lower.count
            if filterLoremIpsum && PythonText.contains(lower, lowerAll, Self.lorem) { documentReason = "lorem_ipsum"; break }
            if filterJavascript && PythonText.contains(lower, lowerAll, Self.javascript) { javascriptLines += 1; continue }
            if filterCurlyBracket && line.contains(0x7B) { documentReason = "curly_bracket"; break }
            if filterPolicy && Self.policies.contains(where: { PythonText.contains(lower, lowerAll, $0) }) { policyLines += 1; continue }
            if minNumSentences != -1 {
                if splitParagraph {
                    if line.count == stripped.count, let documentTokens = text.cachedTokenList {
                        // An unedited line tokenizes as the document's tokens inside it do (both cut at whitespace;
                        // no special case spans a line end), and an earlier rule already made those.
                        var lo = 0, hi = documentTokens.count
                        while lo < hi { let mid = (lo + hi) / 2; if documentTokens[mid].start < stripped.lowerBound { lo = mid + 1 } else { hi = mid } }
                        var end = lo
                        while end < documentTokens.count && documentTokens[end].end <= stripped.upperBound { end += 1 }
                        sentences += max(1, SpacyEnglishTokenizer.shared.sentenceCount(s, Array(documentTokens[lo..<end])))
                    } else {
                        let lineText = FilterText(scalars: line)
                        sentences += max(1, SpacyEnglishTokenizer.shared.sentenceCount(line, lineText.tokens))
                    }
                } else {
                    sentences += 1
                }
            }
            kept.append(line)
        }
        out.counters = [("line-total", total), ("line-filter-too_long_word", tooLong), ("line-filter-no_terminal_punc", noTerminal),
                        ("line-filter-too_few_words", tooFew), ("line-filter-javascript", javascriptLines),
                        ("line-filter-policy", policyLines), ("line-kept", kept.count)]
        out.signal("lines", Double(total))
        out.signal("lines_kept", Double(kept.count))
        if let documentReason {
            out.check(documentReason, 1, threshold: 0, failsWhen: ">", reason: documentReason)
            return out
        }
        out.check("sentences", Double(sentences), threshold: Double(minNumSentences), failsWhen: "<", reason: "too_few_sentences")
        // "\n".join(kept_lines).strip()
        var joined: [UInt32] = []
        for (k, line) in kept.enumerated() {
            if k > 0 { joined.append(splitParagraph ? 0x0A : 0x20) }
            joined.append(contentsOf: line)
        }
        let trimmed = PythonText.strip(joined, 0..<joined.count)
        let edited = Array(joined[trimmed])
        if edited != s { out.editedText = edited }
        return out
    }

    /// `re.sub(r"\[\d*]|\[edit]|\[citation needed]", "", line)` (`\d` is any Unicode decimal digit).
    static func removeCitations(_ line: [UInt32]) -> [UInt32] {
        guard line.contains(0x5B) else { return line }
        var out: [UInt32] = []
        out.reserveCapacity(line.count)
        var i = 0
        let all = 0..<line.count
        while i < line.count {
            if line[i] == 0x5B {
                var e = i + 1
                while e < line.count && CharacterClasses.pythonDigit.contains(line[e]) { e += 1 }
                if e < line.count && line[e] == 0x5D { i = e + 1; continue }
                let rest = i..<all.upperBound
                if PythonText.hasPrefix(line, rest, edit) { i += edit.count; continue }
                if PythonText.hasPrefix(line, rest, citationNeeded) { i += citationNeeded.count; continue }
            }
            out.append(line[i])
            i += 1
        }
        return out
    }
}

/// datatrove's `split_into_sentences`: the text cut after each sentence spaCy's sentencizer ends (so the pieces
/// cover the text; the last runs to its end).
enum SentenceSplitter {
    static func parts(_ text: FilterText) -> [Range<Int>] {
        let tokens = text.tokens
        guard !tokens.isEmpty else { return [text.all] }
        var ends: [Int] = []
        SpacyEnglishTokenizer.shared.forEachSentenceStart(text.scalars, tokens) { ends.append(tokens[$0 - 1].end) }
        ends.append(tokens[tokens.count - 1].end)
        if ends.count == 1 { return [text.all] }
        var parts: [Range<Int>] = []
        var start = 0
        for (k, e) in ends.enumerated() {
            let end = k == ends.count - 1 ? text.count : e
            parts.append(start..<end)
            start = end
        }
        return parts
    }
}

// MARK: FineWeb quality

/// datatrove 0.10.1's `FineWebQualityFilter` (FineWeb's three extra rules): the share of lines ending in terminal
/// punctuation, the share of short lines, characters in duplicated lines, and newlines per word.
struct FineWebQualityRule: FilterRule {
    let name = "fineweb-quality"
    var linePunctThr = 0.12
    var linePunctExcludeZero = false
    var stopChars: ScalarSet = CharacterClasses.datatroveTerminalPunctuation
    var shortLineThr = 0.67
    var shortLineLength = 30
    var charDuplicatesRatio = 0.01
    var newLineRatio = 0.3

    func evaluate(_ text: FilterText, url: String?, complete: Bool) -> RuleOutcome {
        var out = RuleOutcome()
        let s = text.scalars
        let lines = PythonText.split(s, text.all, on: 0x0A).filter { !PythonText.isBlank(s, $0) }
        guard !lines.isEmpty else { out.fail("empty"); return out }
        let punctuated = lines.filter { stopChars.contains(s[$0.upperBound - 1]) }.count
        let punctRatio = ratio(punctuated, lines.count)
        let punctFails = punctRatio < linePunctThr && !(punctRatio == 0 && linePunctExcludeZero)
        out.measurements.append(Measurement(name: "line_punct_ratio", value: punctRatio, threshold: linePunctThr, failsWhen: "<",
                                            reason: "line_punct_ratio", failed: punctFails))
        if punctFails { out.fail("line_punct_ratio"); if !complete { return out } }
        let short = lines.filter { $0.count <= shortLineLength }.count
        if out.check("short_line_ratio", ratio(short, lines.count), threshold: shortLineThr, failsWhen: ">", reason: "short_line_ratio") && !complete { return out }
        let duplicateCharacters = findDuplicates(s, lines).characters
        let newlines = s.reduce(0) { $0 + ($1 == 0x0A ? 1 : 0) }
        if out.check("char_dup_ratio", ratio(duplicateCharacters, s.count - newlines), threshold: charDuplicatesRatio, failsWhen: ">", reason: "char_dup_ratio") && !complete { return out }
        out.check("list_ratio", ratio(newlines, text.words.count), threshold: newLineRatio, failsWhen: ">", reason: "list_ratio")
        return out
    }

}
