import ThreshCore
import ThreshIO
import ThreshWARC
import ThreshExtract
import ThreshQuality
import ThreshShards

/// Holds one stage of a chain, so that each stage is mutated through its own reference while the stage before it
/// is still inside its `process` call (a plain array of structs would be one overlapping access).
final class StageBox {
    var stage: any DocumentStage
    /// Measured by the chain: documents and bytes handed to the stage and passed on, and the time inside it
    /// including the stages after it (the exclusive time is this minus the next stage's).
    var documentsIn = 0, documentsOut = 0
    var bytesIn: Int64 = 0, bytesOut: Int64 = 0
    var inclusiveSeconds = 0.0
    init(_ stage: any DocumentStage) { self.stage = stage }
}

/// Runs one task of a fused step: a source (the WARC reader, or a JSONL reader) and the per-document stages, with
/// no JSON between them, into one output file written atomically; then the task's statistics beside it.
struct SegmentExecutor {
    let task: SegmentTask
    let runner: PipelineRunner
    let step: PlanStep

    func run() throws {
        try Paths.makeDirectories(Paths.directory(of: task.output.path))
        var chain = task.stages
        let warc = chain.first?.name == "warc" ? chain.removeFirst() : nil
        let boxes = try chain.enumerated().map { k, s in
            guard let make = s.type.make else { throw ThreshError(.config, "stage '\(s.name)' at stage[\(s.index)] cannot run inside a fused step") }
            return StageBox(try make(StageContext(options: s.options, stage: s, task: task, runner: runner, readsTaskInput: k == 0 && warc == nil)))
        }
        let writer = try DocumentWriter(path: task.output.path, compression: .fastestFromName)
        let started = monotonicSeconds()
        var written = 0

        func push(_ document: Document, _ k: Int, bytes: Int) throws {
            if k == boxes.count {
                try writer.write(document)
                written += 1
                if written == 1 { TestHooks.reach("task-mid:\(step.name)") }
                return
            }
            let box = boxes[k]
            box.documentsIn += 1
            box.bytesIn += Int64(bytes)
            let t = monotonicSeconds()
            try box.stage.process(document) { out in
                box.documentsOut += 1
                let n = out.text.utf8.count
                box.bytesOut += Int64(n)
                try push(out, k + 1, bytes: n)
            }
            box.inclusiveSeconds += monotonicSeconds() - t
        }

        var sourceStats: StageStatistics?
        if let warc {
            var options = try WARCIngestOptions(warc.options)
            if !warc.options.isSet("source") { options.source = task.dataset.name }
            let ingest = WARCIngest(options: options)
            ingest.onProblem = runner.warning
            var skippedFile = false
            do {
                if let extract = boxes.first, var stage = extract.stage as? ExtractStage {
                    // WARC → extract through the UTF-8 bytes in place (the page never becomes a Swift string).
                    try ingest.processUTF8(path: task.input.path) { document, html in
                        extract.documentsIn += 1
                        extract.bytesIn += Int64(html.count)
                        let t = monotonicSeconds()
                        try stage.process(document, html: html) { out in
                            extract.documentsOut += 1
                            let n = out.text.utf8.count
                            extract.bytesOut += Int64(n)
                            try push(out, 1, bytes: n)
                        }
                        extract.inclusiveSeconds += monotonicSeconds() - t
                    }
                    extract.stage = stage
                } else {
                    try ingest.process(path: task.input.path) { document in try push(document, 0, bytes: document.text.utf8.count) }
                }
            } catch let error as ThreshError where error.code == .unsupportedFormat {
                // A file of the dataset's glob that is not an archive (a README, a JSONL file): named, counted, and
                // the run goes on; it holds no documents to lose.
                runner.warning?(ThreshError(.unsupportedFormat, "skipped: \(error.message)", file: task.input.path))
                skippedFile = true
            }
            var s = ingest.statistics
            if skippedFile { s.count("files-skipped.not-an-archive") }
            s.seconds = monotonicSeconds() - started - (boxes.first?.inclusiveSeconds ?? 0)
            sourceStats = s
        } else {
            let reader = try DocumentReader(path: task.input.path)
            while let document = try reader.next() { try push(document, 0, bytes: document.text.utf8.count) }
        }
        for box in boxes { try box.stage.finish { try writer.write($0) } }
        try writer.close()
        TestHooks.reach("task-end:\(step.name)")
        var stats: [StageStatistics] = sourceStats.map { [$0] } ?? []
        for (k, box) in boxes.enumerated() {
            var s = box.stage.statistics
            s.documentsIn = box.documentsIn
            s.documentsOut = box.documentsOut
            s.bytesIn = box.bytesIn
            s.bytesOut = box.bytesOut
            s.seconds = box.inclusiveSeconds - (k + 1 < boxes.count ? boxes[k + 1].inclusiveSeconds : 0)
            stats.append(s)
        }
        try writeStatistics(stats, to: task.statsPath)
    }
}

/// What a per-document stage is made from for one task: its options, and the run around it (the pipeline file, the
/// models a training step made, whether it reads the task's input file directly).
struct StageContext {
    let options: OptionValues
    let stage: PipelineStage
    let task: SegmentTask
    let runner: PipelineRunner
    /// Whether the stage is the first of the chain, reading the task's input file as it is (no source stage before).
    let readsTaskInput: Bool

    var pipeline: Pipeline { runner.pipeline }

    /// The score stage: a given model, or the models of the quality-train step before it (cross-fitted).
    func makeScoreStage() throws -> any DocumentStage {
        if let path = options.optionalString("model") {
            return QualityScoreStage(model: try QualityModel(json: try readJSONFile(path), file: path))
        }
        guard let training = task.training else { throw ThreshError(.config, "score at stage[\(stage.index)] has no model") }
        // The features of exactly these documents were hashed by the training step when it read this file.
        let job = readsTaskInput ? training.featurize.first { $0.input == task.input } : nil
        return try CrossFittedScoreStage(models: runner.models(of: training), training: training, dataset: task.dataset.name, cachedFrom: job)
    }
}

/// Scores each document with a model that did not learn from it: a crawl document of fold k by the model of fold
/// k+1 (cross-fitting; scoring a model's own training negatives would mostly measure memorisation). When the
/// training step hashed these very documents, their features are read back from its caches instead of hashed again.
struct CrossFittedScoreStage: DocumentStage {
    let trainer: QualityTrainer
    let folds: Int
    let dataset: String
    let trainReaders: [FeatureCache.Reader]
    let validationReader: FeatureCache.Reader?
    let cachePaths: [String]
    private(set) var statistics = StageStatistics(stage: "score")
    private var scorers: [QualityScoreStage]

    init(models: [QualityModel], training: TrainingWork, dataset: String, cachedFrom job: TrainingWork.Featurize?) throws {
        scorers = models.map { QualityScoreStage(model: $0) }
        trainer = QualityTrainer(options: training.options)
        folds = training.folds
        self.dataset = dataset
        // A reference file has one training cache, a crawl file one per fold.
        trainReaders = try (job?.trainCaches ?? []).map { try FeatureCache.Reader(path: $0) }
        validationReader = try job.map { try FeatureCache.Reader(path: $0.validationCache) }
        cachePaths = job.map { $0.trainCaches + [$0.validationCache] } ?? []
    }

    mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let fold = PipelineRunner.fold(of: document, folds: folds)
        let model = (fold + 1) % folds
        var out: Document?
        if let validationReader {
            let isValidation = trainer.isValidation(source: document.source ?? dataset, id: document.id)
            let reader = isValidation ? validationReader : trainReaders[trainReaders.count == 1 ? 0 : fold]
            guard let features = try reader.next() else {
                throw ThreshError(.invalidOutput, "the feature cache has fewer documents than its input (at document \(document.id)); delete it to hash again",
                                  file: cachePaths.first)
            }
            try scorers[model].process(document, indices: features.indices, values: features.values) { out = $0 }
        } else {
            try scorers[model].process(document) { out = $0 }
        }
        if let out {
            statistics.documentsIn += 1
            statistics.documentsOut += 1
            if let q = out.attrs["quality"]?.doubleValue { statistics.count("score-decile.\(min(9, max(0, Int(q * 10))))") }
            try emit(out)
        }
    }
}
