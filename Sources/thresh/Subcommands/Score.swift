import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshQuality

/// `thresh score`: adds `attrs.quality` from a quality model.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add attrs.quality: the model's probability that a document is like the reference corpora.")

    @Option(help: "The model file (from 'thresh quality train').")
    var model: String

    @Argument(help: "Input JSONL files ('-' is stdin).")
    var inputs: [String] = ["-"]

    @Option(help: "What to do with an invalid input line: fail or skip.")
    var onError: OnError = .fail

    @OptionGroup var options: StageOptions

    func run() throws {
        try runReportingErrors {
            var stage = QualityScoreStage(model: try loadQualityModel(model))
            let writer = try DocumentWriter(path: options.output)
            let diagnostics = Diagnostics()
            let invalid = try forEachDocument(in: inputs, onError: onError, flushing: writer, diagnostics: diagnostics) { document in
                try stage.process(document) { try writer.write($0) }
            }
            try writer.close()
            var stats = stage.statistics
            stats.bytesOut = writer.bytesWritten
            if invalid > 0 { stats.documentsIn += invalid; stats.drop("invalid-json", count: invalid) }
            try finishStatistics([stats], options: options)
        }
    }
}

/// `thresh sample`: GPT-3's Pareto keep rule.
struct Sample: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Keep a document when its Lomax(alpha) draw exceeds 1 - attrs.quality (GPT-3's rule; alpha 9).",
        discussion: """
            The draw comes from a uniform derived from (seed, source, id), so the same documents are kept whatever \
            the order, sharding or thread count; attrs.pareto records it. Documents without attrs.quality are dropped \
            and counted as no-score.
            """)

    @Option(help: "The Lomax shape (numpy pareto's a).")
    var alpha: Double = 9

    @Option(help: "Seed of the per-document draws.")
    var seed: UInt64 = 0

    @Option(help: "The attrs field holding the score.")
    var scoreField: String = "quality"

    @Flag(help: "Do not write documents; print the expected keep fraction of the input (and the realised one).")
    var dryRun = false

    @Argument(help: "Input JSONL files ('-' is stdin).")
    var inputs: [String] = ["-"]

    @OptionGroup var options: StageOptions

    func validate() throws { if !(alpha > 0) { throw ValidationError("--alpha must be positive") } }

    func run() throws {
        try runReportingErrors {
            var stage = ParetoSampleStage(sampler: ParetoSampler(alpha: alpha, seed: seed), scoreField: scoreField)
            let writer = dryRun ? nil : try DocumentWriter(path: options.output)
            let started = monotonicSeconds()
            try forEachDocument(in: inputs, flushing: writer) { document in try stage.process(document) { try writer?.write($0) } }
            try writer?.close()
            var stats = stage.statistics
            stats.seconds = monotonicSeconds() - started
            if dryRun {
                let scored = max(1, stats.documentsIn - (stats.dropped["no-score"] ?? 0))
                print(JSONWriter.string(.object(["documents": .int(stats.documentsIn), "scored": .int(scored),
                                                 "expected_keep_fraction": .double(stage.expectedKept / Double(scored)),
                                                 "expected_kept": .double(stage.expectedKept),
                                                 "kept_with_this_seed": .int(stats.documentsOut)])))
            }
            try finishStatistics([stats], options: options)
        }
    }
}
