import ThreshCore
import ThreshIO

/// Writes WARC/1.1 records, each its own gzip member (the Common Crawl layout) or lz4 frame, or plain.
/// Used by the sample generator and by tests that need archives with known content.
public final class WARCWriter {
    private let output: OutputFile
    private let gzipPerRecord: Bool
    private let lz4PerRecord: Bool
    /// Bytes written to the file so far (the offset of the next record).
    public private(set) var offset: Int64 = 0

    /// Creates `path` (atomically, on `close`). A `.gz` name gets one gzip member per record, a `.lz4` name one lz4
    /// frame per record.
    public init(path: String) throws {
        gzipPerRecord = path.hasSuffix(".gz")
        lz4PerRecord = path.hasSuffix(".lz4")
        // The writer compresses members itself, so the file is opened under a plain name and renamed.
        output = try OutputFile(path: path, compression: .none)
    }

    /// Appends a record with the given headers (Content-Length is added) and block; returns its offset.
    @discardableResult
    public func write(headers: [(String, String)], block: [UInt8]) throws -> Int64 {
        var bytes: [UInt8] = Array("WARC/1.1\r\n".utf8)
        for (name, value) in headers { bytes += Array("\(name): \(value)\r\n".utf8) }
        bytes += Array("Content-Length: \(block.count)\r\n\r\n".utf8)
        bytes += block
        bytes += Array("\r\n\r\n".utf8)
        return try writeRaw(bytes)
    }

    /// Appends raw bytes as one record (for deliberately malformed samples); returns the offset.
    @discardableResult
    public func writeRaw(_ bytes: [UInt8]) throws -> Int64 {
        let start = offset
        if gzipPerRecord {
            var member: [UInt8] = []
            bytes.withUnsafeBytes { ZlibDeflater(level: 6).compress($0, finish: true, into: &member) }
            try output.write(member)
            offset += Int64(member.count)
        } else if lz4PerRecord {
            let frame = bytes.withUnsafeBytes { Lz4Frame.compress($0) }
            try output.write(frame)
            offset += Int64(frame.count)
        } else {
            try output.write(bytes)
            offset += Int64(bytes.count)
        }
        return start
    }

    public func close() throws { try output.close() }
}
