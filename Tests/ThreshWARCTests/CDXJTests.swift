import Testing
import ThreshCore
import ThreshIO
@testable import ThreshWARC
import ThreshTestSupport

/// `thresh warc index` against cdxj-indexer 1.5.0 (`--sort`) and surt 0.3.1: the fixtures in
/// Tests/Fixtures/cdxj-indexer and Tests/Fixtures/surt-keys.jsonl come from `scripts/make-cdxj-fixtures`.
@Suite(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
struct CDXJTests {
    static let fixtureDirectory = TestPaths.fixtures + "/cdxj-indexer"
    static let indexed: [String] = ((try? listDirectory(fixtureDirectory)) ?? []).filter { $0.hasSuffix(".cdxj.gz") }.sorted()

    /// Where Thresh and warcio read an archive differently (see RealArchiveTests): lines of the reference that Thresh
    /// has no record for.
    static let knownDifferences: [String: String] = [
        // warcio takes the ARC line with length "abc" (at offset 262) for a record; Thresh reports it as malformed
        // and skips it.
        "warcio__bad.arc.cdxj.gz": #""offset": "262""#,
    ]

    static func archive(for fixture: String) -> String {
        let name = String(fixture.dropLast(".cdxj.gz".count))
        return TestPaths.sharedData + "/warc/" + name.replacingFirstDoubleUnderscore()
    }

    static func lines(_ path: String) throws -> [String] {
        let reader = try DecompressingReader(path: path)
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try reader.read(into: $0) }
            if n == 0 { break }
            bytes += chunk[0..<n]
        }
        return String(decoding: bytes, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test func everyArchiveTheIndexerReadsHasAFixture() {
        #expect(Self.indexed.count >= 60)
    }

    /// Line for line and field for field, in the same (sorted) order.
    @Test(arguments: indexed)
    func indexMatchesCdxjIndexer(fixture: String) throws {
        let path = Self.archive(for: fixture)
        var expected = try Self.lines(Self.fixtureDirectory + "/" + fixture)
        if let skip = Self.knownDifferences[fixture] { expected.removeAll { $0.contains(skip) } }
        let filename = String(path.split(separator: "/").last!)
        let actual = try CDXJIndexer.index(path: path, filename: filename).map(\.line)
        #expect(actual.count == expected.count, "\(fixture)")
        for (a, e) in zip(actual, expected) where a != e {
            Issue.record("\(fixture):\n  thresh: \(a)\n  cdxj-indexer: \(e)")
            break
        }
    }

    /// pywb's lookup on Thresh's index: for every capture in the reference index, the key pywb computes (the
    /// reference's key) is binary-searched in Thresh's sorted lines (the first line >= "KEY ", then every line with
    /// that prefix), and the capture is among the lines found.
    @Test(arguments: indexed)
    func pywbFindsEveryCaptureInThreshsIndex(fixture: String) throws {
        let path = Self.archive(for: fixture)
        let filename = String(path.split(separator: "/").last!)
        let mine = try CDXJIndexer.index(path: path, filename: filename).map { Array($0.line.utf8) }
        for line in try Self.lines(Self.fixtureDirectory + "/" + fixture) {
            if let skip = Self.knownDifferences[fixture], line.contains(skip) { continue }
            let parts = line.split(separator: " ", maxSplits: 2)
            let prefix = Array((parts[0] + " ").utf8)
            var low = 0, high = mine.count
            while low < high {
                let mid = (low + high) / 2
                if mine[mid].lexicographicallyPrecedes(prefix) { low = mid + 1 } else { high = mid }
            }
            var found = false
            var i = low
            while i < mine.count, mine[i].starts(with: prefix) {
                if String(decoding: mine[i], as: UTF8.self) == line { found = true; break }
                i += 1
            }
            #expect(found, "\(fixture): pywb's lookup of \(parts[0]) \(parts[1]) finds nothing in Thresh's index")
        }
    }

    /// Keys of URLs that exercise every step of the canonicaliser, as the surt package makes them.
    @Test func surtKeysMatchTheSurtPackage() throws {
        let cases = try readJSONLines(TestPaths.fixtures + "/surt-keys.jsonl")
        #expect(cases.count >= 60)
        for c in cases {
            let url = c["url"]!.stringValue!, key = c["key"]!.stringValue!
            #expect(SURT.key(url) == key, "\(url)")
        }
    }
}
