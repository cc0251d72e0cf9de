#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Removes the bodies of `<script>` and `<style>` elements and of comments, the attributes with values that
/// extraction never reads (`href`, `src`, `srcset`, `data-*`, …) and the excess of whitespace runs in text,
/// before libxml2 sees the page.
///
/// The extractor never uses those bytes, but libxml2 2.9 reads them a character at a time; on crawled pages
/// script and style bodies are about a third of the bytes and attribute values another third. An attribute is
/// cut whole (name, `=` and value), so the blank before it still separates its neighbours. The scan follows libxml2's HTML tokenizer where it matters: comments,
/// declarations and end tags are stepped over whole, start-tag attribute values in quotes may hold `>`, a raw
/// body ends at the first `</script` (or `</style`) in any case, as libxml2's recovering parser ends it. Where a
/// page is ambiguous (a self-closing `<script … />`, an unterminated comment, tag or body) the rest of the page is
/// left exactly as it is, so the parser decides as before.
///
/// `<noscript>` bodies are cut too, and that one cut is not only for speed: a browser with scripting on reads a
/// noscript body as raw text, while libxml2 parses it as markup, and an element left open inside it
/// (`<noscript><div id="nojs"></noscript>`) keeps the noscript open over the rest of the page (libxml2 ignores an
/// end tag while an element of higher end priority, such as a `div`, is open), hiding all of the page's text.
struct RawTextElider {
    /// Attributes extraction reads (lowercase; see `Attributes` and `PageBuilder.readMeta`): these are kept.
    static let attributesRead: [StaticString] = [
        "class", "id", "role", "itemprop", "lang", "hidden", "aria-hidden", "style", "property", "name", "http-equiv", "content",
    ]

    /// The page without raw-text bodies and unread attributes, or nil when it has none to remove.
    /// - Parameters:
    ///   - attributes: whether to cut unread attributes, comment bodies and whitespace runs too (else only
    ///     raw-text bodies).
    ///   - scriptAndStyle: whether to cut script and style bodies (else only noscript bodies, which change what
    ///     the page reads as; see above).
    static func elide(_ html: UnsafeBufferPointer<UInt8>, attributes cutAttributes: Bool = true,
                      scriptAndStyle: Bool = true) -> [UInt8]? {
        guard let base = html.baseAddress else { return nil }
        let n = html.count
        var i = 0
        func byte(_ k: Int) -> UInt8 { k < n ? base[k] : 0 }
        func isLetter(_ c: UInt8) -> Bool { (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7A }
        func isNameByte(_ c: UInt8) -> Bool {
            isLetter(c) || (c >= 0x30 && c <= 0x39) || c == 0x3A || c == 0x5F || c == 0x2D || c == 0x2E
        }
        func isBlank(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D }
        /// The offset of `needle` at or after `from`, or nil.
        func find(_ needle: StaticString, from: Int) -> Int? {
            let first = Int32(needle.utf8Start[0]), count = needle.utf8CodeUnitCount
            var k = from
            while k + count <= n, let hit = memchr(base + k, first, n - k) {
                let at = UnsafePointer<UInt8>(hit.assumingMemoryBound(to: UInt8.self)) - base
                guard at + count <= n else { return nil }
                if memcmp(base + at, needle.utf8Start, count) == 0 { return at }
                k = at + 1
            }
            return nil
        }
        /// Whether the bytes at `at` spell `word` (lowercase ASCII) in any case.
        func matches(_ word: StaticString, at: Int) -> Bool {
            let count = word.utf8CodeUnitCount
            guard at + count <= n else { return false }
            for k in 0..<count where base[at + k] | 0x20 != word.utf8Start[k] { return false }
            return true
        }
        func isNameStart(_ c: UInt8) -> Bool { isLetter(c) || c == 0x5F || c == 0x3A || c == 0x2E }
        func offset(_ p: UnsafeMutableRawPointer) -> Int { UnsafePointer<UInt8>(p.assumingMemoryBound(to: UInt8.self)) - base }
        /// Whether the attribute name at `start..<end` is one extraction reads (names are ASCII-case-insensitive).
        func isRead(_ start: Int, _ end: Int) -> Bool {
            for name in attributesRead where name.utf8CodeUnitCount == end - start {
                var same = true
                for k in 0..<(end - start) where base[start + k] | 0x20 != name.utf8Start[k] { same = false; break }
                if same { return true }
            }
            return false
        }
        /// Byte ranges to cut, in order: whole bodies and, in the current start tag, unread attributes.
        var cuts: [(start: Int, end: Int)] = []
        /// The end of a start tag whose name ends at `from`, as libxml2's htmlParseStartTag finds it: the offset
        /// just past `>` and whether it was `/>`; nil when the tag does not end. Unread attributes with values
        /// are added to `tagCuts`.
        func endOfStartTag(from: Int, tagCuts: inout [(start: Int, end: Int)]) -> (end: Int, selfClosing: Bool)? {
            var k = from
            while true {
                while k < n && isBlank(base[k]) { k += 1 }
                guard k < n else { return nil }
                let c = base[k]
                if c == 0x3E { return (k + 1, false) }
                if c == 0x2F && byte(k + 1) == 0x3E { return (k + 2, true) }
                guard isNameStart(c) else {
                    // A bogus attribute is dropped up to the next blank or the end of the tag, quotes or not.
                    while k < n && !isBlank(base[k]) && base[k] != 0x3E && !(base[k] == 0x2F && byte(k + 1) == 0x3E) { k += 1 }
                    continue
                }
                let nameStart = k
                while k < n && isNameByte(base[k]) { k += 1 }
                let nameEnd = k
                while k < n && isBlank(base[k]) { k += 1 }
                guard byte(k) == 0x3D else { continue }
                k += 1
                while k < n && isBlank(base[k]) { k += 1 }
                let quote = byte(k)
                if quote == 0x22 || quote == 0x27 {
                    // A quoted value runs to its closing quote, '>' included.
                    guard k + 1 < n, let close = memchr(base + k + 1, Int32(quote), n - k - 1) else { return nil }
                    k = offset(close) + 1
                } else {
                    while k < n && !isBlank(base[k]) && base[k] != 0x3E { k += 1 }
                }
                if cutAttributes && !isRead(nameStart, nameEnd) { tagCuts.append((nameStart, k)) }
            }
        }
        /// Whether a comment body holds something libxml2 versions read differently (an abrupt `<!-->`, a
        /// `--!>` close, a character that is not XML) or has no `-->`: then the rest is left alone.
        func commentIsPlain(_ start: Int, _ close: Int) -> Bool {
            if byte(start) == 0x3E || (byte(start) == 0x2D && byte(start + 1) == 0x3E) { return false }
            for k in start..<close {
                let c = base[k]
                if c < 0x20 && c != 0x09 && c != 0x0A && c != 0x0D { return false }
                if c == 0x21 && k >= start + 2 && base[k - 1] == 0x2D && base[k - 2] == 0x2D && byte(k + 1) == 0x3E { return false }
            }
            return true
        }

        // Whitespace runs in text are cut to their first byte until an element that keeps whitespace appears.
        var squeezeText = cutAttributes
        /// Cuts runs of libxml2's blanks (space, tab, LF, CR) in the text `from..<to` to their first byte:
        /// libxml2 reports a shorter run exactly where it reported the longer one (whether a run is reported
        /// depends only on its being all blanks and on what follows it), and extraction collapses runs anyway.
        func squeeze(_ from: Int, _ to: Int) {
            var k = from
            while k < to {
                guard isBlank(base[k]) else { k += 1; continue }
                let start = k
                k += 1
                while k < to && isBlank(base[k]) { k += 1 }
                if k - start > 1 { cuts.append((start + 1, k)) }
            }
        }

        while i < n {
            guard let lt = memchr(base + i, 0x3C, n - i) else { break }
            let at = offset(lt)
            if squeezeText { squeeze(i, at) }
            let next = byte(at + 1)
            if next == 0x21 {
                if byte(at + 2) == 0x2D && byte(at + 3) == 0x2D {
                    guard let close = find("-->", from: at + 4), commentIsPlain(at + 4, close) else { break }
                    // A plain comment's body is never read (libxml2 copies it a character at a time).
                    if cutAttributes && close > at + 4 { cuts.append((at + 4, close)) }
                    i = close + 3
                } else if matches("<!doctype", at: at) {
                    guard let close = memchr(base + at, 0x3E, n - at) else { break }
                    let end = offset(close)
                    // A quoted identifier could hold '>': leave such a page alone.
                    guard memchr(base + at, 0x22, end - at) == nil, memchr(base + at, 0x27, end - at) == nil else { break }
                    i = end + 1
                } else {
                    i = at + 1  // "<!" that is neither: libxml2 reads it as text
                }
                continue
            }
            if next == 0x3F || next == 0x2F {
                // A processing instruction or end tag with a name runs to the next '>'; without one, "<?" and
                // "</" are text.
                guard isNameStart(byte(at + 2)) || (next == 0x2F && isLetter(byte(at + 2))) else { i = at + 2; continue }
                guard let close = memchr(base + at + 2, 0x3E, n - at - 2) else { break }
                i = offset(close) + 1
                continue
            }
            guard isLetter(next) else { i = at + 1; continue }
            var nameEnd = at + 1
            while nameEnd < n && isNameByte(base[nameEnd]) { nameEnd += 1 }
            var closing: StaticString?
            switch nameEnd - at - 1 {
            case 6 where scriptAndStyle && matches("script", at: at + 1): closing = "</script"
            case 5 where scriptAndStyle && matches("style", at: at + 1): closing = "</style"
            case 8 where matches("noscript", at: at + 1): closing = "</noscript"
            case 3 where matches("pre", at: at + 1), 3 where matches("xmp", at: at + 1),
                 7 where matches("listing", at: at + 1), 8 where matches("textarea", at: at + 1),
                 9 where matches("plaintext", at: at + 1):
                // Preformatted text keeps its whitespace: from the first such element on, nothing is squeezed.
                squeezeText = false
            default: break
            }
            // A tag's cuts count only once the tag is known to end (else the rest is left as it is).
            var tagCuts: [(start: Int, end: Int)] = []
            guard let (tagEnd, selfClosing) = endOfStartTag(from: nameEnd, tagCuts: &tagCuts) else { break }
            cuts += tagCuts
            i = tagEnd
            guard let closing, !selfClosing else { continue }
            // libxml2's recovering parser ends the body at the first "</script" (or "</style"), in any case; a
            // browser ends a noscript body the same way.
            var bodyEnd: Int?
            var search = tagEnd
            while let slash = find("</", from: search) {
                if matches(closing, at: slash) { bodyEnd = slash; break }
                search = slash + 2
            }
            guard let bodyEnd else { break }
            if bodyEnd > tagEnd { cuts.append((tagEnd, bodyEnd)) }
            i = bodyEnd
        }
        guard !cuts.isEmpty else { return nil }
        var out: [UInt8] = []
        out.reserveCapacity(n)
        var copiedUpTo = 0  // bytes before this offset are in `out` (or cut)
        for cut in cuts {
            out.append(contentsOf: UnsafeBufferPointer(start: base + copiedUpTo, count: cut.start - copiedUpTo))
            copiedUpTo = cut.end
        }
        out.append(contentsOf: UnsafeBufferPointer(start: base + copiedUpTo, count: n - copiedUpTo))
        return out
    }
}
