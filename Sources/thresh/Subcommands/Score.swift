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
            var stage = QualityScoreStage(model: try loadQualityModel(model))
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
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
            let dryRun = parsed.values.bool("dry-run")
            var stage = ParetoSampleStage(sampler: ParetoSampler(parsed.values), scoreField: parsed.values.string("score-field"))
            let stats = try runDocumentStage(&stage, parsed, writer: dryRun ? nil : try DocumentWriter(path: parsed.options.output))
            if dryRun {
                let scored = max(1, stats.documentsIn - (stats.dropped["no-score"] ?? 0) - (stats.dropped["invalid-json"] ?? 0))
                print(JSONWriter.string(.object(["documents": .int(stats.documentsIn), "scored": .int(scored),
                                                 "expected_keep_fraction": .double(stage.expectedKept / Double(scored)),
                                                 "expected_kept": .double(stage.expectedKept),
                                                 "kept_with_this_seed": .int(stats.documentsOut)])))
            }
        }
    }
}
