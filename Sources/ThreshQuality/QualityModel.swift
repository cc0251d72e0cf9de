import Foundation
public import ThreshCore

/// A fitted logistic regression: intercept and sparse coefficients in the original feature space.
public struct LogisticModel: Sendable, Equatable {
    public var intercept: Double
    /// Non-zero coefficients by feature index.
    public var coefficients: [Int: Double]
    public var numFeatures: Int

    public init(intercept: Double, coefficients: [Int: Double], numFeatures: Int) {
        self.intercept = intercept
        self.coefficients = coefficients
        self.numFeatures = numFeatures
    }

    /// The coefficients as a dense array (for fast scoring).
    public var dense: [Double] {
        var w = [Double](repeating: 0, count: numFeatures)
        for (i, v) in coefficients { w[i] = v }
        return w
    }

    /// `w·x + b`.
    public func margin(indices: [Int32], values: [Double]) -> Double {
        var m = intercept
        for (k, i) in indices.enumerated() { m += (coefficients[Int(i)] ?? 0) * values[k] }
        return m
    }

    /// Spark's probability of class 1: `1/(1+e^{−m})`.
    public static func probability(margin: Double) -> Double { 1 / (1 + exp(-margin)) }
}

/// A quality model file: the features it was trained on (everything that shapes them), the regression, and
/// what training measured. JSON, versioned.
public struct QualityModel: Sendable {
    public static let format = "thresh-quality-model"
    public static let version = 1

    public var features: FeatureHasher
    public var regression: LogisticModel
    public var options: LogisticRegressionOptions
    /// Free-form training facts (corpora, counts, metrics), kept in the file.
    public var training: JSONObject

    public init(features: FeatureHasher, regression: LogisticModel, options: LogisticRegressionOptions, training: JSONObject = [:]) {
        self.features = features
        self.regression = regression
        self.options = options
        self.training = training
    }

    /// The model as JSON.
    public var json: JSONObject {
        var o = JSONObject()
        o["format"] = .string(Self.format)
        o["version"] = .int(Self.version)
        o["features"] = .object([
            "tokenizer": .string("spark-tokenizer"),
            "lowercase": .string("java-en-US"),
            "hash": .string("murmur3_x86_32"),
            "hash_variant": .string(features.hashVariant.rawValue),
            "seed": .int(Int(features.seed)),
            "num_features": .int(features.numFeatures),
            "binary": .bool(features.binary),
            "ngrams": .array(features.ngrams.map { .int($0) }),
        ])
        o["regression"] = .object([
            "reg_param": .double(options.regParam),
            "elastic_net_param": .double(options.elasticNetParam),
            "max_iter": .int(options.maxIter),
            "tol": .double(options.tol),
            "fit_intercept": .bool(options.fitIntercept),
            "standardization": .bool(options.standardization),
            "intercept": regression.intercept.isFinite ? .double(regression.intercept) : .string(regression.intercept > 0 ? "inf" : "-inf"),
            "coefficients": .object([
                "indices": .array(regression.coefficients.keys.sorted().map { .int($0) }),
                "values": .array(regression.coefficients.sorted { $0.key < $1.key }.map { .number("\($0.value)") }),
            ]),
        ])
        o["training"] = .object(training)
        return o
    }

    /// Reads a model file's JSON.
    /// - Throws: `ThreshError` naming the key that is missing or wrong.
    public init(json: JSONValue, file: String) throws {
        func fail(_ message: String) -> ThreshError { ThreshError(.invalidModel, message, file: file) }
        guard let o = json.objectValue, o["format"]?.stringValue == Self.format else { throw fail("not a Thresh quality model (format)") }
        guard let v = o["version"]?.intValue, v == Self.version else { throw fail("unsupported model version") }
        guard let f = o["features"]?.objectValue, let r = o["regression"]?.objectValue else { throw fail("missing 'features' or 'regression'") }
        guard let n = f["num_features"]?.intValue, n > 0, n & (n - 1) == 0, n <= 1 << 24 else { throw fail("features.num_features must be a power of two up to 2^24") }
        guard let variant = f["hash_variant"]?.stringValue.flatMap(Murmur3.Variant.init(rawValue:)) else { throw fail("features.hash_variant") }
        // Every number is checked before it is converted: a model file is data, and data never traps.
        func integer(_ value: JSONValue?, _ key: String, _ range: ClosedRange<Int>, default d: Int) throws -> Int {
            guard let value else { return d }
            guard let v = value.intValue, range.contains(v) else { throw fail("\(key) must be an integer from \(range.lowerBound) to \(range.upperBound)") }
            return v
        }
        func real(_ value: JSONValue?, _ key: String, default d: Double) throws -> Double {
            guard let value else { return d }
            guard let v = value.doubleValue, v.isFinite, v >= 0 else { throw fail("\(key) must be a finite number ≥ 0") }
            return v
        }
        var ngrams: [Int] = []
        for (k, g) in (f["ngrams"]?.arrayValue ?? [.int(1)]).enumerated() { ngrams.append(try integer(g, "features.ngrams[\(k)]", 1...8, default: 1)) }
        guard !ngrams.isEmpty else { throw fail("features.ngrams must not be empty") }
        features = FeatureHasher(numFeatures: n, binary: f["binary"] == .bool(true), hashVariant: variant, ngrams: ngrams,
                                 seed: UInt32(try integer(f["seed"], "features.seed", 0...Int(UInt32.max), default: 42)))
        var opts = LogisticRegressionOptions()
        opts.regParam = try real(r["reg_param"], "regression.reg_param", default: 0)
        opts.elasticNetParam = try real(r["elastic_net_param"], "regression.elastic_net_param", default: 0)
        opts.maxIter = try integer(r["max_iter"], "regression.max_iter", 0...1_000_000_000, default: 100)
        opts.tol = try real(r["tol"], "regression.tol", default: 1e-6)
        opts.fitIntercept = r["fit_intercept"] != .bool(false)
        opts.standardization = r["standardization"] != .bool(false)
        options = opts
        let intercept: Double
        switch r["intercept"] {
        case .string("inf"): intercept = .infinity
        case .string("-inf"): intercept = -.infinity
        default:
            guard let b = r["intercept"]?.doubleValue, !b.isNaN else { throw fail("regression.intercept must be a number") }
            intercept = b
        }
        guard let c = r["coefficients"]?.objectValue, let idx = c["indices"]?.arrayValue, let vals = c["values"]?.arrayValue,
              idx.count == vals.count else { throw fail("regression.coefficients") }
        var coefficients: [Int: Double] = [:]
        for (i, v) in zip(idx, vals) {
            guard let index = i.intValue, index >= 0, index < n, let value = v.doubleValue, value.isFinite else { throw fail("regression.coefficients entry") }
            coefficients[index] = value
        }
        regression = LogisticModel(intercept: intercept, coefficients: coefficients, numFeatures: n)
        training = o["training"]?.objectValue ?? [:]
    }
}

/// Scores documents with a quality model: the probability of the reference class, as Spark predicts it.
public struct QualityScorer: Sendable {
    public let model: QualityModel
    private let weights: [Double]

    public init(model: QualityModel) {
        self.model = model
        weights = model.regression.dense
    }

    /// The margin `w·x + b` of a text. With term counts, `w·x` is the sum of the weights of its terms, so no
    /// vector is built.
    public func margin(of text: String) -> Double {
        var m = model.regression.intercept
        if model.features.binary {
            var seen = Set<Int>()
            model.features.forEachIndex(of: text) { i in if seen.insert(i).inserted { m += weights[i] } }
        } else {
            weights.withUnsafeBufferPointer { w in
                model.features.forEachIndex(of: text) { i in m += w[i] }
            }
        }
        return m
    }

    /// The probability of the reference (positive) class.
    public func score(_ text: String) -> Double { LogisticModel.probability(margin: margin(of: text)) }

    /// The margin of a hashed feature vector (ascending indices and their values).
    public func margin(indices: [Int32], values: [Double]) -> Double {
        var m = model.regression.intercept
        weights.withUnsafeBufferPointer { w in
            for (k, i) in indices.enumerated() { m += w[Int(i)] * values[k] }
        }
        return m
    }
}
