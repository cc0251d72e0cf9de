import ThreshCore

/// One line of a CDXJ index: SURT key, 14-digit timestamp, and a JSON block with url, mime, status, digest,
/// length, offset and filename (the fields and order cdxj-indexer writes; absent values are left out).
public struct CDXJEntry: Sendable, Comparable {
    public var key: String
    public var timestamp: String
    public var fields: [(String, String)]

    /// The line without its newline.
    public var line: String {
        // Python's json.dumps: ", " and ": " separators, non-ASCII escaped as \uXXXX (surrogate pairs beyond
        // the BMP), which cdxj-indexer writes.
        var out: [UInt8] = []
        out.append(UInt8(ascii: "{"))
        for (i, (k, v)) in fields.enumerated() {
            if i > 0 { out.append(contentsOf: ", ".utf8) }
            Self.writePythonJSONString(k, to: &out)
            out.append(contentsOf: ": ".utf8)
            Self.writePythonJSONString(v, to: &out)
        }
        out.append(UInt8(ascii: "}"))
        return key + " " + timestamp + " " + String(decoding: out, as: UTF8.self)
    }

    static func writePythonJSONString(_ s: String, to out: inout [UInt8]) {
        let hex = Array("0123456789abcdef".utf8)
        func unit(_ u: UInt16) {
            out += Array("\\u".utf8)
            out += [hex[Int(u >> 12)], hex[Int(u >> 8 & 15)], hex[Int(u >> 4 & 15)], hex[Int(u & 15)]]
        }
        out.append(UInt8(ascii: "\""))
        for scalar in s.unicodeScalars {
            switch scalar.value {
            case 0x22: out += Array("\\\"".utf8)
            case 0x5C: out += Array("\\\\".utf8)
            case 0x0A: out += Array("\\n".utf8)
            case 0x0D: out += Array("\\r".utf8)
            case 0x09: out += Array("\\t".utf8)
            case 0x08: out += Array("\\b".utf8)
            case 0x0C: out += Array("\\f".utf8)
            case 0x20..<0x7F: out.append(UInt8(scalar.value))
            default: for u in String(scalar).utf16 { unit(u) }
            }
        }
        out.append(UInt8(ascii: "\""))
    }

    public static func < (a: CDXJEntry, b: CDXJEntry) -> Bool { Array(a.line.unicodeScalars).lexicographicallyPrecedes(Array(b.line.unicodeScalars)) { $0.value < $1.value } }
    public static func == (a: CDXJEntry, b: CDXJEntry) -> Bool { a.line == b.line }

    /// The 14-digit timestamp of a WARC-Date (`2014-01-26T20:06:24Z` → `20140126200624`).
    public static func timestamp(fromWARCDate date: String) -> String {
        var digits = date.filter { $0.isASCII && $0.isNumber }
        if digits.count > 14 { digits = String(digits.prefix(14)) }
        while digits.count < 14 { digits += "0" }
        return digits
    }
}

/// Builds CDXJ entries as cdxj-indexer 1.5.0 does (`cdxj-indexer --sort`): response, revisit, resource and metadata
/// records (not resource or metadata records of `application/warc-fields`), or every record with `includeAll`
/// (`--records all`). Fields: `url` (the target URI), `mime` (`warc/revisit` for revisits, the HTTP Content-Type of
/// responses and requests, the record's Content-Type otherwise; up to the first ';' or space), `status` (of responses
/// and revisits with an HTTP head), `digest` (the WARC-Payload-Digest as written, or `sha1:` + base32 of the payload
/// when there is none), `length`, `offset`, `filename`. The key is the SURT of the target URI (`-` without one).
public enum CDXJIndexer {
    public static func index(path: String, filename: String, includeAll: Bool = false,
                             options: WARCReaderOptions = WARCReaderOptions(),
                             onProblem: ((WARCProblem) -> Void)? = nil) throws -> [CDXJEntry] {
        let reader = try WARCReader(path: path, options: options)
        reader.onProblem = onProblem
        var entries: [CDXJEntry] = []
        let defaultTypes: Set<String> = ["response", "revisit", "resource", "metadata"]
        while let record = try reader.next() {
            if !includeAll {
                guard defaultTypes.contains(record.type) else { continue }
                if record.type == "resource" || record.type == "metadata", record.header("Content-Type") == "application/warc-fields" { continue }
            }
            var fields: [(String, String)] = []
            let uri = record.targetURI
            if let uri { fields.append(("url", uri)) }
            let block = try reader.readBlock()
            var head: HTTPHead?
            var payload = block
            if let block, record.hasHTTPBlock || record.type == "revisit" {
                if let parsed = HTTPHead.parse(block), parsed.firstLine.contains(" ") {
                    head = parsed
                    payload = UnsafeRawBufferPointer(rebasing: block[parsed.length...])
                } else if let first = block.first, first == 0x0A || (first == 0x0D && block.count > 1 && block[1] == 0x0A) {
                    // warcio reads an empty first line as an empty head: the payload starts after it.
                    payload = UnsafeRawBufferPointer(rebasing: block[(first == 0x0A ? 1 : 2)...])
                }
            }
            let mime: String?
            switch record.type {
            case "revisit": mime = "warc/revisit"
            case "response", "request": mime = head?.header("Content-Type")
            default: mime = record.header("Content-Type")
            }
            if let mime, let first = Self.firstToken(mime), !first.isEmpty { fields.append(("mime", first)) }
            if record.type == "response" || record.type == "revisit", let head, let status = Self.statusCode(head) {
                fields.append(("status", status))
            }
            if let declared = record.header("WARC-Payload-Digest") {
                fields.append(("digest", declared))
            } else {
                fields.append(("digest", "sha1:" + DigestVerifier.sha1Base32(payload ?? UnsafeRawBufferPointer(start: nil, count: 0))))
            }
            let end = try reader.finishRecord()
            let length = end.map { $0 - record.offset } ?? record.contentLength + Int64(record.headerLength)
            fields.append(("length", String(length)))
            fields.append(("offset", String(record.offset)))
            fields.append(("filename", filename))
            entries.append(CDXJEntry(key: uri.map(SURT.key) ?? "-", timestamp: CDXJEntry.timestamp(fromWARCDate: record.date ?? ""), fields: fields))
        }
        return entries.sorted()
    }

    /// `re.split(r"[;\s]", value, 1)[0].strip()`.
    static func firstToken(_ value: String) -> String? {
        let cut = value.unicodeScalars.firstIndex { $0 == ";" || $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\u{0B}" || $0 == "\u{0C}" }
        let first = cut.map { String(value.unicodeScalars[..<$0]) } ?? value
        return first.trimmingSpaces()
    }

    /// warcio's `get_statuscode()`: the status line (after the protocol) up to its first space.
    static func statusCode(_ head: HTTPHead) -> String? {
        let parts = head.firstLine.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        return String(parts[1].split(separator: " ", maxSplits: 1, omittingEmptySubsequences: false).first ?? "")
    }
}
