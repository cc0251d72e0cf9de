#if canImport(Glibc)
import Glibc
#endif
import ThreshCore
public import ThreshIO

/// Reads records from a WARC (1.0, 1.1, and the 0.17/0.18 drafts) or ARC file, plain, gzip (per record or
/// whole file) or zstd, holding at most one record in memory.
///
/// Malformed input never stops the reader: each problem is passed to `onProblem` (file, record, offset,
/// reason) and reading resumes at the next record the framing allows (the next gzip member, or the next
/// line that starts a record).
///
/// ```swift
/// let reader = try WARCReader(path: "crawl.warc.gz")
/// while let record = try reader.next() {
///     if record.type == "response", let block = try reader.readBlock() { … }
/// }
/// ```
public final class WARCReader {
    public let stream: ArchiveStream
    public let options: WARCReaderOptions
    /// Called for every malformed record or stream problem.
    public var onProblem: ((WARCProblem) -> Void)?

    /// The file name used in messages.
    public var name: String { stream.name }

    private var recordIndex = 0
    private var isARC: Bool?
    /// State of the record last returned by `next()`.
    private var current: (record: WARCRecord, blockStart: Int64, consumed: Bool, finished: Bool, endOffset: Int64?)?
    /// Whether the block last returned by `readBlock` was cut short by the end of the file.
    public private(set) var lastBlockTruncated = false

    public convenience init(path: String, options: WARCReaderOptions = WARCReaderOptions()) throws {
        try self.init(stream: ArchiveStream(path: path, maximumWindow: options.maximumRecordSize + options.maximumHeaderSize),
                      options: options)
    }

    public init(stream: ArchiveStream, options: WARCReaderOptions = WARCReaderOptions()) {
        self.stream = stream
        self.options = options
        stream.onProblem = { [weak self] problem in
            self?.onProblem?(WARCProblem(reason: problem.reason, error: problem.error))
        }
    }

    private func problem(_ reason: String, _ message: String, offset: Int64? = nil) {
        let place = offset ?? stream.compressedOffset(of: stream.position).offset
        onProblem?(WARCProblem(reason: reason, error: ThreshError(
            .malformedRecord, message, file: name, record: recordIndex, offset: place)))
    }

    // MARK: Records

    /// The next record's header, or nil at the end of the file. The previous record's block, if not read,
    /// is skipped without being copied.
    public func next() throws -> WARCRecord? {
        _ = try finishRecord()
        current = nil
        stream.pruneBoundaries()
        while true {
            try skipSeparators()
            if stream.atEnd { return nil }
            if recordIndex == 0 && !checkedFormat { try checkFormat() }
            let start = stream.position
            guard let headerEnd = try findHeaderEnd() else {
                if stream.atEnd || stream.available == 0 { return nil }
                let truncated = !(try stream.ensure(options.maximumHeaderSize))
                if truncated {
                    problem("truncated-record", "record header cut short by the end of the file")
                    _ = try stream.skip(Int64(stream.available))
                    return nil
                }
                problem("invalid-header", "record header longer than \(options.maximumHeaderSize) bytes")
                try resynchronise()
                continue
            }
            guard let record = parseHeader(length: headerEnd, start: start) else {
                try resynchronise()
                continue
            }
            stream.consume(headerEnd)
            current = (record, stream.position, false, false, nil)
            recordIndex += 1
            return record
        }
    }

    /// Whether the file's first bytes were checked to start a record.
    private var checkedFormat = false

    /// As warcio does, a file whose first record does not start with a WARC or ARC header is not an archive (a README,
    /// a JSONL file, an image in a crawl folder), and reading it is an error, not a stream of resynchronisations.
    private func checkFormat() throws {
        checkedFormat = true
        try stream.ensure(min(options.maximumHeaderSize, 8192))
        let bytes = stream.bytes
        let startsWARC = bytes.count >= 5 && bytes[0] == 0x57 && bytes[1] == 0x41 && bytes[2] == 0x52 && bytes[3] == 0x43 && bytes[4] == 0x2F
        if startsWARC || looksLikeARCHeader(bytes, limit: bytes.count) { return }
        let shown = String(decoding: bytes.prefix(40).map { $0 >= 0x20 && $0 < 0x7F ? $0 : UInt8(ascii: ".") }, as: UTF8.self)
        let compression = stream.compression == .none ? "" : " (\(stream.compression.rawValue)-compressed)"
        throw ThreshError(.unsupportedFormat, "not a WARC or ARC archive\(compression): it starts with \"\(shown)\"", file: name)
    }

    /// The current record's block, whole, or nil when it is larger than `maximumRecordSize` (then it is
    /// skipped and the caller counts it). The bytes are valid until the next call on the reader.
    /// A block cut short by the end of the file is returned as far as it goes, with `lastBlockTruncated` set.
    public func readBlock() throws -> UnsafeRawBufferPointer? {
        guard var state = current, !state.consumed else { return nil }
        let length = state.record.contentLength
        guard length <= Int64(options.maximumRecordSize) else { return nil }
        let complete = try stream.ensure(Int(length))
        lastBlockTruncated = !complete
        var count = min(Int(length), stream.available)
        if !complete {
            problem("truncated-record", "record block cut short: \(count) of \(length) bytes",
                    offset: state.record.offset)
        } else if let cut = try nextRecordInsideBlock(count) {
            count = cut
            lastBlockTruncated = true
        }
        state.consumed = true
        current = state
        // The view stays valid until the stream is touched again, which only the next call does.
        let view = UnsafeRawBufferPointer(rebasing: stream.bytes[0..<count])
        stream.consume(count)
        if !complete { _ = try stream.skip(Int64(stream.available)) }
        return view
    }

    /// Finishes the current record (skipping what was not read, and the separator after it) and returns
    /// the compressed offset where the record ends, when it is known exactly.
    public func finishRecord() throws -> Int64? {
        guard var state = current else { return nil }
        if state.finished { return state.endOffset }
        if !state.consumed, state.record.contentLength <= Int64(options.maximumRecordSize),
           try stream.ensure(Int(state.record.contentLength)), let cut = try nextRecordInsideBlock(Int(state.record.contentLength)) {
            stream.consume(cut)
            state.consumed = true
        }
        if !state.consumed {
            let remaining = state.record.contentLength - (stream.position - state.blockStart)
            let skipped = try stream.skip(max(0, remaining))
            if skipped < remaining {
                problem("truncated-record", "record block cut short by the end of the file", offset: state.record.offset)
            }
            state.consumed = true
        }
        let blockEnd = stream.position
        try consumeTrailer(arc: state.record.format == .arc)
        state.finished = true
        if stream.compression == .none {
            // As warcio counts it in plain files: header and block, without the separator after it.
            state.endOffset = blockEnd
        } else if try endsStream() {
            state.endOffset = stream.compressedPosition
        } else {
            let (offset, exact) = stream.compressedOffset(of: stream.position)
            state.endOffset = exact ? offset : nil
        }
        current = state
        return state.endOffset
    }

    /// In a file of gzip members (or zstd frames), where a member inside the block starts with a new WARC
    /// record, the Content-Length overran its record: the block ends at that member (as warcio reads it), and
    /// the problem is reported. A member that starts mid-block with anything else is a stream split across
    /// members, and is read through.
    private func nextRecordInsideBlock(_ count: Int) throws -> Int? {
        guard let state = current else { return nil }
        if stream.compression == .none { return try plainRecordInsideBlock(count, record: state.record) }
        let start = stream.position
        for member in stream.memberStarts(after: start, before: start + Int64(count)) {
            let at = Int(member - start)
            let bytes = stream.bytes
            if at + 5 <= bytes.count, bytes[at] == 0x57, bytes[at + 1] == 0x41, bytes[at + 2] == 0x52, bytes[at + 3] == 0x43, bytes[at + 4] == 0x2F {
                problem("content-length-mismatch", "Content-Length \(state.record.contentLength) runs into the next record; block cut at \(at) bytes",
                        offset: state.record.offset)
                return at
            }
        }
        return nil
    }

    /// In a plain WARC file, whether the Content-Length overran its record: the declared block is not followed by its
    /// blank line and a record (or the end of the file), but a record starts inside it, after a blank line, with a
    /// WARC header that names its type. Then the block ends there (the next record is read, not swallowed) and the
    /// problem is reported. A length that is right is never second-guessed, so a WARC stored inside a record's block
    /// stays in it. ARC files have no such check.
    private func plainRecordInsideBlock(_ count: Int, record: WARCRecord) throws -> Int? {
        guard record.format != .arc else { return nil }
        let lookahead = 4 + 5
        try stream.ensure(count + lookahead)
        let bytes = stream.bytes
        if bytes.count >= count + lookahead {
            let after = UnsafeRawBufferPointer(rebasing: bytes[count..<(count + lookahead)])
            if after.elementsEqual(Array("\r\n\r\nWARC/".utf8)) { return nil }
        } else if bytes[count...].allSatisfy({ $0 == 0x0D || $0 == 0x0A }) {
            return nil  // the file ends with this record
        }
        // The next record's start inside the block: "\r\n\r\nWARC/1." and a header naming a WARC-Type.
        let marker = Array("\r\n\r\nWARC/1.".utf8), blank = Array("\r\n\r\n".utf8), type = Array("\nWARC-Type:".utf8)
        var from = 0
        while let at = firstOccurrence(of: marker, in: bytes, from: from, to: count) {
            let headerStart = at + 4
            let windowEnd = min(bytes.count, headerStart + options.maximumHeaderSize)
            if let end = firstOccurrence(of: blank, in: bytes, from: headerStart, to: windowEnd),
               firstOccurrence(of: type, in: bytes, from: headerStart, to: end) != nil {
                problem("content-length-mismatch", "Content-Length \(record.contentLength) runs into the next record; block cut at \(at) bytes",
                        offset: record.offset)
                return at
            }
            from = at + 1
        }
        return nil
    }

    /// Where `needle` first starts in bytes[from..<to] (all of it inside), or nil.
    private func firstOccurrence(of needle: [UInt8], in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard let base = bytes.baseAddress, let first = needle.first else { return nil }
        var i = from
        while i + needle.count <= to {
            guard let hit = memchr(base + i, Int32(first), to - needle.count + 1 - i) else { return nil }
            let at = base.distance(to: UnsafeRawPointer(hit))
            if needle.indices.allSatisfy({ bytes[at + $0] == needle[$0] }) { return at }
            i = at + 1
        }
        return nil
    }

    /// Consumes the blank line(s) after a block: CRLF CRLF in WARC, one LF in ARC (tolerating variations).
    private func consumeTrailer(arc: Bool) throws {
        try stream.ensure(4)
        let bytes = stream.bytes
        var n = 0
        let limit = arc ? 1 : 4
        var newlines = 0
        while n < bytes.count && newlines < (arc ? 1 : 2) && n < limit + 2 {
            if bytes[n] == 0x0A { newlines += 1; n += 1 } else if bytes[n] == 0x0D { n += 1 } else { break }
        }
        stream.consume(n)
    }

    /// After a record in a compressed file: skips what is left of its member's separators; true if the stream ends.
    private func endsStream() throws -> Bool {
        try skipSeparatorsWithinMember()
        if stream.atEnd { return true }
        return try !stream.ensure(1)
    }

    /// Skips whitespace left in the current compressed member after a record (extra newlines some writers
    /// add), so that the record's end is the next member's start.
    private func skipSeparatorsWithinMember() throws {
        while try stream.ensure(1), !stream.atMemberStart {
            let b = stream.bytes[0]
            guard b == 0x0A || b == 0x0D || b == 0x20 || b == 0x09 else { return }
            stream.consume(1)
        }
    }

    /// Skips blank lines (and stray whitespace) between records.
    private func skipSeparators() throws {
        while try stream.ensure(1) {
            let bytes = stream.bytes
            var n = 0
            while n < bytes.count, bytes[n] == 0x0A || bytes[n] == 0x0D || bytes[n] == 0x20 || bytes[n] == 0x09 { n += 1 }
            stream.consume(n)
            if n < bytes.count { return }
        }
    }

    /// Length of the header block at the current position (through its blank line; for ARC, the one header
    /// line), or nil if it does not end within the limit.
    private func findHeaderEnd() throws -> Int? {
        var scanned = 0
        var want = 4096
        while true {
            let have = try stream.ensure(want) ? want : stream.available
            let bytes = stream.bytes
            let limit = min(have, bytes.count)
            if scanned == 0 && isARC != false && looksLikeARCHeader(bytes, limit: limit) {
                if let nl = firstNewline(bytes, from: 0, limit: limit) { return nl + 1 }
            }
            var i = scanned
            while let nl = firstNewline(bytes, from: i, limit: limit) {
                if let end = blankLineEnd(bytes, afterNewline: nl, limit: limit) { return end }
                if nl + 3 >= limit { break }
                i = nl + 1
            }
            scanned = max(0, limit - 3)
            if have < want || want >= options.maximumHeaderSize { return nil }
            want = min(want * 4, options.maximumHeaderSize)
        }
    }

    private func firstNewline(_ bytes: UnsafeRawBufferPointer, from: Int, limit: Int) -> Int? {
        guard from < limit, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + from, 0x0A, limit - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// Whether the bytes start with an ARC record line: URL, IP, 14-digit date, MIME type, length.
    private func looksLikeARCHeader(_ bytes: UnsafeRawBufferPointer, limit: Int) -> Bool {
        guard let nl = firstNewline(bytes, from: 0, limit: min(limit, 8192)) else { return false }
        let line = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[0..<nl]), as: UTF8.self)
        return ARCHeaderLine(Substring(line)) != nil
    }

    private func parseHeader(length: Int, start: Int64) -> WARCRecord? {
        let bytes = UnsafeRawBufferPointer(rebasing: stream.bytes[0..<length])
        let (offset, exact) = stream.compressedOffset(of: start)
        let block = parseFieldBlock(bytes)
        let first = Substring(block.firstLine)
        if first.hasPrefix("WARC/") {
            isARC = false
            var record = WARCRecord(format: .warc, version: block.firstLine, headers: block.fields, index: recordIndex,
                                    offset: offset, offsetIsExact: exact, uncompressedOffset: start,
                                    contentLength: 0, headerLength: length, type: "")
            record.type = (record.header("WARC-Type") ?? "").lowercased()
            guard let lengthText = record.header("Content-Length"), let contentLength = Int64(lengthText),
                  contentLength >= 0 else {
                problem("invalid-header", "WARC record without a valid Content-Length", offset: offset)
                return nil
            }
            record.contentLength = contentLength
            return record
        }
        if isARC != false, let arc = ARCHeaderLine(first) {
            isARC = true
            var headers: [(name: String, value: String)] = [
                ("WARC-Type", arc.isFileDescription ? "warcinfo" : "response"),
                ("WARC-Record-ID", arcRecordID(line: String(first), offset: offset)),
                ("WARC-Date", arc.isoDate),
                ("Content-Length", String(arc.length)),
            ]
            if !arc.isFileDescription {
                headers.insert(("WARC-Target-URI", arc.url), at: 1)
                headers.append(("Content-Type", "application/http; msgtype=response"))
                headers.append(("WARC-IP-Address", arc.ip))
            } else {
                headers.append(("WARC-Filename", arc.url))
            }
            headers.append(("ARC-Content-Type", arc.mime))
            return WARCRecord(format: .arc, version: "ARC", headers: headers, index: recordIndex, offset: offset,
                              offsetIsExact: exact, uncompressedOffset: start, contentLength: arc.length,
                              headerLength: length, type: arc.isFileDescription ? "warcinfo" : "response")
        }
        let shown = String(first.prefix(60))
        problem("invalid-record-start", "not a WARC or ARC record: \"\(shown)\"", offset: offset)
        return nil
    }

    /// ARC records have no ids; this one is stable: the SHA-1 of the header line and the record's offset.
    private func arcRecordID(line: String, offset: Int64) -> String {
        var key = Array(line.utf8)
        key.append(0)
        key.append(contentsOf: String(offset).utf8)
        let digest = key.withUnsafeBytes { SHA1.hash($0) }
        return "<urn:sha1:\(Base32.encode(digest))>"
    }


    /// Skips ahead to where a record can start: the next compressed member, or the next line that starts
    /// a WARC or ARC record.
    private func resynchronise() throws {
        if stream.compression != .none, try stream.skipToNextMember() { return }
        // Plain stream (or no further member): scan lines. Consume the current line first.
        var first = true
        while try stream.ensure(1) {
            try stream.ensure(8192)
            let bytes = stream.bytes
            var i = 0
            if first {
                guard let nl = firstNewline(bytes, from: 0, limit: bytes.count) else {
                    stream.consume(bytes.count)
                    continue
                }
                i = nl + 1
                first = false
            }
            while i < bytes.count {
                let rest = UnsafeRawBufferPointer(rebasing: bytes[i...])
                if rest.count >= 5, rest[0] == 0x57, rest[1] == 0x41, rest[2] == 0x52, rest[3] == 0x43, rest[4] == 0x2F {
                    stream.consume(i)
                    return
                }
                if isARC == true, rest.count > 16, looksLikeARCHeader(rest, limit: rest.count) {
                    stream.consume(i)
                    return
                }
                guard let nl = firstNewline(bytes, from: i, limit: bytes.count) else {
                    // Keep a partial line for the next round if it could still become a record start.
                    let keep = min(bytes.count - i, 8)
                    stream.consume(bytes.count - (bytes.count - i < 8 ? keep : 0))
                    i = bytes.count
                    break
                }
                i = nl + 1
            }
            if i >= bytes.count && stream.available == bytes.count { stream.consume(bytes.count) }
        }
    }
}

/// If a blank line ("\n", or CRs then "\n", as some writers double the CR) follows the newline at `nl`,
/// the offset just past it.
func blankLineEnd(_ bytes: UnsafeRawBufferPointer, afterNewline nl: Int, limit: Int) -> Int? {
    var j = nl + 1
    while j < limit && j - nl <= 3 && bytes[j] == 0x0D { j += 1 }
    return j < limit && bytes[j] == 0x0A ? j + 1 : nil
}

/// Parses a header block (first line, then `Name: value` fields with continuation lines) working on bytes:
/// names and values are trimmed of spaces, tabs and CRs, and only they become `String`s.
/// (A `String` split on "\n" would not work: Swift treats "\r\n" as one character; and it is slower.)
func parseFieldBlock(_ bytes: UnsafeRawBufferPointer) -> (firstLine: String, fields: [(name: String, value: String)]) {
    var fields: [(name: String, value: String)] = []
    var firstLine = ""
    var lineStart = 0
    var isFirst = true
    let n = bytes.count
    @inline(__always) func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D }
    func text(_ from: Int, _ to: Int) -> String {
        var a = from, b = to
        while a < b && isSpace(bytes[a]) { a += 1 }
        while b > a && isSpace(bytes[b - 1]) { b -= 1 }
        // A typed buffer pointer takes String's specialised fast path (a raw one goes through generic code).
        return String(decoding: UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: UInt8.self) + a, count: b - a),
                      as: UTF8.self)
    }
    while lineStart < n {
        var lineEnd = lineStart
        while lineEnd < n && bytes[lineEnd] != 0x0A { lineEnd += 1 }
        defer { lineStart = lineEnd + 1 }
        if isFirst {
            firstLine = text(lineStart, lineEnd)
            isFirst = false
            continue
        }
        var contentEnd = lineEnd
        while contentEnd > lineStart && bytes[contentEnd - 1] == 0x0D { contentEnd -= 1 }
        if contentEnd == lineStart { break }  // the blank line ends the block
        if (bytes[lineStart] == 0x20 || bytes[lineStart] == 0x09), !fields.isEmpty {
            fields[fields.count - 1].value += " " + text(lineStart, contentEnd)
            continue
        }
        var colon = lineStart
        while colon < contentEnd && bytes[colon] != 0x3A { colon += 1 }
        guard colon < contentEnd else { continue }
        fields.append((text(lineStart, colon), text(colon + 1, contentEnd)))
    }
    return (firstLine, fields)
}

/// Whether two ASCII header names are equal ignoring case, without allocating.
@inline(__always)
func headerNameEquals(_ a: String, _ b: String) -> Bool {
    guard a.utf8.count == b.utf8.count else { return false }
    return a.utf8.elementsEqual(b.utf8) { x, y in
        x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= 0x61 && (x | 0x20) <= 0x7A)
    }
}

/// A parsed ARC v1 or v2 record line.
struct ARCHeaderLine {
    var url: String
    var ip: String
    var date: String
    var mime: String
    var length: Int64

    var isFileDescription: Bool { url.hasPrefix("filedesc:") }

    /// `YYYY-MM-DDThh:mm:ssZ` from the 14-digit ARC date (shorter dates are padded).
    var isoDate: String { iso8601(fromDigits: date) }

    init?(_ line: Substring) {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        // A negative length (seen in damaged ARC files) is read as an empty block, as warcio does.
        guard fields.count >= 5, let length = Int64(fields[fields.count - 1]) else { return nil }
        if fields.count == 10, fields[2].count >= 12, fields[2].allSatisfy(\.isNumber), Int(fields[4]) != nil {
            // ARC v2: url ip date mime result checksum location offset filename length
            url = String(fields[0]); ip = String(fields[1]); date = String(fields[2]); mime = String(fields[3])
        } else {
            let dateField = fields[fields.count - 3]
            guard dateField.count >= 8, dateField.count <= 20, dateField.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
            url = fields[0..<(fields.count - 4)].joined(separator: " ")
            ip = String(fields[fields.count - 4]); date = String(dateField); mime = String(fields[fields.count - 2])
        }
        guard url.contains(":") else { return nil }
        self.length = max(0, length)
    }
}

/// `YYYY-MM-DDThh:mm:ssZ` from up to 14 digits `YYYYMMDDhhmmss` (missing digits are zeros; month and day ones).
func iso8601(fromDigits digits: String) -> String {
    var d = Array(digits.utf8.prefix(14))
    let pad: [UInt8] = Array("00000101000000".utf8)
    while d.count < 14 { d.append(pad[d.count]) }
    let s = String(decoding: d, as: UTF8.self)
    let c = Array(s)
    return "\(String(c[0..<4]))-\(String(c[4..<6]))-\(String(c[6..<8]))T\(String(c[8..<10])):\(String(c[10..<12])):\(String(c[12..<14]))Z"
}

extension StringProtocol {
    /// The string without leading and trailing spaces and tabs.
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f == " " || f == "\t" || f == "\r" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\r" { s.removeLast() }
        return String(s)
    }
}
