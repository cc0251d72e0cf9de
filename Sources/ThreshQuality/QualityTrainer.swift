#if canImport(Glibc)
import Glibc
#endif
public import ThreshCore

/// How training balances the two classes.
public enum ClassBalance: String, Sendable, CaseIterable {
    /// Each class weighs half of the total.
    case weight
    /// Majority examples are kept with probability minority/majority (the same ones on every pass).
    case sample
    /// Every example weighs 1.
    case none
}

/// Everything that shapes a trained quality model: the features, the regression, the balance and the validation
/// split. Both `thresh quality train` and the `quality-train` pipeline stage are made from `QualityTrainer.schema`.
public struct QualityTrainingOptions: Sendable {
    public var features = FeatureHasher()
    public var regression = LogisticRegressionOptions()
    public var balance = ClassBalance.weight
    /// Share of documents held out (by a hash of seed, source and id) to measure the model.
    public var validationFraction = 0.1
    /// Seed of the validation split.
    public var seed: UInt64 = 0

    public init() {}
}

/// The one trainer of GPT-3's quality classifier: hashes documents into feature caches (training or validation by a
/// deterministic hash of the document), trains logistic regression with the chosen class balance, and measures the
/// model on the held-out documents. The command line and the pipeline runner both train through it.
public struct QualityTrainer: Sendable {
    public let options: QualityTrainingOptions

    /// The largest number of hashed features (2^24).
    public static let mostFeatures: Int64 = 1 << 24

    /// The options of `thresh quality train` and of the `quality-train` stage.
    public static let schema = OptionsSchema("quality-train", [
        OptionSpec("num-features", .integer(min: 2, max: mostFeatures), default: .integer(1 << 18),
                   help: "number of hashed features (a power of two up to 2^24)"),
        OptionSpec("binary", .flag, default: .flag(false), help: "binary term presence instead of counts"),
        OptionSpec("hash-variant", .choice(Murmur3.Variant.allCases.map(\.rawValue)), default: .text("standard"),
                   help: "Murmur3 variant: standard (Spark 3+) or spark2 (Spark 2.x, likely GPT-3's)"),
        OptionSpec("ngrams", .integerList(min: 1, max: 8), default: .integers([1]), help: "word n-gram orders (1 = tokens; 1,2 adds bigrams)"),
        OptionSpec("reg-param", .real(min: 0, max: 1e6), default: .real(0), help: "regularisation strength (Spark regParam)"),
        OptionSpec("elastic-net", .real(min: 0, max: 1), default: .real(0), help: "elastic-net mixing: 0 = L2, 1 = L1 (Spark elasticNetParam)"),
        OptionSpec("max-iter", .integer(min: 1, max: 1_000_000), default: .integer(100), help: "most iterations"),
        OptionSpec("tol", .real(min: 0, max: 1, minExclusive: true), default: .real(1e-6), help: "convergence tolerance (Spark tol)"),
        OptionSpec("standardization", .flag, default: .flag(true), help: "standardise features (Spark standardization)"),
        OptionSpec("balance", .choice(ClassBalance.allCases.map(\.rawValue)), default: .text("weight"),
                   help: "class balance: weight (each class weighs half), sample (drop majority examples), or none"),
        OptionSpec("validation-fraction", .real(min: 0, max: 1, maxExclusive: true), default: .real(0.1),
                   help: "share of documents held out for validation"),
        OptionSpec("seed", .integer(min: 0, max: .max), default: .integer(0), help: "seed of the validation split"),
    ])

    /// Options from a schema-checked table or command line.
    /// - Throws: `.usage` for a number of features that is not a power of two.
    public static func options(_ values: OptionValues) throws -> QualityTrainingOptions {
        var o = QualityTrainingOptions()
        let n = values.int("num-features")
        guard n & (n - 1) == 0 else { throw ThreshError(.usage, "num-features: \(n) is not a power of two (2 to 2^24)") }
        o.features = FeatureHasher(numFeatures: n, binary: values.bool("binary"),
                                   hashVariant: Murmur3.Variant(rawValue: values.string("hash-variant")) ?? .standard,
                                   ngrams: values.integers("ngrams"))
        o.regression.regParam = values.double("reg-param")
        o.regression.elasticNetParam = values.double("elastic-net")
        o.regression.maxIter = values.int("max-iter")
        o.regression.tol = values.double("tol")
        o.regression.standardization = values.bool("standardization")
        o.balance = ClassBalance(rawValue: values.string("balance")) ?? .weight
        o.validationFraction = values.double("validation-fraction")
        o.seed = values.uint64("seed")
        return o
    }

    public init(options: QualityTrainingOptions) { self.options = options }

    private var splitter: ParetoSampler { ParetoSampler(alpha: 1, seed: options.seed ^ 0x5EED_5EED_5EED_5EED) }

    /// Whether a document is held out for validation: a hash of (seed, source, id), so the split does not depend
    /// on the order, the sharding or the thread count.
    public func isValidation(source: String, id: String) -> Bool {
        options.validationFraction > 0 && splitter.uniform(source: source, id: id) <= options.validationFraction
    }

    /// Trains on the examples of `training` (labels 1 and 0 inside) and measures on `validation`.
    /// - Parameter facts: recorded in the model file's `training` object beside the trainer's own.
    /// - Throws: `.data` when a class has no examples.
    public func train(training: [FeatureCache], validation: [FeatureCache], facts: JSONObject = [:],
                      progress: ((Int, Double) -> Void)? = nil) throws -> (model: QualityModel, metrics: ClassificationMetrics) {
        let started = monotonicSeconds()
        let examples = ChainedFeatureCaches(training)
        let (negative, positive) = (examples.labelWeights[0], examples.labelWeights[1])
        guard negative > 0 && positive > 0 else {
            throw ThreshError(.data, "the quality model needs documents of both classes (got \(Int(positive)) positive, \(Int(negative)) negative)")
        }
        let total = negative + positive
        let weightFor: @Sendable (Double) -> Double
        switch options.balance {
        case .weight: weightFor = { $0 > 0.5 ? total / (2 * positive) : total / (2 * negative) }
        case .sample:
            // Keep each majority example with probability minority/majority, decided by a hash of its position in
            // the caches (a fixed order), so the subsample is the same on every pass.
            let keep = min(negative, positive) / max(negative, positive)
            let majority = positive > negative ? 1.0 : 0.0
            let counter = PassCounter(period: UInt64(examples.parts.reduce(0) { $0 + $1.count }))
            weightFor = { label in
                let n = counter.next()
                guard label == majority else { return 1 }
                var z = n &* 0x9E37_79B9_7F4A_7C15
                z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
                z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
                return Double((z ^ (z >> 31)) >> 11) / 9007199254740992.0 < keep ? 1 : 0
            }
        case .none: weightFor = { _ in 1 }
        }
        let (regression, history) = try LogisticRegressionTrainer.train(examples.reweighted(weightFor), numFeatures: options.features.numFeatures,
                                                                        options: options.regression, progress: progress)
        var scores: [Double] = [], labels: [Double] = []
        for cache in validation {
            try cache.forEach { e in
                scores.append(LogisticModel.probability(margin: regression.margin(indices: e.indices, values: e.values)))
                labels.append(e.label)
            }
        }
        let metrics = ClassificationMetrics(scores: scores, labels: labels)
        var training = facts
        training["documents"] = .object(["positive": .int(Int(positive)), "negative": .int(Int(negative)),
                                         "train": .int(examples.parts.reduce(0) { $0 + $1.count }), "validation": .int(scores.count)])
        training["balance"] = .string(options.balance.rawValue)
        training["validation_fraction"] = .double(options.validationFraction)
        training["seed"] = .number(String(options.seed))
        training["iterations"] = .int(history.iterations)
        training["final_objective"] = .double(history.objective.last ?? .nan)
        training["seconds"] = .double(monotonicSeconds() - started)
        training["validation"] = .object(metrics.json)
        return (QualityModel(features: options.features, regression: regression, options: options.regression, training: training), metrics)
    }
}

/// The position of an example within a training pass (1 to `period`, then again from 1), so that a decision keyed by
/// it is the same on every pass over the same examples in the same order.
/// `@unchecked Sendable`: the trainer reads examples on one thread.
final class PassCounter: @unchecked Sendable {
    private var n: UInt64 = 0
    private let period: UInt64
    init(period: UInt64) { self.period = max(1, period) }
    func next() -> UInt64 {
        n = n % period + 1
        return n
    }
}
