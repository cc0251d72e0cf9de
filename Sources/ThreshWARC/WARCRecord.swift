public import ThreshCore

/// The header of one archive record (WARC, or ARC mapped to WARC terms), with where it was found.
public struct WARCRecord: Sendable {
    /// Which archive format the record came from.
    public enum Format: String, Sendable { case warc, arc }

    /// `warc` or `arc`.
    public var format: Format
    /// The version line: `WARC/1.0`, `WARC/1.1`, `WARC/0.17`, … or `ARC` for ARC records.
    public var version: String
    /// Header fields in order, names as written.
    public var headers: [(name: String, value: String)]
    /// 0-based number of the record in its file.
    public var index: Int
    /// Offset of the record in the file: for compressed files, of the gzip member or zstd frame it starts.
    public var offset: Int64
    /// False when the record does not start a compressed member (whole-file gzip): `offset` is then the
    /// member's offset and `uncompressedOffset` locates the record inside it.
    public var offsetIsExact: Bool
    /// Offset of the record in the decompressed stream.
    public var uncompressedOffset: Int64
    /// Length of the record block (the Content-Length).
    public var contentLength: Int64
    /// Length of the header block, including the blank line.
    public var headerLength: Int

    /// The first value of a header, matched without regard to case.
    public func header(_ name: String) -> String? {
        for h in headers where headerNameEquals(h.name, name) { return h.value }
        return nil
    }

    /// The record type, lowercased (`response`, `request`, `revisit`, `warcinfo`, …).
    public var type: String

    /// WARC-Target-URI, with the angle brackets of WARC/1.0 drafts (wget) removed.
    public var targetURI: String? {
        guard var uri = header("WARC-Target-URI") else { return nil }
        if uri.hasPrefix("<") && uri.hasSuffix(">") && uri.count >= 2 { uri = String(uri.dropFirst().dropLast()) }
        // Spaces are not valid in a URI; encode them as warcio does.
        if uri.contains(" ") { uri = uri.split(separator: " ", omittingEmptySubsequences: false).joined(separator: "%20") }
        return uri
    }

    /// WARC-Record-ID as written (with angle brackets).
    public var recordID: String? { header("WARC-Record-ID") }

    /// WARC-Date as written.
    public var date: String? { header("WARC-Date") }

    /// The record's Content-Type (for `response` records usually `application/http; msgtype=response`).
    public var contentType: String? { header("Content-Type") }

    /// Whether the block holds an HTTP message (response, request, or revisit with headers).
    public var hasHTTPBlock: Bool {
        if format == .arc { return type == "response" }
        guard let ct = contentType?.lowercased() else {
            return type == "response" || type == "request" || type == "revisit"
        }
        return ct.hasPrefix("application/http")
    }
}

/// Limits and tolerances of the record reader.
public struct WARCReaderOptions: Sendable {
    /// Largest record block read into memory; larger blocks are skipped (streamed past) and counted.
    public var maximumRecordSize: Int = 16 << 20
    /// Largest header block accepted.
    public var maximumHeaderSize: Int = 1 << 20

    public init(maximumRecordSize: Int = 16 << 20, maximumHeaderSize: Int = 1 << 20) {
        self.maximumRecordSize = maximumRecordSize
        self.maximumHeaderSize = maximumHeaderSize
    }
}

/// A malformed record or stream found while reading, counted under `reason` and reported once.
public struct WARCProblem: Sendable {
    public var reason: String
    public var error: ThreshError
}
