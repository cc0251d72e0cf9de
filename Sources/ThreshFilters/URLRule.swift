import ThreshCore
import ThreshIO

/// The Public Suffix List's ICANN section as a trie of reversed labels, looked up as tldextract 5.4 looks it up
/// (datatrove's URL filter takes the registered domain from tldextract, without the private section).
struct PublicSuffixList: Sendable {
    private final class Node: @unchecked Sendable {
        var children: [String: Node] = [:]
        var end = false
    }

    private let root = Node()

    /// Debian's `publicsuffix` package puts the list here.
    static let defaultPath = "/usr/share/publicsuffix/public_suffix_list.dat"

    /// Reads a list in the PSL's format (rules up to `// ===BEGIN PRIVATE DOMAINS===`, comments skipped).
    init(path: String) throws {
        let text = try readTextFile(path)
        let publicPart = text.firstRange(of: "// ===BEGIN PRIVATE DOMAINS===").map { text[..<$0.lowerBound] } ?? Substring(text)
        var rules = 0
        for raw in publicPart.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            // tldextract: ^([.*!]*\w\S*) — a rule is the line's first run of non-blanks that has a word character.
            let line = raw.drop(while: { $0 == " " || $0 == "\t" })
            guard !line.hasPrefix("//"), !line.isEmpty else { continue }
            let rule = line.prefix(while: { !$0.isWhitespace })
            guard rule.contains(where: { $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            var node = root
            for label in rule.split(separator: ".", omittingEmptySubsequences: false).reversed() {
                let key = String(label)
                if let next = node.children[key] { node = next } else {
                    let next = Node()
                    node.children[key] = next
                    node = next
                }
            }
            node.end = true
            rules += 1
        }
        guard rules > 0 else { throw ThreshError(.usage, "public suffix list \(path): no rules found") }
    }

    /// tldextract's `(registered_domain, fqdn)` of a URL: the host as written (case kept), its public suffix found
    /// on lower-cased, punycode-decoded labels; empty strings where there is no suffix or no domain (IP addresses).
    func domains(ofURL url: String) -> (registered: Substring, fqdn: Substring) {
        let dotted = Self.lenientHost(url).replacingDots()
        let labels = dotted.split(separator: ".", omittingEmptySubsequences: false)
        guard let suffixIndex = suffixIndex(labels), suffixIndex > 0, suffixIndex < labels.count else { return ("", "") }
        // The domain and every label after it are one stretch of the host (labels are its '.'-separated parts).
        let domain = labels[suffixIndex - 1]
        guard !domain.isEmpty else { return ("", "") }
        return (dotted[domain.startIndex...], dotted[...])
    }

    private func suffixIndex(_ labels: [Substring]) -> Int? {
        var node = root
        var suffixIndex = labels.count, labelIndex = labels.count
        for label in labels.reversed() {
            let decoded = Punycode.decodeLabel(label.lowercased())
            if let next = node.children[decoded] {
                labelIndex -= 1
                node = next
                if node.end { suffixIndex = labelIndex }
                continue
            }
            if node.children["*"] != nil {
                return node.children["!" + decoded] != nil ? labelIndex : labelIndex - 1
            }
            break
        }
        return suffixIndex == labels.count ? nil : suffixIndex
    }

    /// tldextract's `lenient_netloc`: the scheme (only scheme characters before "://") and user part dropped, the
    /// host up to '/', '?', '#' and ':', trimmed, without a root label's dot.
    static func lenientHost(_ url: String) -> String {
        let u = Array(url.utf8)
        var start = 0
        if let slashes = firstDoubleSlash(u) {
            if slashes == 0 {
                start = 2
            } else if slashes >= 2 && u[slashes - 1] == 0x3A && u[..<(slashes - 1)].allSatisfy(isSchemeCharacter) {
                start = slashes + 2
            }
        }
        var end = start
        while end < u.count && u[end] != 0x2F && u[end] != 0x3F && u[end] != 0x23 { end += 1 }
        var a = start
        if let at = u[start..<end].lastIndex(of: 0x40) { a = at + 1 }
        if a < end && u[a] == 0x5B, let close = u[a..<end].firstIndex(of: 0x5D) {
            return String(decoding: u[a...close], as: UTF8.self)
        }
        var b = end
        if let colon = u[a..<end].firstIndex(of: 0x3A) { b = colon }
        var host = String(decoding: u[a..<b], as: UTF8.self)
        if u[a..<b].contains(where: { $0 < 0x21 || $0 >= 0x80 }) { host = host.trimmingPythonWhitespace() }
        while let last = host.unicodeScalars.last, [".", "\u{3002}", "\u{FF0E}", "\u{FF61}"].contains(last) {
            host.unicodeScalars.removeLast()
        }
        return host
    }

    private static func firstDoubleSlash(_ u: [UInt8]) -> Int? {
        var i = 0
        while i + 1 < u.count {
            if u[i] == 0x2F && u[i + 1] == 0x2F { return i }
            i += 1
        }
        return nil
    }

    /// Python's `urllib.parse.scheme_chars`.
    private static func isSchemeCharacter(_ c: UInt8) -> Bool {
        (c >= 0x61 && c <= 0x7A) || (c >= 0x41 && c <= 0x5A) || (c >= 0x30 && c <= 0x39) || c == 0x2B || c == 0x2D || c == 0x2E
    }
}

private extension String {
    /// tldextract reads the ideographic and full-width full stops as dots.
    func replacingDots() -> String {
        if utf8.allSatisfy({ $0 < 0x80 }) { return self }
        var out = String.UnicodeScalarView()
        for c in unicodeScalars { out.append(c == "\u{3002}" || c == "\u{FF0E}" || c == "\u{FF61}" ? "." : c) }
        return String(out)
    }
}

/// RFC 3492 punycode, for labels spelt `xn--…` (the PSL lists internationalised suffixes in Unicode).
enum Punycode {
    /// The Unicode form of an `xn--` label, or the label itself when it is not one or does not decode.
    static func decodeLabel(_ label: String) -> String {
        guard label.hasPrefix("xn--") else { return label }
        let input = Array(label.unicodeScalars.dropFirst(4))
        guard let decoded = decode(input) else { return label }
        return String(String.UnicodeScalarView(decoded))
    }

    private static func decode(_ input: [Unicode.Scalar]) -> [Unicode.Scalar]? {
        let base = 36, tMin = 1, tMax = 26, skew = 38, damp = 700
        var n = 128, i = 0, bias = 72
        var output: [Unicode.Scalar] = []
        var start = 0
        if let delimiter = input.lastIndex(of: "-") {
            output = Array(input[..<delimiter])
            guard output.allSatisfy({ $0.isASCII }) else { return nil }
            start = delimiter + 1
        }
        var p = start
        while p < input.count {
            let oldI = i
            var w = 1
            var k = base
            while true {
                guard p < input.count else { return nil }
                let c = input[p].value
                p += 1
                let digit: Int
                switch c {
                case 0x30...0x39: digit = Int(c) - 22
                case 0x41...0x5A: digit = Int(c) - 0x41
                case 0x61...0x7A: digit = Int(c) - 0x61
                default: return nil
                }
                let (product, overflow) = digit.multipliedReportingOverflow(by: w)
                guard !overflow, i <= Int(Int32.max) - product else { return nil }
                i += product
                let t = k <= bias ? tMin : (k >= bias + tMax ? tMax : k - bias)
                if digit < t { break }
                guard w <= Int(Int32.max) / (base - t) else { return nil }
                w *= base - t
                k += base
            }
            let count = output.count + 1
            var delta = oldI == 0 ? (i - oldI) / damp : (i - oldI) / 2
            delta += delta / count
            var kk = 0
            while delta > ((base - tMin) * tMax) / 2 {
                delta /= base - tMin
                kk += base
            }
            bias = kk + (base - tMin + 1) * delta / (delta + skew)
            n += i / count
            i %= count
            guard n <= 0x10FFFF, let scalar = Unicode.Scalar(UInt32(n)) else { return nil }
            output.insert(scalar, at: i)
            i += 1
        }
        return output
    }
}

/// datatrove 0.10.1's `URLFilter`: the URL's registered domain or full host on a domain blocklist, the URL on a URL
/// blocklist, a banned word among the URL's words (runs of ASCII letters and digits, case kept), at least
/// `soft-word-threshold` soft-banned words, or a banned sub-word inside the URL's letters and digits lower-cased.
struct URLRule: FilterRule {
    let name = "url"
    var softWordThreshold = 2
    var blockedDomains = ByteStringSet()
    var blockedURLs = ByteStringSet()
    var bannedWords = ByteStringSet()
    /// Normalised (ASCII) sub-words, as bytes, and grouped by their first byte.
    var bannedSubwords: [[UInt8]] = [] {
        didSet {
            var groups = [[[UInt8]]](repeating: [], count: 256)
            for w in bannedSubwords where !w.isEmpty { groups[Int(w[0])].append(w) }
            subwordsByFirstByte = groups
        }
    }
    var subwordsByFirstByte = [[[UInt8]]](repeating: [], count: 256)
    var softBannedWords = ByteStringSet()
    var suffixes: PublicSuffixList

    func evaluate(_ text: FilterText, url: String?, complete: Bool) -> RuleOutcome {
        var out = RuleOutcome()
        guard let url, !url.isEmpty else { out.fail("no_url"); return out }
        let (registered, fqdn) = suffixes.domains(ofURL: url)
        if out.check("domain", blockedDomains.contains(Substring(registered)) ? 1 : 0, threshold: 0, failsWhen: ">", reason: "domain") && !complete { return out }
        if out.check("subdomain", blockedDomains.contains(Substring(fqdn)) ? 1 : 0, threshold: 0, failsWhen: ">", reason: "subdomain") && !complete { return out }
        if out.check("url", blockedURLs.contains(Substring(url)) ? 1 : 0, threshold: 0, failsWhen: ">", reason: "url") && !complete { return out }
        // The URL's words (runs of ASCII letters and digits, as bytes; Python's split also gives an empty word when
        // the URL starts or ends with a separator) looked up in the lists; soft words counted once each.
        let bytes = Array(url.utf8)
        var hard = false
        var softFound: [ArraySlice<UInt8>] = []
        var i = 0
        var words: [ArraySlice<UInt8>] = []
        if let first = bytes.first, !Self.isASCIIAlphanumeric(first) { words.append(bytes[0..<0]) }
        while i < bytes.count {
            while i < bytes.count && !Self.isASCIIAlphanumeric(bytes[i]) { i += 1 }
            let start = i
            while i < bytes.count && Self.isASCIIAlphanumeric(bytes[i]) { i += 1 }
            if i > start { words.append(bytes[start..<i]) }
        }
        if let last = bytes.last, !Self.isASCIIAlphanumeric(last) { words.append(bytes[bytes.count..<bytes.count]) }
        for w in words {
            if bannedWords.contains(bytes: w) { hard = true }
            if softBannedWords.contains(bytes: w) && !softFound.contains(where: { $0.elementsEqual(w) }) { softFound.append(w) }
        }
        if out.check("hard_blacklisted", hard ? 1 : 0, threshold: 0, failsWhen: ">", reason: "hard_blacklisted") && !complete { return out }
        if out.check("soft_blacklisted", Double(softFound.count), threshold: Double(softWordThreshold) - 0.5, failsWhen: ">", reason: "soft_blacklisted") && !complete { return out }
        let sub = !bannedSubwords.isEmpty && Self.anyOccurs(subwordsByFirstByte, in: Self.normalized(bytes))
        out.check("blacklisted_subword", sub ? 1 : 0, threshold: 0, failsWhen: ">", reason: "blacklisted_subword")
        return out
    }

    @inline(__always) static func isASCIIAlphanumeric(_ b: UInt8) -> Bool {
        (b >= 0x61 && b <= 0x7A) || (b >= 0x41 && b <= 0x5A) || (b >= 0x30 && b <= 0x39)
    }

    /// Whether any needle occurs in `haystack`: one pass, trying at each position only the needles that start with
    /// its byte.
    static func anyOccurs(_ byFirstByte: [[[UInt8]]], in haystack: [UInt8]) -> Bool {
        for i in 0..<haystack.count {
            for needle in byFirstByte[Int(haystack[i])] where i + needle.count <= haystack.count {
                var k = 1
                while k < needle.count && haystack[i + k] == needle[k] { k += 1 }
                if k == needle.count { return true }
            }
        }
        return false
    }

    /// datatrove's `normalize`: ASCII letters and digits only, lower-cased.
    static func normalize(_ s: String) -> String { String(decoding: normalized(s.utf8), as: UTF8.self) }

    /// `normalize` over UTF-8 bytes (the letters and digits it keeps are ASCII).
    static func normalized<S: Sequence<UInt8>>(_ bytes: S) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes where isASCIIAlphanumeric(b) { out.append(b >= 0x41 && b <= 0x5A ? b + 0x20 : b) }
        return out
    }

    /// datatrove's `parse_list` over a file's lines: lines starting with '#' skipped; each line normalised (words)
    /// or stripped (domains and URLs). A blank line is an empty entry, as in datatrove.
    static func parseLines(_ text: String, normalizing: Bool) -> Set<String> {
        var out = Set<String>()
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false)
        if text.hasSuffix("\n") { lines.removeLast() }
        for line in lines where !line.hasPrefix("#") {
            out.insert(normalizing ? normalize(String(line)) : String(line).trimmingPythonWhitespace())
        }
        return out
    }

    /// Reads a blocklist in UT1's layout: `DIR/domains` and `DIR/urls`, or `DIR/CATEGORY/domains` and
    /// `DIR/CATEGORY/urls` for every category (or the ones named).
    static func readBlocklist(_ directory: String, categories: [String], into domains: inout ByteStringSet, _ urls: inout ByteStringSet) throws {
        var folders: [String] = []
        if Paths.exists(directory + "/domains") || Paths.exists(directory + "/urls") {
            folders = [directory]
        } else {
            let entries = try listDirectory(directory).filter { Paths.isDirectory(directory + "/" + $0) }.sorted()
            let chosen = categories.isEmpty ? entries : categories
            for category in chosen {
                guard entries.contains(category) else {
                    throw ThreshError(.usage, "blocklist \(directory): no category '\(category)'\(suggestion(for: category, among: entries))")
                }
                folders.append(directory + "/" + category)
            }
        }
        guard !folders.isEmpty else { throw ThreshError(.usage, "blocklist \(directory): no domains or urls files (UT1's layout: DIR/CATEGORY/domains)") }
        for folder in folders {
            if Paths.exists(folder + "/domains") { domains.addLines(of: try readEntireFile(folder + "/domains")) }
            if Paths.exists(folder + "/urls") { urls.addLines(of: try readEntireFile(folder + "/urls")) }
        }
    }
}

extension String {
    /// Python's `str.strip()`.
    func trimmingPythonWhitespace() -> String {
        let s = PythonText.scalars(self)
        return PythonText.string(s, PythonText.strip(s, 0..<s.count))
    }
}

/// A UTF-8 text file (decompressed if it is gzip or zstd); invalid bytes are an error naming the file.
func readTextFile(_ path: String) throws -> String {
    let bytes = try readEntireFile(path)
    guard let text = String(validating: bytes, as: UTF8.self) else {
        throw ThreshError(.usage, "not UTF-8 text", file: path)
    }
    return text
}

/// An exact set of strings read from list files: the files' bytes kept as they are, each entry a range of them, found
/// through an open-addressing table of 64-bit hashes and compared byte for byte. Memory: the files plus 16 bytes per
/// entry (4,558,939 domains of UT1's lists: about 160 MB; 4 more per entry while the table is rebuilt), read in one
/// pass without a String per entry. Entries are hashed with xxh64.
struct ByteStringSet: Sendable {
    private var storage: [UInt8] = []
    private var starts: [UInt32] = []
    private var lengths: [UInt32] = []
    private var table: [Int32] = [Int32](repeating: -1, count: 16)
    private var hashes: [UInt64] = []

    var count: Int { starts.count }

    /// Adds every line of a list file as datatrove's `parse_list` reads it (skip lines starting with '#'; strip
    /// Python whitespace; a blank line is the empty string).
    mutating func addLines(of bytes: [UInt8]) {
        storage.reserveCapacity(storage.count + bytes.count)
        bytes.withUnsafeBufferPointer { buffer in
            var i = 0
            let n = buffer.count
            while i < n {
                var e = i
                while e < n && buffer[e] != 0x0A { e += 1 }
                if buffer[i] != 0x23 {  // '#'
                    var a = i, b = e
                    var ascii = true
                    for k in a..<b where buffer[k] >= 0x80 { ascii = false; break }
                    if ascii {
                        while a < b && Self.isASCIISpace(buffer[a]) { a += 1 }
                        while b > a && Self.isASCIISpace(buffer[b - 1]) { b -= 1 }
                        append(UnsafeBufferPointer(rebasing: buffer[a..<b]))
                    } else {
                        let trimmed = String(decoding: UnsafeBufferPointer(rebasing: buffer[a..<b]), as: UTF8.self).trimmingPythonWhitespace()
                        Array(trimmed.utf8).withUnsafeBufferPointer { append($0) }
                    }
                }
                i = e + 1
            }
        }
        rebuildTable()
    }

    mutating func add(_ string: String) { add(Array(string.utf8)[...]) }

    private static func isASCIISpace(_ b: UInt8) -> Bool { b == 0x20 || (b >= 0x09 && b <= 0x0D) || (b >= 0x1C && b <= 0x1F) }

    /// Adds an entry (a repeated one takes a second slot: membership is all that is asked).
    private mutating func add(_ entry: ArraySlice<UInt8>) {
        entry.withUnsafeBufferPointer { append($0) }
        if starts.count * 2 > table.count {
            rebuildTable()
        } else {
            place(starts.count - 1)
        }
    }

    /// Stores an entry without placing it in the table (bulk loads place everything at the end).
    private mutating func append(_ entry: UnsafeBufferPointer<UInt8>) {
        starts.append(UInt32(storage.count))
        lengths.append(UInt32(entry.count))
        storage.append(contentsOf: entry)
        hashes.append(Self.hash(entry))
    }

    func contains(bytes: ArraySlice<UInt8>) -> Bool { bytes.withUnsafeBufferPointer { contains($0, hash: Self.hash($0)) } }

    func contains(_ string: Substring) -> Bool {
        var s = string
        return s.withUTF8 { buffer in contains(buffer, hash: Self.hash(buffer)) }
    }

    private func contains<C: Collection<UInt8>>(_ entry: C, hash h: UInt64) -> Bool {
        guard !starts.isEmpty else { return false }
        var slot = Int(truncatingIfNeeded: h >> 7) & (table.count - 1)
        while table[slot] >= 0 {
            let k = Int(table[slot])
            if hashes[k] == h && Int(lengths[k]) == entry.count
                && storage[Int(starts[k])..<Int(starts[k]) + entry.count].elementsEqual(entry) { return true }
            slot = (slot + 1) & (table.count - 1)
        }
        return false
    }

    private func homeSlot(_ k: Int, mask: Int) -> Int { Int(truncatingIfNeeded: hashes[k] >> 7) & mask }

    private mutating func place(_ k: Int) {
        let mask = table.count - 1
        var slot = homeSlot(k, mask: mask)
        while table[slot] >= 0 { slot = (slot + 1) & mask }
        table[slot] = Int32(k)
    }

    /// Rebuilds the table for every entry, at most half full. Entries are placed in the order of their home slots'
    /// top bits (a counting sort), so the probes walk the table almost in order instead of missing the cache once
    /// per entry: linear probing finds an entry whatever order the entries were placed in.
    private mutating func rebuildTable() {
        var size = 16
        while starts.count * 2 > size { size *= 2 }
        let mask = size - 1
        let bucketBits = min(12, size.trailingZeroBitCount)
        let shift = size.trailingZeroBitCount - bucketBits
        var firstOfBucket = [Int](repeating: 0, count: (1 << bucketBits) + 1)
        for k in 0..<starts.count { firstOfBucket[(homeSlot(k, mask: mask) >> shift) + 1] += 1 }
        for b in 0..<(1 << bucketBits) { firstOfBucket[b + 1] += firstOfBucket[b] }
        var order = [Int32](repeating: 0, count: starts.count)
        for k in 0..<starts.count {
            let b = homeSlot(k, mask: mask) >> shift
            order[firstOfBucket[b]] = Int32(k)
            firstOfBucket[b] += 1
        }
        var rebuilt = [Int32](repeating: -1, count: size)
        rebuilt.withUnsafeMutableBufferPointer { slots in
            for k in order {
                var slot = homeSlot(Int(k), mask: mask)
                while slots[slot] >= 0 { slot = (slot + 1) & mask }
                slots[slot] = k
            }
        }
        table = rebuilt
    }

    static func hash(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt64 { XXH64.hash(UnsafeRawBufferPointer(bytes)) }
}
