import ThreshCore
import ThreshIO
import ThreshFilters
import ThreshQuality
import ThreshDedup
import ThreshShards
import ThreshFastText

/// A file flowing between steps, with the fingerprint of everything that made it (its input's path and contents,
/// every option of every stage upstream). Outputs are named by it, so a changed option or input gives new names
/// and nothing stale is ever reused.
public struct FileRef: Sendable, Equatable {
    public var path: String
    public var fingerprint: String
    /// The original input's name without its extensions, to keep output names readable.
    public var stem: String
}

/// A per-file task of a fused run of per-document stages: one input file of one dataset through the stages of the
/// run that apply to that dataset, into one output file.
public struct SegmentTask: Sendable {
    public let dataset: Dataset
    public let input: FileRef
    public let stages: [PipelineStage]
    public let output: FileRef
    /// Where the task's statistics are kept beside its output.
    public let statsPath: String
    /// The training step whose models a `score` stage in the chain uses (nil: its `model` option).
    let training: TrainingWork?
}

/// The quality-train step's work: feature caches per input file, then one model per fold.
public struct TrainingWork: Sendable {
    struct Featurize: Sendable {
        let dataset: Dataset
        let input: FileRef
        let label: Double
        /// One cache per fold for crawl inputs, one for reference inputs; then the validation cache.
        let trainCaches: [String]
        let validationCache: String
    }
    let stage: PipelineStage
    let options: QualityTrainingOptions
    let folds: Int
    let featurize: [Featurize]
    let models: [String]
    let statsPath: String
    let fingerprint: String
}

/// The dedup step's work for one dataset.
public struct DedupWork: Sendable {
    let dataset: Dataset
    let inputs: [DedupInput]
    let output: String
    let options: DedupOptions
    let statsPath: String
}

/// The line-dedup step's work for one dataset.
public struct LineDedupWork: Sendable {
    let dataset: Dataset
    let inputs: [String]
    let output: String
    let options: LineDedupOptions
    let statsPath: String
}

/// The shard step's work.
public struct ShardWork: Sendable {
    let plan: MixPlan
    let vocabulary: String
    let output: String
    let statsPath: String
    let fingerprint: String
}

/// One step of a run: a fused run of per-document stages (one task per input file), or one barrier.
public struct PlanStep: Sendable {
    public enum Work: Sendable {
        case segment([SegmentTask])
        case train(TrainingWork)
        case dedup([DedupWork])
        case lines([LineDedupWork])
        case shard(ShardWork)
    }

    /// 1-based position in the plan.
    public let number: Int
    /// `warc+extract`, `quality-train`, …: the stages it runs.
    public let name: String
    public let work: Work

    /// How many tasks it has: the files of a fused run, else one.
    public var taskCount: Int {
        if case .segment(let tasks) = work { return tasks.count }
        return 1
    }

    /// The step's directory under `work/`.
    static func directoryName(_ number: Int, _ name: String) -> String {
        (number < 10 ? "0" : "") + "\(number)-\(name)"
    }
}

/// The whole run as steps with every output named in advance: what `--dry-run` lists and what the executors run.
public struct RunPlan: Sendable {
    public let pipeline: Pipeline
    public let steps: [PlanStep]
    public var work: String { pipeline.output + "/work" }

    /// Plans a pipeline: the files of every dataset flow through the stages in order; consecutive per-document
    /// stages form one step (fused), each barrier its own.
    /// - Throws: `.io` when an input cannot be examined, `.usage` for options that conflict.
    public init(_ pipeline: Pipeline) throws {
        self.pipeline = pipeline
        let work = pipeline.output + "/work"
        var files: [String: [FileRef]] = [:]
        for d in pipeline.datasets {
            files[d.name] = try d.files.map { path in
                FileRef(path: path, fingerprint: Fingerprint.of(parts: ["input", Paths.absolute(path), try Paths.identity(of: path)]),
                        stem: RunPlan.stem(path))
            }
        }
        // Group the stage list into steps.
        var groups: [[PipelineStage]] = []
        for stage in pipeline.stages {
            if stage.type.kind != .barrier, let last = groups.last?.last, last.type.kind != .barrier {
                groups[groups.count - 1].append(stage)
            } else {
                groups.append([stage])
            }
        }
        var steps: [PlanStep] = []
        var lastTraining: TrainingWork?
        var usedNames: [String: Int] = [:]
        for (k, group) in groups.enumerated() {
            let number = k + 1
            var name = group.map(\.name).joined(separator: "+")
            usedNames[name, default: 0] += 1
            if usedNames[name]! > 1 { name += "-\(usedNames[name]!)" }
            let directory = work + "/" + PlanStep.directoryName(number, name)
            let first = group[0]
            switch first.type.kind {
            case .source, .perDocument:
                var tasks: [SegmentTask] = []
                for d in pipeline.datasets {
                    let chain = group.filter { $0.datasets.contains(d.name) }
                    guard !chain.isEmpty else { continue }
                    var outputs: [FileRef] = []
                    for input in files[d.name] ?? [] {
                        var parts = ["segment", d.name, input.fingerprint]
                        for s in chain {
                            parts.append(s.name + ":" + s.options.fingerprint)
                            if s.name == "decontaminate" {
                                // The benchmarks' contents decide the output: an edited benchmark file is a changed step.
                                for file in s.options.list("benchmarks") {
                                    parts.append("benchmark:" + Paths.absolute(file) + ":" + (try Paths.identity(of: file)))
                                }
                            }
                            if s.name == "filter" {
                                // The url rule's lists and suffix list decide the output: an edited file is a changed step.
                                for file in try FilterOptions(s.options).inputFiles {
                                    parts.append("list:" + Paths.absolute(file) + ":" + (try Paths.identity(of: file)))
                                }
                                for dir in s.options.list("blocklist") where s.options.list("rules").contains("url") {
                                    for file in try blocklistFiles(dir) {
                                        parts.append("blocklist:" + Paths.absolute(file) + ":" + (try Paths.identity(of: file)))
                                    }
                                }
                            }
                            if s.name == "lang" || s.name == "classify" {
                                // The model's contents decide the output: a replaced model file is a changed step.
                                let model = s.name == "lang" ? try LanguageModelLocator.locate(explicit: s.options.optionalString("model"))
                                    : s.options.string("model")
                                parts.append("model:" + Paths.absolute(model) + ":" + (try Paths.identity(of: model)))
                            }
                            if s.name == "score" {
                                if let model = s.options.optionalString("model") {
                                    parts.append("model:" + Paths.absolute(model) + ":" + (try Paths.identity(of: model)))
                                } else if let training = lastTraining {
                                    parts.append("trained:" + training.fingerprint)
                                }
                            }
                        }
                        let fingerprint = Fingerprint.of(parts: parts)
                        let out = FileRef(path: "\(directory)/\(d.name)/\(input.stem).\(fingerprint).jsonl.zst", fingerprint: fingerprint, stem: input.stem)
                        tasks.append(SegmentTask(dataset: d, input: input, stages: chain, output: out, statsPath: out.path + ".stats.json",
                                                 training: chain.contains { $0.name == "score" && $0.options.optionalString("model") == nil } ? lastTraining : nil))
                        outputs.append(out)
                    }
                    files[d.name] = outputs
                }
                steps.append(PlanStep(number: number, name: name, work: .segment(tasks)))
            case .barrier:
                switch first.name {
                case "quality-train":
                    let training = try Self.planTraining(first, pipeline: pipeline, files: files, directory: directory)
                    lastTraining = training
                    steps.append(PlanStep(number: number, name: name, work: .train(training)))
                case "dedup":
                    var jobs: [DedupWork] = []
                    let options = try DedupOptions(first.options)
                    let references = first.datasets.map(pipeline.dataset).filter { $0.role == .reference }
                    for d in first.datasets.map(pipeline.dataset) {
                        let own = (files[d.name] ?? []).map { DedupInput(path: $0.path) }
                        var index: [FileRef] = []
                        if d.role == .crawl && first.options.bool("against-references") { index = references.flatMap { files[$0.name] ?? [] } }
                        let inputFingerprints = index.map { "index:" + $0.fingerprint } + (files[d.name] ?? []).map { "input:" + $0.fingerprint }
                        let fingerprint = Fingerprint.of(parts: ["dedup", d.name, first.options.fingerprint] + inputFingerprints)
                        let output = "\(directory)/\(d.name).\(fingerprint)"
                        let inputs = index.map { DedupInput(path: $0.path, isIndex: true) } + own
                        let job = DedupJob(inputs: inputs, output: output, options: options)
                        files[d.name] = (files[d.name] ?? []).enumerated().map { n, f in
                            FileRef(path: job.keptPath(of: f.path) ?? f.path, fingerprint: Fingerprint.of(parts: [fingerprint, "kept", String(n)]), stem: f.stem)
                        }
                        jobs.append(DedupWork(dataset: d, inputs: inputs, output: output, options: options, statsPath: output + "/stats.json"))
                    }
                    steps.append(PlanStep(number: number, name: name, work: .dedup(jobs)))
                case "dedup-lines":
                    let options = LineDedupOptions(first.options)
                    var jobs: [LineDedupWork] = []
                    for d in first.datasets.map(pipeline.dataset) {
                        let inputs = files[d.name] ?? []
                        let fingerprint = Fingerprint.of(parts: ["dedup-lines", d.name, first.options.fingerprint] + inputs.map(\.fingerprint))
                        let output = "\(directory)/\(d.name).\(fingerprint)"
                        let kept = LineDedupJob(inputs: inputs.map(\.path), output: output, options: options).keptPaths
                        files[d.name] = zip(inputs, kept).enumerated().map { n, pair in
                            FileRef(path: pair.1, fingerprint: Fingerprint.of(parts: [fingerprint, "kept", String(n)]), stem: pair.0.stem)
                        }
                        jobs.append(LineDedupWork(dataset: d, inputs: inputs.map(\.path), output: output, options: options,
                                                  statsPath: output + "/stats.json"))
                    }
                    steps.append(PlanStep(number: number, name: name, work: .lines(jobs)))
                default: // shard (the checks put it last)
                    var plan = MixPlan(sources: [], budgetTokens: 1)
                    plan.apply(first.options)
                    plan.sources = first.datasets.map(pipeline.dataset).map { d in
                        MixSource(name: d.name, files: (files[d.name] ?? []).map(\.path), weight: d.weight ?? 1)
                    }
                    let vocabulary = try VocabularyLocator.locate(explicit: first.options.optionalString("vocabulary") ?? pipeline.vocabulary,
                                                                  besideFile: pipeline.file)
                    let vocabularyIdentity = Paths.isDirectory(vocabulary)
                        ? try listDirectory(vocabulary).map { try Paths.identity(of: vocabulary + "/" + $0) }.joined(separator: ",")
                        : try Paths.identity(of: vocabulary)
                    let fingerprint = Fingerprint.of(parts: ["shard", "manifest:\(ShardVerifier.manifestVersion)", first.options.fingerprint, vocabularyIdentity]
                        + first.datasets.flatMap { name in [name, String(pipeline.dataset(name).weight ?? 1)] + (files[name] ?? []).map(\.fingerprint) })
                    plan.fingerprint = fingerprint
                    steps.append(PlanStep(number: number, name: name, work: .shard(ShardWork(
                        plan: plan, vocabulary: vocabulary, output: pipeline.output + "/shards", statsPath: "\(directory)/stats.\(fingerprint).json",
                        fingerprint: fingerprint))))
                }
            }
        }
        self.steps = steps
    }

    static func planTraining(_ stage: PipelineStage, pipeline: Pipeline, files: [String: [FileRef]], directory: String) throws -> TrainingWork {
        let options = try QualityTrainer.options(stage.options)
        let folds = stage.options.int("folds")
        // What shapes the hashed features and the split (not the regression): caches survive a change of reg-param.
        let shaping = ["num-features", "binary", "hash-variant", "ngrams", "validation-fraction", "seed", "folds"]
            .map { "\($0)=\(stage.options[$0]?.description ?? "-")" }
        var jobs: [TrainingWork.Featurize] = []
        for d in stage.datasets.map(pipeline.dataset) {
            for input in files[d.name] ?? [] {
                let fingerprint = Fingerprint.of(parts: ["features", d.role.rawValue, d.name, input.fingerprint] + shaping)
                let base = "\(directory)/features/\(d.name)/\(input.stem).\(fingerprint)"
                let trainCaches = d.role == .crawl ? (0..<folds).map { "\(base).fold\($0).bin" } : ["\(base).train.bin"]
                jobs.append(.init(dataset: d, input: input, label: d.role == .reference ? 1 : 0, trainCaches: trainCaches,
                                  validationCache: "\(base).validation.bin"))
            }
        }
        let fingerprint = Fingerprint.of(parts: ["quality-train", stage.options.fingerprint] + jobs.map { "\($0.label):\($0.input.fingerprint)" })
        return TrainingWork(stage: stage, options: options, folds: folds, featurize: jobs,
                            models: (0..<folds).map { "\(directory)/model-\($0).\(fingerprint).json" },
                            statsPath: "\(directory)/stats.\(fingerprint).json", fingerprint: fingerprint)
    }

    /// An input's name without its extensions (`crawl-00000` for `…/crawl-00000.warc.gz`).
    static func stem(_ path: String) -> String {
        var name = Paths.basename(path)
        var changed = true
        while changed {
            changed = false
            for suffix in [".gz", ".zst", ".lz4", ".bz2", ".warc", ".arc", ".jsonl", ".json", ".ndjson"] where name.hasSuffix(suffix) && name.count > suffix.count {
                name.removeLast(suffix.count)
                changed = true
            }
        }
        // Keep names to the safe set (the fingerprint makes them unique anyway).
        return String(name.map { c in c.isLetter || c.isNumber || c == "-" || c == "_" || c == "." ? c : "_" })
    }

    /// Whether a step's outputs are all there (so a rerun reuses them), and if not, why.
    public func status(of step: PlanStep) -> (done: Int, total: Int, why: String) {
        switch step.work {
        case .segment(let tasks):
            let done = tasks.filter { Paths.exists($0.output.path) && Paths.exists($0.statsPath) }.count
            let changed = tasks.filter { t in !Paths.exists(t.output.path) && Self.hasOtherFingerprint(t.output.path) }.count
            var why = done == tasks.count ? "reused" : "\(tasks.count - done) of \(tasks.count) files to do"
            if changed > 0 { why += " (\(changed) made before with other options or inputs)" }
            return (done, tasks.count, why)
        case .train(let t):
            let done = t.models.allSatisfy(Paths.exists) && Paths.exists(t.statsPath)
            return (done ? 1 : 0, 1, done ? "reused" : (Self.hasOtherFingerprint(t.models[0]) ? "to do (options or inputs changed)" : "to do"))
        case .dedup(let jobs):
            let done = jobs.filter { Paths.exists($0.statsPath) && Paths.exists($0.output + "/work/filter.done") }.count
            return (done == jobs.count ? 1 : 0, 1, done == jobs.count ? "reused" : "\(jobs.count - done) of \(jobs.count) datasets to do")
        case .lines(let jobs):
            let done = jobs.filter { Paths.exists($0.statsPath) }.count
            return (done == jobs.count ? 1 : 0, 1, done == jobs.count ? "reused" : "\(jobs.count - done) of \(jobs.count) datasets to do")
        case .shard(let s):
            let done = Paths.exists(s.statsPath) && RunPlan.manifestFingerprint(s.output) == s.fingerprint
            return (done ? 1 : 0, 1, done ? "reused" : (Paths.exists(s.output + "/manifest.json") ? "to do (options or inputs changed)" : "to do"))
        }
    }

    /// The fingerprint recorded in a shard directory's manifest.
    static func manifestFingerprint(_ directory: String) -> String? {
        guard let bytes = try? readEntireRawFile(directory + "/manifest.json"),
              let json = try? bytes.withUnsafeBytes({ try JSONParser.parse($0) }) else { return nil }
        return json.objectValue?["fingerprint"]?.stringValue
    }

    /// Whether a file of the same stem but another fingerprint sits beside `path` (an earlier run's output).
    static func hasOtherFingerprint(_ path: String) -> Bool {
        let directory = Paths.directory(of: path)
        let name = Paths.basename(path)
        guard let dot = name.firstIndex(of: ".") else { return false }
        let stem = name[..<dot]
        return ((try? listDirectory(directory)) ?? []).contains { $0 != name && $0.hasPrefix(stem + ".") && !$0.contains(".tmp-") }
    }

    /// The plan as `thresh run --dry-run` prints it: each step, its tasks, and whether each is reused or to do.
    public var description: [String] {
        var lines: [String] = []
        for step in steps {
            let status = status(of: step)
            lines.append("step \(step.number) \(step.name): \(status.why)")
            switch step.work {
            case .segment(let tasks):
                for t in tasks {
                    let state = Paths.exists(t.output.path) && Paths.exists(t.statsPath) ? "reused" : (Self.hasOtherFingerprint(t.output.path) ? "to do (changed)" : "to do")
                    lines.append("  [\(t.dataset.name)] \(t.input.path) → \(t.output.path)  \(state)")
                }
            case .train(let t):
                let positives = Set(t.featurize.filter { $0.label == 1 }.map(\.dataset.name)).sorted()
                let negatives = Set(t.featurize.filter { $0.label == 0 }.map(\.dataset.name)).sorted()
                lines.append("  \(positives.joined(separator: ", ")) (positive) vs \(negatives.joined(separator: ", ")) (negative), \(t.folds) folds → \(t.models.joined(separator: ", "))")
            case .dedup(let jobs):
                for j in jobs {
                    let index = j.inputs.filter(\.isIndex).count
                    lines.append("  [\(j.dataset.name)] \(j.inputs.count - index) files" + (index > 0 ? " against \(index) reference files" : "") + " → \(j.output)")
                }
            case .lines(let jobs):
                for j in jobs { lines.append("  [\(j.dataset.name)] \(j.inputs.count) files → \(j.output)") }
            case .shard(let s):
                lines.append("  " + s.plan.sources.map { "\($0.name) \(OptionValue.real($0.weight))" }.joined(separator: ", ") + " → \(s.output)")
            }
        }
        return lines
    }
}

/// The files of a UT1-layout blocklist folder (DIR/domains and urls, or DIR/CATEGORY/domains and urls), for the
/// fingerprint of a filter step.
func blocklistFiles(_ directory: String) throws -> [String] {
    var files: [String] = []
    for name in ["domains", "urls"] where Paths.exists(directory + "/" + name) { files.append(directory + "/" + name) }
    if !files.isEmpty { return files }
    for category in try listDirectory(directory) where Paths.isDirectory(directory + "/" + category) {
        for name in ["domains", "urls"] where Paths.exists(directory + "/" + category + "/" + name) {
            files.append(directory + "/" + category + "/" + name)
        }
    }
    return files
}
