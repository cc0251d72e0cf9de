/// Python's `str` operations that datatrove's filters use, over code points (Python indexes and measures strings in
/// code points): `splitlines`, `split`, `strip`, `isspace`, `count`, `endswith`. Ranges are `[start, end)`.
enum PythonText {
    typealias Scalars = [UInt32]

    /// The code points of a string (decoded from its UTF-8 directly).
    static func scalars(_ s: String) -> Scalars {
        var text = s
        return text.withUTF8 { utf8 in
            var out = Scalars()
            out.reserveCapacity(utf8.count)
            var i = 0
            let n = utf8.count
            while i < n {
                let b = UInt32(utf8[i])
                if b < 0x80 { out.append(b); i += 1 }
                else if b < 0xE0 { out.append((b & 0x1F) << 6 | UInt32(utf8[i + 1] & 0x3F)); i += 2 }
                else if b < 0xF0 { out.append((b & 0x0F) << 12 | UInt32(utf8[i + 1] & 0x3F) << 6 | UInt32(utf8[i + 2] & 0x3F)); i += 3 }
                else { out.append((b & 0x07) << 18 | UInt32(utf8[i + 1] & 0x3F) << 12 | UInt32(utf8[i + 2] & 0x3F) << 6 | UInt32(utf8[i + 3] & 0x3F)); i += 4 }
            }
            return out
        }
    }

    /// The string of a range of code points (encoded to UTF-8 directly).
    static func string(_ s: Scalars, _ range: Range<Int>) -> String {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(range.count + 16)
        for i in range {
            let c = s[i]
            if c < 0x80 { bytes.append(UInt8(c)) }
            else if c < 0x800 { bytes.append(UInt8(0xC0 | c >> 6)); bytes.append(UInt8(0x80 | c & 0x3F)) }
            else if c < 0x10000 { bytes.append(UInt8(0xE0 | c >> 12)); bytes.append(UInt8(0x80 | (c >> 6) & 0x3F)); bytes.append(UInt8(0x80 | c & 0x3F)) }
            else { bytes.append(UInt8(0xF0 | c >> 18)); bytes.append(UInt8(0x80 | (c >> 12) & 0x3F)); bytes.append(UInt8(0x80 | (c >> 6) & 0x3F)); bytes.append(UInt8(0x80 | c & 0x3F)) }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    @inline(__always) static func isSpace(_ c: UInt32) -> Bool { CharacterClasses.space.contains(c) }

    /// `str.splitlines()`: lines without their ends; `\r\n` is one end; no empty last line after a final end.
    static func splitlines(_ s: Scalars, _ range: Range<Int>? = nil) -> [Range<Int>] {
        let r = range ?? 0..<s.count
        var lines: [Range<Int>] = []
        var start = r.lowerBound
        var i = r.lowerBound
        while i < r.upperBound {
            let c = s[i]
            switch c {
            case 0x0A, 0x0B, 0x0C, 0x1C, 0x1D, 0x1E, 0x85, 0x2028, 0x2029:
                lines.append(start..<i)
                i += 1
                start = i
            case 0x0D:
                lines.append(start..<i)
                i += (i + 1 < r.upperBound && s[i + 1] == 0x0A) ? 2 : 1
                start = i
            default:
                i += 1
            }
        }
        if start < r.upperBound { lines.append(start..<r.upperBound) }
        return lines
    }

    /// `str.split(sep)` for a one-character separator: every piece, empty ones included.
    static func split(_ s: Scalars, _ range: Range<Int>, on separator: UInt32) -> [Range<Int>] {
        var pieces: [Range<Int>] = []
        var start = range.lowerBound
        for i in range where s[i] == separator {
            pieces.append(start..<i)
            start = i + 1
        }
        pieces.append(start..<range.upperBound)
        return pieces
    }

    /// `len(str.split())` and the longest word's length, without making the words.
    static func wordCountAndLongest(_ s: Scalars, _ range: Range<Int>) -> (count: Int, longest: Int) {
        var count = 0, longest = 0
        var i = range.lowerBound
        while i < range.upperBound {
            while i < range.upperBound && isSpace(s[i]) { i += 1 }
            let start = i
            while i < range.upperBound && !isSpace(s[i]) { i += 1 }
            if i > start { count += 1; longest = max(longest, i - start) }
        }
        return (count, longest)
    }

    static func strip(_ s: Scalars, _ range: Range<Int>) -> Range<Int> { rstrip(s, lstrip(s, range)) }

    static func lstrip(_ s: Scalars, _ range: Range<Int>) -> Range<Int> {
        var a = range.lowerBound
        while a < range.upperBound && isSpace(s[a]) { a += 1 }
        return a..<range.upperBound
    }

    static func rstrip(_ s: Scalars, _ range: Range<Int>) -> Range<Int> {
        var b = range.upperBound
        while b > range.lowerBound && isSpace(s[b - 1]) { b -= 1 }
        return range.lowerBound..<b
    }

    static func isBlank(_ s: Scalars, _ range: Range<Int>) -> Bool { strip(s, range).isEmpty }

    static func hasPrefix(_ s: Scalars, _ range: Range<Int>, _ p: Scalars) -> Bool {
        range.count >= p.count && s[range.lowerBound..<range.lowerBound + p.count].elementsEqual(p)
    }

    static func hasSuffix(_ s: Scalars, _ range: Range<Int>, _ p: Scalars) -> Bool {
        range.count >= p.count && s[range.upperBound - p.count..<range.upperBound].elementsEqual(p)
    }

    /// `str.count(needle)`: non-overlapping occurrences, left to right.
    static func count(_ s: Scalars, _ range: Range<Int>, _ needle: Scalars) -> Int {
        guard !needle.isEmpty, range.count >= needle.count else { return 0 }
        var n = 0
        let first = needle[0]
        if needle.count == 1 {
            for i in range where s[i] == first { n += 1 }
            return n
        }
        var i = range.lowerBound
        let last = range.upperBound - needle.count
        outer: while i <= last {
            if s[i] == first {
                for k in 1..<needle.count where s[i + k] != needle[k] { i += 1; continue outer }
                n += 1
                i += needle.count
            } else {
                i += 1
            }
        }
        return n
    }

    static func contains(_ s: Scalars, _ range: Range<Int>, _ needle: Scalars) -> Bool {
        guard !needle.isEmpty else { return true }
        guard range.count >= needle.count else { return false }
        let first = needle[0]
        var i = range.lowerBound
        while i + needle.count <= range.upperBound {
            if s[i] == first && s[i..<i + needle.count].elementsEqual(needle) { return true }
            i += 1
        }
        return false
    }

    /// `str.lower()` of a range as far as ASCII needles can tell: the only code points whose Python lower-case holds
    /// an ASCII letter or digit are A-Z, U+0130 ('i' and a combining dot) and U+212A KELVIN SIGN ('k') — checked over
    /// the whole code space — so every other code point is kept as it is (it cannot take part in an ASCII match).
    static func lowerForASCIINeedles(_ s: Scalars, _ range: Range<Int>) -> Scalars {
        var out: Scalars = []
        out.reserveCapacity(range.count)
        for i in range {
            let c = s[i]
            switch c {
            case 0x41...0x5A: out.append(c + 0x20)
            case 0x130: out.append(0x69); out.append(0x307)
            case 0x212A: out.append(0x6B)
            default: out.append(c)
            }
        }
        return out
    }
}
