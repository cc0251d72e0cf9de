#if canImport(Glibc)
import Glibc
#endif
import Testing
import ThreshCore
import ThreshIO
import ThreshQuality
@testable import ThreshDedup
import ThreshTestSupport

@Suite struct DedupJobTests {
    /// The early-exit Jaccard gives the exact value for every pair that can pass and nil exactly for the others,
    /// at the thresholds and Spark distances the presets use and at the edges of a set's sizes.
    @Test func boundedJaccardDecidesAsTheExactOne() {
        var state: UInt64 = 99
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        for trial in 0..<400 {
            let universe = UInt64(1 + trial % 50 * 20)
            let a = Array(Set((0..<Int(next() % 300)).map { _ in next() % universe })).sorted()
            // Half the time b is a near copy of a: the pairs that must pass.
            let b = trial % 2 == 0 ? Array(Set(a.filter { _ in next() % 10 != 0 } + (0..<Int(next() % 5)).map { _ in next() % universe })).sorted()
                                   : Array(Set((0..<Int(next() % 300)).map { _ in next() % universe })).sorted()
            let exact = SetStore.jaccard(a, b)
            for t in [0.5, 0.7, 0.8, 0.9, 1.0] {
                let bounded = SetStore.jaccard(a, b, unlessBelow: { $0 >= t })
                #expect(bounded == (exact >= t ? exact : nil), "trial \(trial), threshold \(t)")
            }
            let spark = SetStore.jaccard(a, b, unlessBelow: { 1 - $0 < 0.2 })
            #expect(spark == (1 - exact < 0.2 ? exact : nil), "trial \(trial), Spark distance")
        }
        #expect(SetStore.jaccard([], [], unlessBelow: { $0 >= 0.8 }) == 1)
        #expect(SetStore.jaccard([1, 2, 3], [], unlessBelow: { $0 >= 0.8 }) == nil)
    }

    /// Distinct base documents and edited copies; returns the file and the ids of the copies.
    func corpus(in dir: String, name: String = "docs.jsonl", bases: Int = 120, copies: Int = 40, edits: Int = 3, source: String = "crawl",
                quality: (Int) -> Double = { _ in 0.5 }) throws -> [String] {
        var lines: [String] = []
        var copyIDs: [String] = []
        var state: UInt64 = 12345
        func next() -> UInt64 { state = state &* 6364136223846793005 &+ 1442695040888963407; return state >> 33 }
        var texts: [[String]] = []
        for b in 0..<bases {
            let words = (0..<120).map { _ in "w\(next() % 5000)" }
            texts.append(words)
            lines.append(JSONWriter.string(.object(["id": .string("base-\(b)"), "source": .string(source), "text": .string(words.joined(separator: " ")),
                                                    "attrs": .object(["quality": .double(quality(b))])])))
        }
        for c in 0..<copies {
            var words = texts[c]
            for _ in 0..<edits { words[Int(next() % UInt64(words.count))] = "edit\(next())" }
            copyIDs.append("copy-\(c)")
            lines.append(JSONWriter.string(.object(["id": .string("copy-\(c)"), "source": .string(source), "text": .string(words.joined(separator: " ")),
                                                    "attrs": .object(["quality": .double(quality(c) + (c % 2 == 0 ? 0.1 : -0.1))])])))
        }
        try writeFile(dir + "/" + name, Array((lines.joined(separator: "\n") + "\n").utf8))
        return copyIDs
    }

    func ids(_ path: String) throws -> [String] {
        let reader = try DocumentReader(path: path)
        var out: [String] = []
        while let d = try reader.next() { out.append(d.id) }
        return out
    }

    @Test(arguments: ["gpt3", "fineweb"])
    func findsPlantedDuplicatesAndKeepsTheBetterCopy(preset: String) throws {
        let dir = makeTemporaryDirectory()
        // One edit in 120 words leaves word-5-gram Jaccard near 0.92, which 14 bands of 8 rows catch with
        // probability above 0.9999; three edits leave unigram Jaccard near 0.95 for the gpt3 preset.
        _ = try corpus(in: dir, edits: preset == "gpt3" ? 3 : 1)
        let options: DedupOptions = preset == "gpt3" ? .gpt3(threshold: 0.8) : .fineweb(threshold: 0.7)
        let job = DedupJob(inputs: [DedupInput(path: dir + "/docs.jsonl")], output: dir + "/out", options: options)
        try job.run()
        #expect(job.statistics.clusters == 40)
        #expect(job.statistics.removed == 40)
        let removed = try DocumentReader(path: dir + "/out/removed.jsonl")
        var losers: [String] = []
        while let r = try removed.next() {
            losers.append(r.id)
            #expect((r.fields["jaccard"]?.doubleValue ?? 0) >= (preset == "gpt3" ? 0.8 : 0.7))
        }
        // Survivor: the higher quality; copies of even bases were made better, of odd ones worse.
        for c in 0..<40 { #expect(losers.contains(c % 2 == 0 ? "base-\(c)" : "copy-\(c)"), "pair \(c)") }
        #expect(try ids(dir + "/out/kept/docs.jsonl").count == 120)
    }

    /// Exact dedup: texts equal after normalisation (case, whitespace) are one cluster, the better copy kept; with
    /// no normalisation only identical texts are.
    @Test func exactPresetRemovesEqualTexts() throws {
        let dir = makeTemporaryDirectory()
        let docs: [Document] = [
            Document(id: "a", text: "The same text, twice.", attrs: ["quality": .double(0.9)]),
            Document(id: "b", text: "the  same text,\ntwice. ", attrs: ["quality": .double(0.1)]),
            Document(id: "c", text: "A different text.", attrs: ["quality": .double(0.5)]),
            Document(id: "d", text: "", attrs: ["quality": .double(0.5)]),
        ]
        let out = try DocumentWriter(path: dir + "/docs.jsonl")
        for d in docs { try out.write(d) }
        try out.close()
        let job = DedupJob(inputs: [DedupInput(path: dir + "/docs.jsonl")], output: dir + "/out", options: .exact())
        try job.run()
        #expect(try ids(dir + "/out/kept/docs.jsonl") == ["a", "c", "d"])
        #expect(job.statistics.removed == 1)
        let strict = DedupJob(inputs: [DedupInput(path: dir + "/docs.jsonl")], output: dir + "/strict", options: .exact(normalised: false))
        try strict.run()
        #expect(strict.statistics.removed == 0)
    }

    /// URL dedup: URLs equal after canonicalisation (scheme and host case, default port, fragment, tracking
    /// parameters) are one cluster.
    @Test func urlPresetRemovesTheSamePageUnderAnotherSpelling() throws {
        let c = URLCanonicalizer()
        #expect(c.canonical("HTTPS://Example.COM:443/a/b?utm_source=x&id=7&fbclid=z#top") == "https://example.com/a/b?id=7")
        #expect(c.canonical("http://example.com") == "http://example.com/")
        #expect(c.canonical("http://example.com:8080/x") == "http://example.com:8080/x")
        #expect(c.canonical("not a url") == nil)
        let dir = makeTemporaryDirectory()
        let out = try DocumentWriter(path: dir + "/docs.jsonl")
        try out.write(Document(id: "a", text: "first capture", url: "https://example.com/page?id=1", attrs: ["quality": .double(0.9)]))
        try out.write(Document(id: "b", text: "second capture", url: "https://EXAMPLE.com/page?id=1&utm_medium=mail#x", attrs: ["quality": .double(0.2)]))
        try out.write(Document(id: "c", text: "another page", url: "https://example.com/page?id=2"))
        try out.write(Document(id: "d", text: "no url"))
        try out.close()
        let job = DedupJob(inputs: [DedupInput(path: dir + "/docs.jsonl")], output: dir + "/out", options: .url())
        try job.run()
        #expect(try ids(dir + "/out/kept/docs.jsonl") == ["a", "c", "d"])
    }

    @Test func restartsAfterTheLastFinishedPhaseWithIdenticalOutputs() throws {
        let dir = makeTemporaryDirectory()
        _ = try corpus(in: dir)
        let first = DedupJob(inputs: [DedupInput(path: dir + "/docs.jsonl")], output: dir + "/out", options: .gpt3())
        try first.run()
        let kept = try readFile(dir + "/out/kept/docs.jsonl"), removed = try readFile(dir + "/out/removed.jsonl")
        // As if killed after verification: the last two phases run again.
        unlink(dir + "/out/work/clusters.done")
        unlink(dir + "/out/work/filter.done")
        unlink(dir + "/out/kept/docs.jsonl")
        let second = DedupJob(inputs: [DedupInput(path: dir + "/docs.jsonl")], output: dir + "/out", options: .gpt3())
        try second.run()
        #expect(try readFile(dir + "/out/kept/docs.jsonl") == kept)
        #expect(try readFile(dir + "/out/removed.jsonl") == removed)
    }

    @Test func referenceDocumentsAreNeverRemovedAndRemoveTheirCopies() throws {
        let dir = makeTemporaryDirectory()
        // The reference corpus holds the bases; the crawl holds the copies (and unrelated documents).
        _ = try corpus(in: dir, name: "all.jsonl")
        let all = String(decoding: try readFile(dir + "/all.jsonl"), as: UTF8.self).split(separator: "\n")
        try writeFile(dir + "/reference.jsonl", Array((all.filter { $0.contains("\"base-") }.prefix(60).joined(separator: "\n") + "\n").utf8))
        try writeFile(dir + "/crawl.jsonl", Array((all.filter { $0.contains("\"copy-") }.joined(separator: "\n") + "\n").utf8))
        let job = DedupJob(inputs: [DedupInput(path: dir + "/reference.jsonl", isIndex: true), DedupInput(path: dir + "/crawl.jsonl")],
                           output: dir + "/out", options: .gpt3())
        try job.run()
        #expect(job.statistics.removed == 40)  // every copy duplicates a reference document
        #expect(try ids(dir + "/out/kept/crawl.jsonl").isEmpty)
        let removed = try DocumentReader(path: dir + "/out/removed.jsonl")
        while let r = try removed.next() { #expect(r.fields["survivor"]?.stringValue?.hasPrefix("base-") == true) }
    }

    /// Duplicates within the reference corpus are not this job's business: no pair of two references is a
    /// candidate, so clusters without a crawl document do not appear, and crawl removals are as before.
    @Test func pairsOfReferenceDocumentsAreNotCandidates() throws {
        let dir = makeTemporaryDirectory()
        _ = try corpus(in: dir, name: "all.jsonl")
        let all = String(decoding: try readFile(dir + "/all.jsonl"), as: UTF8.self).split(separator: "\n").map(String.init)
        // The references hold bases 0–59 and near copies of bases 0–39 (40 duplicate pairs among themselves); the
        // crawl holds exact copies of bases 0–9 under new ids, and bases 60–119.
        let bases = all.filter { $0.contains("\"base-") }
        try writeFile(dir + "/reference.jsonl", Array(((bases.prefix(60) + all.filter { $0.contains("\"copy-") }).joined(separator: "\n") + "\n").utf8))
        let crawl = bases.prefix(10).map { $0.replacingOccurrences(of: "\"base-", with: "\"again-") } + bases.dropFirst(60)
        try writeFile(dir + "/crawl.jsonl", Array((crawl.joined(separator: "\n") + "\n").utf8))
        let job = DedupJob(inputs: [DedupInput(path: dir + "/reference.jsonl", isIndex: true), DedupInput(path: dir + "/crawl.jsonl")],
                           output: dir + "/out", options: .gpt3())
        job.pairsFile = dir + "/pairs.jsonl"
        try job.run()
        #expect(job.statistics.removed == 10)
        #expect(job.statistics.clusters == 10)
        #expect(try ids(dir + "/out/kept/crawl.jsonl") == (60..<120).map { "base-\($0)" })
        let pairs = try DocumentReader(path: dir + "/pairs.jsonl")
        var count = 0
        while let p = try pairs.next() {
            count += 1
            #expect(p.fields["a"]?.stringValue?.hasPrefix("again-") == true || p.fields["b"]?.stringValue?.hasPrefix("again-") == true)
        }
        #expect(count >= 10)
    }

    @Test func bandsAndRowsForAThresholdAsDatasketch() {
        // datasketch 2.0's _optimal_param(threshold, num_perm, 0.5, 0.5), run beside: (9, 13), (25, 5), (12, 9), (9, 28).
        #expect(DedupOptions.optimalBandsAndRows(threshold: 0.8, permutations: 128) == (9, 13))
        #expect(DedupOptions.optimalBandsAndRows(threshold: 0.5, permutations: 128) == (25, 5))
        #expect(DedupOptions.optimalBandsAndRows(threshold: 0.7, permutations: 112) == (12, 9))
        #expect(DedupOptions.optimalBandsAndRows(threshold: 0.9, permutations: 256) == (9, 28))
    }

    @Test func xxh64KnownAnswers() {
        #expect(Array("".utf8).withUnsafeBytes { XXH64.hash($0) } == 0xEF46_DB37_51D8_E999)
        #expect(Array("abc".utf8).withUnsafeBytes { XXH64.hash($0) } == 0x44BC_2CF5_AD77_0999)
        #expect(Array("Nobody inspects the spammish repetition".utf8).withUnsafeBytes { XXH64.hash($0) } == 0xFBCE_A83C_8A37_8BF1)
    }
}
