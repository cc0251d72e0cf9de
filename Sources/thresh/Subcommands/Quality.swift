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

/// Options that shape the features (recorded in the model file).
struct FeatureOptions: ParsableArguments {
    @Option(help: "Number of hashed features (a power of two up to 2^24).")
    var numFeatures: Int = 1 << 18

    @Flag(help: "Binary term presence instead of counts.")
    var binary = false

    @Option(help: "Murmur3 variant: standard (Spark 3+) or spark2 (Spark 2.x, likely GPT-3's).")
    var hashVariant: String = "standard"

    @Option(help: "Word n-gram orders, comma-separated (1 = tokens; e.g. 1,2 adds bigrams).")
    var ngrams: String = "1"

    func validate() throws {
        guard numFeatures > 0, numFeatures & (numFeatures - 1) == 0, numFeatures <= 1 << 24 else {
            throw ValidationError("--num-features must be a power of two up to 2^24")
        }
        guard Murmur3.Variant(rawValue: hashVariant) != nil else { throw ValidationError("--hash-variant is standard or spark2") }
        guard !parsedNgrams.isEmpty else { throw ValidationError("--ngrams takes orders like 1 or 1,2") }
    }

    var parsedNgrams: [Int] { ngrams.split(separator: ",").compactMap { Int($0.trimmingSpacesCLI()) }.filter { $0 >= 1 } }

    var hasher: FeatureHasher {
        FeatureHasher(numFeatures: numFeatures, binary: binary, hashVariant: Murmur3.Variant(rawValue: hashVariant) ?? .standard,
                      ngrams: parsedNgrams)
    }
}

struct QualityTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train on reference documents (positives) against crawl documents (negatives) and write a model file.",
        discussion: """
            Documents are hashed once into an on-disk feature cache beside the model, and training makes one pass \
            over it per iteration, so corpora larger than memory work (memory: a few vectors of --num-features \
            doubles). A deterministic slice of the documents (by hash of seed, source and id) is held out and \
            scored after training: AUC, log-loss, precision and recall at 0.5.
            """)

    @Option(parsing: .upToNextOption, help: "Positive (reference-quality) JSONL files.")
    var positive: [String]

    @Option(parsing: .upToNextOption, help: "Negative (raw crawl) JSONL files.")
    var negative: [String]

    @Option(name: [.short, .customLong("output")], help: "The model file to write.")
    var output: String

    @OptionGroup var features: FeatureOptions

    @Option(help: "Regularisation strength (Spark regParam).")
    var regParam: Double = 0

    @Option(help: "Elastic-net mixing: 0 = L2, 1 = L1 (Spark elasticNetParam).")
    var elasticNet: Double = 0

    @Option(help: "Most iterations.")
    var maxIter: Int = 100

    @Option(help: "Convergence tolerance (Spark tol).")
    var tol: Double = 1e-6

    @Flag(help: "Do not standardise features (Spark standardization=false).")
    var noStandardization = false

    @Option(help: "Class balance: weight (each class weighs half), sample (drop majority examples), or none.")
    var balance: String = "weight"

    @Option(help: "Share of documents held out for validation.")
    var validationFraction: Double = 0.1

    @Option(help: "Seed of the validation split and of sampling.")
    var seed: UInt64 = 0

    @Option(help: "What to do with an invalid input line: fail or skip.")
    var onError: OnError = .fail

    @Option(help: "Also write every document's text, label, weight and split (JSONL), to train another tool on the same split.")
    var writeSplit: String?

    func validate() throws {
        if positive.isEmpty || negative.isEmpty { throw ValidationError("give --positive and --negative files") }
        if !["weight", "sample", "none"].contains(balance) { throw ValidationError("--balance is weight, sample or none") }
        if !(0..<1).contains(validationFraction) { throw ValidationError("--validation-fraction is in [0, 1)") }
        if regParam < 0 || !(0...1).contains(elasticNet) { throw ValidationError("--reg-param ≥ 0 and --elastic-net in [0, 1]") }
    }

    func run() throws {
        try runReportingErrors {
            let started = monotonicSeconds()
            let hasher = features.hasher
            let train = try FeatureCache(path: output + ".train-cache")
            let valid = try FeatureCache(path: output + ".valid-cache")
            defer { unlink(train.path); unlink(valid.path) }
            let splitter = ParetoSampler(alpha: 1, seed: seed ^ 0x5EED_5EED_5EED_5EED)
            let diagnostics = Diagnostics()
            let progress = Progress()
            let splitWriter = try writeSplit.map { try DocumentWriter(path: $0) }
            var documents = [0, 0]
            for (label, files) in [(1.0, positive), (0.0, negative)] {
                for file in files {
                    let reader = try DocumentReader(path: file, onError: onError)
                    reader.reportSkipped = { diagnostics.report($0) }
                    while let document = try reader.next() {
                        let v = hasher.vector(of: document.text)
                        let example = TrainingExample(indices: v.indices, values: v.values, label: label)
                        let isValidation = splitter.uniform(source: document.source ?? file, id: document.id) <= validationFraction
                        try splitWriter?.write(Document(fields: ["id": .string(document.id), "text": .string(document.text),
                                                                 "label": .int(Int(label)), "validation": .bool(isValidation)]))
                        if isValidation {
                            try valid.append(example)
                        } else {
                            try train.append(example)
                        }
                        documents[Int(label)] += 1
                        progress.update("hashing: \(documents[1]) positive, \(documents[0]) negative documents")
                    }
                }
            }
            try train.close()
            try valid.close()
            try splitWriter?.close()
            progress.clear()
            let (negativeWeight, positiveWeight) = (train.labelWeights[0], train.labelWeights[1])
            guard negativeWeight > 0 && positiveWeight > 0 else {
                throw ThreshError(.usage, "training needs documents of both classes (got \(Int(positiveWeight)) positive, \(Int(negativeWeight)) negative)")
            }
            var options = LogisticRegressionOptions()
            options.regParam = regParam
            options.elasticNetParam = elasticNet
            options.maxIter = maxIter
            options.tol = tol
            options.standardization = !noStandardization
            let total = negativeWeight + positiveWeight
            let weightFor: (Double) -> Double
            switch balance {
            case "weight": weightFor = { $0 > 0.5 ? total / (2 * positiveWeight) : total / (2 * negativeWeight) }
            case "sample":
                // Keep each majority example with probability minority/majority, decided by a hash of its
                // position in the cache (fixed order), so the subsample is the same on every pass.
                let keep = min(negativeWeight, positiveWeight) / max(negativeWeight, positiveWeight)
                let majority = positiveWeight > negativeWeight ? 1.0 : 0.0
                final class Counter: @unchecked Sendable { var n: UInt64 = 0 }
                let counter = Counter()
                weightFor = { label in
                    counter.n &+= 1
                    guard label == majority else { return 1 }
                    var z = counter.n &* 0x9E37_79B9_7F4A_7C15
                    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                    return Double((z ^ (z >> 31)) >> 11) / 9007199254740992.0 < keep ? 1 : 0
                }
            default: weightFor = { _ in 1 }
            }
            let (model, history) = try LogisticRegressionTrainer.train(
                train.reweighted(weightFor), numFeatures: hasher.numFeatures, options: options) { iteration, objective in
                    progress.update("training: iteration \(iteration), objective \(objective)")
                }
            progress.clear()
            let trainSeconds = monotonicSeconds() - started
            // Validation.
            var scores: [Double] = [], labels: [Double] = []
            try valid.forEach { e in
                scores.append(LogisticModel.probability(margin: model.margin(indices: e.indices, values: e.values)))
                labels.append(e.label)
            }
            let metrics = ClassificationMetrics(scores: scores, labels: labels)
            var training = JSONObject()
            training["positive_files"] = .array(positive.map(JSONValue.string))
            training["negative_files"] = .array(negative.map(JSONValue.string))
            training["documents"] = .object(["positive": .int(documents[1]), "negative": .int(documents[0]),
                                             "train": .int(train.count), "validation": .int(valid.count)])
            training["balance"] = .string(balance)
            training["seed"] = .number(String(seed))
            training["iterations"] = .int(history.iterations)
            training["final_objective"] = .double(history.objective.last ?? .nan)
            training["seconds"] = .double(trainSeconds)
            training["validation"] = .object(metrics.json)
            let file = QualityModel(features: hasher, regression: model, options: options, training: training)
            let out = try OutputFile(path: output, compression: .none)
            try out.write(JSONWriter.string(.object(file.json)) + "\n")
            try out.close()
            printError("quality train: \(documents[1]) positive, \(documents[0]) negative documents; \(history.iterations) iterations in \(format1(trainSeconds)) s")
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
        throw ThreshError(.init(rawValue: "invalid-model"), "not JSON: \(error)", file: path)
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

    func run() throws {
        try runReportingErrors {
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

    func run() throws {
        try runReportingErrors {
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
                }
            }
            try out.close()
        }
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: " ", count: max(0, width - count)) + self }
}
