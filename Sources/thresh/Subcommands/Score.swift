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
            let scorer = QualityScorer(model: try loadQualityModel(model))
            var stats = StageStatistics(stage: "score")
            let writer = try DocumentWriter(path: options.output)
            let diagnostics = Diagnostics()
            let started = monotonicSeconds()
            for input in inputs {
                let reader = try DocumentReader(path: input, onError: onError)
                reader.reportSkipped = { diagnostics.report($0) }
                reader.beforeRead = { try? writer.flush() }
                while var document = try reader.next() {
                    stats.documentsIn += 1
                    let text = document.text
                    stats.bytesIn += Int64(text.utf8.count)
                    let q = scorer.score(text)
                    var attrs = document.attrs
                    attrs["quality"] = .double(q)
                    document.attrs = attrs
                    stats.count("score-decile.\(min(9, Int(q * 10)))")
                    try writer.write(document)
                    stats.documentsOut += 1
                }
                if reader.skipped > 0 { stats.documentsIn += reader.skipped; stats.drop("invalid-json", count: reader.skipped) }
            }
            try writer.close()
            stats.bytesOut = writer.bytesWritten
            stats.seconds = monotonicSeconds() - started
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
            let sampler = ParetoSampler(alpha: alpha, seed: seed)
            var stats = StageStatistics(stage: "sample")
            let writer = dryRun ? nil : try DocumentWriter(path: options.output)
            var expected = 0.0
            let started = monotonicSeconds()
            for input in inputs {
                let reader = try DocumentReader(path: input)
                if let writer { reader.beforeRead = { try? writer.flush() } }
                while var document = try reader.next() {
                    stats.documentsIn += 1
                    guard let score = document.attrs[scoreField]?.doubleValue else { stats.drop("no-score"); continue }
                    expected += sampler.keepProbability(score: score)
                    let (keep, draw) = sampler.decide(score: score, source: document.source ?? "", id: document.id)
                    guard keep else { stats.drop("pareto"); continue }
                    stats.documentsOut += 1
                    if let writer {
                        var attrs = document.attrs
                        attrs["pareto"] = .double(draw)
                        document.attrs = attrs
                        try writer.write(document)
                    }
                }
            }
            try writer?.close()
            stats.seconds = monotonicSeconds() - started
            if dryRun {
                let n = Double(max(1, stats.documentsIn - (stats.dropped["no-score"] ?? 0)))
                print(JSONWriter.string(.object(["documents": .int(stats.documentsIn), "expected_keep_fraction": .double(expected / n),
                                                 "expected_kept": .double(expected), "kept_with_this_seed": .int(stats.documentsOut)])))
            }
            try finishStatistics([stats], options: options)
        }
    }
}
