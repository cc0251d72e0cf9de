import Testing
import ThreshCore
import ThreshIO
@testable import ThreshWARC
import ThreshTestSupport

/// Archives written here with known content: lz4 frames, decompression bombs, a lying Content-Length, and files that
/// are not archives.
@Suite struct IngestRobustnessTests {
    /// An HTML response record's headers and block.
    func response(_ n: Int, body: [UInt8], headers extra: [String] = []) -> (headers: [(String, String)], block: [UInt8]) {
        let head = (["HTTP/1.1 200 OK", "Content-Type: text/html; charset=utf-8"] + extra).joined(separator: "\r\n") + "\r\n\r\n"
        return ([("WARC-Type", "response"), ("WARC-Record-ID", "<urn:uuid:test-\(n)>"), ("WARC-Date", "2024-01-01T00:00:00Z"),
                 ("WARC-Target-URI", "https://example.org/\(n)"), ("Content-Type", "application/http; msgtype=response")],
                Array(head.utf8) + body)
    }

    func page(_ n: Int) -> [UInt8] { Array("<html><body><p>Page number \(n) says hello.</p></body></html>".utf8) }

    func ingest(_ path: String, options: WARCIngestOptions = WARCIngestOptions()) throws -> (documents: [Document], statistics: StageStatistics) {
        let ingest = WARCIngest(options: options)
        var documents: [Document] = []
        try ingest.process(path: path) { documents.append($0) }
        return (documents, ingest.statistics)
    }

    @Test func lz4ArchivesReadAsTheirGzipTwins() throws {
        let dir = makeTemporaryDirectory()
        for name in ["a.warc.gz", "a.warc.lz4"] {
            let writer = try WARCWriter(path: dir + "/" + name)
            for n in 0..<5 { let r = response(n, body: page(n)); try writer.write(headers: r.headers, block: r.block) }
            try writer.close()
        }
        let lz4 = try readFile(dir + "/a.warc.lz4")
        #expect(Array(lz4.prefix(4)) == [0x04, 0x22, 0x4D, 0x18])
        let gzip = try ingest(dir + "/a.warc.gz"), viaLz4 = try ingest(dir + "/a.warc.lz4")
        #expect(viaLz4.documents.count == 5)
        #expect(viaLz4.documents.map(\.text) == gzip.documents.map(\.text))
        #expect(viaLz4.documents.map(\.id) == gzip.documents.map(\.id))
        // Offsets are the frames' own (each record its frame), as an index needs them.
        let offsets = viaLz4.documents.map { $0.meta["warc_offset"]!.intValue! }
        #expect(offsets.first == 0 && offsets == offsets.sorted() && Set(offsets).count == 5)
        #expect(viaLz4.statistics.dropped.isEmpty)
    }

    /// A body that decodes past its cap (four times the maximum record size) is dropped as `decoded-too-large`,
    /// for every content coding; nothing of it is emitted.
    @Test(arguments: ["gzip", "deflate", "br"])
    func bombsAreDroppedAndCounted(coding: String) throws {
        let dir = makeTemporaryDirectory()
        let plain = [UInt8](repeating: UInt8(ascii: "a"), count: 2_000_000)
        let body: [UInt8]
        switch coding {
        case "gzip":
            var out: [UInt8] = []
            plain.withUnsafeBytes { ZlibDeflater(level: 9).compress($0, finish: true, into: &out) }
            body = out
        case "deflate":
            var out: [UInt8] = []
            plain.withUnsafeBytes { ZlibDeflater(level: 9, zlibWrapper: true).compress($0, finish: true, into: &out) }
            body = out
        default:
            // `brotli -c` (Debian's brotli 1.0.9) of 2,000,000 'a' bytes: 14 bytes.
            body = [0x9f, 0x7f, 0x84, 0x1e, 0xf8, 0x25, 0xc2, 0xe2, 0xb1, 0x40, 0x20, 0x87, 0xcf, 0x03]
        }
        let writer = try WARCWriter(path: dir + "/bomb.warc.gz")
        var r = response(0, body: page(0))
        try writer.write(headers: r.headers, block: r.block)
        r = response(1, body: body, headers: ["Content-Encoding: \(coding)"])
        try writer.write(headers: r.headers, block: r.block)
        try writer.close()
        var options = WARCIngestOptions()
        options.reader = WARCReaderOptions(maximumRecordSize: 64 << 10)  // a cap of 256 KiB decoded
        let result = try ingest(dir + "/bomb.warc.gz", options: options)
        #expect(result.documents.count == 1)
        #expect(result.documents.first?.id == "<urn:uuid:test-0>")
        #expect(result.statistics.dropped["decoded-too-large"] == 1)
        // Under the cap the same body decodes and is kept.
        let kept = try ingest(dir + "/bomb.warc.gz")
        #expect(kept.documents.count == 2 && kept.documents[1].text.utf8.count == plain.count)
    }

    /// In a plain WARC, a Content-Length that runs into the next record is caught: the block ends where the next
    /// record starts, that record is read, and the problem is counted.
    @Test func aLyingContentLengthDoesNotSwallowTheNextRecord() throws {
        let dir = makeTemporaryDirectory()
        var bytes: [UInt8] = []
        for n in 0..<3 {
            let r = response(n, body: page(n))
            // The first record claims 300 bytes more than its block.
            let declared = r.block.count + (n == 0 ? 300 : 0)
            var record = Array("WARC/1.1\r\n".utf8)
            for (k, v) in r.headers { record += Array("\(k): \(v)\r\n".utf8) }
            record += Array("Content-Length: \(declared)\r\n\r\n".utf8) + r.block + Array("\r\n\r\n".utf8)
            bytes += record
        }
        try writeFile(dir + "/lying.warc", bytes)
        let ingest = WARCIngest()
        var problems: [ThreshError] = []
        ingest.onProblem = { problems.append($0) }
        var documents: [Document] = []
        try ingest.process(path: dir + "/lying.warc") { documents.append($0) }
        #expect(documents.map(\.id) == ["<urn:uuid:test-1>", "<urn:uuid:test-2>"])
        #expect(problems.contains { $0.message.contains("content-length-mismatch") || $0.message.contains("runs into the next record") })
        #expect(ingest.statistics.documentsIn == 3)
        // A right Content-Length whose block holds a WARC record (an archive stored in a resource) is not cut.
        var inner = Array("WARC/1.1\r\nWARC-Type: resource\r\nContent-Length: 0\r\n\r\n\r\n\r\n".utf8)
        inner = Array("prefix\r\n\r\n".utf8) + inner
        let writer = try WARCWriter(path: dir + "/nested.warc")
        try writer.write(headers: [("WARC-Type", "resource"), ("WARC-Record-ID", "<urn:uuid:outer>"), ("Content-Type", "text/plain")], block: inner)
        try writer.close()
        let nested = try self.ingest(dir + "/nested.warc")
        #expect(nested.documents.count == 1 && nested.documents[0].text.utf8.count == inner.count)
    }

    @Test func filesThatAreNotArchivesAreErrorsNamingThem() throws {
        let dir = makeTemporaryDirectory()
        try writeFile(dir + "/README.md", Array("# Crawl notes\nThese files came from …\n".utf8))
        var out: [UInt8] = []
        Array("{\"id\":\"1\",\"text\":\"x\"}\n".utf8).withUnsafeBytes { ZlibDeflater().compress($0, finish: true, into: &out) }
        try writeFile(dir + "/docs.jsonl.gz", out)
        for name in ["README.md", "docs.jsonl.gz"] {
            do {
                _ = try ingest(dir + "/" + name)
                Issue.record("\(name) was read as an archive")
            } catch let error as ThreshError {
                #expect(error.code == .unsupportedFormat && error.file == dir + "/" + name && error.message.contains("not a WARC or ARC archive"), "\(error)")
            }
        }
    }

    @Test func outputsThreshCannotWriteAreUsageErrors() throws {
        let dir = makeTemporaryDirectory()
        for name in ["x.parquet", "x.jsonl.bz2", "x.jsonl.lz4"] {
            do {
                _ = try OutputFile(path: dir + "/" + name)
                Issue.record("\(name) was opened")
            } catch let error as ThreshError {
                #expect(error.code == .usage && error.message.contains("cannot write"), "\(error)")
            }
        }
        #expect(!TestPaths.exists(dir + "/x.parquet"))
    }
}
