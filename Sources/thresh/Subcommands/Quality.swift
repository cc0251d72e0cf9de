#if canImport(Glibc)
import Glibc
#endif
import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshQuality

/// `thresh quality`: train, evaluate and explain the GPT-3-style quality classifier.
struct Quality: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train, evaluate and explain the quality classifier (Spark Tokenizer + HashingTF + logistic regression).",
        subcommands: [QualityTrain.self, QualityEval.self, QualityExplain.self])
}

struct QualityTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train on reference documents (positives) against crawl documents (negatives) and write a model file.",
        usage: "thresh quality train --positive P… --negative N… -o MODEL [OPTIONS]",
        discussion: stageDiscussion("""
            Documents are hashed once into an on-disk feature cache beside the model, and training makes one pass \
            over it per iteration, so corpora larger than memory work (memory: a few vectors of --num-features \
            doubles). A deterministic slice of the documents (by hash of seed, source and id) is held out and \
            scored after training: AUC, log-loss, precision and recall at 0.5. The same trainer runs the \
            quality-train stage of a pipeline.
            """, QualityTrainer.schema, extra: extraOptions))

    static let extraOptions = [
        OptionSpec("positive", .list, required: true, shapesOutput: false, help: "positive (reference-quality) JSONL files (repeat or comma-separate)"),
        OptionSpec("negative", .list, required: true, shapesOutput: false, help: "negative (raw crawl) JSONL files (repeat or comma-separate)"),
        OptionSpec("output", .text, required: true, shapesOutput: false, short: "o", help: "the model file to write"),
        OptionSpec("on-error", .choice(OnError.allCases.map(\.rawValue)), default: .text("fail"), shapesOutput: false,
                   help: "what to do with an invalid input line: fail or skip"),
        OptionSpec("write-split", .text, shapesOutput: false,
                   help: "also write every document's text, label and split (JSONL), to train another tool on the same split"),
        OptionSpec("quiet", .flag, default: .flag(false), shapesOutput: false, short: "q", help: "do not print progress or the summary"),
        OptionSpec("stats", .text, shapesOutput: false, help: "write the statistics summary (documents, validation metrics) as JSON to this file"),
    ]

    @Argument(parsing: .allUnrecognized, help: "The options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(QualityTrainer.schema, arguments, defaultInputs: [], extra: Self.extraOptions)
            guard parsed.inputs.isEmpty else { throw ThreshError(.usage, "quality train takes files through --positive and --negative, not '\(parsed.inputs[0])'") }
            let values = parsed.values
            let output = values.string("output")
            let trainer = QualityTrainer(options: try QualityTrainer.options(values))
            let train = try FeatureCache(path: output + ".train-cache")
            let valid = try FeatureCache(path: output + ".valid-cache")
            defer { unlink(train.path); unlink(valid.path) }
            let diagnostics = Diagnostics()
            let quiet = values.bool("quiet")
            let progress = Progress(quiet: quiet)
            let splitWriter = try values.optionalString("write-split").map { try DocumentWriter(path: $0) }
            let onError = OnError(rawValue: values.string("on-error")) ?? .fail
            var documents = [0, 0]
            let hasher = trainer.options.features
            for (label, files) in [(1.0, values.list("positive")), (0.0, values.list("negative"))] {
                for file in files {
                    let reader = try DocumentReader(path: file, onError: onError)
                    reader.reportSkipped = { diagnostics.report($0) }
                    while let document = try reader.next() {
                        let v = hasher.vector(of: document.text)
                        let example = TrainingExample(indices: v.indices, values: v.values, label: label)
                        let isValidation = trainer.isValidation(source: document.source ?? file, id: document.id)
                        try splitWriter?.write(Document(fields: ["id": .string(document.id), "text": .string(document.text),
                                                                 "label": .int(Int(label)), "validation": .bool(isValidation)]))
                        try (isValidation ? valid : train).append(example)
                        documents[Int(label)] += 1
                        progress.update("hashing: \(documents[1]) positive, \(documents[0]) negative documents")
                    }
                }
            }
            try train.close()
            try valid.close()
            try splitWriter?.close()
            progress.clear()
            let facts: JSONObject = ["positive_files": .array(values.list("positive").map(JSONValue.string)),
                                     "negative_files": .array(values.list("negative").map(JSONValue.string))]
            let (model, metrics) = try trainer.train(training: [train], validation: [valid], facts: facts) { iteration, objective in
                progress.update("training: iteration \(iteration), objective \(objective)")
            }
            progress.clear()
            let out = try OutputFile(path: output, compression: .none)
            try out.write(JSONWriter.string(.object(model.json)) + "\n")
            try out.close()
            var stats = StageStatistics(stage: "quality-train")
            stats.documentsIn = documents[0] + documents[1]
            stats.documentsOut = stats.documentsIn
            stats.count("positive-documents", documents[1])
            stats.count("negative-documents", documents[0])
            stats.count("validation-documents", valid.count)
            if metrics.count > 0 { stats.count("validation-auc-permille", Int((metrics.auc * 1000).rounded())) }
            stats.seconds = model.training["seconds"]?.doubleValue ?? 0
            // The summary below says more than the row; the row goes to --stats.
            try finishStatistics([stats], options: StageOptions(stats: values.optionalString("stats"), quiet: true))
            guard !quiet else { return }
            let seconds = model.training["seconds"]?.doubleValue ?? 0
            printError("quality train: \(documents[1]) positive, \(documents[0]) negative documents; \(model.training["iterations"]?.intValue ?? 0) iterations in \(format1(seconds)) s")
            printError("validation (\(valid.count) documents): AUC \(format3(metrics.auc)), log-loss \(format3(metrics.logLoss)), precision \(format3(metrics.precision)), recall \(format3(metrics.recall)) at 0.5")
            printError("model: \(output)")
        }
    }
}

/// Loads a model file.
func loadQualityModel(_ path: String) throws -> QualityModel {
    let bytes = try readEntireFile(path)
    let json: JSONValue
    do { json = try bytes.withUnsafeBytes { try JSONParser.parse($0) } } catch {
        throw ThreshError(.invalidModel, "not JSON: \(error)", file: path)
    }
    return try QualityModel(json: json, file: path)
}

struct QualityEval: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "AUC, ROC points and score histograms per class of a model on labelled documents.")

    @Option(help: "The model file.")
    var model: String

    @Option(parsing: .upToNextOption, help: "Positive JSONL files.")
    var positive: [String]

    @Option(parsing: .upToNextOption, help: "Negative JSONL files.")
    var negative: [String]

    @Flag(help: "Print JSON instead of text.")
    var json = false

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let started = monotonicSeconds()
            let scorer = QualityScorer(model: try loadQualityModel(model))
            var scores: [Double] = [], labels: [Double] = []
            var histogram = [[Int](repeating: 0, count: 10), [Int](repeating: 0, count: 10)]
            for (label, files) in [(1.0, positive), (0.0, negative)] {
                for file in files {
                    let reader = try DocumentReader(path: file)
                    while let document = try reader.next() {
                        let s = scorer.score(document.text)
                        scores.append(s)
                        labels.append(label)
                        histogram[Int(label)][min(9, Int(s * 10))] += 1
                    }
                }
            }
            let metrics = ClassificationMetrics(scores: scores, labels: labels)
            if json {
                var o = metrics.json
                o["roc"] = .array(metrics.roc.map { .array([.double($0.0), .double($0.1)]) })
                o["histogram_positive"] = .array(histogram[1].map { .int($0) })
                o["histogram_negative"] = .array(histogram[0].map { .int($0) })
                print(JSONWriter.string(.object(o)))
            } else {
                print("documents \(metrics.count): AUC \(format3(metrics.auc)), log-loss \(format3(metrics.logLoss)), precision \(format3(metrics.precision)), recall \(format3(metrics.recall)), accuracy \(format3(metrics.accuracy)) at 0.5")
                print("score      positive  negative")
                for b in 0..<10 {
                    print("\(format1(Double(b) / 10))-\(format1(Double(b + 1) / 10))   \(String(histogram[1][b]).leftPadded(8))  \(String(histogram[0][b]).leftPadded(8))")
                }
                print("ROC (false positive rate, true positive rate): " + metrics.roc.prefix(20).map { "(\(format3($0.0)), \(format3($0.1)))" }.joined(separator: " ") + (metrics.roc.count > 20 ? " …" : ""))
            }
            var stats = StageStatistics(stage: "quality eval")
            stats.documentsIn = metrics.count
            stats.documentsOut = metrics.count
            stats.count("positive-documents", labels.filter { $0 == 1 }.count)
            stats.count("auc-permille", Int((metrics.auc * 1000).rounded()))
            stats.seconds = monotonicSeconds() - started
            try summary.finish([stats])
        }
    }
}

struct QualityExplain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "explain",
        abstract: "For each document: its tokens, their feature indices and counts, and the features that moved its score most.")

    @Option(help: "The model file.")
    var model: String

    @Argument(help: "Input JSONL files ('-' is stdin).")
    var inputs: [String] = ["-"]

    @Option(help: "How many features to show in each direction.")
    var top: Int = 10

    @OptionGroup var summary: SummaryArguments

    func run() throws {
        try runReportingErrors {
            let started = monotonicSeconds()
            var stats = StageStatistics(stage: "quality explain")
            let quality = try loadQualityModel(model)
            let scorer = QualityScorer(model: quality)
            let weights = quality.regression.dense
            let out = try OutputFile(path: "-")
            for input in inputs {
                let reader = try DocumentReader(path: input)
                while let document = try reader.next() {
                    let tokens = SparkTokenizer.tokenize(document.text)
                    var byIndex: [Int: (tokens: Set<String>, count: Int)] = [:]
                    for t in tokens {
                        let i = quality.features.index(of: t)
                        byIndex[i, default: ([], 0)].tokens.insert(t)
                        byIndex[i, default: ([], 0)].count += 1
                    }
                    let contributions = byIndex.map { (index: $0.key, tokens: $0.value.tokens, count: $0.value.count,
                                                       effect: weights[$0.key] * Double(quality.features.binary ? 1 : $0.value.count)) }
                    func entry(_ c: (index: Int, tokens: Set<String>, count: Int, effect: Double)) -> JSONValue {
                        .object(["index": .int(c.index), "tokens": .array(c.tokens.sorted().map(JSONValue.string)),
                                 "count": .int(c.count), "weight": .double(weights[c.index]), "effect": .double(c.effect)])
                    }
                    var o = JSONObject()
                    o["id"] = .string(document.id)
                    o["quality"] = .double(scorer.score(document.text))
                    o["margin"] = .double(scorer.margin(of: document.text))
                    o["intercept"] = .double(quality.regression.intercept)
                    o["tokens"] = .array(tokens.prefix(200).map(JSONValue.string))
                    o["token_count"] = .int(tokens.count)
                    o["features"] = .array(byIndex.keys.sorted().prefix(200).map { .array([.int($0), .int(byIndex[$0]!.count)]) })
                    o["raised_by"] = .array(contributions.filter { $0.effect > 0 }.sorted { $0.effect > $1.effect }.prefix(top).map(entry))
                    o["lowered_by"] = .array(contributions.filter { $0.effect < 0 }.sorted { $0.effect < $1.effect }.prefix(top).map(entry))
                    try out.write(JSONWriter.string(.object(o)) + "\n")
                    stats.documentsIn += 1
                    stats.documentsOut += 1
                }
            }
            try out.close()
            stats.bytesOut = out.bytesWritten
            stats.seconds = monotonicSeconds() - started
            try summary.finish([stats])
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
