#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
public import ThreshCore
public import ThreshIO
public import ThreshWARC
public import ThreshExtract
public import ThreshQuality
public import ThreshDedup
public import ThreshShards

/// A pipeline file: the GPT-3 recipe's stages and their options (the same names as on the command line).
public struct Pipeline: Sendable {
    public struct Reference: Sendable { public var name: String; public var files: [String]; public var weight: Double }

    public var file: String
    public var output: String
    public var workers: Int
    public var crawl: [String]
    public var crawlWeight: Double
    public var references: [Reference]
    public var vocabulary: String
    public var warc = WARCIngestOptions()
    public var extract = ExtractOptions()
    public var qualityFeatures = FeatureHasher()
    public var quality = LogisticRegressionOptions()
    public var sampler = ParetoSampler()
    public var dedup = DedupOptions.gpt3()
    public var budgetTokens = 1_000_000
    public var sequenceLength = 2048
    public var sequencesPerShard = 16384

    /// Reads a pipeline file; inputs are globs relative to the file. Errors name the file, line and key.
    public static func load(_ path: String, output overrideOutput: String? = nil, input overrideInputs: [String] = []) throws -> Pipeline {
        let doc = try TOMLDocument.parse(String(decoding: try readEntireFile(path), as: UTF8.self), file: path)
        let base = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        func resolve(_ p: String) -> String { p.hasPrefix("/") ? p : base + "/" + p }
        let known: Set<String> = ["output", "workers", "vocabulary", "inputs", "warc", "extract", "quality", "sample", "dedup", "shard"]
        for (key, _) in doc.root where !known.contains(key) { throw doc.error("unknown key (known: \(known.sorted().joined(separator: ", ")))", at: key) }
        func section(_ name: String) -> JSONObject { doc.root[name]?.objectValue ?? [:] }
        func number(_ o: JSONObject, _ key: String, _ path: String) throws -> Double? {
            guard let v = o[key] else { return nil }
            guard let d = v.doubleValue else { throw doc.error("must be a number", at: path + "." + key) }
            return d
        }
        let inputs = section("inputs")
        var crawlFiles: [String] = []
        if !overrideInputs.isEmpty {
            crawlFiles = try overrideInputs.flatMap { try expandGlob($0, doc: doc, key: "--input") }
        } else {
            guard let crawl = inputs["crawl"]?.stringValue else { throw doc.error("a crawl glob is required", at: "inputs.crawl") }
            crawlFiles = try expandGlob(resolve(crawl), doc: doc, key: "inputs.crawl")
        }
        var references: [Reference] = []
        for (n, r) in (inputs["reference"]?.arrayValue ?? []).enumerated() {
            let o = r.objectValue ?? [:]
            let key = "inputs.reference[\(n)]"
            guard let name = o["name"]?.stringValue else { throw doc.error("a name is required", at: key) }
            guard let p = o["path"]?.stringValue else { throw doc.error("a path glob is required", at: key + ".path") }
            guard let w = o["weight"]?.doubleValue, w > 0 else { throw doc.error("a positive weight is required", at: key + ".weight") }
            references.append(Reference(name: name, files: try expandGlob(resolve(p), doc: doc, key: key + ".path"), weight: w))
        }
        guard !references.isEmpty else { throw doc.error("at least one [[inputs.reference]] is required (positives of the quality model)", at: "inputs") }
        var pipeline = Pipeline(file: path, output: overrideOutput ?? resolve(doc.root["output"]?.stringValue ?? "out"),
                                workers: doc.root["workers"]?.intValue ?? 2, crawl: crawlFiles,
                                crawlWeight: try number(section("shard"), "crawl-weight", "shard") ?? 0.6, references: references,
                                vocabulary: environmentVocabulary ?? resolve(doc.root["vocabulary"]?.stringValue ?? "../../shared/data/tokenizer/gpt2"))
        let w = section("warc")
        if let s = w["status"]?.stringValue { pipeline.warc.statuses = s == "any" ? nil : Set(s.split(separator: ",").compactMap { Int($0) }) }
        if let m = try number(w, "max-record-size", "warc") { pipeline.warc.reader.maximumRecordSize = Int(m) }
        let e = section("extract")
        if let f = e["favor"]?.stringValue {
            guard let favor = ExtractOptions.Favor(rawValue: f) else { throw doc.error("precision, balanced or recall", at: "extract.favor") }
            pipeline.extract.favor = favor
        }
        if let m = try number(e, "min-length", "extract") { pipeline.extract.minimumLength = Int(m) }
        let q = section("quality")
        if let n = try number(q, "num-features", "quality") {
            let v = Int(n)
            guard v > 0, v & (v - 1) == 0, v <= 1 << 24 else { throw doc.error("a power of two up to 2^24", at: "quality.num-features") }
            pipeline.qualityFeatures = FeatureHasher(numFeatures: v)
        }
        if let r = try number(q, "reg-param", "quality") { pipeline.quality.regParam = r }
        if let m = try number(q, "max-iter", "quality") { pipeline.quality.maxIter = Int(m) }
        let s = section("sample")
        pipeline.sampler = ParetoSampler(alpha: try number(s, "alpha", "sample") ?? 9, seed: UInt64(try number(s, "seed", "sample") ?? 0))
        let d = section("dedup")
        let threshold = try number(d, "threshold", "dedup") ?? 0.8
        switch d["preset"]?.stringValue ?? "gpt3" {
        case "gpt3": pipeline.dedup = .gpt3(threshold: threshold)
        case "fineweb": pipeline.dedup = .fineweb(threshold: threshold)
        default: throw doc.error("gpt3 or fineweb", at: "dedup.preset")
        }
        let sh = section("shard")
        if let b = try number(sh, "budget-tokens", "shard") { pipeline.budgetTokens = Int(b) }
        if let l = try number(sh, "sequence-length", "shard") { pipeline.sequenceLength = Int(l) }
        if let n = try number(sh, "sequences-per-shard", "shard") { pipeline.sequencesPerShard = Int(n) }
        return pipeline
    }

    /// `THRESH_GPT2_VOCABULARY`, when set, says where the GPT-2 vocabulary is (scripts/run-samples sets it when
    /// ../shared is not there).
    static var environmentVocabulary: String? { getenv("THRESH_GPT2_VOCABULARY").map { String(cString: $0) } }

    static func expandGlob(_ pattern: String, doc: TOMLDocument, key: String) throws -> [String] {
        var g = glob_t()
        defer { globfree(&g) }
        let rc = glob(pattern, 0, nil, &g)
        guard rc == 0, g.gl_pathc > 0 else { throw doc.error("no input matches \(pattern)", at: key) }
        return (0..<Int(g.gl_pathc)).compactMap { g.gl_pathv[$0].map { String(cString: $0) } }.sorted()
    }

    /// The tasks, in order, as `thresh run --dry-run` prints them.
    public var plan: [String] {
        var lines: [String] = []
        for f in crawl { lines.append("extract   \(f) → work/extracted/\(Pipeline.stem(f)).jsonl.zst  (warc → extract, fused)") }
        lines.append("train     \(references.map(\.name).joined(separator: ", ")) (positive) vs extracted crawl (negative), two folds → work/quality-model-{0,1}.json")
        for f in crawl { lines.append("filter    work/extracted/\(Pipeline.stem(f)).jsonl.zst → work/sampled/… (score by the other fold's model → sample, fused)") }
        lines.append("dedup     crawl within itself and against the references → work/dedup/crawl")
        for r in references { lines.append("dedup     \(r.name) within itself → work/dedup/\(r.name)") }
        lines.append("shard     crawl \(crawlWeight), " + references.map { "\($0.name) \($0.weight)" }.joined(separator: ", ") + " → shards/")
        return lines
    }

    static func stem(_ path: String) -> String {
        var name = String(path.split(separator: "/").last ?? Substring(path))
        for suffix in [".gz", ".zst", ".warc", ".arc", ".jsonl"] where name.hasSuffix(suffix) { name.removeLast(suffix.count) }
        return name
    }
}

/// Runs a pipeline: per-shard tasks on `workers` threads (stages fused in one process, no JSON between them),
/// the all-to-all steps (training, dedup, sharding) once. Every output is written atomically and a finished
/// output is not made again, so a killed run, started again, finishes with the same bytes as an uninterrupted one.
///
/// `@unchecked Sendable` because per-shard tasks share it across worker threads: tasks write only their own files,
/// progress messages are serialised by a mutex, and `statistics` is set by `report` alone.
public final class PipelineRunner: @unchecked Sendable {
    public let pipeline: Pipeline
    /// Called with progress messages (one at a time, from any thread).
    public var progress: ((String) -> Void)?
    private let progressLock = Mutex<Void>(())

    private func report(_ message: String) { progressLock.withLock { _ in progress?(message) } }
    /// The merged statistics of every task (after `report`).
    public private(set) var statistics: [String: StageStatistics] = [:]

    public init(pipeline: Pipeline) { self.pipeline = pipeline }

    var work: String { pipeline.output + "/work" }

    private func exists(_ path: String) -> Bool { access(path, F_OK) == 0 }

    /// Runs `task(i)` for every `i` in `0..<count` on the workers, each once, in any order (each task writes only its
    /// own outputs, so they do not depend on the order).
    private func parallel(_ count: Int, _ task: @escaping @Sendable (Int) throws -> Void) throws {
        let next = Atomic<Int>(0)
        let failure = Mutex<(any Error)?>(nil)
        DispatchQueue.concurrentPerform(iterations: max(1, min(pipeline.workers, count))) { _ in
            while true {
                let i = next.add(1, ordering: .relaxed).oldValue
                guard i < count, failure.withLock({ $0 == nil }) else { break }
                do { try task(i) } catch { failure.withLock { $0 = $0 ?? error } }
            }
        }
        if let error = failure.withLock({ $0 }) { throw error }
    }

    /// The steps of a run. Per-file phases have one task per crawl file; the others one task.
    public enum Phase: String, Sendable {
        case extract, train, filter, dedup, shard, report
    }

    static let folds = 2

    var extracted: [String] { pipeline.crawl.map { work + "/extracted/\(Pipeline.stem($0)).jsonl.zst" } }
    var sampled: [String] { extracted.map { work + "/sampled/\(Pipeline.stem($0)).jsonl.zst" } }

    /// Runs every task of every phase here (per-file tasks on the workers) and returns the summary.
    public func run() throws -> JSONObject {
        let started = monotonicSeconds()
        try prepare()
        try parallel(pipeline.crawl.count) { [self] i in try runTask(.extract, index: i) }
        try runTask(.train, index: nil)
        try parallel(pipeline.crawl.count) { [self] i in try runTask(.filter, index: i) }
        try runTask(.dedup, index: nil)
        try runTask(.shard, index: nil)
        return try report(seconds: monotonicSeconds() - started)
    }

    /// Creates the output directories.
    public func prepare() throws {
        for d in [pipeline.output, work, work + "/extracted", work + "/sampled", work + "/dedup", work + "/stats"] { try makeDirectoryIfMissing(d) }
    }

    /// Records a task's statistics (atomically, beside its output), so a resumed or distributed run still reports them.
    private func saveStatistics(_ stats: [StageStatistics], task: String) throws {
        let out = try OutputFile(path: work + "/stats/\(task).json", compression: .none)
        try out.write(JSONWriter.string(.array(stats.map { .object($0.json) })) + "\n")
        try out.close()
    }

    /// A per-file task index out of range: most likely the crawl glob matches other files than when the jobs were submitted.
    func taskIndexError(_ phase: String, _ index: Int?) -> ThreshError {
        guard let index else { return ThreshError(.usage, "\(phase) needs a task index (--task \(phase):N)") }
        return ThreshError(.usage, "\(phase) task \(index): the crawl inputs now match \(pipeline.crawl.count) files; did they change since the jobs were submitted?")
    }

    /// Runs one task: the same code whether the local executor or a Slurm array task runs it.
    public func runTask(_ phase: Phase, index: Int?) throws {
        let p = pipeline
        switch phase {
        case .extract:
            // WARC → documents → main text, fused (no JSON between them).
            guard let i = index, i < p.crawl.count else { throw taskIndexError("extract", index) }
            let file = p.crawl[i], out = extracted[i]
            if exists(out) { return }
            let ingest = WARCIngest(options: p.warc)
            var extract = ExtractStage(options: p.extract)
            let writer = try DocumentWriter(path: out, compression: .fastestFromName)
            try ingest.processUTF8(path: file) { doc, html in try extract.process(doc, html: html) { try writer.write($0) } }
            try writer.close()
            // The fused extract stage ran inside the reader's callback: its time is its own, not the reader's.
            var reading = ingest.statistics
            reading.seconds -= extract.statistics.seconds
            try saveStatistics([reading, extract.statistics], task: "extract-\(i)")
            report("extracted \(file)")
        case .train:
            // Quality models: references (positive) vs the crawl's own text (negative). Two models are trained on
            // complementary halves of the crawl (by a hash of the document id), and each document is scored by the
            // model that did not see it: scoring a model's own training negatives would mostly measure memorisation.
            // The folds are independent (each its own model file), so they train side by side on the workers.
            let started = monotonicSeconds()
            let missing = (0..<Self.folds).filter { !exists(work + "/quality-model-\($0).json") }
            guard !missing.isEmpty else { return }
            // Every document is hashed into features once (on the workers): the references for both models, the
            // crawl into one cache per fold, which the filter phase also scores from.
            try featurize()
            try parallel(missing.count) { [self] m in
                let fold = missing[m]
                report("training quality model \(fold + 1) of \(Self.folds)")
                try trainQuality(fold: fold, output: work + "/quality-model-\(fold).json")
            }
            for path in referenceFeatures.flatMap({ $0 }) { unlink(path) }
            var s = StageStatistics(stage: "train")
            s.seconds = monotonicSeconds() - started
            try saveStatistics([s], task: "train")
        case .filter:
            // Score (by the other fold's model) → Pareto sample, fused.
            guard let i = index, i < p.crawl.count else { throw taskIndexError("filter", index) }
            let file = extracted[i], out = sampled[i]
            if exists(out) { return }
            var scores = try qualityModels().map { QualityScoreStage(model: $0) }
            var sample = ParetoSampleStage(sampler: p.sampler)
            let reader = try DocumentReader(path: file)
            // The documents' features, hashed in the train phase, come from the fold caches in document order.
            let featureReaders = try crawlFeatures[i].map { try FeatureCache.Reader(path: $0) }
            let writer = try DocumentWriter(path: out, compression: .fastestFromName)
            var sampleSeconds = 0.0
            var count = 0
            while let doc = try reader.next() {
                let fold = Self.fold(of: doc, folds: Self.folds)
                guard let features = try featureReaders[fold].next() else {
                    throw ThreshError(.io, "the feature cache has fewer documents than \(file) (document \(count + 1)); delete it to hash again",
                                      file: crawlFeatures[i][fold])
                }
                count += 1
                try scores[(fold + 1) % Self.folds].process(doc, indices: features.indices, values: features.values) { scored in
                    let t = monotonicSeconds()
                    try sample.process(scored) { try writer.write($0) }
                    sampleSeconds += monotonicSeconds() - t
                }
            }
            for (fold, r) in featureReaders.enumerated() where try r.next() != nil {
                throw ThreshError(.io, "the feature cache has more documents than \(file); delete it to hash again", file: crawlFeatures[i][fold])
            }
            try writer.close()
            var merged = StageStatistics(stage: "score")
            for s in scores { merged.merge(s.statistics) }
            merged.seconds -= sampleSeconds
            var sampledStats = sample.statistics
            sampledStats.seconds = sampleSeconds
            try saveStatistics([merged, sampledStats], task: "filter-\(i)")
            report("filtered \(file)")
        case .dedup:
            // Each reference set within itself; the crawl within itself and against the references.
            let started = monotonicSeconds()
            // The jobs are independent, so they run side by side on the workers, the largest (the crawl) first.
            let jobs: [(name: String, inputs: [DedupInput], output: String)] =
                [("crawl-or-reference", p.references.flatMap { $0.files.map { DedupInput(path: $0, isIndex: true) } } + sampled.map { DedupInput(path: $0) },
                  work + "/dedup/crawl")]
                + p.references.map { r in (r.name, r.files.map { DedupInput(path: $0) }, work + "/dedup/\(r.name)") }
            let options = p.dedup
            try parallel(jobs.count) { i in
                try DedupJob(inputs: jobs[i].inputs, output: jobs[i].output, options: options).run()
            }
            // The counts come from each job's stats.json, so a resumed run reports the same numbers.
            var dedupStats = StageStatistics(stage: "dedup")
            for (name, _, output) in jobs {
                let stats = try readEntireFile(output + "/stats.json").withUnsafeBytes { try JSONParser.parse($0) }.objectValue ?? [:]
                dedupStats.documentsIn += stats["documents"]?.intValue ?? 0
                dedupStats.drop("duplicate-\(name)", count: stats["removed"]?.intValue ?? 0)
            }
            dedupStats.documentsOut = dedupStats.documentsIn - dedupStats.droppedTotal
            dedupStats.seconds = monotonicSeconds() - started
            try saveStatistics([dedupStats], task: "dedup")
            report("deduplicated")
        case .shard:
            var sources = [MixSource(name: "crawl", files: sampled.map { work + "/dedup/crawl/kept/" + String($0.split(separator: "/").last!) }, weight: p.crawlWeight)]
            for r in p.references {
                sources.append(MixSource(name: r.name, files: r.files.map { work + "/dedup/\(r.name)/kept/" + String($0.split(separator: "/").last!) }, weight: r.weight))
            }
            var mix = MixPlan(sources: sources, budgetTokens: p.budgetTokens)
            mix.seed = p.sampler.seed
            mix.sequenceLength = p.sequenceLength
            mix.sequencesPerShard = p.sequencesPerShard
            let shardsDir = p.output + "/shards"
            if !exists(shardsDir + "/manifest.json") {
                let started = monotonicSeconds()
                report("sharding")
                let sharder = try Sharder(plan: mix, vocabulary: p.vocabulary, output: shardsDir)
                sharder.workers = p.workers
                try sharder.run()
                var s = StageStatistics(stage: "shard")
                s.seconds = monotonicSeconds() - started
                try saveStatistics([s], task: "shard")
            }
        case .report:
            _ = try report(seconds: nil)
        }
    }

    /// Writes the dedup report and the merged statistics; returns the summary.
    @discardableResult
    public func report(seconds: Double?) throws -> JSONObject {
        let p = pipeline
        let reportPath = p.output + "/dedup-report.html"
        let stats = try readEntireFile(work + "/dedup/crawl/stats.json").withUnsafeBytes { try JSONParser.parse($0) }.objectValue ?? [:]
        var clusters: [JSONObject] = []
        let clusterReader = try DocumentReader(path: work + "/dedup/crawl/clusters.jsonl")
        while let c = try clusterReader.next(), clusters.count < 10 { clusters.append(c.fields) }
        let out = try OutputFile(path: reportPath, compression: .none)
        try out.write(DedupReport.html(stats: stats, clusters: clusters))
        try out.close()
        // Merge the statistics every task recorded.
        var merged: [String: StageStatistics] = [:]
        for name in (try? listDirectory(work + "/stats")) ?? [] where name.hasSuffix(".json") {
            let value = try readEntireFile(work + "/stats/" + name).withUnsafeBytes { try JSONParser.parse($0) }
            for s in value.arrayValue ?? [] {
                guard let stage = StageStatistics(json: s.objectValue ?? [:]) else { continue }
                merged[stage.stage, default: StageStatistics(stage: stage.stage)].merge(stage)
            }
        }
        statistics = merged
        var summary = JSONObject()
        summary["stages"] = .array(["warc", "extract", "train", "score", "sample", "dedup", "shard"].compactMap { merged[$0].map { .object($0.json) } })
        summary["seconds"] = .double(seconds ?? merged.values.reduce(0) { $0 + $1.seconds })
        summary["shards"] = .string(p.output + "/shards")
        summary["dedup_report"] = .string(reportPath)
        let statsOut = try OutputFile(path: p.output + "/stats.json", compression: .none)
        try statsOut.write(JSONWriter.string(.object(summary)) + "\n")
        try statsOut.close()
        return summary
    }

    /// The quality models of the folds, read once per process (every filter task of a local run scores with them).
    private let loadedModels = Mutex<[QualityModel]?>(nil)

    private func qualityModels() throws -> [QualityModel] {
        try loadedModels.withLock { loaded in
            if let loaded { return loaded }
            let models = try (0..<Self.folds).map { fold -> QualityModel in
                let path = work + "/quality-model-\(fold).json"
                return try QualityModel(json: try readEntireFile(path).withUnsafeBytes { try JSONParser.parse($0) }, file: path)
            }
            loaded = models
            return models
        }
    }

    /// The cross-fitting fold of a crawl document, from its id.
    static func fold(of document: Document, folds: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in document.id.utf8 { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        return Int(h % UInt64(folds))
    }

    /// The feature caches of the reference files, per reference corpus (written and removed by the train task).
    var referenceFeatures: [[String]] {
        pipeline.references.enumerated().map { r, ref in ref.files.indices.map { work + "/features/reference-\(r)-\($0).bin" } }
    }

    /// The feature caches of each crawl file, one per fold (kept for the filter phase).
    var crawlFeatures: [[String]] {
        pipeline.crawl.map { file in (0..<Self.folds).map { work + "/features/\(Pipeline.stem(file)).fold\($0).bin" } }
    }

    /// Hashes the references (label 1) and the extracted crawl (label 0, by fold) into feature caches, on the
    /// workers; caches already written are kept.
    private func featurize() throws {
        try makeDirectoryIfMissing(work + "/features")
        var jobs: [(input: String, outputs: [String], label: Double)] = []
        for (r, ref) in pipeline.references.enumerated() {
            for (j, file) in ref.files.enumerated() { jobs.append((file, [referenceFeatures[r][j]], 1)) }
        }
        for (i, file) in extracted.enumerated() { jobs.append((file, crawlFeatures[i], 0)) }
        jobs.removeAll { job in job.outputs.allSatisfy { exists($0) } }
        let features = pipeline.qualityFeatures
        try parallel(jobs.count) { [jobs] j in
            let job = jobs[j]
            let caches = try job.outputs.map { try FeatureCache(path: $0) }
            let reader = try DocumentReader(path: job.input)
            while let d = try reader.next() {
                let v = features.vector(of: d.text)
                let cache = caches.count == 1 ? caches[0] : caches[Self.fold(of: d, folds: caches.count)]
                try cache.append(TrainingExample(indices: v.indices, values: v.values, label: job.label))
            }
            for c in caches { try c.close() }
        }
    }

    /// Trains one fold's model: the references against the crawl documents of that fold.
    private func trainQuality(fold: Int, output: String) throws {
        let parts = try referenceFeatures.flatMap { $0 }.map { try FeatureCache(existing: $0) }
            + crawlFeatures.map { try FeatureCache(existing: $0[fold]) }
        let examples = ChainedFeatureCaches(parts)
        let (neg, pos) = (examples.labelWeights[0], examples.labelWeights[1])
        guard neg > 0 && pos > 0 else { throw ThreshError(.usage, "the quality model needs reference and crawl documents (got \(Int(pos)) and \(Int(neg)))") }
        let total = neg + pos
        let (model, history) = try LogisticRegressionTrainer.train(examples.reweighted { $0 > 0.5 ? total / (2 * pos) : total / (2 * neg) },
                                                                   numFeatures: pipeline.qualityFeatures.numFeatures, options: pipeline.quality)
        let file = QualityModel(features: pipeline.qualityFeatures, regression: model, options: pipeline.quality,
                                training: ["positive_documents": .int(Int(pos)), "negative_documents": .int(Int(neg)), "iterations": .int(history.iterations)])
        let out = try OutputFile(path: output, compression: .none)
        try out.write(JSONWriter.string(.object(file.json)) + "\n")
        try out.close()
    }
}
