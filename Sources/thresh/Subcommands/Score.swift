import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshQuality

/// `thresh score`: adds `attrs.quality` from a quality model.
struct Score: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add attrs.quality: the model's probability that a document is like the reference corpora.",
        usage: "thresh score --model MODEL [FILES…] [OPTIONS]",
        discussion: stageDiscussion("", QualityScoreStage.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(QualityScoreStage.schema, arguments)
            guard let model = parsed.values.optionalString("model") else { throw ThreshError(.usage, "score needs --model MODEL") }
            let options = parsed.options
            var stage = QualityScoreStage(model: try loadQualityModel(model))
            let writer = try DocumentWriter(path: options.output)
            let diagnostics = Diagnostics()
            let progress = Progress(quiet: options.quiet)
            let invalid = try forEachDocument(in: parsed.inputs, onError: parsed.onError, flushing: writer, diagnostics: diagnostics) { document in
                try stage.process(document) { try writer.write($0) }
                progress.update("score: \(stage.statistics.documentsIn) documents")
            }
            progress.clear()
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
        usage: "thresh sample [FILES…] [OPTIONS]",
        discussion: stageDiscussion("""
            The draw comes from a uniform derived from (seed, source, id), so the same documents are kept whatever \
            the order, sharding or thread count; attrs.pareto records it. Documents without attrs.quality are dropped \
            and counted as no-score.
            """, ParetoSampler.schema, extra: commonStageOptions + [dryRunOption]))

    static let dryRunOption = OptionSpec("dry-run", .flag, default: .flag(false), shapesOutput: false,
                                         help: "do not write documents; print the expected keep fraction of the input (and the realised one)")

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(ParetoSampler.schema, arguments, extra: commonStageOptions + [Self.dryRunOption])
            let options = parsed.options
            let dryRun = parsed.values.bool("dry-run")
            var stage = ParetoSampleStage(sampler: ParetoSampler(parsed.values), scoreField: parsed.values.string("score-field"))
            let writer = dryRun ? nil : try DocumentWriter(path: options.output)
            let started = monotonicSeconds()
            let diagnostics = Diagnostics()
            let invalid = try forEachDocument(in: parsed.inputs, onError: parsed.onError, flushing: writer, diagnostics: diagnostics) { document in
                try stage.process(document) { try writer?.write($0) }
            }
            try writer?.close()
            var stats = stage.statistics
            if invalid > 0 { stats.documentsIn += invalid; stats.drop("invalid-json", count: invalid) }
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
