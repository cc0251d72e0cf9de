#if canImport(Glibc)
import Glibc
#endif
internal import CThreshICU

/// Sort-friendly URL keys (SURT) exactly as the `surt` package (0.3.1) makes them with its defaults, which
/// cdxj-indexer and pywb use: the archive-commons Google and IA canonicalisers over a `handyurl`, then the host's labels
/// reversed, without the scheme.
///
/// Steps, in the package's order: whitespace removed; `http://` added when there is no scheme; repeated
/// `http(s)://` collapsed; RFC 2396 split; the fragment dropped; the host percent-decoded repeatedly, IDNA-2003
/// encoded when not ASCII, `..` collapsed, dots trimmed, numeric hosts (`3232235777`, `0x…`-free dotted, octal)
/// rewritten as dotted quads, lowercased and escaped once; the path decoded repeatedly, `.`/`..` resolved, escaped
/// once; the query decoded repeatedly and escaped once; then `www`, `www1`… dropped, user and password dropped, the
/// scheme's default port dropped, path lowercased without session ids and without a trailing slash, the query
/// lowercased without session ids and its arguments sorted.
///
/// When the package raises (a port that is not a number from 0 to 65535), cdxj-indexer keys the URL as it is; so does
/// `key(_:)`.
public enum SURT {
    public static func key(_ url: String) -> String {
        let bytes = Array(url.utf8)
        guard let key = surt(bytes) else { return url }
        return String(decoding: key, as: UTF8.self)
    }

    /// The key, or nil where the package raises.
    static func surt(_ input: [UInt8]) -> [UInt8]? {
        if input.isEmpty { return Array("-".utf8) }
        if input.starts(with: Array("filedesc".utf8)) { return input }
        guard var url = HandyURL.parse(input) else { return nil }
        googleCanonicalize(&url)
        iaCanonicalize(&url)
        return url.surtBytes()
    }

    // MARK: handyurl

    struct HandyURL {
        var scheme: [UInt8]?
        var host: [UInt8]?
        var port: Int?
        var path: [UInt8]?
        var query: [UInt8]?
        var hash: [UInt8]?
        var lastDelimiterIsQuestionMark = false

        /// `handyurl.parse`: nil where Python raises (a bad port).
        static func parse(_ raw: [UInt8]) -> HandyURL? {
            var url = stripASCIIWhitespace(raw).filter { $0 != 0x0A && $0 != 0x0D && $0 != 0x09 }
            if !url.isEmpty && !hasScheme(url) { url = Array("http://".utf8) + url }
            url = collapseRepeatedProtocols(url)
            let parts = rfc2396Split(url)
            var result = HandyURL()
            result.scheme = parts.scheme.isEmpty ? nil : parts.scheme
            result.query = parts.query.flatMap { $0.isEmpty ? nil : $0 }
            result.hash = parts.fragment.flatMap { $0.isEmpty ? nil : $0 }
            var netloc = parts.netloc
            while netloc.last == UInt8(ascii: ":") { netloc.removeLast() }
            // urllib's hostname and port: after the last '@'; a bracketed IPv6 host; else split at the first ':'.
            let hostinfo = netloc.lastIndex(of: UInt8(ascii: "@")).map { Array(netloc[(netloc.index(after: $0))...]) } ?? netloc
            var hostname: [UInt8]
            var portText: [UInt8]
            if let open = hostinfo.firstIndex(of: UInt8(ascii: "[")) {
                let bracketed = Array(hostinfo[(open + 1)...])
                if let close = bracketed.firstIndex(of: UInt8(ascii: "]")) {
                    hostname = Array(bracketed[..<close])
                    let after = Array(bracketed[(close + 1)...])
                    portText = after.firstIndex(of: UInt8(ascii: ":")).map { Array(after[($0 + 1)...]) } ?? []
                } else {
                    hostname = bracketed
                    portText = []
                }
            } else if let colon = hostinfo.firstIndex(of: UInt8(ascii: ":")) {
                hostname = Array(hostinfo[..<colon])
                portText = Array(hostinfo[(colon + 1)...])
            } else {
                hostname = hostinfo
                portText = []
            }
            if !portText.isEmpty {
                guard portText.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }), portText.count <= 5,
                      let value = Int(String(decoding: portText, as: UTF8.self)), value <= 65535 else { return nil }
                result.port = value == 0 ? nil : value
            }
            // urllib lowercases the host name (ASCII only for bytes) but not an IPv6 zone after '%'.
            if let percent = hostname.firstIndex(of: UInt8(ascii: "%")) {
                hostname = asciiLowercased(Array(hostname[..<percent])) + Array(hostname[percent...])
            } else {
                hostname = asciiLowercased(hostname)
            }
            result.host = hostname.isEmpty ? nil : hostname
            result.path = parts.path.isEmpty ? nil : parts.path
            if let scheme = result.scheme, scheme.starts(with: Array("http".utf8)), result.host == nil, let path = result.path {
                // "http:/example.com/x": the host is the path's first segment (as given, not lowercased).
                var rest = path[...]
                while rest.first == UInt8(ascii: "/") { rest = rest.dropFirst() }
                if let slash = rest.firstIndex(of: UInt8(ascii: "/")) {
                    result.host = Array(rest[..<slash])
                    result.path = [UInt8(ascii: "/")] + Array(rest[(slash + 1)...])
                } else {
                    result.host = Array(rest)
                    result.path = [UInt8(ascii: "/")]
                }
            }
            if url.last == UInt8(ascii: "?") && result.query == nil { result.lastDelimiterIsQuestionMark = true }
            return result
        }

        /// `geturl_bytes(surt=True, with_scheme=False)`.
        func surtBytes() -> [UInt8] {
            var s: [UInt8] = []
            let hostSource = host.flatMap { $0.isEmpty ? nil : $0 }
            if let hostSource {
                // hostToSURT: labels reversed, joined by ','.
                s += hostSource.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false).reversed()
                    .joined(separator: [UInt8(ascii: ",")])
                if let port { s += Array(":\(port)".utf8) }
                s.append(UInt8(ascii: ")"))
            } else {
                s = (scheme ?? []) + [UInt8(ascii: ":")]
            }
            if let path, !path.isEmpty {
                s += path
            } else if query != nil || hash != nil {
                s.append(UInt8(ascii: "/"))
            }
            if let query { s += [UInt8(ascii: "?")] + query }
            if let hash { s += [UInt8(ascii: "#")] + hash }
            if lastDelimiterIsQuestionMark { s.append(UInt8(ascii: "?")) }
            return s
        }

        /// `^[a-zA-Z][a-zA-Z0-9+\-.]*:`
        static func hasScheme(_ url: [UInt8]) -> Bool {
            guard let first = url.first, isAlpha(first) else { return false }
            for c in url.dropFirst() {
                if c == UInt8(ascii: ":") { return true }
                guard isAlpha(c) || isDigit(c) || c == UInt8(ascii: "+") || c == UInt8(ascii: "-") || c == UInt8(ascii: ".") else { return false }
            }
            return false
        }

        /// `^(https?://)+` replaced by its last repetition.
        static func collapseRepeatedProtocols(_ url: [UInt8]) -> [UInt8] {
            let http = Array("http://".utf8), https = Array("https://".utf8)
            var i = 0
            var last: [UInt8]?
            while true {
                let rest = url[i...]
                if rest.starts(with: http) { last = http; i += http.count } else if rest.starts(with: https) { last = https; i += https.count } else { break }
            }
            guard let last else { return url }
            return last + Array(url[i...])
        }

        /// `^(([a-zA-Z][a-zA-Z0-9+.-]*):)?((//([^/?#]*))?([^?#]*)(\?([^#]*))?)?(#(.*))?$`
        static func rfc2396Split(_ url: [UInt8]) -> (scheme: [UInt8], netloc: [UInt8], path: [UInt8], query: [UInt8]?, fragment: [UInt8]?) {
            var i = 0
            var scheme: [UInt8] = []
            if let first = url.first, isAlpha(first) {
                var j = 1
                while j < url.count, isAlpha(url[j]) || isDigit(url[j]) || url[j] == UInt8(ascii: "+") || url[j] == UInt8(ascii: ".") || url[j] == UInt8(ascii: "-") { j += 1 }
                if j < url.count, url[j] == UInt8(ascii: ":") { scheme = Array(url[0..<j]); i = j + 1 }
            }
            var netloc: [UInt8] = []
            if url.count - i >= 2, url[i] == UInt8(ascii: "/"), url[i + 1] == UInt8(ascii: "/") {
                var j = i + 2
                while j < url.count, url[j] != UInt8(ascii: "/"), url[j] != UInt8(ascii: "?"), url[j] != UInt8(ascii: "#") { j += 1 }
                netloc = Array(url[(i + 2)..<j])
                i = j
            }
            var j = i
            while j < url.count, url[j] != UInt8(ascii: "?"), url[j] != UInt8(ascii: "#") { j += 1 }
            let path = Array(url[i..<j])
            i = j
            var query: [UInt8]?
            if i < url.count, url[i] == UInt8(ascii: "?") {
                j = i + 1
                while j < url.count, url[j] != UInt8(ascii: "#") { j += 1 }
                query = Array(url[(i + 1)..<j])
                i = j
            }
            var fragment: [UInt8]?
            if i < url.count, url[i] == UInt8(ascii: "#") { fragment = Array(url[(i + 1)...]) }
            return (scheme, netloc, path, query, fragment)
        }
    }

    // MARK: GoogleURLCanonicalizer

    static func googleCanonicalize(_ url: inout HandyURL) {
        url.hash = nil
        if let query = url.query { url.query = escapeOnce(unescapeRepeatedly(query)) }
        if let raw = url.host {
            var host = unescapeRepeatedly(raw)
            if !host.allSatisfy({ $0 < 0x80 }), let ascii = idnaEncode(host) { host = ascii }
            host = collapseDoubleDots(host)
            host = trimDots(host)
            if let ip = attemptIPFormats(host) { host = ip } else { host = escapeOnce(asciiLowercased(host)) }
            url.host = host
        }
        var path = url.path.map(unescapeRepeatedly)
        if url.host != nil { path = normalizePath(path) }
        url.path = path.map(escapeOnce)
    }

    /// `bytes.replace(b'..', b'.')`: non-overlapping, left to right.
    static func collapseDoubleDots(_ host: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        while i < host.count {
            if host[i] == UInt8(ascii: "."), i + 1 < host.count, host[i + 1] == UInt8(ascii: ".") { out.append(UInt8(ascii: ".")); i += 2 } else { out.append(host[i]); i += 1 }
        }
        return out
    }

    static func trimDots(_ host: [UInt8]) -> [UInt8] {
        var slice = host[...]
        while slice.first == UInt8(ascii: ".") { slice = slice.dropFirst() }
        while slice.last == UInt8(ascii: ".") { slice = slice.dropLast() }
        return Array(slice)
    }

    static func normalizePath(_ path: [UInt8]?) -> [UInt8] {
        guard let path, !path.isEmpty else { return [UInt8(ascii: "/")] }
        var kept: [ArraySlice<UInt8>] = []
        for (n, p) in path.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).enumerated() where n > 0 {
            if p.elementsEqual([UInt8(ascii: ".")]) { continue }
            if p.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")]) {
                if !kept.isEmpty { kept.removeLast() } else { kept.append(p) }
            } else {
                kept.append(p)
            }
        }
        var out: [UInt8] = [UInt8(ascii: "/")]
        if let last = kept.last {
            for p in kept.dropLast() where !p.isEmpty { out += p; out.append(UInt8(ascii: "/")) }
            out += last
        }
        return out
    }

    /// Python's IDNA 2003 codec on the host decoded as UTF-8 (invalid bytes dropped); nil where it raises.
    static func idnaEncode(_ host: [UInt8]) -> [UInt8]? {
        let text = decodeUTF8IgnoringErrors(host)
        let units = Array(text.utf16)
        if units.isEmpty { return [] }
        var out = [UInt16](repeating: 0, count: max(256, units.count * 4))
        let n = units.withUnsafeBufferPointer { src in
            out.withUnsafeMutableBufferPointer { dst in
                thresh_idna2003_to_ascii(src.baseAddress, Int32(src.count), dst.baseAddress, Int32(dst.count))
            }
        }
        guard n >= 0 else { return nil }
        let ascii = out[0..<Int(n)].map { UInt8(truncatingIfNeeded: $0) }
        // Python checks each label: 1 to 63 bytes (an empty last label is a trailing dot).
        var labels = ascii.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if labels.count > 1, labels.last?.isEmpty == true { labels.removeLast() }
        guard labels.allSatisfy({ !$0.isEmpty && $0.count < 64 }) else { return nil }
        return ascii
    }

    static func decodeUTF8IgnoringErrors(_ bytes: [UInt8]) -> String {
        var scalars = String.UnicodeScalarView()
        var iterator = bytes.makeIterator()
        var decoder = UTF8()
        loop: while true {
            switch decoder.decode(&iterator) {
            case .scalarValue(let s): scalars.append(s)
            case .emptyInput: break loop
            case .error: continue
            }
        }
        return String(scalars)
    }

    /// Numeric hosts as `socket.gethostbyname` reads them (inet_aton: one to four parts, octal with a leading 0),
    /// for the forms the canonicaliser tries: all digits, dotted decimal, dotted octal.
    static func attemptIPFormats(_ host: [UInt8]) -> [UInt8]? {
        guard !host.isEmpty else { return nil }
        if host.allSatisfy(isDigit) {
            // int(host) & 0xffffffff, for any length: arithmetic modulo 2^32 keeps exactly the low 32 bits.
            var low: UInt32 = 0
            for c in host { low = low &* 10 &+ UInt32(c - 0x30) }
            return dottedQuad(low)
        }
        let parts = host.split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        guard parts.count <= 4, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(isDigit) }) else { return nil }
        let decimal = parts[0].first != UInt8(ascii: "0") && parts.allSatisfy { $0.allSatisfy(isDigit) }
        let octal = parts[0].first == UInt8(ascii: "0") && parts.allSatisfy { $0.allSatisfy { $0 >= 0x30 && $0 <= 0x37 } }
        guard decimal || octal else { return nil }
        // inet_aton: each part decimal, or octal with a leading 0; the last part fills the remaining bytes.
        var values: [UInt64] = []
        for p in parts {
            var v: UInt64 = 0
            let base: UInt64 = p.count > 1 && p.first == UInt8(ascii: "0") ? 8 : 10
            for c in p {
                let d = UInt64(c - 0x30)
                guard d < base else { return nil }
                v = v * base + d
                guard v <= 0xFFFF_FFFF else { return nil }
            }
            values.append(v)
        }
        var address: UInt64
        switch values.count {
        case 1: address = values[0]
        case 2: guard values[0] <= 255, values[1] <= 0xFF_FFFF else { return nil }; address = values[0] << 24 | values[1]
        case 3: guard values[0] <= 255, values[1] <= 255, values[2] <= 0xFFFF else { return nil }; address = values[0] << 24 | values[1] << 16 | values[2]
        default: guard values.allSatisfy({ $0 <= 255 }) else { return nil }; address = values[0] << 24 | values[1] << 16 | values[2] << 8 | values[3]
        }
        return dottedQuad(UInt32(address))
    }

    static func dottedQuad(_ v: UInt32) -> [UInt8] {
        Array("\(v >> 24).\(v >> 16 & 255).\(v >> 8 & 255).\(v & 255)".utf8)
    }

    /// `quote_from_bytes` with the canonicaliser's safe set: every printable ASCII byte but '#', '%' and space.
    static func escapeOnce(_ input: [UInt8]) -> [UInt8] {
        let hex = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(input.count)
        for c in input {
            if c > 0x20 && c < 0x7F && c != UInt8(ascii: "#") && c != UInt8(ascii: "%") {
                out.append(c)
            } else {
                out += [UInt8(ascii: "%"), hex[Int(c >> 4)], hex[Int(c & 15)]]
            }
        }
        return out
    }

    /// `unquote_to_bytes` until nothing changes: valid `%XX` become bytes, anything else stays.
    static func unescapeRepeatedly(_ input: [UInt8]) -> [UInt8] {
        var current = input
        while true {
            var out: [UInt8] = []
            out.reserveCapacity(current.count)
            var i = 0
            var changed = false
            while i < current.count {
                if current[i] == UInt8(ascii: "%"), i + 2 < current.count,
                   let hi = hexValue(current[i + 1]), let lo = hexValue(current[i + 2]) {
                    out.append(hi << 4 | lo)
                    i += 3
                    changed = true
                } else {
                    out.append(current[i])
                    i += 1
                }
            }
            if !changed { return current }
            current = out
        }
    }

    // MARK: IAURLCanonicalizer

    static func iaCanonicalize(_ url: inout HandyURL) {
        if let host = url.host {
            var h = asciiLowercased(host)
            if url.scheme.map({ !$0.elementsEqual(Array("dns".utf8)) }) ?? true { h = massageHost(h) }
            url.host = h
        }
        if let scheme = url.scheme {
            let lower = asciiLowercased(scheme)
            let defaultPort = lower == Array("http".utf8) ? 80 : lower == Array("https".utf8) ? 443 : 0
            if url.port == defaultPort { url.port = nil }
        }
        if var path = url.path, !path.isEmpty {
            path = asciiLowercased(path)
            path = stripPathSessionID(path)
            if path.count > 1, path.last == UInt8(ascii: "/") { path.removeLast() }
            url.path = path
        }
        if let query = url.query, !query.isEmpty {
            var q = stripQuerySessionID(query)
            q = asciiLowercased(q)
            q = alphaReorderQuery(q)
            url.query = q.isEmpty ? nil : q
        } else {
            url.lastDelimiterIsQuestionMark = false
        }
    }

    /// `www\d*\.` at the start.
    static func massageHost(_ host: [UInt8]) -> [UInt8] {
        guard host.starts(with: Array("www".utf8)) else { return host }
        var i = 3
        while i < host.count, isDigit(host[i]) { i += 1 }
        guard i < host.count, host[i] == UInt8(ascii: ".") else { return host }
        return Array(host[(i + 1)...])
    }

    static func alphaReorderQuery(_ query: [UInt8]) -> [UInt8] {
        guard query.count > 1 else { return query }
        let args = query.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: false).map { arg -> (ArraySlice<UInt8>, ArraySlice<UInt8>?) in
            if let eq = arg.firstIndex(of: UInt8(ascii: "=")) { return (arg[..<eq], arg[(eq + 1)...]) }
            return (arg, nil)
        }
        // Python sorts (key,) before (key, value), and tuples element by element.
        let sorted = args.sorted { a, b in
            if !a.0.elementsEqual(b.0) { return a.0.lexicographicallyPrecedes(b.0) }
            switch (a.1, b.1) {
            case (nil, nil): return false
            case (nil, _): return true
            case (_, nil): return false
            case (let x?, let y?): return x.lexicographicallyPrecedes(y)
            }
        }
        var out: [UInt8] = []
        for (n, (k, v)) in sorted.enumerated() {
            if n > 0 { out.append(UInt8(ascii: "&")) }
            out += k
            if let v { out.append(UInt8(ascii: "=")); out += v }
        }
        return out
    }

    // MARK: URLRegexTransformer (session ids)

    /// `^(.*/)(\((?:[a-z]\([0-9a-z]{24}\))+\)/)([^\?]+\.aspx.*)$` and `^(.*/)(\([0-9a-z]{24}\)/)([^\?]+\.aspx.*)$`
    /// (case-insensitive): the session segment removed. The greedy `(.*/)` takes the last place that matches.
    static func stripPathSessionID(_ path: [UInt8]) -> [UInt8] {
        var p = path
        for nested in [true, false] {
            // Try segment starts from the right (greedy prefix), as the regex engine does.
            var start = p.count - 1
            while start >= 1 {
                if p[start - 1] == UInt8(ascii: "/"), let end = sessionSegmentEnd(p, from: start, nested: nested),
                   isAspxTail(p[end...]) {
                    p = Array(p[..<start]) + Array(p[end...])
                    break
                }
                start -= 1
            }
        }
        return p
    }

    /// Where a session segment that starts at `from` ends (after its '/'), or nil.
    private static func sessionSegmentEnd(_ p: [UInt8], from: Int, nested: Bool) -> Int? {
        var i = from
        guard i < p.count, p[i] == UInt8(ascii: "(") else { return nil }
        i += 1
        func id24(_ at: Int) -> Bool {
            at + 24 <= p.count && p[at..<(at + 24)].allSatisfy { isDigit($0) || isAlpha($0) }
        }
        if nested {
            var groups = 0
            while i + 1 < p.count, isAlpha(p[i]), p[i + 1] == UInt8(ascii: "("), id24(i + 2), i + 26 < p.count, p[i + 26] == UInt8(ascii: ")") {
                i += 27
                groups += 1
            }
            guard groups > 0 else { return nil }
        } else {
            guard id24(i) else { return nil }
            i += 24
        }
        guard i + 1 < p.count, p[i] == UInt8(ascii: ")"), p[i + 1] == UInt8(ascii: "/") else { return nil }
        return i + 2
    }

    /// `[^\?]+\.aspx.*` (case-insensitive) to the end.
    private static func isAspxTail(_ tail: ArraySlice<UInt8>) -> Bool {
        let aspx = Array(".aspx".utf8)
        var i = tail.startIndex
        while i < tail.endIndex, tail[i] != UInt8(ascii: "?") {
            if i > tail.startIndex, tail.endIndex - i >= aspx.count,
               asciiLowercased(Array(tail[i..<(i + aspx.count)])) == aspx { return true }
            i += 1
        }
        return false
    }

    /// The five query session-id patterns, applied in turn (case-insensitive): `^(.*)(?:ID)(?:&(.*))?$` keeps what
    /// is before and after the id.
    static func stripQuerySessionID(_ query: [UInt8]) -> [UInt8] {
        var q = query
        for pattern in QuerySession.allCases { q = pattern.strip(q) }
        return q
    }

    enum QuerySession: CaseIterable {
        case jsessionid, phpsessid, sid, aspSessionID, cfid

        func strip(_ q: [UInt8]) -> [UInt8] {
            let lower = asciiLowercased(q)
            // The greedy (.*) tries the rightmost start first.
            var start = q.count
            while start >= 0 {
                if let end = matchEnd(lower, q, at: start) {
                    // (?:&(.*))?$ : the id is followed by the end, or by '&' and the rest.
                    if end == q.count { return Array(q[..<start]) }
                    if q[end] == UInt8(ascii: "&") {
                        let rest = Array(q[(end + 1)...])
                        return rest.isEmpty ? Array(q[..<start]) : Array(q[..<start]) + rest
                    }
                }
                start -= 1
            }
            return q
        }

        private func matchEnd(_ lower: [UInt8], _ q: [UInt8], at start: Int) -> Int? {
            func literal(_ text: String, _ at: Int) -> Int? {
                let t = Array(text.utf8)
                guard at + t.count <= lower.count, Array(lower[at..<(at + t.count)]) == t else { return nil }
                return at + t.count
            }
            func run(_ at: Int, count: Int, _ allowed: (UInt8) -> Bool) -> Int? {
                guard at + count <= q.count, q[at..<(at + count)].allSatisfy(allowed) else { return nil }
                return at + count
            }
            let alnum: (UInt8) -> Bool = { isDigit($0) || isAlpha($0) }
            switch self {
            case .jsessionid: return literal("jsessionid=", start).flatMap { run($0, count: 32, alnum) }
            case .phpsessid: return literal("phpsessid=", start).flatMap { run($0, count: 32, alnum) }
            case .sid: return literal("sid=", start).flatMap { run($0, count: 32, alnum) }
            case .aspSessionID:
                return literal("aspsessionid", start).flatMap { run($0, count: 8, isAlpha) }
                    .flatMap { literal("=", $0) }.flatMap { run($0, count: 24, isAlpha) }
            case .cfid:
                // cfid=[^&]+&cftoken=[^&]+ (greedy runs, which cannot cross '&').
                guard var i = literal("cfid=", start) else { return nil }
                let s = i
                while i < q.count, q[i] != UInt8(ascii: "&") { i += 1 }
                guard i > s, let t = literal("&cftoken=", i) else { return nil }
                var j = t
                while j < q.count, q[j] != UInt8(ascii: "&") { j += 1 }
                return j > t ? j : nil
            }
        }
    }
}

private func isAlpha(_ c: UInt8) -> Bool { (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) }
private func isDigit(_ c: UInt8) -> Bool { c >= 0x30 && c <= 0x39 }
private func hexValue(_ c: UInt8) -> UInt8? {
    switch c {
    case 0x30...0x39: return c - 0x30
    case 0x41...0x46: return c - 0x37
    case 0x61...0x66: return c - 0x57
    default: return nil
    }
}
private func asciiLowercased(_ bytes: [UInt8]) -> [UInt8] { bytes.map { $0 >= 0x41 && $0 <= 0x5A ? $0 + 32 : $0 } }
/// Python's `bytes.strip()`: ASCII whitespace (space, \t, \n, \r, \x0b, \x0c) at both ends.
private func stripASCIIWhitespace(_ bytes: [UInt8]) -> [UInt8] {
    func isSpace(_ c: UInt8) -> Bool { c == 0x20 || (c >= 0x09 && c <= 0x0D) }
    var slice = bytes[...]
    while let f = slice.first, isSpace(f) { slice = slice.dropFirst() }
    while let l = slice.last, isSpace(l) { slice = slice.dropLast() }
    return Array(slice)
}
