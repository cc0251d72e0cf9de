#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
import ThreshIO

/// Options of `thresh warc`: which records become documents, and the reader's limits.
public struct WARCIngestOptions: Sendable {
    /// Record types that can become documents (`response`; `resource`; `conversion` for WET files).
    public var recordTypes: Set<String> = ["response", "resource", "conversion"]
    /// Media types kept (matched on the type without parameters).
    public var mimeTypes: Set<String> = ["text/html", "application/xhtml+xml", "text/plain"]
    /// HTTP statuses kept; nil keeps all.
    public var statuses: Set<Int>? = [200]
    /// Reader limits (maximum record size, header size).
    public var reader = WARCReaderOptions()
    /// Check block and payload digests; records that fail are dropped and counted.
    public var verifyDigests = false
    /// The `source` written into every document.
    public var source = "cc"
    /// The library that detects undeclared encodings.
    public var charsetDetector = CharsetTranscoder.CharsetDetector.uchardet

    public init() {}
}

/// Turns the records of an archive into documents: `id` = WARC-Record-ID, `url`, `text` = the decoded page
/// (HTML for `thresh extract`, or WET text), `meta` = provenance. Every record is counted: written, or dropped
/// under a reason.
public final class WARCIngest {
    public let options: WARCIngestOptions
    /// Counters over every file processed.
    public private(set) var statistics = StageStatistics(stage: "warc")
    /// Called with every problem (malformed record, damaged compression, digest failure), already counted.
    public var onProblem: ((ThreshError) -> Void)?
    /// Bytes of the current file's stored (compressed) form read so far, as of the latest document emitted (the whole
    /// file once `process` returns): what a progress bar measures against the file's size.
    public private(set) var fileBytesRead: Int64 = 0
    private let charsets: CharsetTranscoder

    public init(options: WARCIngestOptions = WARCIngestOptions()) {
        self.options = options
        charsets = CharsetTranscoder(detector: options.charsetDetector)
    }

    /// Reads one archive and emits its documents.
    public func process(path: String, emit: (Document) throws -> Void) throws {
        try processUTF8(path: path) { document, text in
            var d = document
            d.text = String(decoding: text, as: UTF8.self)
            try emit(d)
        }
    }

    /// Reads one archive and hands over each document with its `text` left empty and given beside it as UTF-8
    /// bytes (valid UTF-8, only valid during the call): a fused consumer such as extraction reads the page in
    /// place, without making it a string first.
    public func processUTF8(path: String, emit: (Document, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        let started = monotonicSeconds()
        fileBytesRead = 0
        let reader = try WARCReader(path: path, options: options.reader)
        var readingBlock = false
        var blockProblemCounted = false
        reader.onProblem = { [unowned self] problem in
            onProblem?(problem.error)
            // A problem inside a record already counted as read decides its fate (once); any other problem
            // is a record lost to damage, counted as read and dropped.
            if readingBlock {
                if blockProblemCounted { return }
                blockProblemCounted = true
            } else {
                statistics.documentsIn += 1
            }
            statistics.drop(problem.reason)
        }
        defer {
            fileBytesRead = reader.stream.compressedPosition
            statistics.bytesIn += reader.stream.compressedPosition
            statistics.seconds += monotonicSeconds() - started
        }
        while let record = try reader.next() {
            statistics.documentsIn += 1
            statistics.count("records.\(record.type.isEmpty ? "unknown" : record.type)")
            guard options.recordTypes.contains(record.type) else {
                statistics.drop("record-type")
                continue
            }
            guard record.contentLength <= Int64(options.reader.maximumRecordSize) else {
                statistics.drop("too-large")
                onProblem?(ThreshError(.malformedRecord, "record of \(record.contentLength) bytes skipped (maximum \(options.reader.maximumRecordSize))",
                                       file: path, record: record.index, offset: record.offset))
                continue
            }
            readingBlock = true
            blockProblemCounted = false
            let block = try reader.readBlock()
            readingBlock = false
            guard let block, !reader.lastBlockTruncated, !blockProblemCounted else { continue }  // counted by onProblem
            try withDocument(record, block: block, path: path) { document, text in
                fileBytesRead = reader.stream.compressedPosition
                try emit(document, text)
                statistics.documentsOut += 1
                statistics.bytesOut += Int64(text.count)
            }
        }
    }

    private func drop(_ reason: String, _ message: String? = nil, record: WARCRecord, path: String) {
        statistics.drop(reason)
        if let message {
            onProblem?(ThreshError(.malformedRecord, "\(reason): \(message)", file: path, record: record.index, offset: record.offset))
        }
    }

    /// Calls `body` with the record's document (text empty) and its text as UTF-8, unless the record is dropped.
    private func withDocument(_ record: WARCRecord, block: UnsafeRawBufferPointer, path: String,
                              _ body: (Document, UnsafeBufferPointer<UInt8>) throws -> Void) throws {
        if options.verifyDigests {
            let verdict = DigestVerifier.check(record, block: block)
            if !verdict.passed {
                drop("digest-mismatch", verdict.failures.joined(separator: "; "), record: record, path: path)
                return
            }
        }
        var meta = JSONObject()
        meta["warc_file"] = .string(path)
        meta["warc_offset"] = .int(record.offset)
        if !record.offsetIsExact { meta["warc_uncompressed_offset"] = .int(record.uncompressedOffset) }
        meta["warc_record"] = .int(record.index)
        meta["warc_type"] = .string(record.type)
        if let date = record.date { meta["date"] = .string(date) }

        var payload = block
        var head: HTTPHead?
        var mime: String
        if record.hasHTTPBlock {
            guard let parsed = HTTPHead.parse(block), let status = parsed.status else {
                drop("invalid-http", "response without a valid HTTP status line", record: record, path: path)
                return
            }
            head = parsed
            if let statuses = options.statuses, !statuses.contains(status) { drop("status", record: record, path: path); return }
            meta["http_status"] = .int(status)
            payload = UnsafeRawBufferPointer(rebasing: block[parsed.length...])
            mime = parsed.mimeType ?? record.header("WARC-Identified-Payload-Type")?.lowercased() ?? sniffMime(payload)
        } else {
            mime = record.contentType.map { String($0.split(separator: ";").first ?? "").trimmingSpaces().lowercased() } ?? "text/plain"
            if record.type == "conversion" && mime.isEmpty { mime = "text/plain" }
        }
        guard options.mimeTypes.contains(mime) else { drop("mime", record: record, path: path); return }
        meta["content_type"] = .string(mime)

        var bodyBytes: [UInt8]? = nil
        if let head {
            let decoded = HTTPBody.decode(payload, head: head, limit: options.reader.maximumRecordSize * 4)
            if let tooLarge = decoded.tooLarge {
                drop("decoded-too-large", "\(tooLarge) (four times the maximum record size)", record: record, path: path)
                return
            }
            for problem in decoded.problems {
                statistics.count("problems.\(problem.reason)")
                onProblem?(ThreshError(.malformedRecord, "\(problem.reason): \(problem.message)", file: path, record: record.index, offset: record.offset))
            }
            if !decoded.contentCodings.isEmpty { meta["content_encoding"] = .string(decoded.contentCodings.joined(separator: ",")) }
            bodyBytes = decoded.bytes  // nil: the payload needed no decoding
        }
        let isHTML = mime != "text/plain"
        // The charset parameter comes from the HTTP head, or for records without one from the WARC Content-Type.
        let declaredCharset = if let head { head.charsetParameter } else { record.contentType.flatMap(charsetParameter(of:)) }
        func withText(_ raw: UnsafeRawBufferPointer) throws {
            let decision = charsets.decide(raw, httpCharset: declaredCharset, isHTML: isHTML)
            try charsets.withUTF8(raw, as: decision) { text, replaced in
                var meta = meta
                meta["charset"] = .string(decision.name)
                meta["charset_source"] = .string(decision.source)
                if replaced > 0 { meta["invalid_bytes_replaced"] = .int(replaced) }
                if let truncated = record.header("WARC-Truncated") { meta["warc_truncated"] = .string(truncated) }
                statistics.count("charset.\(decision.name)")
                statistics.count("charset-source.\(decision.source)")
                if text.isEmpty { drop("empty", record: record, path: path); return }
                let id = record.recordID ?? "<urn:thresh:\(path)#\(record.offset)>"
                try body(Document(id: id, source: options.source, text: "", url: record.targetURI, meta: meta), text)
            }
        }
        if let bodyBytes { try bodyBytes.withUnsafeBytes(withText) } else { try withText(payload) }
    }

    /// A media type from the first bytes, for responses without Content-Type.
    private func sniffMime(_ payload: UnsafeRawBufferPointer) -> String {
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: payload[0..<min(payload.count, 512)]), as: UTF8.self).lowercased()
        if head.contains("<html") || head.contains("<!doctype html") || head.contains("<head") || head.contains("<body") { return "text/html" }
        return "application/octet-stream"
    }
}
