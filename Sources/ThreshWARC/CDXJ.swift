import ThreshCore

/// Sort-friendly URL keys (SURT), as the `surt` library used by pywb and the Wayback Machine makes them:
/// scheme dropped, host lowercased with `www.` removed and its labels reversed, default port removed,
/// query arguments sorted, fragment removed, everything lowercased.
public enum SURT {
    public static func key(_ url: String) -> String {
        var s = url.trimmingSpaces()
        if let hash = s.firstIndex(of: "#") { s = String(s[..<hash]) }
        var scheme = ""
        if let separator = s.firstRange(of: "://") {
            scheme = s[..<separator.lowerBound].lowercased()
            s = String(s[separator.upperBound...])
        } else if s.lowercased().hasPrefix("dns:") {
            return s.lowercased()
        }
        let authorityEnd = s.firstIndex(where: { $0 == "/" || $0 == "?" }) ?? s.endIndex
        var authority = String(s[..<authorityEnd]).lowercased()
        var rest = String(s[authorityEnd...])
        if let at = authority.lastIndex(of: "@") { authority = String(authority[authority.index(after: at)...]) }
        var port = ""
        if let colon = authority.lastIndex(of: ":"), !authority.hasSuffix("]") {
            port = String(authority[authority.index(after: colon)...])
            authority = String(authority[..<colon])
            if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") || port.isEmpty { port = "" }
        }
        while authority.hasSuffix(".") { authority.removeLast() }
        var labels = authority.split(separator: ".").map(String.init)
        if let first = labels.first, first.hasPrefix("www"), first.dropFirst(3).allSatisfy(\.isNumber), labels.count > 2 {
            labels.removeFirst()
        }
        let isIP = labels.count == 4 && labels.allSatisfy { $0.allSatisfy(\.isNumber) }
        var host = isIP ? labels.joined(separator: ".") : labels.reversed().joined(separator: ",")
        if !port.isEmpty { host += ":" + port }
        if rest.isEmpty { rest = "/" }
        var path = rest
        var query: String?
        if let q = rest.firstIndex(of: "?") {
            path = String(rest[..<q])
            query = String(rest[rest.index(after: q)...])
        }
        if path.isEmpty { path = "/" }
        // The surt library drops a trailing slash (but keeps the root path).
        if path.count > 1 && path.hasSuffix("/") { path.removeLast() }
        var keyText = host + ")" + path.lowercased()
        if let query, !query.isEmpty {
            let args = query.lowercased().split(separator: "&", omittingEmptySubsequences: false).map(String.init).sorted()
            keyText += "?" + args.joined(separator: "&")
        }
        return keyText
    }
}

/// One line of a CDXJ index: SURT key, 14-digit timestamp, and a JSON block with url, mime, status, digest,
/// length, offset and filename (the fields and order pywb writes).
public struct CDXJEntry: Sendable, Comparable {
    public var key: String
    public var timestamp: String
    public var fields: [(String, String)]

    /// The line without its newline.
    public var line: String {
        // Python's json.dumps spacing, which pywb's indexer uses.
        var out: [UInt8] = []
        out.append(UInt8(ascii: "{"))
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { out.append(contentsOf: ", ".utf8) }
            JSONWriter.writeString(k, to: &out)
            out.append(contentsOf: ": ".utf8)
            JSONWriter.writeString(v, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return key + " " + timestamp + " " + String(decoding: out, as: UTF8.self)
    }

    public static func < (a: CDXJEntry, b: CDXJEntry) -> Bool { Array(a.line.utf8).lexicographicallyPrecedes(Array(b.line.utf8)) }
    public static func == (a: CDXJEntry, b: CDXJEntry) -> Bool { a.line == b.line }

    /// The 14-digit timestamp of a WARC-Date (`2014-01-26T20:06:24Z` → `20140126200624`).
    public static func timestamp(fromWARCDate date: String) -> String {
        var digits = date.filter { $0.isASCII && $0.isNumber }
        if digits.count > 14 { digits = String(digits.prefix(14)) }
        while digits.count < 14 { digits += "0" }
        return digits
    }
}

/// Builds CDXJ entries for the captures in an archive: response, revisit and resource records (plus
/// metadata and request records with `includeAll`).
public enum CDXJIndexer {
    public static func index(path: String, filename: String, includeAll: Bool = false,
                             options: WARCReaderOptions = WARCReaderOptions(),
                             onProblem: ((WARCProblem) -> Void)? = nil) throws -> [CDXJEntry] {
        let reader = try WARCReader(path: path, options: options)
        reader.onProblem = onProblem
        var entries: [CDXJEntry] = []
        var pending: (record: WARCRecord, fields: [(String, String)])?
        func close(endOffset: Int64?) {
            guard var p = pending else { return }
            let length = endOffset.map { $0 - p.record.offset } ?? p.record.contentLength + Int64(p.record.headerLength)
            p.fields.append(("length", String(length)))
            p.fields.append(("offset", String(p.record.offset)))
            p.fields.append(("filename", filename))
            let date = p.record.date ?? ""
            entries.append(CDXJEntry(key: SURT.key(p.record.targetURI ?? ""), timestamp: CDXJEntry.timestamp(fromWARCDate: date), fields: p.fields))
            pending = nil
        }
        while let record = try reader.next() {
            let wanted: Set<String> = includeAll ? ["response", "revisit", "resource", "metadata", "request"] : ["response", "revisit", "resource"]
            guard wanted.contains(record.type), let uri = record.targetURI else { continue }
            var fields: [(String, String)] = [("url", uri)]
            let block = try reader.readBlock()
            var head: HTTPHead?
            var payload = block
            if let block, record.hasHTTPBlock, let parsed = HTTPHead.parse(block) {
                head = parsed
                payload = UnsafeRawBufferPointer(rebasing: block[parsed.length...])
            }
            switch record.type {
            case "revisit": fields.append(("mime", "warc/revisit"))
            case "response": fields.append(("mime", head?.mimeType ?? "unk"))
            default: fields.append(("mime", record.contentType.map { String($0.split(separator: ";").first ?? "").trimmingSpaces() } ?? "unk"))
            }
            if record.type == "response", let status = head?.secondToken { fields.append(("status", status)) }
            if let declared = record.header("WARC-Payload-Digest") {
                let value = declared.split(separator: ":", maxSplits: 1).last.map(String.init) ?? declared
                fields.append(("digest", value))
            } else if let payload {
                fields.append(("digest", DigestVerifier.sha1Base32(payload)))
            }
            pending = (record, fields)
            close(endOffset: try reader.finishRecord())
        }
        close(endOffset: nil)
        return entries.sorted()
    }
}
