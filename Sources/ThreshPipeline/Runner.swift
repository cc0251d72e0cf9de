#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Synchronization
public import ThreshCore
import ThreshIO
import ThreshWARC
import ThreshExtract
import ThreshQuality
import ThreshDedup
import ThreshShards
import ThreshFastText
import ThreshFilters

/// What the runner tells its caller as it goes (the command line draws bars from it).
public struct RunProgress: Sendable {
    public var step: String
    /// Tasks (files) finished of the step's total.
    public var done: Int
    public var total: Int
    /// Input bytes of the finished tasks, and of all (for a rate and an ETA).
    public var bytesDone: Int64
    public var bytesTotal: Int64
    /// A note on what is happening (a barrier's phase, a task that finished).
    public var message: String
}

/// Runs a plan: per-file tasks of each fused step on `workers` threads, each barrier once. The local and the Slurm
/// executor run the same `runTask` code. Every output is written atomically under a name that says what made it,
/// so a run stopped anywhere (even by kill -9) and started again makes the same bytes, reusing what is done.
///
/// `@unchecked Sendable`: tasks share it across worker threads; they write only their own files, and the mutable
/// state (loaded models, progress) is behind mutexes.
public final class PipelineRunner: @unchecked Sendable {
    public let plan: RunPlan
    public var pipeline: Pipeline { plan.pipeline }
    /// Called with progress (from any thread, one call at a time).
    public var progress: (@Sendable (RunProgress) -> Void)?
    /// Called with each problem a stage reports and goes on from (a malformed record, say).
    public var warning: (@Sendable (ThreshError) -> Void)?
    private let progressLock = Mutex<Void>(())
    /// The merged statistics of every task of the plan, by row name (after `report`).
    public private(set) var statistics: [(row: String, stats: StageStatistics)] = []

    public init(plan: RunPlan) { self.plan = plan }

    private func tell(_ p: RunProgress) { progressLock.withLock { _ in progress?(p) } }
    private func note(_ step: PlanStep, _ message: String) {
        tell(RunProgress(step: step.name, done: 0, total: 1, bytesDone: 0, bytesTotal: 0, message: message))
    }

    /// Creates the output directories and removes temporary files of runs that were killed.
    public func prepare() throws {
        try Paths.makeDirectories(plan.work)
        Paths.removeStaleTemporaries(under: pipeline.output)
    }

    /// Runs every step here and returns the summary.
    @discardableResult
    public func run() throws -> JSONObject {
        let started = monotonicSeconds()
        try prepare()
        for step in plan.steps { try runStep(step) }
        return try report(seconds: monotonicSeconds() - started)
    }

    /// Runs all of a step's tasks (those of a fused step on the workers).
    public func runStep(_ step: PlanStep) throws {
        switch step.work {
        case .segment(let tasks):
            let bytesTotal = tasks.reduce(Int64(0)) { $0 + Paths.size(of: $1.input.path) }
            let finished = Mutex<(Int, Int64)>((0, 0))
            try parallel(tasks.count) { [self] i in
                try runTask(step, index: i)
                let (done, bytes) = finished.withLock { state -> (Int, Int64) in
                    state.0 += 1
                    state.1 += Paths.size(of: tasks[i].input.path)
                    return state
                }
                tell(RunProgress(step: step.name, done: done, total: tasks.count, bytesDone: bytes, bytesTotal: bytesTotal,
                                 message: "\(tasks[i].input.path)"))
            }
        default:
            try runTask(step, index: nil)
        }
        TestHooks.reach("step-end:\(step.name)")
    }

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

    /// The step named by `--task` (its number or its name).
    public func step(named name: String) throws -> PlanStep {
        if let n = Int(name), let s = plan.steps.first(where: { $0.number == n }) { return s }
        if let s = plan.steps.first(where: { $0.name == name }) { return s }
        throw ThreshError(.usage, "--task: no step '\(name)' in this plan (steps: \(plan.steps.map { "\($0.number) \($0.name)" }.joined(separator: ", ")), report)")
    }

    /// Runs one task: the same code whether the local executor or a Slurm array task runs it.
    /// - Parameter index: the file of a fused step (nil for barriers).
    public func runTask(_ step: PlanStep, index: Int?) throws {
        switch step.work {
        case .segment(let tasks):
            guard let i = index, i >= 0, i < tasks.count else {
                guard let i = index else { throw ThreshError(.usage, "step \(step.name) has one task per file: --task \(step.number):N") }
                throw ThreshError(.usage, "step \(step.name): task \(i) is out of range: the inputs now give \(tasks.count) tasks (0 to \(tasks.count - 1)); did they change since the jobs were submitted?")
            }
            let task = tasks[i]
            if Paths.exists(task.output.path) && Paths.exists(task.statsPath) { return }
            TestHooks.reach("task-start:\(step.name)")
            try SegmentExecutor(task: task, runner: self, step: step).run()
        case .train(let work):
            try runTraining(step, work)
        case .dedup(let jobs):
            try runDedup(step, jobs)
        case .lines(let jobs):
            try runLineDedup(step, jobs)
        case .shard(let work):
            try runShard(step, work)
        }
    }

    // MARK: Training

    /// The models of a training step, read once per process (every scoring task of a local run uses them).
    private let loadedModels = Mutex<[String: [QualityModel]]>([:])

    func models(of training: TrainingWork) throws -> [QualityModel] {
        try loadedModels.withLock { loaded in
            if let models = loaded[training.fingerprint] { return models }
            let models = try training.models.map { try QualityModel(json: try readJSONFile($0), file: $0) }
            loaded[training.fingerprint] = models
            return models
        }
    }

    /// fastText models (language ID, classifiers), read once per process and shared by the tasks' stages.
    private let loadedFastText = Mutex<[String: FastTextModel]>([:])

    func fastTextModel(_ path: String) throws -> FastTextModel {
        try loadedFastText.withLock { loaded in
            if let model = loaded[path] { return model }
            let model = try FastTextModel(path: path)
            loaded[path] = model
            return model
        }
    }

    /// Benchmark n-gram indexes, built once per process and shared by the tasks' stages.
    private let loadedContamination = Mutex<[String: ContaminationIndex]>([:])

    func contaminationIndex(_ options: DecontaminationOptions) throws -> ContaminationIndex {
        let key = options.benchmarks.joined(separator: "\u{0}") + "\u{0}\(options.ngram)"
        return try loadedContamination.withLock { loaded in
            if let index = loaded[key] { return index }
            let index = try ContaminationIndex(files: options.benchmarks, n: options.ngram)
            loaded[key] = index
            return index
        }
    }

    /// Filter rules (their lists and the suffix list read), built once per process per option set.
    private let loadedFilters = Mutex<[String: FilterRules]>([:])

    func filterRules(_ options: FilterOptions) throws -> FilterRules {
        let key = options.values.fingerprint
        return try loadedFilters.withLock { loaded in
            if let rules = loaded[key] { return rules }
            let rules = try FilterRules(options)
            loaded[key] = rules
            return rules
        }
    }

    /// The cross-fitting fold of a document, from its id.
    static func fold(of document: Document, folds: Int) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for c in document.id.utf8 { h = (h ^ UInt64(c)) &* 0x100_0000_01b3 }
        return Int(h % UInt64(folds))
    }

    private func runTraining(_ step: PlanStep, _ work: TrainingWork) throws {
        if work.models.allSatisfy(Paths.exists) && Paths.exists(work.statsPath) { return }
        let started = monotonicSeconds()
        let trainer = QualityTrainer(options: work.options)
        // Every document is hashed into features once, on the workers: the references, and the crawl into one cache
        // per fold (the scoring step reads those instead of hashing again).
        let todo = work.featurize.filter { job in !(job.trainCaches + [job.validationCache]).allSatisfy(Paths.exists) }
        let features = work.options.features
        note(step, "hashing \(todo.count) files into features")
        try parallel(todo.count) { j in
            let job = todo[j]
            for c in job.trainCaches + [job.validationCache] { try Paths.makeDirectories(Paths.directory(of: c)) }
            let caches = try job.trainCaches.map { try FeatureCache(path: $0) }
            let validation = try FeatureCache(path: job.validationCache)
            let reader = try DocumentReader(path: job.input.path)
            TestHooks.reach("train:featurize")
            while let d = try reader.next() {
                let v = features.vector(of: d.text)
                let example = TrainingExample(indices: v.indices, values: v.values, label: job.label)
                if trainer.isValidation(source: d.source ?? job.dataset.name, id: d.id) {
                    try validation.append(example)
                } else {
                    try (caches.count == 1 ? caches[0] : caches[Self.fold(of: d, folds: caches.count)]).append(example)
                }
            }
            try validation.close()
            for c in caches { try c.close() }
        }
        let missing = (0..<work.folds).filter { !Paths.exists(work.models[$0]) }
        let metrics = Mutex<[Int: ClassificationMetrics]>([:])
        try parallel(missing.count) { [self] m in
            let fold = missing[m]
            note(step, "training quality model \(fold + 1) of \(work.folds)")
            TestHooks.reach("train:fold")
            let references = work.featurize.filter { $0.label == 1 }
            let crawl = work.featurize.filter { $0.label == 0 }
            let training = try references.map { try FeatureCache(existing: $0.trainCaches[0]) }
                + crawl.map { try FeatureCache(existing: $0.trainCaches[fold]) }
            let validation = try work.featurize.map { try FeatureCache(existing: $0.validationCache) }
            let facts: JSONObject = ["fold": .int(fold), "folds": .int(work.folds),
                                     "positive_datasets": .array(Set(references.map(\.dataset.name)).sorted().map(JSONValue.string)),
                                     "negative_datasets": .array(Set(crawl.map(\.dataset.name)).sorted().map(JSONValue.string))]
            let (model, measured) = try trainer.train(training: training, validation: validation, facts: facts)
            let out = try OutputFile(path: work.models[fold], compression: .none)
            try out.write(JSONWriter.string(.object(model.json)) + "\n")
            try out.close()
            metrics.withLock { $0[fold] = measured }
        }
        // The row counts every document the models learnt from or were measured on.
        var stats = StageStatistics(stage: "quality-train")
        var positives = 0, validationDocuments = 0
        for job in work.featurize {
            let counts = try (job.trainCaches + [job.validationCache]).map { try FeatureCache(existing: $0).count }
            let n = counts.reduce(0, +)
            stats.documentsIn += n
            if job.label == 1 { positives += n }
            validationDocuments += counts.last ?? 0
        }
        stats.documentsOut = stats.documentsIn
        stats.bytesIn = work.featurize.reduce(Int64(0)) { $0 + Paths.size(of: $1.input.path) }
        stats.bytesOut = stats.bytesIn
        stats.count("positive-documents", positives)
        stats.count("negative-documents", stats.documentsIn - positives)
        stats.count("validation-documents", validationDocuments)
        for (fold, m) in metrics.withLock({ $0 }).sorted(by: { $0.key < $1.key }) where m.count > 0 {
            stats.count("fold\(fold)-validation-auc-permille", Int((m.auc * 1000).rounded()))
        }
        stats.seconds = monotonicSeconds() - started
        try writeStatistics([stats], to: work.statsPath)
    }

    // MARK: Dedup

    private func runDedup(_ step: PlanStep, _ jobs: [DedupWork]) throws {
        let started = monotonicSeconds()
        let todo = jobs.filter { !(Paths.exists($0.statsPath) && Paths.exists($0.output + "/work/filter.done")) }
        // The jobs are independent, so they run side by side on the workers, the largest first.
        let ordered = todo.sorted { $0.inputs.count > $1.inputs.count }
        try parallel(ordered.count) { [self] i in
            let job = DedupJob(inputs: ordered[i].inputs, output: ordered[i].output, options: ordered[i].options)
            job.progress = { [self] message in note(step, "\(ordered[i].dataset.name): \(message)") }
            try job.run()
        }
        if !todo.isEmpty {
            let seconds = monotonicSeconds() - started
            let total = max(1, todo.reduce(0) { $0 + $1.inputs.count })
            // Each job's time share, for the summary (the jobs overlap on the workers).
            for job in todo {
                let o = try readJSONFile(job.statsPath).objectValue ?? [:]
                try writeStatistics([StageStatistics(dedupStatistics: o, seconds: seconds * Double(job.inputs.count) / Double(total))], to: job.output + "/row.json")
            }
        }
    }

    // MARK: Line dedup

    private func runLineDedup(_ step: PlanStep, _ jobs: [LineDedupWork]) throws {
        let todo = jobs.filter { !Paths.exists($0.statsPath) }
        try parallel(todo.count) { [self] i in
            let job = LineDedupJob(inputs: todo[i].inputs, output: todo[i].output, options: todo[i].options)
            job.progress = { [self] message in note(step, "\(todo[i].dataset.name): \(message)") }
            // The statistics are written last: their presence says the kept files are whole.
            try writeStatistics([try job.run()], to: todo[i].statsPath)
        }
    }

    // MARK: Shards

    private func runShard(_ step: PlanStep, _ work: ShardWork) throws {
        if Paths.exists(work.statsPath) && RunPlan.manifestFingerprint(work.output) == work.fingerprint { return }
        let started = monotonicSeconds()
        note(step, "sharding")
        // Built beside the final directory and renamed into place, so `shards/` is always one whole set.
        let building = pipeline.output + "/.shards-" + work.fingerprint
        try Paths.makeDirectories(building)
        let sharder = try Sharder(plan: work.plan, vocabulary: work.vocabulary, output: building)
        sharder.workers = pipeline.workers
        sharder.progress = { [self] message in note(step, message) }
        TestHooks.reach("shard:start")
        let manifest = try sharder.run()
        try Paths.removeTree(work.output)
        guard rename(building, work.output) == 0 else { throw ThreshError(.io, "cannot rename into place: \(errnoString())", file: work.output) }
        let s = StageStatistics(shardManifest: manifest, inputBytes: work.plan.sources.flatMap(\.files).reduce(Int64(0)) { $0 + Paths.size(of: $1) },
                                seconds: monotonicSeconds() - started)
        try writeStatistics([s], to: work.statsPath)
    }

    // MARK: Report

    /// Writes the dedup report and the merged statistics of the plan's tasks (reused ones included); returns the summary.
    @discardableResult
    public func report(seconds: Double?) throws -> JSONObject {
        var rows: [(row: String, stats: StageStatistics)] = []
        func add(_ row: String, _ s: StageStatistics) {
            if let k = rows.firstIndex(where: { $0.row == row }) { rows[k].stats.merge(s) } else { rows.append((row, s)) }
        }
        var reportJob: DedupWork?
        var shardDirectory: String?
        for step in plan.steps {
            switch step.work {
            case .segment(let tasks):
                for t in tasks {
                    for s in try readStatistics(t.statsPath) { add(rowName(s.stage, in: step), s) }
                }
            case .train(let w):
                for s in try readStatistics(w.statsPath) { add(rowName(s.stage, in: step), s) }
            case .dedup(let jobs):
                for j in jobs {
                    let saved = j.output + "/row.json"
                    let s = Paths.exists(saved) ? try readStatistics(saved) : [StageStatistics(dedupStatistics: try readJSONFile(j.statsPath).objectValue ?? [:], seconds: 0)]
                    for row in s { add(rowName("dedup", in: step), row) }
                }
                reportJob = jobs.first { $0.dataset.role == .crawl } ?? jobs.first
            case .lines(let jobs):
                for j in jobs {
                    for s in try readStatistics(j.statsPath) { add(rowName("dedup-lines", in: step), s) }
                }
            case .shard(let w):
                for s in try readStatistics(w.statsPath) { add(rowName(s.stage, in: step), s) }
                shardDirectory = w.output
            }
        }
        statistics = rows
        var summary = JSONObject()
        summary["stages"] = .array(rows.map { row in
            var o = row.stats.json
            o["row"] = .string(row.row)
            return .object(o)
        })
        summary["seconds"] = .double(seconds ?? rows.reduce(0) { $0 + $1.stats.seconds })
        if let job = reportJob {
            let reportPath = pipeline.output + "/dedup-report.html"
            let stats = try readJSONFile(job.statsPath).objectValue ?? [:]
            var clusters: [JSONObject] = []
            let clusterReader = try DocumentReader(path: job.output + "/clusters.jsonl")
            while let c = try clusterReader.next(), clusters.count < 10 { clusters.append(c.fields) }
            let out = try OutputFile(path: reportPath, compression: .none)
            try out.write(DedupReport.html(stats: stats, clusters: clusters))
            try out.close()
            summary["dedup_report"] = .string(reportPath)
            summary["dedup"] = .string(job.output)
        }
        if let shardDirectory {
            summary["shards"] = .string(shardDirectory)
            if let manifest = try? readJSONFile(shardDirectory + "/manifest.json").objectValue { summary["sources"] = manifest["sources"] }
        }
        let statsOut = try OutputFile(path: pipeline.output + "/stats.json", compression: .none)
        try statsOut.write(JSONWriter.string(.object(summary)) + "\n")
        try statsOut.close()
        return summary
    }

    /// A stage's row in the summary: its name, or `name (step N)` when the pipeline uses the stage twice.
    private func rowName(_ stage: String, in step: PlanStep) -> String {
        let uses = pipeline.stages.filter { $0.name == stage }.count
        return uses > 1 ? "\(stage) (step \(step.number))" : stage
    }
}

/// Writes statistics atomically beside an output.
func writeStatistics(_ stats: [StageStatistics], to path: String) throws {
    try Paths.makeDirectories(Paths.directory(of: path))
    let out = try OutputFile(path: path, compression: .none)
    try out.write(JSONWriter.string(.array(stats.map { .object($0.json) })) + "\n")
    try out.close()
}

/// Reads statistics written by `writeStatistics` (none when the file is absent).
func readStatistics(_ path: String) throws -> [StageStatistics] {
    guard Paths.exists(path) else { return [] }
    return (try readJSONFile(path).arrayValue ?? []).compactMap { $0.objectValue.flatMap(StageStatistics.init(json:)) }
}
