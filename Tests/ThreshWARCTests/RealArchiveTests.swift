import Testing
#if canImport(Glibc)
import Glibc
#endif
import ThreshCore
import ThreshIO
@testable import ThreshWARC
import ThreshTestSupport

/// Every archive under ../shared/data/warc, read by Thresh and compared with warcio's listing of it
/// (Tests/Fixtures/warcio-listings, made by scripts/make-warc-fixtures).
@Suite(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
struct RealArchiveTests {
    static let listingNames: [String] = {
        let dir = TestPaths.fixtures + "/warcio-listings"
        return (try? listDirectory(dir))?.filter { $0.hasSuffix(".jsonl") }.sorted() ?? []
    }()

    /// Where Thresh and warcio legitimately differ, field by field, and why. Everything else must match.
    static let knownDifferences: [String: (fields: Set<String>, why: String)] = [
        "warcio__bad.arc.jsonl": (["content_length", "length"], "ARC length -1: warcio keeps -1 and spans to the next line; Thresh reads an empty block"),
        "warcio__example.arc.jsonl": (["length"], "warcio counts the newline after an ARC filedesc block in its length"),
        "warcio__example-space-in-url.arc.jsonl": (["length"], "same ARC filedesc newline"),
        "warcio__example-wrong-chunks.warc.gz.jsonl": (["length"], "Content-Length overruns the gzip member; warcio cuts at the member, Thresh reports the record as malformed"),
    ]

    static func archivePath(forListing name: String) -> String {
        let stem = String(name.dropLast(".jsonl".count))
        guard let sep = stem.firstRange(of: "__") else { return stem }
        return TestPaths.sharedData + "/warc/" + stem[..<sep.lowerBound] + "/" + stem[sep.upperBound...]
    }

    @Test func everyArchiveHasAListing() throws {
        let archives = try listDirectory(TestPaths.sharedData + "/warc").flatMap { dir in
            (try? listDirectory(TestPaths.sharedData + "/warc/" + dir))?.map { dir + "__" + $0 } ?? []
        }.filter { !$0.hasSuffix(".md") && !$0.hasSuffix(".cdx") && !$0.hasSuffix(".cdxj") && !$0.hasSuffix(".paths.gz") && !$0.hasSuffix("manifest.json.gz") }
        #expect(archives.count >= 60)
        for a in archives { #expect(Self.listingNames.contains(a + ".jsonl"), "no warcio listing for \(a)") }
    }

    @Test(arguments: listingNames)
    func recordsMatchWarcio(listing: String) throws {
        let archive = Self.archivePath(forListing: listing)
        if Self.warcioRefuses(String(listing.dropLast(".jsonl".count))) {
            try expectRefusedOrLz4(archive)
            return
        }
        let expected = try readJSONLines(TestPaths.fixtures + "/warcio-listings/" + listing)
        let reader = try WARCReader(path: archive)
        var problems: [WARCProblem] = []
        reader.onProblem = { problems.append($0) }
        let actual = try WARCListing.entries(reader)
        #expect(actual.count >= expected.count, "\(listing): Thresh read \(actual.count) records, warcio \(expected.count)")
        let isARC = listing.contains(".arc")
        let skip = Self.knownDifferences[listing]?.fields ?? []
        for (i, want) in expected.enumerated() where i < actual.count {
            for key in ["offset", "type", "uri", "id", "content_length", "block_digest", "payload_digest", "status", "length"] {
                if skip.contains(key) && (key != "length" || i == 0 || listing.contains("bad.arc")) { continue }
                if key == "id" && isARC { continue }  // warcio invents random ids for ARC records
                if key == "length", let n = want[key]?.intValue, n < 0 { continue }  // warcio's negative lengths
                #expect(actual[i][key] == want[key], "\(listing) record \(i) \(key)")
            }
        }
    }

    static let checkedArchives: [String] = {
        let dir = TestPaths.fixtures + "/warcio-check"
        return ((try? listDirectory(dir)) ?? []).filter { $0.hasSuffix(".txt") }.sorted()
            .map { String($0.dropLast(4)).replacingFirstDoubleUnderscore() }
    }()

    /// `warcio check -v` on every archive (Tests/Fixtures/warcio-check): the same verdict for every record
    /// warcio reached.
    @Test(arguments: checkedArchives)
    func digestVerdictsAgreeWithWarcioCheck(archive: String) throws {
        if Self.warcioRefuses(archive.replacingFirstSlash()) {
            try expectRefusedOrLz4(TestPaths.sharedData + "/warc/" + archive)
            return
        }
        let listing = try readFile(TestPaths.fixtures + "/warcio-check/" + archive.replacingFirstSlash() + ".txt")
        // warcio prints one "  offset …" line per record, then one or more verdict lines.
        var verdicts: [String] = []
        for line in String(decoding: listing, as: UTF8.self).split(separator: "\n") {
            if line.hasPrefix("  offset") { verdicts.append("unchecked"); continue }
            guard line.hasPrefix("    "), !verdicts.isEmpty else { continue }
            if line.contains("failed") { verdicts[verdicts.count - 1] = "fail" }
            else if line.contains("digest pass") && verdicts.last != "fail" { verdicts[verdicts.count - 1] = "pass" }
        }
        let reader = try WARCReader(path: TestPaths.sharedData + "/warc/" + archive)
        var mine: [String] = []
        while let record = try reader.next() {
            guard let block = try reader.readBlock() else { continue }
            if reader.lastBlockTruncated { mine.append("unchecked"); continue }
            let verdict = DigestVerifier.check(record, block: block)
            mine.append(!verdict.passed ? "fail" : (verdict.checked.isEmpty ? "unchecked" : "pass"))
        }
        if archive == "warcio/example-wrong-chunks.warc.gz" {
            // The response's block is split over three gzip members. warcio stops at the first member's end and
            // leaves the digest unchecked; Thresh reads the block across the members, checks it, and it fails.
            verdicts[0] = "fail"
        }
        if archive == "warcio/bad.arc" {
            // warcio reads the ARC line with length "abc" as a record; Thresh reports it as malformed and skips it.
            verdicts.removeLast()
        }
        #expect(mine.count >= verdicts.count)
        #expect(Array(mine.prefix(verdicts.count)) == verdicts, "\(archive)")
    }

    /// Whether `warcio check` refused the file as no archive ("Unknown archive format"; the fixture file's name is the
    /// archive's path with its first '/' as "__").
    static func warcioRefuses(_ fixtureName: String) -> Bool {
        guard let text = try? readFile(TestPaths.fixtures + "/warcio-check/" + fixtureName + ".txt") else { return false }
        return String(decoding: text, as: UTF8.self).contains("Unknown archive format")
    }

    /// For a file warcio refuses: an lz4 archive (which warcio cannot read, and FastWARC can) reads as its plain twin
    /// record for record, every digest passing as there; anything else is refused by Thresh too, naming the file.
    func expectRefusedOrLz4(_ path: String) throws {
        guard path.hasSuffix(".lz4") else {
            #expect(throws: ThreshError.self, "\(path) is no archive for warcio; Thresh must refuse it too") {
                _ = try WARCListing.entries(WARCReader(path: path))
            }
            do { _ = try WARCListing.entries(WARCReader(path: path)) } catch let e as ThreshError {
                #expect(e.code == .unsupportedFormat && e.file == path && e.message.contains("not a WARC or ARC archive"))
            }
            return
        }
        func entries(_ p: String) throws -> [JSONObject] {
            try WARCListing.entries(WARCReader(path: p)).map { var e = $0; e["offset"] = nil; e["length"] = nil; return e }
        }
        let lz4 = try entries(path), plain = try entries(String(path.dropLast(4)))
        #expect(!lz4.isEmpty && lz4 == plain, "\(path) reads as its plain twin")
        let reader = try WARCReader(path: path)
        var problems = 0
        reader.onProblem = { _ in problems += 1 }
        while let record = try reader.next() {
            guard let block = try reader.readBlock() else { continue }
            #expect(DigestVerifier.check(record, block: block).passed, "\(path) record \(record.index)")
        }
        #expect(problems == 0)
    }

    /// gzip streams that hold no archive (webarchive-commons' gzip format tests: "hi", "abcd", a directory listing)
    /// are refused as warcio refuses them, naming the file.
    @Test(arguments: ["webarchive-commons/format__gzip__double-single-inflate-error.gz", "webarchive-commons/format__gzip__hi.gz"])
    func gzipFilesThatHoldNoArchiveAreRefused(archive: String) throws {
        #expect(Self.warcioRefuses(archive.replacingFirstSlash()))
        try expectRefusedOrLz4(TestPaths.sharedData + "/warc/" + archive)
    }

    @Test func contentCodingsDecodeToTheSamePage() throws {
        var bodies: [String: String] = [:]
        for coding in ["none", "gzip", "brotli"] {
            let ingest = WARCIngest()
            try ingest.process(path: TestPaths.sharedData + "/warc/webarchive-discovery/transfer_compression_\(coding).warc.gz") { doc in
                if doc.meta["warc_type"] == .string("response") { bodies[coding] = doc.text }
            }
        }
        #expect(bodies["none"] != nil && !(bodies["none"]!.isEmpty))
        #expect(bodies["gzip"] == bodies["none"])
        #expect(bodies["brotli"] == bodies["none"])
    }

    @Test(arguments: ["pywb/iana.warc.gz", "warcio/example-iana.org-chunked.warc", "resiliparse/warcfile.warc",
                      "chatnoir-copycat/clueweb-09-sample__en0000__00.warc.gz", "warcio/example.arc.gz"])
    func readingIsIndependentOfHowBytesArrive(archive: String) throws {
        let bytes = try readFile(TestPaths.sharedData + "/warc/" + archive)
        func listing(_ piece: Int) throws -> [JSONObject] {
            let stream = try ArchiveStream(source: DripSource(bytes, piece: piece))
            return try WARCListing.entries(WARCReader(stream: stream))
        }
        let whole = try listing(1 << 24)
        #expect(!whole.isEmpty)
        #expect(try listing(1) == whole)
        #expect(try listing(4093) == whole)
    }

    @Test(arguments: ["warcio/example-bad-non-chunked.warc.gz", "warcio/example-wrong-chunks.warc.gz", "warcio/example-trunc.warc",
                      "resiliparse/clipped.warc.gz",
                      "webarchive-commons/resource__html__link-extraction-test.warc", "cc_net/sample.warc.wet",
                      "chatnoir-copycat/cc-arc-sample__small-sample-1213893279526_0.arc", "warcio/bad.arc",
                      "webarchive-commons/format__arc__IAH-20080430204825-00000-blackbook-truncated.arc",
                      "resiliparse/warcfile.warc.lz4"])
    func malformedArchivesAreReadToTheEndWithProblemsCounted(archive: String) throws {
        let ingest = WARCIngest()
        var reported: [ThreshError] = []
        ingest.onProblem = { reported.append($0) }
        try ingest.process(path: TestPaths.sharedData + "/warc/" + archive) { _ in }
        let s = ingest.statistics
        #expect(s.documentsIn == s.documentsOut + s.droppedTotal, "every record accounted for")
        for e in reported { #expect(e.file != nil && e.offset != nil, "\(e)") }
    }

    @Test func realCommonCrawlARCFilesGiveTheirPages() throws {
        let ingest = WARCIngest()
        var count = 0
        try ingest.process(path: TestPaths.sharedData + "/warc/chatnoir-copycat/cc-arc-sample__small-sample-1213893279526_0.arc") { doc in
            count += 1
            #expect(doc.url?.hasPrefix("http") == true)
        }
        #expect(count > 50)
    }

    @Test func wetFilesGiveTheirText() throws {
        let ingest = WARCIngest()
        var docs: [Document] = []
        try ingest.process(path: TestPaths.sharedData + "/warc/commoncrawl-whirlwind/whirlwind.warc.wet.gz") { docs.append($0) }
        #expect(docs.count == 1)
        #expect(docs.first?.url == "https://an.wikipedia.org/wiki/Escopete")
        #expect(docs.first?.text.contains("Escopete") == true)
    }

    @Test func crawlLikeArchiveGivesEveryHTMLResponse() throws {
        let ingest = WARCIngest()
        var n = 0
        try ingest.process(path: TestPaths.sharedData + "/warc/crawl-like/crawl-like.warc.gz") { _ in n += 1 }
        // 1,118 responses: 1,033 with status 200 (39 of them images), 40 redirects and 45 not found.
        #expect(n == 994)
        #expect(ingest.statistics.dropped["mime"] == 39)
        #expect(ingest.statistics.dropped["status"] == 85)
    }
}


extension String {
    func replacingFirstDoubleUnderscore() -> String {
        guard let r = firstRange(of: "__") else { return self }
        return String(self[..<r.lowerBound]) + "/" + String(self[r.upperBound...])
    }

    func replacingFirstSlash() -> String {
        guard let i = firstIndex(of: "/") else { return self }
        return String(self[..<i]) + "__" + String(self[index(after: i)...])
    }
}
