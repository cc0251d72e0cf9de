import Testing
import ThreshCore
import ThreshIO
import ThreshQuality
@testable import ThreshDedup
import ThreshTestSupport

/// minhash.json from Spark 4.3: coefficients, hash values, and approxSimilarityJoin pairs.
@Suite(.enabled(if: TestPaths.sharedDataAvailable, "../shared/data is not beside the repository"))
struct SparkMinHashTests {
    static let golden: JSONObject = {
        let bytes = (try? readFile(TestPaths.sharedData + "/golden/spark/minhash.json")) ?? []
        return (try? JSONParser.parse(String(decoding: bytes, as: UTF8.self)).objectValue) ?? [:]
    }()

    @Test func coefficientsMatchSpark() throws {
        let models = try #require(Self.golden["models"]?.arrayValue)
        #expect(models.count >= 3)
        for m in models {
            let o = try #require(m.objectValue)
            let seed = Int64(try #require(o["seed"]?.intValue))
            let expected = try #require(o["first_20_coefficients_a_b"]?.arrayValue ?? o["coefficients_a_b"]?.arrayValue)
            let family = SparkMinHash(tables: expected.count, seed: seed)
            for (t, pair) in expected.enumerated() {
                let ab = try #require(pair.arrayValue)
                #expect(family.coefficients[t].a == Int64(ab[0].intValue!) && family.coefficients[t].b == Int64(ab[1].intValue!), "seed \(seed) table \(t)")
            }
        }
    }

    @Test func hashValuesMatchSpark() throws {
        let vectors = try #require(Self.golden["hash_vectors"]?.arrayValue)
        #expect(vectors.count == 20)
        for v in vectors {
            let o = try #require(v.objectValue)
            let vector = try #require(o["vector"]?.objectValue)
            let indices = zip(vector["indices"]!.arrayValue!, vector["values"]!.arrayValue!)
                .filter { $0.1.doubleValue != 0 }.map { $0.0.intValue! }
            for (seed, hashes) in try #require(o["hashes"]?.objectValue) {
                let family = SparkMinHash(tables: 10, seed: Int64(seed)!)
                #expect(family.hashes(indices) == hashes.arrayValue!.map { Int64($0.intValue!) }, "\(o["description"]?.stringValue ?? "") seed \(seed)")
            }
        }
    }

    /// Every join of minhash.json: the same pairs as Spark's self-join (a < b), including the pair LSH misses.
    @Test func similarityJoinsGiveSparksPairs() throws {
        let corpus = try #require(Self.golden["join_corpus"]?.objectValue?["docs"]?.arrayValue)
        let hasher = FeatureHasher()
        var sets: [String: [[Int]]] = ["features": [], "features_ngram5": []]
        for d in corpus {
            let o = try #require(d.objectValue)
            let text = try #require(o["text"]?.stringValue)
            var unigrams = Set<Int>()
            hasher.forEachIndex(of: text) { unigrams.insert($0) }
            var fivegrams = Set<Int>()
            FeatureHasher(ngrams: [5]).forEachIndex(of: text) { fivegrams.insert($0) }
            #expect(unigrams.sorted() == o["features"]?.objectValue?["indices"]?.arrayValue?.compactMap(\.intValue))
            sets["features"]!.append(unigrams.sorted())
            sets["features_ngram5"]!.append(fivegrams.sorted())
        }
        let joins = try #require(Self.golden["joins"]?.arrayValue)
        #expect(joins.count == 8)
        for j in joins {
            let o = try #require(j.objectValue)
            let featureSet = try #require(o["features"]?.stringValue)
            let seed = Int64(try #require(o["seed"]?.intValue))
            let threshold = try #require(o["threshold"]?.doubleValue)
            let family = SparkMinHash(tables: try #require(o["numHashTables"]?.intValue), seed: seed)
            let pairs = family.selfJoin(try #require(sets[featureSet]).map { $0 }, threshold: threshold)
            let expected = try #require(o["unordered_pairs_a_lt_b"]?.arrayValue).map { p -> [Int] in p.arrayValue!.prefix(2).map { $0.intValue! } }
            #expect(pairs.map { [$0.a, $0.b] } == expected, "\(featureSet) seed \(seed) threshold \(threshold)")
        }
    }

    /// The whole dedup job with the gpt3 preset (Spark family, 10 tables of one row, Spark's distance rule) finds
    /// exactly Spark's pairs on the join corpus, at both thresholds and both seeds.
    @Test func dedupJobWithTheGPT3PresetFindsSparksPairs() throws {
        let corpus = try #require(Self.golden["join_corpus"]?.objectValue?["docs"]?.arrayValue)
        let dir = makeTemporaryDirectory()
        let lines = corpus.map { d -> String in
            let o = d.objectValue!
            return JSONWriter.string(.object(["id": .string(String(o["id"]!.intValue!)), "source": .string("join"), "text": o["text"]!]))
        }
        try writeFile(dir + "/corpus.jsonl", Array((lines.joined(separator: "\n") + "\n").utf8))
        for j in try #require(Self.golden["joins"]?.arrayValue) {
            let o = try #require(j.objectValue)
            guard o["features"]?.stringValue == "features" else { continue }
            let seed = Int64(try #require(o["seed"]?.intValue)), distance = try #require(o["threshold"]?.doubleValue)
            var options = DedupOptions.gpt3(seed: seed)
            options.sparkDistance = distance
            let out = dir + "/out-\(seed)-\(distance)"
            let job = DedupJob(inputs: [DedupInput(path: dir + "/corpus.jsonl")], output: out, options: options)
            job.pairsFile = out + "-pairs.jsonl"
            try job.run()
            let reader = try DocumentReader(path: out + "-pairs.jsonl")
            var found: [[Int]] = []
            while let p = try reader.next() {
                let a = Int(p.fields["a"]!.stringValue!)!, b = Int(p.fields["b"]!.stringValue!)!
                found.append([min(a, b), max(a, b)])
            }
            let expected = try #require(o["unordered_pairs_a_lt_b"]?.arrayValue).map { p in p.arrayValue!.prefix(2).map { $0.intValue! } }
            #expect(found.sorted { $0.lexicographicallyPrecedes($1) } == expected.sorted { $0.lexicographicallyPrecedes($1) }, "seed \(seed) distance \(distance)")
        }
    }
}
