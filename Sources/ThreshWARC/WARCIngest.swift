#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore
public import ThreshIO

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
    private let charsets = CharsetTranscoder()

    public init(options: WARCIngestOptions = WARCIngestOptions()) { self.options = options }

    /// Reads one archive and emits its documents.
    public func process(path: String, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
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
                onProblem?(ThreshError(.init(rawValue: "too-large"), "record of \(record.contentLength) bytes skipped (maximum \(options.reader.maximumRecordSize))",
                                       file: path, record: record.index, offset: record.offset))
                continue
            }
            readingBlock = true
            blockProblemCounted = false
            let block = try reader.readBlock()
            readingBlock = false
            guard let block, !reader.lastBlockTruncated, !blockProblemCounted else { continue }  // counted by onProblem
            if let document = try makeDocument(record, block: block, path: path) {
                try emit(document)
                statistics.documentsOut += 1
                statistics.bytesOut += Int64(document.text.utf8.count)
            }
        }
    }

    private func drop(_ reason: String, _ message: String? = nil, record: WARCRecord, path: String) {
        statistics.drop(reason)
        if let message {
            onProblem?(ThreshError(.init(rawValue: reason), message, file: path, record: record.index, offset: record.offset))
        }
    }

    private func makeDocument(_ record: WARCRecord, block: UnsafeRawBufferPointer, path: String) throws -> Document? {
        if options.verifyDigests {
            let verdict = DigestVerifier.check(record, block: block)
            if !verdict.passed {
                drop("digest-mismatch", verdict.failures.joined(separator: "; "), record: record, path: path)
                return nil
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
                return nil
            }
            head = parsed
            if let statuses = options.statuses, !statuses.contains(status) { drop("status", record: record, path: path); return nil }
            meta["http_status"] = .int(status)
            payload = UnsafeRawBufferPointer(rebasing: block[parsed.length...])
            mime = parsed.mimeType ?? record.header("WARC-Identified-Payload-Type")?.lowercased() ?? sniffMime(payload)
        } else {
            mime = record.contentType.map { String($0.split(separator: ";").first ?? "").trimmingSpaces().lowercased() } ?? "text/plain"
            if record.type == "conversion" && mime.isEmpty { mime = "text/plain" }
        }
        guard options.mimeTypes.contains(mime) else { drop("mime", record: record, path: path); return nil }
        meta["content_type"] = .string(mime)

        var bodyBytes: [UInt8]? = nil
        if let head {
            let decoded = HTTPBody.decode(payload, head: head, limit: options.reader.maximumRecordSize * 4)
            for problem in decoded.problems {
                statistics.count("problems.\(problem.reason)")
                onProblem?(ThreshError(.init(rawValue: problem.reason), problem.message, file: path, record: record.index, offset: record.offset))
            }
            if !decoded.contentCodings.isEmpty { meta["content_encoding"] = .string(decoded.contentCodings.joined(separator: ",")) }
            bodyBytes = decoded.bytes  // nil: the payload needed no decoding
        }
        let isHTML = mime != "text/plain"
        // The charset parameter comes from the HTTP head, or for records without one from the WARC Content-Type.
        let declaredCharset = if let head { head.charsetParameter } else { record.contentType.flatMap(charsetParameter(of:)) }
        func transcode(_ body: UnsafeRawBufferPointer) -> (String, CharsetDecision, Int) {
            let d = charsets.decide(body, httpCharset: declaredCharset, isHTML: isHTML)
            let (t, r) = charsets.decode(body, as: d.name)
            return (t, d, r)
        }
        let (text, decision, replaced) = bodyBytes.map { $0.withUnsafeBytes(transcode) } ?? transcode(payload)
        meta["charset"] = .string(decision.name)
        meta["charset_source"] = .string(decision.source)
        if replaced > 0 { meta["invalid_bytes_replaced"] = .int(replaced) }
        if let truncated = record.header("WARC-Truncated") { meta["warc_truncated"] = .string(truncated) }
        statistics.count("charset.\(decision.name)")
        statistics.count("charset-source.\(decision.source)")
        if text.isEmpty { drop("empty", record: record, path: path); return nil }

        let id = record.recordID ?? "<urn:thresh:\(path)#\(record.offset)>"
        return Document(id: id, source: options.source, text: text, url: record.targetURI, meta: meta)
    }

    /// A media type from the first bytes, for responses without Content-Type.
    private func sniffMime(_ payload: UnsafeRawBufferPointer) -> String {
        let head = String(decoding: UnsafeRawBufferPointer(rebasing: payload[0..<min(payload.count, 512)]), as: UTF8.self).lowercased()
        if head.contains("<html") || head.contains("<!doctype html") || head.contains("<head") || head.contains("<body") { return "text/html" }
        return "application/octet-stream"
    }
}
