/// A token of a text: a range of its code points (`[start, end)`), and whether it is whitespace (spaCy keeps runs of
/// whitespace beyond one space as tokens; datatrove's word lists drop them).
public struct TextToken: Sendable, Equatable {
    public var start: Int
    public var end: Int
    public var isSpace: Bool
}

/// spaCy 3.8's English tokenizer (`spacy.blank("en")`, what datatrove splits English words and sentences with),
/// ported rule for rule and checked against spaCy's own output (Tests/Fixtures/spacy):
///
/// 1. The text is cut at whitespace as spaCy cuts it (one space after a token is its trailing space; any other run of
///    whitespace is a token).
/// 2. Each piece that is not a special case is stripped of prefixes and suffixes in spaCy's loop (a special case
///    left after a prefix or suffix stops it), with spaCy's English expressions: the prefix is the first alternative
///    that matches at the start, the suffix the one that starts leftmost (so the longest).
/// 3. What is left is a special case, a URL (spaCy's `URL_PATTERN`), or is split at its infixes.
/// 4. Special cases that span several tokens (emoticons after a word, "U.S." before a comma) are re-joined as
///    spaCy's phrase matcher re-joins them: longest first, then latest.
///
/// Texts are arrays of Unicode scalar values, as Python indexes strings. The tables come from
/// `scripts/make-spacy-tables`.
public struct SpacyEnglishTokenizer: Sendable {
    /// The one instance (its tables are built once per process).
    public static let shared = SpacyEnglishTokenizer()

    private struct Special: Sendable {
        var text: [UInt32]
        /// The lengths of the tokens it becomes.
        var pieces: [Int]
    }

    /// A special case that affixes or infixes would split: the token texts spaCy's matcher looks for.
    private struct MatcherRule: Sendable {
        var text: [UInt32]
        var pattern: [[UInt32]]
        var pieces: [Int]
    }

    private var specialList: [Special] = []
    private var specialIndex = HashIndex()
    private var longestSpecial = 0
    private var matcherList: [MatcherRule] = []
    private var matcherIndex = HashIndex()
    /// The first code points of special cases and of matcher patterns: a token starting otherwise needs no lookup.
    private var specialStarts = ScalarSet(scalars: "")
    /// The special cases' first two code points (low bytes, 0 for a one-character case), as a 64K-bit filter.
    private var specialPairs = [UInt64](repeating: 0, count: 1024)
    private var matcherStarts = ScalarSet(scalars: "")
    private let units: [[UInt32]]
    private let currency: [[UInt32]]
    // The character classes, held here so the hot loops do not go through a global's lazy initialisation.
    private let space = CharacterClasses.space, alpha = CharacterClasses.alpha, alphaUpper = CharacterClasses.alphaUpper
    private let alphaLower = CharacterClasses.alphaLower, icons = CharacterClasses.icons
    private let prefixOne = CharacterClasses.prefixOne, suffixOne = CharacterClasses.suffixOne
    private let dotAfter = CharacterClasses.dotAfter, infixDotBefore = CharacterClasses.infixDotBefore
    private let infixDotAfter = CharacterClasses.infixDotAfter, punctuation = CharacterClasses.punctuation
    private let sentenceEnd = CharacterClasses.sentencePunctuation

    private init() {
        units = SpacyEnglishData.units.map { $0.unicodeScalars.map(\.value) }
        currency = SpacyEnglishData.currency.map { $0.unicodeScalars.map(\.value) }
        var rules: [Special] = []
        for line in SpacyEnglishData.exceptions.split(separator: "\n", omittingEmptySubsequences: false) {
            guard let tab = line.firstIndex(of: "\t") else { continue }
            let text = Array(line[..<tab].unicodeScalars.map(\.value))
            let pieces = line[line.index(after: tab)...].split(separator: "\u{1F}", omittingEmptySubsequences: false)
                .map { $0.unicodeScalars.count }
            rules.append(Special(text: text, pieces: pieces))
        }
        for rule in rules {
            specialIndex.insert(Self.hash(rule.text, 0, rule.text.count), specialList.count)
            if let first = rule.text.first {
                specialStarts.insert(first)
                let key = Self.pairKey(first, rule.text.count > 1 ? rule.text[1] : 0)
                specialPairs[key >> 6] |= 1 << UInt64(key & 63)
            }
            specialList.append(rule)
            longestSpecial = max(longestSpecial, rule.text.count)
        }
        // spaCy adds a special case to its phrase matcher when its text has a prefix, a suffix, an infix or a space;
        // the pattern is the text tokenized without special cases.
        for rule in rules {
            let t = rule.text
            let splits = prefixLength(t, 0, t.count) != 0 || suffixLength(t, 0, t.count) != 0
                || firstInfix(t, 0, t.count) != nil || t.contains(0x20)
            guard splits else { continue }
            var tokens: [TextToken] = []
            tokenize(t, into: &tokens, specialCases: false)
            let pattern = tokens.map { Array(t[$0.start..<$0.end]) }
            guard let first = pattern.first else { continue }
            matcherIndex.insert(Self.hash(first, 0, first.count), matcherList.count)
            matcherStarts.insert(first[0])
            matcherList.append(MatcherRule(text: t, pattern: pattern, pieces: rule.pieces))
        }
    }

    @inline(__always) private static func pairKey(_ a: UInt32, _ b: UInt32) -> Int { Int((a & 0xFF) << 8 | (b & 0xFF)) }

    @inline(__always)
    static func hash(_ s: [UInt32], _ a: Int, _ b: Int) -> UInt64 {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for i in a..<b { h = (h ^ UInt64(s[i])) &* 0x100_0000_01b3 }
        return h
    }

    private func special(_ s: [UInt32], _ a: Int, _ b: Int) -> Special? {
        guard b - a <= longestSpecial, b > a, specialStarts.contains(s[a]) else { return nil }
        let key = Self.pairKey(s[a], b - a > 1 ? s[a + 1] : 0)
        guard specialPairs[key >> 6] & (1 << UInt64(key & 63)) != 0 else { return nil }
        var found: Special?
        specialIndex.forEach(Self.hash(s, a, b)) { i in
            let c = specialList[i]
            if c.text.count == b - a && c.text.elementsEqual(s[a..<b]) { found = c; return false }
            return true
        }
        return found
    }

    // MARK: Whitespace

    /// Appends the tokens of `text` (code points) to `tokens`.
    public func tokenize(_ text: [UInt32], into tokens: inout [TextToken]) {
        tokenize(text, into: &tokens, specialCases: true)
    }

    /// The tokens of `text`, whitespace tokens included.
    public func tokens(_ text: [UInt32]) -> [TextToken] {
        var out: [TextToken] = []
        tokenize(text, into: &out)
        return out
    }

    private func tokenize(_ text: [UInt32], into tokens: inout [TextToken], specialCases: Bool) {
        let first = tokens.count
        let n = text.count
        guard n > 0 else { return }
        var inSpace = space.contains(text[0])
        var start = 0
        var i = 0
        var hasSpecial = false
        while i < n {
            let c = text[i]
            if space.contains(c) != inSpace {
                if start < i { piece(text, start, i, isSpace: inSpace, into: &tokens, specialCases: specialCases, hasSpecial: &hasSpecial) }
                start = c == 0x20 ? i + 1 : i
                inSpace.toggle()
            }
            i += 1
        }
        if start < n { piece(text, start, n, isSpace: inSpace, into: &tokens, specialCases: specialCases, hasSpecial: &hasSpecial) }
        if specialCases && !matcherList.isEmpty { applyMatcher(text, &tokens, from: first) }
    }

    private func piece(_ s: [UInt32], _ a0: Int, _ b0: Int, isSpace: Bool, into tokens: inout [TextToken],
                       specialCases: Bool, hasSpecial: inout Bool) {
        if isSpace {
            // Whitespace has no affixes or infixes: one token, or a special case of itself.
            tokens.append(TextToken(start: a0, end: b0, isSpace: true))
            return
        }
        if specialCases, let rule = special(s, a0, b0) {
            appendSpecial(rule, at: a0, into: &tokens)
            return
        }
        // Fast path: ASCII letters only, or ASCII digits only, have no prefix, suffix or infix and are no URL, so
        // (not being a special case) they are one token.
        var letters = true, digits = true
        for i in a0..<b0 {
            let c = s[i] | 0x20
            if !(c >= 0x61 && c <= 0x7A) { letters = false }
            if !Self.isDigit(s[i]) { digits = false }
            if !letters && !digits { break }
        }
        if letters || digits {
            tokens.append(TextToken(start: a0, end: b0, isSpace: false))
            return
        }
        // Second fast path: ASCII letters then one punctuation mark that is the whole suffix ("word," "word."). The
        // loop would strip that suffix (or stop at a special case before it) and find nothing more in the letters,
        // which have no prefix, suffix or infix; so: the letters (or their special case), then the mark.
        if specialCases && b0 - a0 >= 2 && Self.isASCIILetter(s[a0]) && !Self.isASCIILetter(s[b0 - 1])
            && (a0..<b0 - 1).allSatisfy({ Self.isASCIILetter(s[$0]) }) && prefixLength(s, a0, b0) == 0 && suffixLength(s, a0, b0) == 1 {
            if let rule = special(s, a0, b0 - 1) { appendSpecial(rule, at: a0, into: &tokens) }
            else { tokens.append(TextToken(start: a0, end: b0 - 1, isSpace: false)) }
            tokens.append(TextToken(start: b0 - 1, end: b0, isSpace: false))
            return
        }
        var a = a0, b = b0
        var prefixes: [Range<Int>] = []
        var suffixes: [Range<Int>] = []
        var lastSize = -1
        var first = true
        while a < b && b - a != lastSize {
            // The whole piece was looked up above.
            if specialCases && !first && special(s, a, b) != nil { break }
            first = false
            lastSize = b - a
            let pre = prefixLength(s, a, b)
            if pre != 0 && specialCases && a + pre < b && special(s, a + pre, b) != nil {
                prefixes.append(a..<a + pre)
                a += pre
                break
            }
            let suf = suffixLength(s, a + pre, b)
            if suf != 0 && specialCases && a < b - suf && special(s, a, b - suf) != nil {
                suffixes.append(b - suf..<b)
                b -= suf
                break
            }
            if pre != 0 && suf != 0 && pre + suf <= b - a {
                prefixes.append(a..<a + pre)
                suffixes.append(b - suf..<b)
                a += pre
                b -= suf
            } else if pre != 0 {
                prefixes.append(a..<a + pre)
                a += pre
            } else if suf != 0 {
                suffixes.append(b - suf..<b)
                b -= suf
            }
        }
        for p in prefixes { tokens.append(TextToken(start: p.lowerBound, end: p.upperBound, isSpace: false)) }
        if a < b {
            if specialCases, let rule = special(s, a, b) {
                appendSpecial(rule, at: a, into: &tokens)
            } else if firstInfix(s, a, b) == nil || matchesURL(s, a, b) {
                tokens.append(TextToken(start: a, end: b, isSpace: false))
            } else {
                splitInfixes(s, a, b, into: &tokens)
            }
        }
        for p in suffixes.reversed() { tokens.append(TextToken(start: p.lowerBound, end: p.upperBound, isSpace: false)) }
    }

    private func appendSpecial(_ rule: Special, at start: Int, into tokens: inout [TextToken]) {
        var p = start
        for length in rule.pieces {
            tokens.append(TextToken(start: p, end: p + length, isSpace: false))
            p += length
        }
    }

    // MARK: Affixes

    @inline(__always) private static func isDigit(_ c: UInt32) -> Bool { c >= 0x30 && c <= 0x39 }
    @inline(__always) private static func isASCIILetter(_ c: UInt32) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }

    /// spaCy's English prefix expression at the start of `s[a..<b]`: the first alternative that matches.
    func prefixLength(_ s: [UInt32], _ a: Int, _ b: Int) -> Int {
        guard a < b else { return 0 }
        let c = s[a]
        if prefixOne.contains(c) { return 1 }
        switch c {
        case 0x2B: // '+' not before a digit
            return a + 1 < b && Self.isDigit(s[a + 1]) ? 0 : 1
        case 0x2E: // '\.\.+'
            var e = a
            while e < b && s[e] == 0x2E { e += 1 }
            return e - a >= 2 ? e - a : 0
        case 0x55: // 'US$'
            return b - a >= 3 && s[a + 1] == 0x53 && s[a + 2] == 0x24 ? 3 : 0
        case 0x43, 0x41: // 'C$', 'A$'
            return b - a >= 2 && s[a + 1] == 0x24 ? 2 : 0
        default:
            return 0
        }
    }

    /// spaCy's English suffix expression on `s[a..<b]`: every alternative is anchored at the end, and the search
    /// takes the leftmost start, so the suffix is the longest alternative that matches (lookbehinds see only `a..<b`).
    func suffixLength(_ s: [UInt32], _ a: Int, _ b: Int) -> Int {
        let n = b - a
        guard n > 0 else { return 0 }
        let last = s[b - 1]
        var best = suffixOne.contains(last) ? 1 : 0
        if last == 0x2026 && n >= 2 && s[b - 2] == 0x2026 { best = 2 }
        if last == 0x2E {
            var e = b
            while e > a && s[e - 1] == 0x2E { e -= 1 }
            if b - e >= 2 { best = max(best, b - e) }
            if n >= 2 && dotAfter.contains(s[b - 2]) { best = max(best, 1) }
            if n >= 3 && s[b - 3] == 0xB0 && [0x46, 0x66, 0x43, 0x63, 0x4B, 0x6B].contains(s[b - 2]) { best = max(best, 1) }
            if n >= 3 && alphaUpper.contains(s[b - 2]) && alphaUpper.contains(s[b - 3]) { best = max(best, 1) }
        }
        if (last == 0x73 || last == 0x53) && n >= 2 && (s[b - 2] == 0x27 || s[b - 2] == 0x2019) { best = max(best, 2) }
        if last == 0x2B && n >= 2 && Self.isDigit(s[b - 2]) { best = max(best, 1) }
        // '(?<=[0-9])' before a currency sign or a unit (none is longer than seven characters).
        var digitNear = false
        var k = b - 2
        while k >= a && k >= b - 9 { if Self.isDigit(s[k]) { digitNear = true; break }; k -= 1 }
        guard digitNear else { return best }
        for list in [currency, units] {
            for word in list where word.count + 1 <= n && word.count > best && word.last == last {
                let start = b - word.count
                if Self.isDigit(s[start - 1]) && s[start..<b].elementsEqual(word) { best = word.count }
            }
        }
        return best
    }

    // MARK: Infixes

    /// The length of the infix that spaCy's English infix expression matches at `i` (alternatives in their order;
    /// lookarounds see only `a..<b`), or nil.
    private func infix(at i: Int, _ s: [UInt32], _ a: Int, _ b: Int) -> Int? {
        let c = s[i]
        if c == 0x2E && i + 1 < b && s[i + 1] == 0x2E {
            var e = i
            while e < b && s[e] == 0x2E { e += 1 }
            return e - i
        }
        if c == 0x2026 || icons.contains(c) { return 1 }
        guard i > a else { return nil }
        let before = s[i - 1]
        let next: UInt32? = i + 1 < b ? s[i + 1] : nil
        if Self.isDigit(before) && (c == 0x2B || c == 0x2D || c == 0x2A || c == 0x5E), let next, Self.isDigit(next) || next == 0x2D { return 1 }
        if c == 0x2E && infixDotBefore.contains(before), let next, infixDotAfter.contains(next) { return 1 }
        if c == 0x2C && alpha.contains(before), let next, alpha.contains(next) { return 1 }
        if alpha.contains(before) || Self.isDigit(before) {
            // -|–|—|--|---|——|~ followed by a letter, alternatives in order.
            for h in Self.hyphens where i + h.count < b {
                var same = true
                for (k, x) in h.enumerated() where s[i + k] != x { same = false; break }
                if same && alpha.contains(s[i + h.count]) { return h.count }
            }
            if (c == 0x3A || c == 0x3C || c == 0x3E || c == 0x3D || c == 0x2F), let next, alpha.contains(next) { return 1 }
        }
        return nil
    }

    private static let hyphens: [[UInt32]] = SpacyEnglishData.hyphens.map { $0.unicodeScalars.map(\.value) }

    func firstInfix(_ s: [UInt32], _ a: Int, _ b: Int) -> Int? {
        var i = a
        while i < b {
            if infix(at: i, s, a, b) != nil { return i }
            i += 1
        }
        return nil
    }

    /// Splits `s[a..<b]` at its infixes as spaCy's `_attach_tokens` does (an infix at the very start is not split off).
    private func splitInfixes(_ s: [UInt32], _ a: Int, _ b: Int, into tokens: inout [TextToken]) {
        var start = a
        var i = a
        while i < b {
            guard let length = infix(at: i, s, a, b) else { i += 1; continue }
            if i != a {
                if i != start { tokens.append(TextToken(start: start, end: i, isSpace: false)) }
                tokens.append(TextToken(start: i, end: i + length, isSpace: false))
                start = i + length
            }
            i += length
        }
        if start < b { tokens.append(TextToken(start: start, end: b, isSpace: false)) }
    }

    // MARK: URLs

    /// spaCy's `URL_PATTERN` matched against the whole of `s[a..<b]` (a hand-written backtracking of its optional
    /// scheme, optional user part, host or public IPv4 address, port and path).
    func matchesURL(_ s: [UInt32], _ a: Int, _ b: Int) -> Bool {
        guard s[a..<b].contains(0x2E) else { return false } // every host and address has a dot
        var starts: [Int] = []
        // (?:[\w\+\-\.]{2,})://
        var e = a
        while e < b && (CharacterClasses.pythonWord.contains(s[e]) || s[e] == 0x2B || s[e] == 0x2D || s[e] == 0x2E) { e += 1 }
        // The scheme's class is greedy and backtracks, so any "://" it reaches with two or more characters before it.
        var schemeEnds: [Int] = []
        var k = e
        while k >= a + 2 {
            if k + 2 < b && s[k] == 0x3A && s[k + 1] == 0x2F && s[k + 2] == 0x2F { schemeEnds.append(k + 3) }
            k -= 1
        }
        starts.append(contentsOf: schemeEnds)
        starts.append(a)
        for start in starts {
            // (?:\S+(?::\S*)?@)?: any '@' after at least one character, the last first; then none.
            var hosts: [Int] = []
            var q = b - 1
            while q > start {
                if s[q] == 0x40 { hosts.append(q + 1) }
                q -= 1
            }
            hosts.append(start)
            for h in hosts where hostAndRest(s, h, b) { return true }
        }
        return false
    }

    /// Host (or public IPv4 address), optional port, optional path, then the end.
    private func hostAndRest(_ s: [UInt32], _ h: Int, _ b: Int) -> Bool {
        if let end = publicIPv4(s, h, b), portAndPath(s, end, b) { return true }
        // Labels of [H][H_-]{0,62}[H] or [H], each followed by '.', then a TLD of 2 to 63 lower-case letters.
        func isH(_ c: UInt32) -> Bool {
            (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0xA1 && c <= 0xFFFF)
        }
        var i = h
        var labels = 0
        // Try every dot as the last one before the TLD, as the greedy '+' would, longest first.
        var dots: [Int] = []
        var j = h
        while j < b && (isH(s[j]) || s[j] == 0x5F || s[j] == 0x2D || s[j] == 0x2E) {
            if s[j] == 0x2E { dots.append(j) }
            j += 1
        }
        for dot in dots.reversed() {
            // Labels from h to dot.
            i = h
            labels = 0
            var ok = true
            while i < dot {
                var e = i
                while e < dot && s[e] != 0x2E { e += 1 }
                let length = e - i
                if length == 0 || length > 64 || !isH(s[i]) || !isH(s[e - 1]) { ok = false; break }
                for x in i..<e where !(isH(s[x]) || s[x] == 0x5F || s[x] == 0x2D) { ok = false; break }
                if !ok { break }
                labels += 1
                i = e + 1
            }
            guard ok, labels > 0, i == dot + 1 else { continue }
            var t = dot + 1
            while t < b && t - dot - 1 < 63 && alphaLower.contains(s[t]) { t += 1 }
            // The TLD may give back letters, but what follows it must be a port, a path or the end.
            var end = t
            while end - dot - 1 >= 2 {
                if portAndPath(s, end, b) { return true }
                end -= 1
            }
        }
        return false
    }

    /// (?::\d{2,5})?(?:[/?#]\S*)?$
    private func portAndPath(_ s: [UInt32], _ i: Int, _ b: Int) -> Bool {
        func pathOrEnd(_ p: Int) -> Bool { p == b || s[p] == 0x2F || s[p] == 0x3F || s[p] == 0x23 }
        if i < b && s[i] == 0x3A {
            var e = i + 1
            while e < b && e - i - 1 < 5 && CharacterClasses.pythonDigit.contains(s[e]) { e += 1 }
            var end = e
            while end - i - 1 >= 2 {
                if pathOrEnd(end) { return true }
                end -= 1
            }
        }
        return pathOrEnd(i)
    }

    /// The end of a public IPv4 address at `h` as the pattern defines it (private and loopback ranges refused).
    private func publicIPv4(_ s: [UInt32], _ h: Int, _ b: Int) -> Int? {
        var octets: [Int] = []
        var i = h
        var ends: [Int] = []
        while octets.count < 4 {
            var e = i
            var value = 0
            while e < b && e - i < 3 && Self.isDigit(s[e]) { value = value * 10 + Int(s[e] - 0x30); e += 1 }
            guard e > i else { return nil }
            if e - i > 1 && s[i] == 0x30 && !(octets.count > 0 && octets.count < 3) { return nil }
            octets.append(value)
            ends.append(e)
            if octets.count < 4 {
                guard e < b && s[e] == 0x2E else { return nil }
                i = e + 1
            } else {
                i = e
            }
        }
        let (o1, o2, o3, o4) = (octets[0], octets[1], octets[2], octets[3])
        if o1 == 10 || o1 == 127 || (o1 == 169 && o2 == 254) || (o1 == 192 && o2 == 168) || (o1 == 172 && (16...31).contains(o2)) { return nil }
        guard (1...223).contains(o1), o2 <= 255, o3 <= 255, (1...254).contains(o4) else { return nil }
        return i
    }

    // MARK: Special cases across tokens

    /// spaCy's `_apply_special_cases`: special cases that affixes split are found as token sequences, filtered
    /// longest first (then latest), and replaced by the special case's tokens when the span's text is its text.
    private func applyMatcher(_ text: [UInt32], _ tokens: inout [TextToken], from first: Int) {
        var matches: [(start: Int, end: Int, rule: MatcherRule)] = []
        var i = first
        while i < tokens.count {
            let t = tokens[i]
            // A pattern of one token has a non-letter in it (letters alone have no affix or infix), so a token of
            // letters only starts a match that can change anything only when the next token touches it. (A match
            // across whitespace changes nothing itself; that it could still shadow an overlapping match is ignored.)
            let touchesNext = i + 1 < tokens.count && tokens[i + 1].start == t.end
            if !t.isSpace && t.end - t.start <= longestSpecial && matcherStarts.contains(text[t.start])
                && (touchesNext || !(t.start..<t.end).allSatisfy({ Self.isASCIILetter(text[$0]) })) {
                matcherIndex.forEach(Self.hash(text, t.start, t.end)) { r in
                    let rule = matcherList[r]
                    guard i + rule.pattern.count <= tokens.count else { return true }
                    var same = true
                    for (k, piece) in rule.pattern.enumerated() {
                        let u = tokens[i + k]
                        if u.end - u.start != piece.count || !text[u.start..<u.end].elementsEqual(piece) { same = false; break }
                    }
                    if same { matches.append((i, i + rule.pattern.count, rule)) }
                    return true
                }
            }
            i += 1
        }
        guard !matches.isEmpty else { return }
        matches.sort { ($0.end - $0.start, $0.start) < ($1.end - $1.start, $1.start) }
        var seen = Set<Int>()
        var kept: [(start: Int, end: Int, rule: MatcherRule)] = []
        for m in matches.reversed() {
            if !seen.contains(m.start) && !seen.contains(m.end - 1) { kept.append(m) }
            for k in m.start..<m.end { seen.insert(k) }
        }
        kept.sort { $0.start < $1.start }
        var out: [TextToken] = Array(tokens[..<first])
        var next = first
        for m in kept {
            while next < m.start { out.append(tokens[next]); next += 1 }
            let from = tokens[m.start].start, to = tokens[m.end - 1].end
            if to - from == m.rule.text.count && text[from..<to].elementsEqual(m.rule.text) {
                var p = from
                for length in m.rule.pieces {
                    out.append(TextToken(start: p, end: p + length, isSpace: false))
                    p += length
                }
            } else {
                for k in m.start..<m.end { out.append(tokens[k]) }
            }
            next = m.end
        }
        while next < tokens.count { out.append(tokens[next]); next += 1 }
        tokens = out
    }

    // MARK: Sentences

    /// The number of sentences spaCy's sentencizer finds in `tokens` (whitespace tokens included): a token that is
    /// neither punctuation nor a sentence end, after a sentence end, starts a new one. At least one.
    public func sentenceCount(_ text: [UInt32], _ tokens: [TextToken]) -> Int {
        guard !tokens.isEmpty else { return 0 }
        var count = 1
        forEachSentenceStart(text, tokens) { _ in count += 1 }
        return count
    }

    /// Calls `body` with the index of every token that starts a sentence after the first, by the sentencizer's rule.
    func forEachSentenceStart(_ text: [UInt32], _ tokens: [TextToken], _ body: (Int) -> Void) {
        var seenPeriod = false
        for (i, t) in tokens.enumerated() {
            let isEnd = t.end - t.start == 1 && sentenceEnd.contains(text[t.start])
            if seenPeriod && !isEnd && !isPunctuation(text, t) {
                body(i)
                seenPeriod = false
            } else if isEnd {
                seenPeriod = true
            }
        }
    }

    private func isPunctuation(_ text: [UInt32], _ t: TextToken) -> Bool {
        for i in t.start..<t.end where !punctuation.contains(text[i]) { return false }
        return true
    }
}

/// An open-addressing index from 64-bit hashes to small integers (several per hash allowed), for the tables built
/// once and probed per token.
struct HashIndex: Sendable {
    private var keys: [UInt64] = [UInt64](repeating: 0, count: 4096)
    private var values: [Int32] = [Int32](repeating: -1, count: 4096)
    private var count = 0

    mutating func insert(_ key: UInt64, _ value: Int) {
        if (count + 1) * 2 > keys.count { grow() }
        var slot = Self.slot(key, keys.count)
        while values[slot] >= 0 { slot = (slot + 1) & (keys.count - 1) }
        keys[slot] = key
        values[slot] = Int32(value)
        count += 1
    }

    /// Calls `body` with every value stored under `key` until it returns false.
    @inline(__always)
    func forEach(_ key: UInt64, _ body: (Int) -> Bool) {
        var slot = Self.slot(key, keys.count)
        while values[slot] >= 0 {
            if keys[slot] == key && !body(Int(values[slot])) { return }
            slot = (slot + 1) & (keys.count - 1)
        }
    }

    private static func slot(_ key: UInt64, _ size: Int) -> Int {
        Int(truncatingIfNeeded: ((key ^ (key >> 29)) &* 0xBF58_476D_1CE4_E5B9) >> 20) & (size - 1)
    }

    private mutating func grow() {
        let old = zip(keys, values).filter { $0.1 >= 0 }
        keys = [UInt64](repeating: 0, count: keys.count * 2)
        values = [Int32](repeating: -1, count: keys.count)
        count = 0
        for (k, v) in old { insert(k, Int(v)) }
    }
}
