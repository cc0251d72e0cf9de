#if canImport(Glibc)
import Glibc
#endif
import ThreshCore
internal import CThreshUchardet
internal import CThreshICU

/// Which character encoding a page is in, and how that was found.
public struct CharsetDecision: Sendable, Equatable {
    /// Canonical name (`utf-8`, `windows-1252`, `shift_jis`, …).
    public var name: String
    /// `bom`, `http`, `meta`, `detected` (nothing usable declared), or `detected-over-declared` (declared UTF-8,
    /// but not valid UTF-8: a Latin-1 page labelled UTF-8, say).
    public var source: String
    /// Whether deciding already found the whole body (after a BOM) to be valid UTF-8, so decoding need not check it
    /// again.
    public var validUTF8 = false

    public init(name: String, source: String, validUTF8: Bool = false) {
        self.name = name
        self.source = source
        self.validUTF8 = validUTF8
    }
}

/// Finds a page's encoding (BOM, then HTTP header, then `<meta>`, then detection) and transcodes to UTF-8.
/// Invalid bytes become U+FFFD: an encoding problem never drops a document.
///
/// A class because it caches `iconv` descriptors (C resources) per encoding; not shared across threads.
public final class CharsetTranscoder {
    private var converters: [String: iconv_t] = [:]
    private let detector: OpaquePointer?
    /// Which library detects encodings.
    public let detectorKind: CharsetDetector

    /// The detection library: uchardet (the default) or ICU's `ucsdet`, kept to compare them (scripts/bench-charset);
    /// or none: declarations are trusted, and an undeclared page is UTF-8 when valid, else windows-1252 (what Thresh
    /// did before it detected, kept to measure what detection costs).
    public enum CharsetDetector: String, Sendable, CaseIterable {
        case uchardet, icu, none
    }

    /// Bytes the detector reads from the start of a page: enough for the text of most pages, and a bounded cost.
    public static let detectionSample = 64 << 10
    /// A page declared UTF-8 is taken for another encoding when more than this share of its non-ASCII bytes are
    /// in invalid sequences (a stray bad byte in a real UTF-8 page does not flip it; a Latin-1 page fails on
    /// nearly every accented letter).
    public static let misdeclaredInvalidShare = 0.05

    public init(detector kind: CharsetDetector = .uchardet) {
        detectorKind = kind
        detector = kind == .uchardet ? uchardet_new() : nil
    }

    deinit {
        for (_, cd) in converters { iconv_close(cd) }
        if let detector { uchardet_delete(detector) }
    }

    /// Decides the encoding of `body` given the HTTP Content-Type charset parameter (if any), as browsers do: a BOM
    /// first, then the HTTP label, then `<meta>` (labels mapped as the WHATWG Encoding Standard maps them), then
    /// detection. A declared UTF-8 that the bytes contradict is detected instead.
    public func decide(_ body: UnsafeRawBufferPointer, httpCharset: String?, isHTML: Bool) -> CharsetDecision {
        if body.count >= 3, body[0] == 0xEF, body[1] == 0xBB, body[2] == 0xBF { return .init(name: "utf-8", source: "bom") }
        if body.count >= 2, body[0] == 0xFF, body[1] == 0xFE { return .init(name: "utf-16le", source: "bom") }
        if body.count >= 2, body[0] == 0xFE, body[1] == 0xFF { return .init(name: "utf-16be", source: "bom") }
        var declared: CharsetDecision?
        if let label = httpCharset, let name = canonicalName(label), isUsable(name) {
            declared = .init(name: name, source: "http")
        } else if isHTML, let label = metaCharset(body), let name = canonicalName(label), isUsable(name) {
            // A page that declares UTF-16 in <meta> while being ASCII-compatible is really UTF-8 (HTML spec).
            declared = .init(name: name.hasPrefix("utf-16") ? "utf-8" : name, source: "meta")
        }
        if var declared {
            guard declared.name == "utf-8" else { return declared }
            let bytes = withoutBOM(body)
            let invalid = countInvalidUTF8(bytes)
            if invalid == 0 { declared.validUTF8 = true; return declared }
            guard detectorKind != .none, contradictsUTF8(bytes, invalid: invalid) else { return declared }
            return .init(name: detect(body), source: "detected-over-declared")
        }
        let name = detect(body)
        // detect() answers UTF-8 only for a body it found valid.
        return .init(name: name, source: "detected", validUTF8: name == "utf-8")
    }

    private func withoutBOM(_ body: UnsafeRawBufferPointer) -> UnsafeRawBufferPointer {
        body.count >= 3 && body[0] == 0xEF && body[1] == 0xBB && body[2] == 0xBF ? UnsafeRawBufferPointer(rebasing: body[3...]) : body
    }

    /// Whether bytes declared UTF-8 are mostly not: `invalid` sequences over `misdeclaredInvalidShare` of the
    /// non-ASCII bytes.
    func contradictsUTF8(_ bytes: UnsafeRawBufferPointer, invalid: Int) -> Bool {
        guard invalid > 0 else { return false }
        var nonASCII = 0
        for b in bytes where b >= 0x80 { nonASCII += 1 }
        return Double(invalid) > Self.misdeclaredInvalidShare * Double(nonASCII)
    }

    /// Transcodes `body` to a `String`, replacing invalid sequences with U+FFFD; returns how many were replaced.
    public func decode(_ body: UnsafeRawBufferPointer, as charset: String) -> (text: String, replaced: Int) {
        var bytes = body
        if charset == "utf-8" {
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { bytes = UnsafeRawBufferPointer(rebasing: bytes[3...]) }
            let invalid = countInvalidUTF8(bytes)
            return (String(decoding: bytes, as: UTF8.self), invalid)
        }
        if charset == "windows-1252" { return (decodeWindows1252(bytes), 0) }
        return transcodeWithIconv(bytes, from: charset)
    }

    /// Calls `use` with the body decoded to UTF-8 (valid) and the count of invalid sequences replaced. A UTF-8
    /// body that is valid already is handed over in place, with no copy and no second validation.
    public func withUTF8<R>(_ body: UnsafeRawBufferPointer, as decision: CharsetDecision, _ use: (UnsafeBufferPointer<UInt8>, Int) throws -> R) rethrows -> R {
        if decision.validUTF8 { return try use(withoutBOM(body).assumingMemoryBound(to: UInt8.self), 0) }
        return try withUTF8(body, as: decision.name, use)
    }

    /// As `withUTF8(_:as:_:)` with a decision, for a charset by name.
    public func withUTF8<R>(_ body: UnsafeRawBufferPointer, as charset: String, _ use: (UnsafeBufferPointer<UInt8>, Int) throws -> R) rethrows -> R {
        if charset == "utf-8" {
            var bytes = body
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { bytes = UnsafeRawBufferPointer(rebasing: bytes[3...]) }
            if countInvalidUTF8(bytes) == 0 { return try use(bytes.assumingMemoryBound(to: UInt8.self), 0) }
        }
        var (text, replaced) = decode(body, as: charset)
        return try text.withUTF8 { try use($0, replaced) }
    }

    // MARK: Detection

    /// Valid UTF-8 is UTF-8; text with many NULs at alternating positions is UTF-16; otherwise the detector's answer
    /// on the first `detectionSample` bytes, mapped as a label would be (its `ISO-8859-1` and `ASCII` are
    /// windows-1252, as in browsers), or windows-1252 when it has none.
    func detect(_ body: UnsafeRawBufferPointer) -> String {
        let sample = UnsafeRawBufferPointer(rebasing: body[0..<min(body.count, Self.detectionSample)])
        var evenNul = 0, oddNul = 0
        for (i, b) in sample.enumerated() where b == 0 { if i & 1 == 0 { evenNul += 1 } else { oddNul += 1 } }
        if sample.count >= 16 {
            if oddNul > sample.count / 4 && evenNul < sample.count / 64 { return "utf-16le" }
            if evenNul > sample.count / 4 && oddNul < sample.count / 64 { return "utf-16be" }
        }
        // Invalid only because the sample cut a sequence at its end still counts as UTF-8. ISO-2022-JP is 7-bit,
        // so valid UTF-8 too: its escape sequences (ESC $ or ESC () send the page to the detector.
        if countInvalidUTF8(body) == 0 && !hasISO2022Escape(sample) { return "utf-8" }
        if detectorKind == .none { return "windows-1252" }
        if let label = detectedLabel(sample), let name = canonicalName(label), name != "utf-8", isUsable(name),
           name == "windows-1252" || transcodeWithIconv(sample, from: name, upTo: Self.trustedDetectionErrors + 1).1 <= Self.trustedDetectionErrors {
            return name == "windows-1252" ? westernVariant(sample) : name
        }
        return westernVariant(sample)
    }

    /// A detected multi-byte or non-Western answer is trusted only when the sample decodes in it with at most this
    /// many invalid sequences (the sample may cut one at its end); otherwise the page is Western (windows-1252
    /// decodes every byte).
    static let trustedDetectionErrors = 1

    /// windows-1252, or ISO-8859-15 when the page has the euro sign's ISO-8859-15 byte (0xA4, '¤' in windows-1252,
    /// which text almost never uses) and none of the bytes 0x80-0x9F that only windows-1252 gives letters to.
    func westernVariant(_ sample: UnsafeRawBufferPointer) -> String {
        var sawA4 = false
        for b in sample {
            if b >= 0x80 && b <= 0x9F { return "windows-1252" }
            if b == 0xA4 { sawA4 = true }
        }
        return sawA4 && isUsable("iso-8859-15") ? "iso-8859-15" : "windows-1252"
    }

    /// The detector's label for `sample`, or nil when it has none.
    private func detectedLabel(_ sample: UnsafeRawBufferPointer) -> String? {
        guard let base = sample.baseAddress?.assumingMemoryBound(to: CChar.self), !sample.isEmpty else { return nil }
        switch detectorKind {
        case .uchardet:
            guard let detector else { return nil }
            uchardet_reset(detector)
            guard uchardet_handle_data(detector, base, sample.count) == 0 else { return nil }
            uchardet_data_end(detector)
            let label = uchardet_get_charset(detector).map { String(cString: $0) } ?? ""
            return label.isEmpty ? nil : label
        case .none:
            return nil
        case .icu:
            var name = [CChar](repeating: 0, count: 64)
            let confidence = name.withUnsafeMutableBufferPointer { thresh_icu_detect_charset(base, Int32(sample.count), $0.baseAddress, 64) }
            guard confidence >= 0 else { return nil }
            return name.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        }
    }

    /// Whether an ISO-2022 escape (ESC followed by '$' or '(') occurs.
    func hasISO2022Escape(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return false }
        var i = 0
        while i + 1 < bytes.count, let hit = memchr(base + i, 0x1B, bytes.count - i - 1) {
            let at = base.distance(to: UnsafeRawPointer(hit))
            if bytes[at + 1] == UInt8(ascii: "$") || bytes[at + 1] == UInt8(ascii: "(") { return true }
            i = at + 1
        }
        return false
    }

    /// The charset a `<meta charset=…>` or `<meta http-equiv … content="…; charset=…">` in the first
    /// `metaPrescanBytes` declares (case-insensitive, read in place without copies).
    func metaCharset(_ body: UnsafeRawBufferPointer) -> String? {
        let n = min(body.count, Self.metaPrescanBytes)
        @inline(__always) func lower(_ b: UInt8) -> UInt8 { (b >= 0x41 && b <= 0x5A) ? b | 0x20 : b }
        var i = 0
        while i + 5 <= n {
            guard let base = body.baseAddress, let hit = memchr(base + i, 0x3C, n - i - 4) else { return nil }
            i = base.distance(to: UnsafeRawPointer(hit))
            if lower(body[i + 1]) == 0x6D, lower(body[i + 2]) == 0x65, lower(body[i + 3]) == 0x74, lower(body[i + 4]) == 0x61 {
                var end = i
                while end < n && body[end] != 0x3E { end += 1 }
                if let value = charsetValue(in: UnsafeRawBufferPointer(rebasing: body[i..<end])) { return value }
                i = end
            }
            i += 1
        }
        return nil
    }

    /// How far `<meta>` declarations are looked for (the HTML standard's prescan reads 1024 bytes; pages with long
    /// heads put theirs later, so a little more).
    static let metaPrescanBytes = 4096

    /// The value after `charset` `=` in a tag (ASCII case-insensitive).
    private func charsetValue(in tag: UnsafeRawBufferPointer) -> String? {
        let key = Array("charset".utf8)
        var i = 0
        while i + key.count <= tag.count {
            var matches = true
            for k in 0..<key.count where (tag[i + k] >= 0x41 && tag[i + k] <= 0x5A ? tag[i + k] | 0x20 : tag[i + k]) != key[k] { matches = false; break }
            if matches {
                var j = i + key.count
                while j < tag.count && (tag[j] == 0x20 || tag[j] == 0x09) { j += 1 }
                if j < tag.count && tag[j] == 0x3D {
                    j += 1
                    while j < tag.count && (tag[j] == 0x20 || tag[j] == 0x09 || tag[j] == 0x22 || tag[j] == 0x27) { j += 1 }
                    var k = j
                    while k < tag.count, !(tag[k] == 0x22 || tag[k] == 0x27 || tag[k] == 0x20 || tag[k] == 0x3B || tag[k] == 0x2F || tag[k] == 0x3E) { k += 1 }
                    if k > j { return String(decoding: UnsafeRawBufferPointer(rebasing: tag[j..<k]), as: UTF8.self).lowercased() }
                }
            }
            i += 1
        }
        return nil
    }

    // MARK: Names

    /// The canonical name for a label (WHATWG Encoding Standard aliases for the common ones), or nil for
    /// labels no converter knows.
    func canonicalName(_ label: String) -> String? {
        let l = label.trimmingCharacters(in: " \t\"'").lowercased()
        switch l {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "x-unicode20utf8": return "utf-8"
        case "iso-8859-1", "iso8859-1", "latin1", "l1", "ascii", "us-ascii", "windows-1252", "cp1252", "x-cp1252",
             "iso_8859-1", "iso-ir-100", "cp819", "ansi_x3.4-1968", "": return "windows-1252"
        case "gb2312", "gbk", "x-gbk", "gb_2312-80", "chinese", "csgb2312", "gb18030": return "gb18030"
        case "shift_jis", "shift-jis", "sjis", "x-sjis", "ms_kanji", "windows-31j", "cp932": return "shift_jis"
        case "euc-kr", "ks_c_5601-1987", "windows-949", "cp949", "korean": return "euc-kr"
        case "big5", "big5-hkscs", "x-x-big5", "cn-big5": return "big5"
        case "utf-16", "utf-16le": return "utf-16le"
        case "utf-16be": return "utf-16be"
        case "tis-620", "iso-8859-11", "windows-874", "dos-874": return "windows-874"
        // WHATWG: ISO-8859-9 is decoded as windows-1254, and these labels as the encodings named.
        case "iso-8859-9", "iso8859-9", "latin5", "l5", "iso_8859-9", "iso-ir-148", "cp1254", "x-cp1254": return "windows-1254"
        case "ibm866", "866", "cp866", "csibm866": return "ibm866"
        case "x-mac-cyrillic", "mac-cyrillic", "x-mac-ukrainian": return "x-mac-cyrillic"
        case "euc-jp", "x-euc-jp", "cseucpkdfmtjapanese": return "euc-jp"
        case "iso-2022-jp", "csiso2022jp": return "iso-2022-jp"
        case "koi8-r", "koi8", "koi", "cskoi8r", "koi8_r": return "koi8-r"
        case "koi8-u", "koi8-ru": return "koi8-u"
        default:
            if l.hasPrefix("windows-125") || l.hasPrefix("iso-8859-") || l.hasPrefix("koi8") || l == "euc-jp" || l == "iso-2022-jp" || l == "macintosh" {
                return l
            }
            if l.hasPrefix("cp125") { return "windows-" + l.dropFirst(2) }
            return nil
        }
    }

    /// The name iconv knows for a canonical name.
    private func iconvName(_ name: String) -> String {
        switch name {
        case "shift_jis": return "CP932"
        case "euc-kr": return "CP949"
        case "big5": return "BIG5-HKSCS"
        case "windows-874": return "CP874"
        case "macintosh": return "MACINTOSH"
        case "x-mac-cyrillic": return "MAC-CYRILLIC"
        case "ibm866": return "IBM866"
        default: return name.uppercased()
        }
    }

    private func isUsable(_ name: String) -> Bool {
        if name == "utf-8" || name == "windows-1252" { return true }
        return converter(for: name) != nil
    }

    private func converter(for name: String) -> iconv_t? {
        if let cd = converters[name] { return cd }
        let cd = iconv_open("UTF-8", iconvName(name))
        guard let cd, cd != iconv_t(bitPattern: -1) else { return nil }
        converters[name] = cd
        return cd
    }

    // MARK: Transcoding

    /// - Parameter upTo: stop once this many invalid sequences were met (for checking a detector's answer).
    private func transcodeWithIconv(_ body: UnsafeRawBufferPointer, from name: String, upTo: Int = .max) -> (String, Int) {
        guard let cd = converter(for: name) else { return (decodeWindows1252(body), 0) }
        iconv(cd, nil, nil, nil, nil)
        var out = [UInt8](repeating: 0, count: body.count * 3 + 16)
        var replaced = 0
        var inPtr = UnsafeMutablePointer<CChar>(mutating: body.baseAddress?.assumingMemoryBound(to: CChar.self))
        var inLeft = body.count
        var produced = 0
        while inLeft > 0 {
            if out.count - produced < 16 { out += [UInt8](repeating: 0, count: out.count) }
            var outLeft = out.count - produced
            let rc = out.withUnsafeMutableBytes { buf -> Int in
                var outPtr: UnsafeMutablePointer<CChar>? = (buf.baseAddress! + produced).assumingMemoryBound(to: CChar.self)
                let r = iconv(cd, &inPtr, &inLeft, &outPtr, &outLeft)
                produced = buf.count - outLeft
                return r
            }
            if rc == -1 {
                let e = errno
                if e == E2BIG { continue }
                // EILSEQ or EINVAL: an invalid or incomplete sequence becomes U+FFFD and one byte is skipped.
                if out.count - produced < 3 { out += [UInt8](repeating: 0, count: 64) }
                out[produced] = 0xEF; out[produced + 1] = 0xBF; out[produced + 2] = 0xBD
                produced += 3
                replaced += 1
                inPtr = inPtr?.advanced(by: 1)
                inLeft -= 1
                iconv(cd, nil, nil, nil, nil)
                if replaced >= upTo { break }
            }
        }
        var text = [UInt8](out[0..<produced])
        if text.count >= 3, text[0] == 0xEF, text[1] == 0xBB, text[2] == 0xBF { text.removeFirst(3) }
        return (String(decoding: text, as: UTF8.self), replaced)
    }

    private static let cp1252High: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x192, 0x201E, 0x2026, 0x2020, 0x2021, 0x2C6, 0x2030, 0x160, 0x2039, 0x152, 0x8D, 0x17D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x2DC, 0x2122, 0x161, 0x203A, 0x153, 0x9D, 0x17E, 0x178,
    ]

    /// windows-1252 as the WHATWG Encoding Standard defines it (every byte maps to a character).
    func decodeWindows1252(_ body: UnsafeRawBufferPointer) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(body.count + body.count / 8)
        for b in body {
            if b < 0x80 { out.append(b) }
            else if b < 0xA0 { appendUTF8(Self.cp1252High[Int(b - 0x80)], to: &out) }
            else { appendUTF8(UInt32(b), to: &out) }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// Number of invalid sequences in `bytes` as UTF-8 (0 means valid). A sequence cut by the end counts.
public func countInvalidUTF8(_ bytes: UnsafeRawBufferPointer) -> Int {
    var invalid = 0
    var i = 0
    let n = bytes.count
    guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return 0 }
    while i < n {
        // ASCII fast path, eight bytes at a time.
        while i + 8 <= n && UnsafeRawPointer(base + i).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { i += 8 }
        guard i < n else { break }
        let b = base[i]
        if b < 0x80 { i += 1; continue }
        var need = 0
        var min: UInt32 = 0
        var scalar: UInt32 = 0
        switch b {
        case 0xC2...0xDF: need = 1; scalar = UInt32(b & 0x1F); min = 0x80
        case 0xE0...0xEF: need = 2; scalar = UInt32(b & 0x0F); min = 0x800
        case 0xF0...0xF4: need = 3; scalar = UInt32(b & 0x07); min = 0x10000
        default: invalid += 1; i += 1; continue
        }
        var j = 1
        while j <= need && i + j < n && base[i + j] & 0xC0 == 0x80 {
            scalar = scalar << 6 | UInt32(base[i + j] & 0x3F)
            j += 1
        }
        if j <= need || scalar < min || scalar > 0x10FFFF || (0xD800...0xDFFF).contains(scalar) {
            invalid += 1
            i += max(1, j - (j <= need ? 0 : 0))
            continue
        }
        i += need + 1
    }
    return invalid
}
