public import ThreshCore

/// `thresh score` as a stage: adds `attrs.quality`, the model's probability of the reference class.
public struct QualityScoreStage: DocumentStage {
    public let scorer: QualityScorer
    public private(set) var statistics = StageStatistics(stage: "score")

    public init(model: QualityModel) { scorer = QualityScorer(model: model) }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        try record(document, score: scorer.score(document.text), emit: emit)
    }

    /// Scores a document whose features were hashed already (as `FeatureHasher.vector(of:)` gives them).
    public mutating func process(_ document: Document, indices: [Int32], values: [Double], emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        try record(document, score: LogisticModel.probability(margin: scorer.margin(indices: indices, values: values)), emit: emit)
    }

    private mutating func record(_ document: Document, score q: Double, emit: (Document) throws -> Void) throws {
        statistics.documentsIn += 1
        statistics.bytesIn += Int64(document.text.utf8.count)
        var out = document
        var attrs = out.attrs
        attrs["quality"] = .double(q)
        out.attrs = attrs
        statistics.count("score-decile.\(min(9, Int(q * 10)))")
        statistics.documentsOut += 1
        try emit(out)
    }
}

/// `thresh sample` as a stage: GPT-3's Pareto keep rule on `attrs.<scoreField>`, recording `attrs.pareto`.
/// Documents without a score are dropped as `no-score`, the others not kept as `pareto`.
public struct ParetoSampleStage: DocumentStage {
    public let sampler: ParetoSampler
    public let scoreField: String
    public private(set) var statistics = StageStatistics(stage: "sample")
    /// Sum of keep probabilities over scored documents (the expected number kept).
    public private(set) var expectedKept = 0.0

    public init(sampler: ParetoSampler, scoreField: String = "quality") {
        self.sampler = sampler
        self.scoreField = scoreField
    }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        statistics.documentsIn += 1
        guard let score = document.attrs[scoreField]?.doubleValue else { statistics.drop("no-score"); return }
        expectedKept += sampler.keepProbability(score: score)
        let (keep, draw) = sampler.decide(score: score, source: document.source ?? "", id: document.id)
        guard keep else { statistics.drop("pareto"); return }
        var out = document
        var attrs = out.attrs
        attrs["pareto"] = .double(draw)
        out.attrs = attrs
        statistics.documentsOut += 1
        try emit(out)
    }
}


extension ParetoSampler {
    /// The largest `alpha` (beyond it every document with a score below 1 is dropped).
    static let largestAlpha = 1e6

    /// `thresh sample`'s options, described once: its flags and its `[[stage]] use = "sample"` table.
    public static let schema = OptionsSchema("sample", [
        OptionSpec("alpha", .real(min: 0, max: largestAlpha, minExclusive: true), default: .real(9), help: "the Lomax shape (numpy pareto's a)"),
        OptionSpec("seed", .integer(min: 0, max: .max), default: .integer(0), help: "seed of the per-document draws"),
        OptionSpec("score-field", .text, default: .text("quality"), help: "the attrs field holding the score"),
    ])

    /// The sampler a schema-checked table or command line sets.
    public init(_ values: OptionValues) {
        self.init(alpha: values.double("alpha"), seed: values.uint64("seed"))
    }
}

extension QualityScoreStage {
    /// `thresh score`'s options. In a pipeline, `model` may be left out when a `quality-train` stage comes before.
    public static let schema = OptionsSchema("score", [
        OptionSpec("model", .text, help: "the model file (from 'thresh quality train'); in a pipeline, the models of the quality-train stage before"),
    ])
}
